"""Per-host limits hold across processes (through the test Redis) and within one: never more requests at once
than allowed, never more a minute; a slot of a process that died is freed when its lease ends."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
import redis
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from newswatch.worker.ingest.hostlimits import POLL, LocalHostLimits, RedisHostLimits
from tests.conftest import loopback_server

WORKER = """
import sys, threading
from newswatch.worker.errors import FetchError
from newswatch.worker.ingest.fetch import fetch
from newswatch.worker.runtime import get_runtime

runtime = get_runtime()
url, requests, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
results = []

def work():
    for _ in range(requests):
        try:
            fetch(runtime.client, url, max_bytes=10_000, deadline=20)
            results.append("ok")
        except FetchError as exc:
            results.append("busy" if "busy" in str(exc) and exc.transient else str(exc))

workers = [threading.Thread(target=work) for _ in range(threads)]
for worker in workers:
    worker.start()
for worker in workers:
    worker.join()
print("\\n".join(results))
"""


class InFlight:
    """A page that counts the requests being served at once (each takes a moment, so that they overlap)."""

    def __init__(self) -> None:
        self.now = self.most = self.served = 0
        self.lock = threading.Lock()

    def __call__(self, _: Request) -> Response:
        with self.lock:
            self.now += 1
            self.served += 1
            self.most = max(self.most, self.now)
        time.sleep(0.05)
        with self.lock:
            self.now -= 1
        return Response("ok", content_type="text/plain")


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    with loopback_server(threaded=True) as running:
        yield running


def _workers(url: str, count: int, *, requests: int, threads: int, **settings: str) -> list[list[str]]:
    """`count` processes fetching `url`, each `requests` times in each of `threads` threads; their outcomes."""
    env = {**os.environ, **{f"NEWSWATCH_{k.upper()}": v for k, v in settings.items()}}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, url, str(requests), str(threads)], env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(count)
    ]
    outputs = [process.communicate(timeout=120)[0] for process in processes]
    assert all(process.returncode == 0 for process in processes)
    return [output.split() for output in outputs]


def test_two_processes_never_exceed_the_hosts_concurrency_together(server: HTTPServer, redis_url: str) -> None:
    page = InFlight()
    server.expect_request("/page").respond_with_handler(page)

    outcomes = _workers(server.url_for("/page"), 2, requests=3, threads=2, host_concurrency="1")

    assert outcomes == [["ok"] * 6, ["ok"] * 6]
    assert page.served == 12 and page.most == 1


def test_two_processes_share_one_budget_of_requests_a_minute(server: HTTPServer, redis_url: str) -> None:
    page = InFlight()
    server.expect_request("/page").respond_with_handler(page)

    outcomes = _workers(server.url_for("/page"), 2, requests=3, threads=1, host_per_minute="4", host_wait="0.5")

    together = sorted(outcomes[0] + outcomes[1])
    assert together == ["busy", "busy", "ok", "ok", "ok", "ok"]
    assert page.served == 4


def test_a_slot_held_by_a_process_that_died_is_freed_when_its_lease_ends(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    limits = RedisHostLimits(client, at_once=1, per_minute=None, lease=1.0)
    assert limits.try_acquire("news.example.org", "dead-worker") == 0  # and never released

    assert limits.try_acquire("news.example.org", "live-worker") == POLL
    deadline = time.monotonic() + 15
    while limits.try_acquire("news.example.org", "live-worker") != 0:
        assert time.monotonic() < deadline, "the dead worker's slot was never freed"
        time.sleep(POLL)
    limits.release("news.example.org", "live-worker")
    assert limits.try_acquire("other.example.org", "x") == 0  # hosts are counted apart


def test_in_process_limits_count_at_once_and_a_minute() -> None:
    now = [100.0]
    limits = LocalHostLimits(at_once=2, per_minute=3, clock=lambda: now[0])
    assert limits.try_acquire("a", "1") == 0 and limits.try_acquire("a", "2") == 0
    assert limits.try_acquire("a", "3") == POLL  # two at once
    assert limits.try_acquire("b", "1") == 0  # another host
    limits.release("a", "1")
    assert limits.try_acquire("a", "3") == 0
    limits.release("a", "2")
    limits.release("a", "3")
    now[0] += 10
    assert limits.try_acquire("a", "4") == 50.0  # three this minute: the first leaves the window in 50 s
    now[0] += 50
    assert limits.try_acquire("a", "4") == 0
