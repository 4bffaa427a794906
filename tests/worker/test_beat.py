"""Beat on a real worker: feeds are polled close to their due time, and a standby beat takes over."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from newswatch.storage.db import session_scope
from newswatch.storage.feeds import add_feed
from newswatch.storage.schema import upgrade
from tests.conftest import WorkerStack, worker_stack

INTERVAL = 10


@pytest.fixture
def stack(sqlite_url: str, tmp_path: Path) -> Iterator[WorkerStack]:
    upgrade(sqlite_url)
    with worker_stack(sqlite_url, tmp_path) as started:
        yield started


def _beat(stack: WorkerStack, folder: Path, name: str) -> subprocess.Popen[bytes]:
    log = (folder / f"beat-{name}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "newswatch.worker", "beat", "--schedule", str(folder / f"beat-{name}")],
        env=stack.env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=folder,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def test_feeds_are_polled_on_time_and_a_standby_beat_takes_over(
    stack: WorkerStack, httpserver: HTTPServer, tmp_path: Path
) -> None:
    polls: list[float] = []

    def feed(_: Request) -> Response:
        polls.append(time.monotonic())
        return Response(
            '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>',
            content_type="application/rss+xml",
        )

    httpserver.expect_request("/feed.xml").respond_with_handler(feed)
    with session_scope(stack.database_url) as session:
        add_feed(session, httpserver.url_for("/feed.xml"), interval_seconds=INTERVAL)

    active = _beat(stack, tmp_path, "a")
    standby = None
    try:
        deadline = time.monotonic() + 60
        while len(polls) < 4 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(polls) >= 4, f"beat polled {len(polls)} times in 60 s"
        gaps = [b - a for a, b in zip(polls[1:], polls[2:], strict=False)]  # the first gap includes start-up
        assert all(INTERVAL - 3 <= gap <= INTERVAL + 3 for gap in gaps), gaps  # within seconds of due time

        standby = _beat(stack, tmp_path, "b")
        time.sleep(3)  # the standby is up and waiting for the lock
        active.send_signal(signal.SIGKILL)  # no goodbye: its lock must expire
        killed_at = time.monotonic()
        deadline = killed_at + 45
        while not any(t > killed_at + 1 for t in polls) and time.monotonic() < deadline:
            time.sleep(0.2)
        resumed = [t for t in polls if t > killed_at + 1]
        assert resumed, "no poll after the active beat died"
        assert resumed[0] - killed_at <= 30 + INTERVAL, resumed[0] - killed_at
        assert standby.poll() is None
    finally:
        _stop(active)
        if standby is not None:
            _stop(standby)
