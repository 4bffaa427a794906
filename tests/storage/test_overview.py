"""The feed list and the counts in Core: the columns they name are the models', and they read and add feeds as
the ORM's storage.feeds does, through a Core connection or an ORM session alike."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import TableClause, TypeDecorator
from sqlalchemy.types import TypeEngine

from newswatch.storage.db import connection_scope, session_scope
from newswatch.storage.entries import add_entries
from newswatch.storage.feeds import add_feed, list_feeds
from newswatch.storage.models import metadata, utcnow
from newswatch.storage.overview import (
    ALERTS,
    ENTRIES,
    FEEDS,
    alert_counts,
    entry_counts,
    feed_rows,
    insert_feed,
)
from newswatch.storage.schema import upgrade
from newswatch.storage.times import UTCDateTime

URL = "https://news.example/rss.xml"


@pytest.mark.parametrize("light", [FEEDS, ENTRIES, ALERTS], ids=lambda table: table.name)
def test_every_column_named_in_core_is_the_models_column_of_the_same_type(light: TableClause) -> None:
    model = metadata.tables[light.name]
    for column in light.c:
        assert column.name in model.c, f"{light.name}.{column.name} is no column of the models"
        stored = model.c[column.name].type
        assert _python_type(column.type) is _python_type(stored), f"{light.name}.{column.name}"
        assert isinstance(column.type, UTCDateTime) == isinstance(stored, UTCDateTime), f"{light.name}.{column.name}"


def _python_type(type_: TypeEngine[Any]) -> type:
    return type_.impl_instance.python_type if isinstance(type_, TypeDecorator) else type_.python_type


def test_adding_a_known_feed_keeps_its_state_and_title_and_takes_the_new_interval(database_url: str) -> None:
    upgrade(database_url)
    with connection_scope(database_url) as connection:
        assert insert_feed(connection, URL, interval_seconds=900, title="Wire") == (1, True)
        assert insert_feed(connection, "https://other.example/rss", interval_seconds=900) == (2, True)
    with connection_scope(database_url) as connection:
        assert insert_feed(connection, URL, interval_seconds=3600, title="Another name") == (1, False)
        assert insert_feed(connection, "https://other.example/rss", interval_seconds=600, title="Other") == (2, False)
    with connection_scope(database_url) as connection:
        rows = feed_rows(connection)
    assert [(row.id, row.title, row.interval_seconds) for row in rows] == [(1, "Wire", 3600), (2, "Other", 600)]
    assert all(row.enabled and row.error_count == 0 and row.next_poll_at is not None for row in rows)
    assert rows[0].next_poll_at is not None and rows[0].next_poll_at.tzinfo is not None


def test_the_orm_add_feed_returns_the_row_as_stored_within_its_session(database_url: str) -> None:
    upgrade(database_url)
    with session_scope(database_url) as session:
        first, new = add_feed(session, URL, interval_seconds=900)
        first.last_error = "fetch: status 503"  # a change not flushed yet
        again, new_again = add_feed(session, URL, interval_seconds=3600, title="Wire")
        assert (new, new_again) == (True, False)
        assert again is first
        assert (again.interval_seconds, again.title, again.last_error) == (3600, "Wire", "fetch: status 503")
    with session_scope(database_url) as session:
        assert [(f.interval_seconds, f.last_error) for f in list_feeds(session)] == [(3600, "fetch: status 503")]


def test_the_counts_read_the_same_through_a_connection_and_a_session(database_url: str) -> None:
    upgrade(database_url)
    with connection_scope(database_url) as connection:
        feed_id, _ = insert_feed(connection, URL, interval_seconds=900)
    with session_scope(database_url) as session:
        add_entries(session, feed_id, [("a", {}), ("b", {})], due=utcnow())
        assert entry_counts(session) == {(feed_id, "pending"): 2}
        assert alert_counts(session) == {}
    with connection_scope(database_url) as connection:
        assert entry_counts(connection) == {(feed_id, "pending"): 2}
        assert alert_counts(connection) == {}
        assert [row.url for row in feed_rows(connection)] == [URL]
