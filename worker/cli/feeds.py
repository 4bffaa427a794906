"""`newswatch feeds`: add, list, remove, import and export the feeds to poll."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from newswatch.storage.errors import NewswatchError
from newswatch.worker.cli.params import Duration

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlmodel import Session

    from newswatch.storage.models import Feed
    from newswatch.storage.overview import FeedRow


def _database_url() -> str:
    from newswatch.worker.runtime import migrated_runtime

    return migrated_runtime().settings.database_url


MIN_INTERVAL = 60
"""Seconds: polling a feed more often than this is unkind to its site and rarely finds anything new."""


def _interval(interval: timedelta | None, option: str = "--interval") -> int:
    from newswatch.worker.runtime import get_runtime

    seconds = interval.total_seconds() if interval else get_runtime().settings.default_interval
    if seconds < MIN_INTERVAL:
        raise click.BadParameter(
            f"{seconds:g}s is too often: poll a feed at most once a minute (e.g. 1m, 15m)", param_hint=option
        )
    return int(seconds)


def _bounds(low: timedelta | None, high: timedelta | None, interval: int) -> tuple[int | None, int | None] | None:
    """The feed's own bounds for adapting its interval, checked (None: neither option given)."""
    if low is None and high is None:
        return None
    lower = _interval(low, "--min-interval") if low is not None else None
    upper = _interval(high, "--max-interval") if high is not None else None
    if lower is not None and upper is not None and lower > upper:
        raise click.BadParameter(f"is longer than --max-interval ({upper // 60} min)", param_hint="--min-interval")
    if (lower is not None and interval < lower) or (upper is not None and interval > upper):
        raise click.BadParameter(f"{interval // 60} min is outside the bounds given", param_hint="--interval")
    return lower, upper


def _bounds_text(low: int | None, high: int | None) -> str:
    """`, adapts within 5-120 min` for the bounds a feed has of its own ('' when none)."""
    if low is None and high is None:
        return ""
    shown = [f"{round(value / 60)}" if value is not None else "?" for value in (low, high)]
    return f", adapts within {shown[0]}-{shown[1]} min"


@click.group()
def feeds() -> None:
    """The feeds newswatch polls."""


@feeds.command("add")
@click.argument("urls", nargs=-1, required=True, metavar="URL...")
@click.option("--interval", type=Duration(), default=None, help="How often to poll, e.g. 15m (default 15m).")
@click.option(
    "--min-interval",
    type=Duration(),
    default=None,
    help="Poll a feed with news as often as this at most (default NEWSWATCH_MIN_INTERVAL).",
)
@click.option(
    "--max-interval",
    type=Duration(),
    default=None,
    help="Poll a quiet feed at least this often (default NEWSWATCH_MAX_INTERVAL).",
)
@click.option("--title", default=None, help="The feed's title (one URL only).")
def feeds_add(
    urls: tuple[str, ...],
    interval: timedelta | None,
    min_interval: timedelta | None,
    max_interval: timedelta | None,
    title: str | None,
) -> None:
    """Add feed URLs (RSS, Atom or JSON Feed), or a site's pages: the feed a page names is added. Several URLs
    are checked at once and each is added or refused on its own; the exit status is 1 if any was refused."""
    from newswatch.worker.cli import print_error
    from newswatch.worker.cli.feed_checks import checked_feeds, import_in_background
    from newswatch.worker.ingest.identity import feed_url
    from newswatch.worker.runtime import get_runtime

    if title is not None and len(urls) > 1:
        raise click.BadParameter("names one feed: give one URL with it", param_hint="--title")
    for url in urls:
        if not url.lower().startswith(("http://", "https://")):
            raise click.BadParameter(f"not an http(s) URL: {url}", param_hint="URL")
    seconds = _interval(interval)
    bounds = _bounds(min_interval, max_interval, seconds)
    _ = get_runtime().client  # the client first, then the storage layer's import beside the fetches
    storage = import_in_background("newswatch.storage.db", "newswatch.storage.overview")
    checked = checked_feeds([feed_url(url) for url in urls])
    refused = [outcome for outcome in checked if isinstance(outcome, NewswatchError)]
    if len(urls) == 1 and refused:
        raise refused[0]
    limits = _bounds_text(*bounds) if bounds else ""
    if len(refused) < len(checked):
        storage.join()
        from newswatch.storage.db import connection_scope
        from newswatch.storage.overview import insert_feed

        with connection_scope(_database_url()) as connection:
            stored = _stored_urls(connection)
            for outcome in checked:
                if isinstance(outcome, NewswatchError):
                    print_error(outcome)
                    continue
                url = stored.get(outcome, outcome)
                feed_id, new = insert_feed(connection, url, interval_seconds=seconds, title=title, bounds=bounds)
                click.echo(f"{'added' if new else 'updated'} feed {feed_id}: {url} every {seconds // 60} min{limits}")
    else:
        for outcome in refused:
            print_error(outcome)
    if refused:
        sys.exit(1)


def _stored_urls(db: Connection | Session) -> dict[str, str]:
    """The URL each known feed is stored under, by its cleaned form (`feed_url`): a feed stored before such URLs were
    cleaned (with tracking parameters, a fragment or the host's case) is found by the clean URL. Read once a
    command, however many URLs it names; the first feed stored wins."""
    from newswatch.storage.overview import feed_rows
    from newswatch.worker.ingest.identity import feed_url

    known: dict[str, str] = {}
    for feed in feed_rows(db):
        known.setdefault(feed_url(feed.url), feed.url)
    return known


@feeds.command("list")
@click.option("--json", "as_json", is_flag=True)
def feeds_list(as_json: bool) -> None:
    """Show every feed with its last poll and error, and its entries still pending or failed."""
    from newswatch.storage.db import connection_scope
    from newswatch.storage.overview import entry_counts, feed_rows

    with connection_scope(_database_url()) as connection:
        rows = feed_rows(connection)
        counts = entry_counts(connection)
    for feed in rows:
        pending, failed = counts.get((feed.id, "pending"), 0), counts.get((feed.id, "failed"), 0)
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "id": feed.id,
                        "url": feed.url,
                        "title": feed.title,
                        "interval_seconds": feed.interval_seconds,
                        "enabled": feed.enabled,
                        "last_status": feed.last_status,
                        "last_error": feed.last_error,
                        "last_polled_at": feed.last_polled_at.isoformat() if feed.last_polled_at else None,
                        "next_poll_at": feed.next_poll_at.isoformat() if feed.next_poll_at else None,
                        "poll_interval": feed.poll_interval or feed.interval_seconds,
                        "min_interval_seconds": feed.min_interval_seconds,
                        "max_interval_seconds": feed.max_interval_seconds,
                        "failures": feed.error_count,
                        "paused_at": feed.paused_at.isoformat() if feed.paused_at else None,
                        "entries_pending": pending,
                        "entries_failed": failed,
                    }
                )
            )
            continue
        polled = feed.last_polled_at.strftime("%Y-%m-%d %H:%M") if feed.last_polled_at else "never"
        click.echo(
            f"{feed.id:>4}  {feed.url}  every {feed.interval_seconds // 60} min"
            + _bounds_text(feed.min_interval_seconds, feed.max_interval_seconds)
            + f", last poll {polled}"
            + (f", status {feed.last_status}" if feed.last_status else "")
            + _schedule(feed)
            + (f", {pending} entries pending" if pending else "")
            + (f", {failed} entries failed (newswatch entries retry)" if failed else "")
        )
        if feed.last_error:
            click.echo(f"      last error: {feed.last_error}")
    if not rows and not as_json:
        click.echo("no feeds; add one with `newswatch feeds add URL` or `newswatch feeds import FILE.opml`")


def _schedule(feed: FeedRow) -> str:
    """`, next poll 14:05` (with the adapted interval when it differs), or the pause and how to end it."""
    if feed.paused_at is not None:
        when = feed.paused_at.astimezone().strftime("%Y-%m-%d %H:%M")
        return f", PAUSED since {when} after {feed.error_count} failed polls (newswatch feeds resume {feed.id})"
    adapted = feed.poll_interval and feed.poll_interval != feed.interval_seconds
    now_every = f", now every {round(feed.poll_interval / 60)} min" if adapted and feed.poll_interval else ""
    upcoming = feed.next_poll_at.astimezone().strftime("%Y-%m-%d %H:%M") if feed.next_poll_at else "now"
    failing = f" ({feed.error_count} failed polls in a row, backing off)" if feed.error_count else ""
    return f"{now_every}, next poll {upcoming}{failing}"


@feeds.command("resume")
@click.argument("url_or_id")
def feeds_resume(url_or_id: str) -> None:
    """Poll a paused feed again (now, its failures forgotten)."""
    from newswatch.storage.db import session_scope
    from newswatch.storage.feeds import resume_feed

    with session_scope(_database_url()) as session:
        feed = _named_feed(session, url_or_id)
        was_paused = feed.paused_at is not None
        resume_feed(session, feed)
        click.echo(f"{'resumed' if was_paused else 'polling now'} feed {feed.id}: {feed.url}")


def _named_feed(session: Session, url_or_id: str) -> Feed:
    """The feed a user named by id or URL; a usage error when there is none."""
    from newswatch.storage.feeds import find_feed
    from newswatch.worker.ingest.identity import feed_url

    url = None if url_or_id.isdigit() else feed_url(url_or_id)
    feed = find_feed(session, url_or_id if url is None else _stored_urls(session).get(url, url))
    if feed is None:
        raise click.ClickException(f"no feed {url_or_id!r}; see `newswatch feeds list`")
    return feed


@feeds.command("remove")
@click.argument("url_or_id")
def feeds_remove(url_or_id: str) -> None:
    """Stop polling a feed (its stored articles and hits stay)."""
    from newswatch.storage.db import session_scope
    from newswatch.storage.feeds import remove_feed

    with session_scope(_database_url()) as session:
        remove_feed(session, _named_feed(session, url_or_id))
    click.echo(f"removed feed {url_or_id}")


@feeds.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--interval", type=Duration(), default=None, help="Poll interval for the imported feeds.")
def feeds_import(path: Path, interval: timedelta | None) -> None:
    """Add every feed of an OPML file (nested categories included)."""
    from newswatch.storage.db import connection_scope
    from newswatch.storage.overview import insert_feed
    from newswatch.worker.ingest.identity import feed_url
    from newswatch.worker.ingest.opml import read_opml

    entries = read_opml(path)
    seconds = _interval(interval)
    added = 0
    with connection_scope(_database_url()) as connection:
        stored = _stored_urls(connection)
        for entry in entries:
            url = feed_url(entry.url)
            _, new = insert_feed(connection, stored.get(url, url), interval_seconds=seconds, title=entry.title)
            added += new
    click.echo(f"imported {len(entries)} feeds from {path} ({added} new)")


@feeds.command("export")
def feeds_export() -> None:
    """Print the feed list as OPML, for feed readers and other newswatch installs."""
    from newswatch.storage.db import connection_scope
    from newswatch.storage.overview import feed_rows
    from newswatch.worker.ingest.opml import OpmlFeed, write_opml

    with connection_scope(_database_url()) as connection:
        rows = feed_rows(connection)
    click.echo(write_opml([OpmlFeed(url=f.url, title=f.title) for f in rows]), nl=False)


COMMANDS = [feeds]
