"""A feed's schedule against a real server on loopback: a failing feed backs off, is paused after too many
failed polls with exactly one notice by email (real SMTP), and `feeds resume` brings it back; a Retry-After is
waited out; the interval adapts to how often the feed has news, within the user's bounds."""

from __future__ import annotations

import email
import itertools
from datetime import timedelta
from email.policy import default

import click
import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer
from sqlmodel import select
from werkzeug import Request, Response

from newswatch.storage.db import session_scope
from newswatch.storage.feeds import add_feed, due_feeds
from newswatch.storage.models import Alert, Feed, utcnow
from newswatch.worker.embedded import run_round
from newswatch.worker.runtime import Runtime, migrated_runtime, reset_runtime
from newswatch.worker.schedule import JITTER
from tests.conftest import Mailbox

INTERVAL = 900


def _rss(*links: str) -> str:
    items = "".join(
        f"<item><title>Item {link}</title><link>{link}</link><description>x</description></item>" for link in links
    )
    return f"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title>{items}</channel></rss>"


@pytest.fixture
def runtime(database_url: str, smtp_server: tuple[str, Mailbox], monkeypatch: pytest.MonkeyPatch) -> Runtime:
    url, _ = smtp_server
    monkeypatch.setenv("NEWSWATCH_DATABASE_URL", database_url)
    monkeypatch.setenv("NEWSWATCH_SMTP_URL", url)
    monkeypatch.setenv("NEWSWATCH_EMAIL_FROM", "nw@example.org")
    monkeypatch.setenv("NEWSWATCH_EMAIL_TO", "desk@example.org")
    monkeypatch.setenv("NEWSWATCH_DEFAULT_CHANNELS", "email")
    monkeypatch.setenv("NEWSWATCH_FEED_PAUSE_AFTER", "3")
    monkeypatch.setenv("NEWSWATCH_FETCH_PAGES", "false")
    reset_runtime()
    return migrated_runtime()


def _add(runtime: Runtime, url: str) -> int:
    with session_scope(runtime.settings.database_url) as session:
        feed, _ = add_feed(session, url, interval_seconds=INTERVAL)
        assert feed.id is not None
        return feed.id


def _feed(runtime: Runtime, feed_id: int) -> Feed:
    with session_scope(runtime.settings.database_url) as session:
        feed = session.get_one(Feed, feed_id)
        session.expunge(feed)
        return feed


def _wait(feed: Feed) -> float:
    """Seconds from the feed's last poll to its next."""
    assert feed.next_poll_at is not None and feed.last_polled_at is not None
    return (feed.next_poll_at - feed.last_polled_at).total_seconds()


def _around(seconds: float) -> tuple[float, float]:
    return seconds * (1 - JITTER) - 1, seconds * (1 + JITTER) + 1


def test_a_failing_feed_backs_off_is_paused_with_one_notice_and_resumes(
    runtime: Runtime, httpserver: HTTPServer, smtp_server: tuple[str, Mailbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, mailbox = smtp_server
    healthy = False
    served: list[int] = []

    def feed(_: Request) -> Response:
        served.append(500 if not healthy else 200)
        if healthy:
            return Response(_rss("https://news.example.org/a"), content_type="application/rss+xml")
        return Response("down", status=500)

    httpserver.expect_request("/failing.xml").respond_with_handler(feed)
    feed_id = _add(runtime, httpserver.url_for("/failing.xml"))

    waits = []
    for _ in range(3):
        report = run_round(runtime, every_feed=True)
        assert len(report.errors) == 1 and "status 500" in report.errors[0]
        waits.append(_wait(_feed(runtime, feed_id)))
    # Each poll tried three times (NEWSWATCH_RETRY_ATTEMPTS) but counts as one failure; the wait doubles.
    for wait, expected in zip(waits, (INTERVAL, 2 * INTERVAL, 4 * INTERVAL), strict=True):
        low, high = _around(expected)
        assert low <= wait <= high, waits
    paused = _feed(runtime, feed_id)
    assert paused.paused_at is not None and paused.error_count == 3
    tried = len(served)
    assert tried == 9  # three tries in each of three polls

    for _ in range(2):  # paused: not polled again, and not reported again
        assert run_round(runtime, every_feed=True).errors == []
    with session_scope(runtime.settings.database_url) as session:
        assert due_feeds(session, now=utcnow() + timedelta(days=30)) == []
        notices = list(session.exec(select(Alert).where(Alert.hit_id == None)))  # noqa: E711
    assert len(served) == tried
    assert [(n.rule, n.status) for n in notices] == [("feed-paused", "sent")]
    (raw,) = mailbox.messages
    message = email.message_from_bytes(raw, policy=default)
    assert "feed-paused" in message["Subject"]
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert httpserver.url_for("/failing.xml") in text and "status 500" in text
    assert f"newswatch feeds resume {feed_id}" in text

    listed = CliRunner().invoke(_main(), ["feeds", "list"], catch_exceptions=False)
    assert "PAUSED since" in listed.output and f"feeds resume {feed_id}" in listed.output

    healthy = True
    resumed = CliRunner().invoke(_main(), ["feeds", "resume", str(feed_id)], catch_exceptions=False)
    assert resumed.exit_code == 0 and f"resumed feed {feed_id}" in resumed.output
    runtime = migrated_runtime()  # the command's own runtime has gone with its client
    report = run_round(runtime)  # due at once
    assert report.errors == [] and [p.outcome for p in report.polled] == ["fetched"]
    back = _feed(runtime, feed_id)
    assert back.paused_at is None and back.error_count == 0
    low, high = _around(INTERVAL)
    assert low <= _wait(back) <= high
    assert "next poll" in CliRunner().invoke(_main(), ["feeds", "list"], catch_exceptions=False).output
    assert len(mailbox.messages) == 1


def _main() -> click.Command:
    from newswatch.worker.cli import main

    reset_runtime()
    return main


@pytest.mark.parametrize(
    ("status", "header", "at_least"),
    [(429, "7200", 7200), (503, "HTTP-DATE", 3 * 3600)],
)
def test_a_retry_after_is_waited_out_and_not_retried_at_once(
    runtime: Runtime, httpserver: HTTPServer, status: int, header: str, at_least: float
) -> None:
    if header == "HTTP-DATE":
        header = email.utils.format_datetime(utcnow() + timedelta(hours=3, minutes=1), usegmt=True)
    httpserver.expect_request("/busy.xml").respond_with_data(
        "slow down", status=status, headers={"Retry-After": header}
    )
    feed_id = _add(runtime, httpserver.url_for("/busy.xml"))

    report = run_round(runtime, every_feed=True)

    assert len(report.errors) == 1 and f"status {status}" in report.errors[0]
    assert len(httpserver.log) == 1  # the site asked to wait: no retry within the poll
    feed = _feed(runtime, feed_id)
    assert feed.error_count == 1 and feed.paused_at is None
    assert _wait(feed) >= at_least


def _bounded(monkeypatch: pytest.MonkeyPatch, *, low: int, high: int) -> Runtime:
    """A runtime whose settings bound the adapted interval."""
    monkeypatch.setenv("NEWSWATCH_MIN_INTERVAL", str(low))
    monkeypatch.setenv("NEWSWATCH_MAX_INTERVAL", str(high))
    reset_runtime()
    return migrated_runtime()


def test_the_interval_adapts_to_how_often_the_feed_has_news_within_its_bounds(
    runtime: Runtime, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = _bounded(monkeypatch, low=300, high=2000)
    polls = itertools.count(1)
    news = True

    def feed(_: Request) -> Response:
        n = next(polls)
        links = [f"https://news.example.org/{i}" for i in range(1, (n if news else 3) + 1)]
        return Response(_rss(*links), content_type="application/rss+xml")

    httpserver.expect_request("/busy.xml").respond_with_handler(feed)
    feed_id = _add(runtime, httpserver.url_for("/busy.xml"))

    intervals = []
    for _ in range(3):  # a new item at every poll
        assert run_round(runtime, every_feed=True).errors == []
        intervals.append(_feed(runtime, feed_id).poll_interval)
    news = False
    for _ in range(4):  # nothing new any more
        assert run_round(runtime, every_feed=True).errors == []
        intervals.append(_feed(runtime, feed_id).poll_interval)

    assert intervals == [450, 300, 300, 450, 675, 1012, 1518]
    assert run_round(runtime, every_feed=True).errors == []
    last = _feed(runtime, feed_id)
    assert last.poll_interval == 2000
    low, high = _around(2000)
    assert low <= _wait(last) <= high


def test_a_feed_s_own_bounds_win_over_the_settings(
    runtime: Runtime, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = _bounded(monkeypatch, low=300, high=2000)
    httpserver.expect_request("/quiet.xml").respond_with_data(
        _rss("https://news.example.org/1"), content_type="application/rss+xml"
    )
    with session_scope(runtime.settings.database_url) as session:
        feed, _ = add_feed(session, httpserver.url_for("/quiet.xml"), interval_seconds=INTERVAL, bounds=(600, 1200))
        feed_id = feed.id
    assert feed_id is not None

    intervals = []
    for _ in range(4):  # one item, then nothing new: the interval grows, up to the feed's own maximum
        assert run_round(runtime, every_feed=True).errors == []
        intervals.append(_feed(runtime, feed_id).poll_interval)

    assert intervals == [600, 900, 1200, 1200]
