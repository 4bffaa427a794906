"""A failing feed polled by real Celery worker processes, several polls at once: it is paused once and
reported once, the notice delivered by the workers like any alert; `resume` lets beat's tick send it again."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlmodel import select

from newswatch.storage.db import session_scope
from newswatch.storage.feeds import add_feed, resume_feed
from newswatch.storage.models import Alert, Feed
from newswatch.storage.schema import upgrade
from newswatch.worker.celery_app import create_app
from newswatch.worker.config import Settings
from tests.conftest import REDIS_URL, WorkerStack, worker_stack


@pytest.fixture
def pausing_stack(tmp_path: Path, redis_url: str) -> Iterator[WorkerStack]:
    """Workers (two prefork children) that pause a feed after two failed polls, each poll tried once."""
    url = f"sqlite:///{tmp_path / 'newswatch.db'}"
    upgrade(url)
    env = {"NEWSWATCH_FEED_PAUSE_AFTER": "2", "NEWSWATCH_RETRY_ATTEMPTS": "1"}
    with worker_stack(url, tmp_path, redis_url=REDIS_URL, env=env) as stack:
        yield stack


def test_polls_at_once_on_two_workers_pause_a_failing_feed_with_one_notice(
    pausing_stack: WorkerStack, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/gone.xml").respond_with_data("gone", status=404)
    with session_scope(pausing_stack.database_url) as session:
        feed, _ = add_feed(session, httpserver.url_for("/gone.xml"), interval_seconds=900)
        feed_id = feed.id
    app = create_app(Settings(broker_url=pausing_stack.redis_url))

    polls = [app.send_task("newswatch.poll_feed", args=(feed_id,)) for _ in range(6)]
    outcomes = [poll.get(timeout=60) for poll in polls]

    assert all("status 404" in outcome["error"] for outcome in outcomes)
    with session_scope(pausing_stack.database_url) as session:
        paused = session.get_one(Feed, feed_id)
        assert paused.paused_at is not None and paused.error_count >= 2
        notices = list(session.exec(select(Alert).where(Alert.rule == "feed-paused")))
    assert len(notices) == 1 and notices[0].channel == "console"
    assert f"feed {feed_id} paused" in (notices[0].notice or "")

    swept = app.send_task("newswatch.deliver_due").get(timeout=60)  # beat's sweep of the outbox
    assert swept == [notices[0].id]
    assert _status_when_done(pausing_stack.database_url, notices[0].id) == "sent"
    assert app.send_task("newswatch.poll_due").get(timeout=60) == []  # paused: not polled
    with session_scope(pausing_stack.database_url) as session:
        resume_feed(session, session.get_one(Feed, feed_id))
    assert app.send_task("newswatch.poll_due").get(timeout=60) == [feed_id]


def _status_when_done(database_url: str, alert_id: int) -> str:
    """The outbox row's status once the workers are done with it (polled, up to a deadline)."""
    deadline = time.monotonic() + 30
    while True:
        with session_scope(database_url) as session:
            status = session.get_one(Alert, alert_id).status
        if status not in ("pending", "sending") or time.monotonic() > deadline:
            return status
        time.sleep(0.1)
