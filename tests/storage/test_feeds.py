"""The feed list: adding, scheduling, and what a poll records."""

from __future__ import annotations

from datetime import timedelta

from newswatch.storage.db import session_scope
from newswatch.storage.feeds import add_feed, due_feeds, find_feed, list_feeds, record_poll, remove_feed
from newswatch.storage.models import utcnow
from newswatch.storage.schema import upgrade

URL = "https://news.example/rss.xml"


def test_a_new_feed_is_due_at_once_and_adding_it_again_updates_the_interval(database_url: str) -> None:
    upgrade(database_url)
    with session_scope(database_url) as session:
        feed, new = add_feed(session, URL, interval_seconds=900)
        assert new
    with session_scope(database_url) as session:
        assert [f.url for f in due_feeds(session)] == [URL]
        feed, new = add_feed(session, URL, interval_seconds=3600)
        assert not new
    with session_scope(database_url) as session:
        assert [(f.url, f.interval_seconds) for f in list_feeds(session)] == [(URL, 3600)]


def test_a_poll_schedules_the_next_one_and_keeps_validators_the_server_did_not_resend(database_url: str) -> None:
    upgrade(database_url)
    with session_scope(database_url) as session:
        feed, _ = add_feed(session, URL, interval_seconds=600)
        feed_id = feed.id
    assert feed_id is not None
    with session_scope(database_url) as session:
        record_poll(
            session, feed_id, status=200, error=None, etag='"v1"', last_modified="Mon, 01 Jan 2024 00:00:00 GMT"
        )
    with session_scope(database_url) as session:
        record_poll(session, feed_id, status=304, error=None)
    with session_scope(database_url) as session:
        feed = find_feed(session, URL)
        assert feed is not None
        assert (feed.etag, feed.last_status) == ('"v1"', 304)
        assert feed.next_poll_at is not None
        assert timedelta(seconds=590) < feed.next_poll_at - utcnow() <= timedelta(seconds=600)
        assert due_feeds(session) == []
        assert [f.url for f in due_feeds(session, now=utcnow() + timedelta(minutes=11))] == [URL]


def test_an_error_is_recorded_and_counted_until_a_good_poll(database_url: str) -> None:
    upgrade(database_url)
    with session_scope(database_url) as session:
        feed, _ = add_feed(session, URL, interval_seconds=600)
        feed_id = feed.id
    assert feed_id is not None
    for _ in range(2):
        with session_scope(database_url) as session:
            record_poll(session, feed_id, status=None, error=f"fetch: status 503: {URL}")
    with session_scope(database_url) as session:
        feed = find_feed(session, str(feed_id))
        assert feed is not None and (feed.error_count, feed.last_error) == (2, f"fetch: status 503: {URL}")
        record_poll(session, feed_id, status=200, error=None)
    with session_scope(database_url) as session:
        feed = find_feed(session, URL)
        assert feed is not None and (feed.error_count, feed.last_error) == (0, None)


def test_removing_a_feed(database_url: str) -> None:
    upgrade(database_url)
    with session_scope(database_url) as session:
        add_feed(session, URL, interval_seconds=600)
    with session_scope(database_url) as session:
        feed = find_feed(session, URL)
        assert feed is not None
        remove_feed(session, feed)
    with session_scope(database_url) as session:
        assert list_feeds(session) == []
