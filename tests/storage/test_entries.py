"""Entry rows: written once per feed and identity, handed on by the sweep when due, failed after too many tries."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlmodel import select

from newswatch.storage.db import session_scope
from newswatch.storage.entries import (
    add_entries,
    claim_due_entries,
    entry_counts,
    mark_entry_done,
    record_entry_error,
    requeue_failed_entries,
)
from newswatch.storage.feeds import add_feed
from newswatch.storage.models import Entry, utcnow
from newswatch.storage.schema import upgrade

LATER = timedelta(seconds=60)


def _feed(url: str) -> int:
    upgrade(url)
    with session_scope(url) as session:
        feed, _ = add_feed(session, "http://127.0.0.1/feed.xml", interval_seconds=900)
        assert feed.id is not None
        return feed.id


def _add(url: str, feed_id: int, keys: list[str], *, due_in: timedelta = LATER) -> list[int]:
    with session_scope(url) as session:
        return add_entries(session, feed_id, [(k, {"url": k}) for k in keys], due=utcnow() + due_in)


def _claim(url: str, *, max_attempts: int = 5) -> list[int]:
    with session_scope(url) as session:
        return claim_due_entries(session, max_attempts=max_attempts, wait=lambda _: LATER)


def _rows(url: str) -> list[Entry]:
    with session_scope(url) as session:
        return list(session.exec(select(Entry).order_by(Entry.id)))  # type: ignore[arg-type]


def test_an_entry_is_written_once_per_feed_and_identity(database_url: str) -> None:
    feed_id = _feed(database_url)
    first = _add(database_url, feed_id, ["a", "b"])
    again = _add(database_url, feed_id, ["b", "c"])
    assert len(first) == 2 and len(again) == 1
    assert [r.entry_key for r in _rows(database_url)] == ["a", "b", "c"]
    assert all(r.status == "pending" and r.attempts == 1 for r in _rows(database_url))


def test_the_sweep_hands_on_only_rows_whose_time_has_come_and_pushes_them_to_their_next_try(
    database_url: str,
) -> None:
    feed_id = _feed(database_url)
    (lost,) = _add(database_url, feed_id, ["lost"], due_in=timedelta(seconds=-1))
    _add(database_url, feed_id, ["just-queued"])
    assert _claim(database_url) == [lost]
    assert _claim(database_url) == []  # pushed to its next try, not handed on twice
    row = next(r for r in _rows(database_url) if r.id == lost)
    assert row.attempts == 2 and row.next_attempt_at is not None and row.next_attempt_at > utcnow()


def test_a_row_tried_too_often_is_marked_failed_with_its_last_error(database_url: str) -> None:
    feed_id = _feed(database_url)
    (entry_id,) = _add(database_url, feed_id, ["broken"], due_in=timedelta(seconds=-1))
    with session_scope(database_url) as session:
        record_entry_error(session, entry_id, "rules: cannot read rules file")
    assert _claim(database_url, max_attempts=1) == []
    (row,) = _rows(database_url)
    assert row.status == "failed"
    assert row.last_error == "rules: cannot read rules file (gave up after 1 attempts)"
    with session_scope(database_url) as session:
        assert entry_counts(session) == {(feed_id, "failed"): 1}
        assert requeue_failed_entries(session) == [entry_id]
    assert _claim(database_url) == [entry_id]


def test_a_done_row_is_never_handed_on(database_url: str) -> None:
    feed_id = _feed(database_url)
    (entry_id,) = _add(database_url, feed_id, ["done"], due_in=timedelta(seconds=-1))
    with session_scope(database_url) as session:
        from newswatch.storage.models import StoredArticle

        article = StoredArticle(source="s", title="t", text="x", content_hash="h")
        session.add(article)
        session.flush()
        assert article.id is not None
        mark_entry_done(session, entry_id, article.id)
    assert _claim(database_url) == []
    assert _rows(database_url)[0].status == "done"


def test_two_sweeps_at_once_hand_each_row_on_once(database_url: str) -> None:
    feed_id = _feed(database_url)
    ids = _add(database_url, feed_id, [f"e{i}" for i in range(40)], due_in=timedelta(seconds=-1))
    with ThreadPoolExecutor(max_workers=4) as pool:
        claimed = [i for batch in pool.map(lambda _: _claim(database_url), range(4)) for i in batch]
    assert sorted(claimed) == sorted(ids)


def test_a_read_only_transaction_reads_while_another_process_writes(sqlite_url: str) -> None:
    feed_id = _feed(sqlite_url)
    (entry_id,) = _add(sqlite_url, feed_id, ["http://127.0.0.1/a"])
    writer = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process holding the write lock
    try:
        with session_scope(sqlite_url, read_only=True) as session:
            row = session.get(Entry, entry_id)
            assert row is not None and row.status == "pending"
    finally:
        writer.execute("ROLLBACK")
        writer.close()
