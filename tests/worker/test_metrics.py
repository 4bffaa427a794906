"""A prefork worker with NEWSWATCH_METRICS_PORT serves Prometheus metrics summed over its child processes.

A feed on loopback lists two article pages and one that answers 404; after the worker processed the round,
the endpoint on loopback counts the articles, hits, alerts, the page's fetch error and the tasks' durations,
and shows the queues' lengths.
"""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from pytest_httpserver import HTTPServer

from newswatch.storage.db import session_scope
from newswatch.storage.feeds import add_feed
from newswatch.storage.schema import upgrade
from newswatch.worker.metrics import fetch_error_kind
from tests.conftest import worker_stack
from tests.worker.test_distributed import _rss, _run_once, _serve_feed, _serve_pages


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _samples(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def test_the_worker_counts_what_its_children_did(sqlite_url: str, httpserver: HTTPServer, tmp_path: Path) -> None:
    upgrade(sqlite_url)
    port = _free_port()
    _serve_feed(httpserver, "/feed.xml", _rss(httpserver, ["/news/border", "/news/tanf", "/news/gone"]))
    _serve_pages(httpserver)
    httpserver.expect_request("/news/gone").respond_with_data("gone", status=404)
    with session_scope(sqlite_url) as session:
        add_feed(session, httpserver.url_for("/feed.xml"), interval_seconds=900)

    with worker_stack(sqlite_url, tmp_path, env={"NEWSWATCH_METRICS_PORT": str(port)}) as stack:
        done = _run_once(stack, tmp_path)
        worker_log = stack.log.read_text(errors="replace")[-6000:]  # shown if the round did not finish
        assert "feeds polled: 1, articles: 3 (3 new)" in done.stdout, done.stdout + done.stderr + worker_log
        samples = _samples(port)

    assert samples[("newswatch_articles_stored_total", ())] == 3
    assert samples[("newswatch_hits_total", ())] == 3
    assert samples[("newswatch_alerts_sent_total", ())] == 3
    assert samples[("newswatch_alerts_failed_total", ())] == 0
    assert samples[("newswatch_fetch_errors_total", (("kind", "status_4xx"), ("stage", "page")))] == 1
    ingests = ("newswatch_task_duration_seconds_count", (("state", "SUCCESS"), ("task", "newswatch.ingest_entry")))
    assert samples[ingests] == 3
    polls = ("newswatch_task_duration_seconds_count", (("state", "SUCCESS"), ("task", "newswatch.poll_feed")))
    assert samples[polls] == 1
    for queue in ("poll", "extract", "alerts"):
        assert samples[("newswatch_queue_length", (("queue", queue),))] == 0


def test_fetch_errors_are_counted_by_kind() -> None:
    cases = {
        "fetch: status 404: http://127.0.0.1/a": "status_4xx",
        "fetch: status 503 (retry after 5 s): http://127.0.0.1/a": "status_5xx",
        "fetch: timed out: no answer in 5 s (read timeout, NEWSWATCH_READ_TIMEOUT): http://127.0.0.1/a": "timeout",
        "fetch: refused 127.0.0.1: not a public address": "refused",
        "fetch: body over 100 bytes: http://127.0.0.1/a": "too_large",
        "fetch: ConnectError ([Errno 111] Connection refused): http://127.0.0.1/a": "network",
        "feed: not a feed: http://127.0.0.1/a": "other",
    }
    assert {message: fetch_error_kind(message) for message in cases} == cases
