"""`newswatch status`: each feed's polls and errors, the work waiting, and with a broker the queues and workers."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from newswatch.storage.db import session_scope
from newswatch.storage.feeds import add_feed
from newswatch.storage.models import utcnow
from newswatch.storage.schema import upgrade
from newswatch.worker.celery_app import create_app
from newswatch.worker.config import Settings
from newswatch.worker.runtime import reset_runtime
from tests.conftest import worker_stack


def _newswatch(*args: str) -> Result:
    from newswatch.worker.cli import main

    reset_runtime()
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _feeds(database_url: str) -> None:
    """One healthy feed, one failing, one paused."""
    now = utcnow()
    with session_scope(database_url) as session:
        healthy, _ = add_feed(session, "http://127.0.0.1:9/healthy.xml", interval_seconds=900)
        healthy.last_polled_at, healthy.next_poll_at = now, now + timedelta(minutes=15)
        failing, _ = add_feed(session, "http://127.0.0.1:9/failing.xml", interval_seconds=900)
        failing.last_error, failing.error_count = "fetch: status 503: http://127.0.0.1:9/failing.xml", 2
        paused, _ = add_feed(session, "http://127.0.0.1:9/paused.xml", interval_seconds=900)
        paused.paused_at, paused.last_error, paused.error_count = now, "fetch: status 404", 10


def test_it_shows_each_feeds_polls_errors_and_pause(database_url: str) -> None:
    upgrade(database_url)
    _feeds(database_url)
    result = _newswatch("status", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    feeds = {feed["url"].rsplit("/", 1)[1]: feed for feed in report["feeds"]}
    assert feeds["healthy.xml"]["last_poll"] is not None and feeds["healthy.xml"]["next_poll"] is not None
    assert feeds["healthy.xml"]["last_error"] is None and not feeds["healthy.xml"]["paused"]
    assert feeds["failing.xml"]["last_error"].startswith("fetch: status 503")
    assert feeds["failing.xml"]["failures"] == 2
    assert feeds["paused.xml"]["paused"] is True
    assert report["entries"] == {"pending": 0, "failed": 0, "done": 0}
    assert report["alerts"] == {"pending": 0, "sending": 0, "sent": 0, "failed": 0}
    assert report["queues"] is None and report["workers"] is None


def test_its_text_names_the_failing_and_paused_feeds(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSWATCH_DATABASE_URL", sqlite_url)
    upgrade(sqlite_url)
    _feeds(sqlite_url)
    output = _newswatch("status").stdout
    assert "2 failure(s): fetch: status 503: http://127.0.0.1:9/failing.xml" in output
    assert "paused" in next(line for line in output.splitlines() if "paused.xml" in line)
    assert "queues   none: no broker" in output


def test_it_counts_waiting_messages_and_reports_no_worker(redis_url: str) -> None:
    app = create_app(Settings(broker_url=redis_url))
    app.send_task("newswatch.ingest_entry", args=(1,))
    app.send_task("newswatch.ingest_entry", args=(2,))
    report = json.loads(_newswatch("status", "--json", "--timeout", "0.5").stdout)
    assert report["queues"] == {"poll": 0, "extract": 2, "alerts": 0, "unacked": 0}
    assert report["workers"] == []
    assert "workers  none answered a ping" in _newswatch("status", "--timeout", "0.5").stdout


def test_it_lists_the_workers_that_answer(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    upgrade(sqlite_url)
    with worker_stack(sqlite_url, tmp_path) as stack:
        monkeypatch.setenv("NEWSWATCH_DATABASE_URL", sqlite_url)
        monkeypatch.setenv("NEWSWATCH_BROKER_URL", stack.redis_url)
        report = json.loads(_newswatch("status", "--json", "--timeout", "2").stdout)
    assert len(report["workers"]) == 1 and report["workers"][0].startswith("test-")
    assert report["queues"]["extract"] == 0
