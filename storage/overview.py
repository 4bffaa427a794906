"""The feed list and the work waiting, in SQLAlchemy Core alone: what `newswatch feeds` and `status` read and add.

These commands run many times a day, and loading the ORM models (SQLModel, pydantic models of every table,
SQLAlchemy's ORM) would cost more than all else they do. Their queries name the columns they use in
lightweight `table()` clauses instead: no schema of their own (that is storage.models, and the migrations),
only names and types, checked against the models by tests/storage/test_overview.py. Every function takes a
Core connection (`storage.db.connection_scope`) or an ORM session alike, so the pipeline's storage.feeds and
storage.entries build on them rather than repeat them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, Executable, Integer, Text, column, func, select, table, update

from newswatch.storage.db import insert_ignore
from newswatch.storage.times import UTCDateTime, utcnow

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

FEEDS = table(
    "feeds",
    column("id", Integer),
    column("url", Text),
    column("title", Text),
    column("interval_seconds", Integer),
    column("enabled", Boolean),
    column("last_status", Integer),
    column("last_error", Text),
    column("last_polled_at", UTCDateTime()),
    column("next_poll_at", UTCDateTime()),
    column("poll_interval", Integer),
    column("min_interval_seconds", Integer),
    column("max_interval_seconds", Integer),
    column("error_count", Integer),
    column("paused_at", UTCDateTime()),
    column("created_at", UTCDateTime()),
)
ENTRIES = table("entries", column("feed_id", Integer), column("status", Text))
ALERTS = table("alerts", column("status", Text))


@dataclass(frozen=True)
class FeedRow:
    """A feed as the commands show it: where, how often, how its polls went."""

    id: int
    url: str
    title: str | None
    interval_seconds: int
    enabled: bool
    last_status: int | None
    last_error: str | None
    last_polled_at: datetime | None
    next_poll_at: datetime | None
    poll_interval: int | None
    min_interval_seconds: int | None
    max_interval_seconds: int | None
    error_count: int
    paused_at: datetime | None


_FEED_COLUMNS = [FEEDS.c[field.name] for field in fields(FeedRow)]


def feed_rows(db: Connection | Session) -> list[FeedRow]:
    """Every feed, oldest first."""
    return [FeedRow(*row) for row in _rows(db, select(*_FEED_COLUMNS).order_by(FEEDS.c.id))]


def insert_feed(
    db: Connection | Session,
    url: str,
    *,
    interval_seconds: int,
    title: str | None = None,
    bounds: tuple[int | None, int | None] | None = None,
) -> tuple[int, bool]:
    """Add a feed (due at once); an existing URL keeps its state and gets the new interval (and `title`, if it
    had none). `bounds` (low, high) are the feed's own limits for adapting its interval; None leaves them as
    they are. Returns (its id, whether it is new)."""
    now = utcnow()
    low, high = bounds or (None, None)
    new_id = insert_ignore(
        db,
        FEEDS,
        {
            "url": url,
            "title": title,
            "interval_seconds": interval_seconds,
            "min_interval_seconds": low,
            "max_interval_seconds": high,
            "enabled": True,
            "error_count": 0,
            "created_at": now,
            "next_poll_at": now,
        },
    )
    if new_id is not None:
        return new_id, True
    changes: dict[str, Any] = {
        "interval_seconds": interval_seconds,
        "title": func.coalesce(func.nullif(FEEDS.c.title, ""), title),
    }
    if bounds is not None:
        changes.update(min_interval_seconds=low, max_interval_seconds=high)
    known = update(FEEDS).where(FEEDS.c.url == url).values(**changes).returning(FEEDS.c.id)
    return db.execute(known).scalar_one(), False


def entry_counts(db: Connection | Session) -> dict[tuple[int, str], int]:
    """How many entries each feed has in each state."""
    query = select(ENTRIES.c.feed_id, ENTRIES.c.status, func.count()).group_by(ENTRIES.c.feed_id, ENTRIES.c.status)
    return {(feed_id, status): count for feed_id, status, count in _rows(db, query)}


def alert_counts(db: Connection | Session) -> dict[str, int]:
    """How many alerts are in each state (pending, sending, sent, failed, unknown)."""
    query = select(ALERTS.c.status, func.count()).group_by(ALERTS.c.status)
    return {status: count for status, count in _rows(db, query)}


def _rows(db: Connection | Session, statement: Executable) -> list[Sequence[Any]]:
    return list(db.execute(statement))
