"""Feed list queries with the ORM: add, list, remove, which are due, and what a poll learnt (the commands that only
list or add feeds use storage.overview, in Core)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from newswatch.storage.models import Feed, utcnow
from newswatch.storage.overview import insert_feed


def add_feed(
    session: Session,
    url: str,
    *,
    interval_seconds: int,
    title: str | None = None,
    bounds: tuple[int | None, int | None] | None = None,
) -> tuple[Feed, bool]:
    """Add a feed (due at once); an existing URL keeps its state and gets the new interval (and `bounds`, the
    limits its interval adapts within, when given). Returns (feed, new)."""
    session.flush()  # changes made to feeds in this session reach the row before it is read back
    feed_id, new = insert_feed(session, url, interval_seconds=interval_seconds, title=title, bounds=bounds)
    return session.get_one(Feed, feed_id, populate_existing=True), new


def list_feeds(session: Session) -> list[Feed]:
    """Every feed, oldest first."""
    return list(session.exec(select(Feed).order_by(col(Feed.id))))


def find_feed(session: Session, url_or_id: str) -> Feed | None:
    """A feed by its URL or its numeric id, as users name feeds on the command line."""
    if url_or_id.isdigit():
        return session.get(Feed, int(url_or_id))
    return session.exec(select(Feed).where(Feed.url == url_or_id)).first()


def remove_feed(session: Session, feed: Feed) -> None:
    """Delete a feed; its articles and hits stay (their feed link is cleared)."""
    session.delete(feed)


def due_feeds(session: Session, now: datetime | None = None) -> list[Feed]:
    """Enabled feeds, not paused, whose next poll time has come."""
    now = now or utcnow()
    query = select(Feed).where(
        col(Feed.enabled),
        col(Feed.paused_at).is_(None),
        (col(Feed.next_poll_at) <= now) | col(Feed.next_poll_at).is_(None),
    )
    return list(session.exec(query.order_by(col(Feed.next_poll_at))))


def record_poll(
    session: Session,
    feed_id: int,
    *,
    status: int | None,
    error: str | None,
    etag: str | None = None,
    last_modified: str | None = None,
    body_hash: str | None = None,
    title: str | None = None,
    failed: bool | None = None,
    wait: float | None = None,
    interval: int | None = None,
) -> Feed:
    """Store the outcome of one poll and schedule the next, `wait` seconds from now (default: the feed's
    interval); validators are kept when the server sent none.

    A poll `failed` (default: when it has an error; a readable feed with a warning did not) adds one to the
    feed's failures in a row, any other resets them. `interval` is the feed's adapted interval, if it changed.
    """
    feed = session.get_one(Feed, feed_id)
    now = utcnow()
    feed.poll_interval = interval or feed.poll_interval
    feed.last_polled_at = now
    feed.next_poll_at = now + timedelta(seconds=wait if wait is not None else feed.interval_seconds)
    feed.last_status = status
    feed.last_error = error
    feed.error_count = feed.error_count + 1 if (error is not None if failed is None else failed) else 0
    feed.etag = etag or feed.etag
    feed.last_modified = last_modified or feed.last_modified
    feed.body_hash = body_hash or feed.body_hash
    feed.title = feed.title or title
    session.add(feed)
    return feed


def pause_feed(session: Session, feed_id: int) -> datetime | None:
    """Pause a feed that is not paused yet; returns when, or None when it was paused already (by another
    worker too: the conditional UPDATE lets one pause win, so the pause is reported once)."""
    now = utcnow()
    result = session.execute(
        update(Feed).where(col(Feed.id) == feed_id, col(Feed.paused_at).is_(None)).values(paused_at=now)
    )
    return now if result.rowcount == 1 else None  # type: ignore[attr-defined]


def resume_feed(session: Session, feed: Feed) -> None:
    """Unpause a feed and poll it at once, its failures forgotten."""
    feed.paused_at = None
    feed.error_count = 0
    feed.next_poll_at = utcnow()
    session.add(feed)
