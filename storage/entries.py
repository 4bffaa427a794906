"""Entry rows: the work between a poll and a stored article, kept until it is done.

Life of a row: `pending`, written in the transaction that records the poll which found it, with an
attempt counted and a time (`next_attempt_at`) after which the sweep hands it on again; `done`, in the
transaction that stores its article; `failed`, when the sweep finds it has been tried too often. A runner
hands a new entry on at once; the sweep (beat, and every embedded round) hands on the rows whose time has
come: a message lost with a Redis restart, a worker killed, a database that was down, a broken rules file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, update
from sqlmodel import Session, col, select

from newswatch.storage.db import insert_ignore
from newswatch.storage.models import Entry, utcnow
from newswatch.storage.overview import entry_counts as entry_counts  # how many in each state: read in Core


def add_entries(
    session: Session, feed_id: int, entries: Iterable[tuple[str, dict[str, Any]]], *, due: datetime
) -> list[int]:
    """Insert each (key, data) not yet known for this feed; the ids of the rows inserted now, in order."""
    now = utcnow()
    ids = []
    for key, data in entries:
        new_id = insert_ignore(
            session,
            Entry,
            {
                "feed_id": feed_id,
                "entry_key": key,
                "data": data,
                "status": "pending",
                "attempts": 1,
                "next_attempt_at": due,
                "created_at": now,
            },
        )
        if new_id is not None:
            ids.append(new_id)
    return ids


def known_entry_keys(session: Session, feed_id: int, keys: Iterable[str]) -> set[str]:
    """Which of these keys this feed has an entry row for already (in any state)."""
    wanted = list(set(keys))
    if not wanted:
        return set()
    query = select(Entry.entry_key).where(Entry.feed_id == feed_id, col(Entry.entry_key).in_(wanted))
    return set(session.exec(query))


def claim_due_entries(
    session: Session,
    *,
    max_attempts: int,
    wait: Callable[[int], timedelta],
    limit: int = 1000,
    now: datetime | None = None,
) -> list[int]:
    """Pending rows whose time has come, each pushed to its next try (`wait(attempts)` later).

    A row already tried `max_attempts` times is marked failed instead. Each row is taken with a conditional
    UPDATE, so two sweeps at once hand a row on once.
    """
    now = now or utcnow()
    query = (
        select(Entry.id, Entry.attempts)
        .where(col(Entry.status) == "pending", col(Entry.next_attempt_at) <= now)
        .order_by(col(Entry.next_attempt_at))
        .limit(limit)
    )
    claimed = []
    for entry_id, attempts in list(session.exec(query)):
        taken = col(Entry.id) == entry_id, col(Entry.status) == "pending", col(Entry.attempts) == attempts
        if attempts >= max_attempts:
            session.execute(
                update(Entry)
                .where(*taken)
                .values(
                    status="failed",
                    last_error=func.coalesce(Entry.last_error, "no error recorded")
                    + f" (gave up after {attempts} attempts)",
                )
            )
            continue
        result = session.execute(
            update(Entry).where(*taken).values(attempts=attempts + 1, next_attempt_at=now + wait(attempts))
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(entry_id)
    return [entry_id for entry_id in claimed if entry_id is not None]


_ENTRIES = Entry.__table__  # type: ignore[attr-defined]
_MARK_DONE = (
    update(_ENTRIES)
    .where(_ENTRIES.c.id == bindparam("entry_id"))
    .values(status="done", article_id=bindparam("article_id"), done_at=bindparam("done_at"), last_error=None)
)
"""Built once, on the table (no ORM bookkeeping): every stored article runs it."""


def mark_entry_done(session: Session, entry_id: int, article_id: int) -> None:
    """The entry's article is stored (called in the transaction that stores it)."""
    session.execute(_MARK_DONE, {"entry_id": entry_id, "article_id": article_id, "done_at": utcnow()})


def record_entry_error(session: Session, entry_id: int, error: str) -> None:
    """Why the last try failed; the row stays pending for the sweep."""
    session.execute(
        update(Entry).where(col(Entry.id) == entry_id, col(Entry.status) == "pending").values(last_error=error)
    )


def requeue_failed_entries(session: Session, entry_ids: Iterable[int] | None = None) -> list[int]:
    """Failed rows (all, or these) back to pending with fresh attempts, due now; their ids."""
    query = select(Entry.id).where(col(Entry.status) == "failed")
    if entry_ids is not None:
        query = query.where(col(Entry.id).in_(list(entry_ids)))
    ids = [entry_id for entry_id in session.exec(query) if entry_id is not None]
    if ids:
        session.execute(
            update(Entry).where(col(Entry.id).in_(ids)).values(status="pending", attempts=0, next_attempt_at=utcnow())
        )
    return ids
