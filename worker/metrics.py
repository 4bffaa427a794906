"""Prometheus metrics of a `newswatch worker`, on `http://HOST:NEWSWATCH_METRICS_PORT/metrics` when that is set.

Why prometheus_client's multiprocess mode: with the prefork pool the tasks run in child processes, which
Celery replaces every few hundred tasks (`worker_max_tasks_per_child`). A counter kept in a child's memory
is invisible to an endpoint in the parent and lost with the child. Counting in the parent from task events
instead would need `-E` on every worker, an event receiver thread, and task results shipped back as events,
and would still miss what a child knew but did not return. In multiprocess mode every process writes its
values to memory-mapped files in `PROMETHEUS_MULTIPROC_DIR`, and the parent's endpoint sums the files at
scrape time, those of exited children included. The mode is chosen when prometheus_client is imported
(`values.get_value_class`), so `serve_metrics` makes a fresh directory (files of an earlier run would be
summed too) and sets the variable before anything imports it; the children inherit both through fork. The
same files work for the threads pool, where everything is one process.

What is counted, from each finished task's result (worker.tasks returns plain JSON, the seam read here):
new articles stored, new hits, alerts sent and failed, fetch errors by stage (`feed`, `page`) and kind
(`status_4xx`, `status_5xx`, `timeout`, `network`, `refused`, `too_large`, `other`), and task durations.
Queue lengths are read from Redis at each scrape, so they are current, not a sample.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from newswatch.worker.errors import FetchError

if TYPE_CHECKING:
    from collections.abc import Iterator

    import redis
    from prometheus_client import Counter, Histogram
    from prometheus_client.core import Metric

LOGGER = logging.getLogger(__name__)

FEED_TASKS = {"newswatch.poll_feed": "feed", "newswatch.ingest_entry": "page"}
"""Tasks that fetch, and the stage a fetch error of theirs is counted under."""
_STATUS = re.compile(r"^fetch: status (\d)\d\d")
_KINDS = {"fetch: timed out": "timeout", "fetch: refused": "refused", "fetch: body over": "too_large"}
"""Message openings of worker.ingest.fetch's errors; any other `fetch:` error is a network error."""


@dataclass(frozen=True)
class Instruments:
    """The metrics a worker process updates."""

    articles: Counter
    hits: Counter
    alerts_sent: Counter
    alerts_failed: Counter
    fetch_errors: Counter
    task_seconds: Histogram


@lru_cache(maxsize=1)
def instruments() -> Instruments:
    """Built on first use, after `serve_metrics` has chosen multiprocess mode."""
    from prometheus_client import Counter, Histogram

    return Instruments(
        articles=Counter("newswatch_articles_stored", "New articles stored."),
        hits=Counter("newswatch_hits", "New rule hits stored."),
        alerts_sent=Counter("newswatch_alerts_sent", "Alerts a channel accepted."),
        alerts_failed=Counter("newswatch_alerts_failed", "Alerts given up on (permanent error or out of tries)."),
        fetch_errors=Counter("newswatch_fetch_errors", "Failed fetches of feeds and pages.", ["stage", "kind"]),
        task_seconds=Histogram(
            "newswatch_task_duration_seconds",
            "Time a task ran, by task name and final state.",
            ["task", "state"],
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 180),
        ),
    )


def fetch_error_kind(message: str) -> str:
    """The kind of a fetch error, from the message worker.ingest.fetch gives it."""
    status = _STATUS.match(message)
    if status:
        return f"status_{status.group(1)}xx"
    for opening, kind in _KINDS.items():
        if message.startswith(opening):
            return kind
    return "network" if message.startswith("fetch:") else "other"


def count_result(task: str, result: Any) -> None:
    """Count what one finished task did, from the JSON it returned."""
    if not isinstance(result, dict):
        return
    metrics = instruments()
    article = result.get("article")
    if isinstance(article, dict):
        metrics.articles.inc(1 if article.get("new") else 0)
        metrics.hits.inc(len(article.get("new_hits") or ()))
        if article.get("problem"):  # the page could not be fetched: the entry's own text stands in
            metrics.fetch_errors.labels("page", fetch_error_kind(str(article["problem"]))).inc()
    if task == "newswatch.poll_feed" and result.get("error"):
        metrics.fetch_errors.labels("feed", fetch_error_kind(str(result["error"]))).inc()
    outcome = result.get("outcome") if task == "newswatch.deliver_alert" else None
    if outcome == "sent":
        metrics.alerts_sent.inc(len(result.get("batch") or ()) or 1)
    elif outcome == "failed":
        metrics.alerts_failed.inc()


def count_retry(task: str, reason: object) -> None:
    """Count a fetch that failed and will be tried again."""
    stage = FEED_TASKS.get(task)
    if stage and isinstance(reason, FetchError):
        instruments().fetch_errors.labels(stage, fetch_error_kind(str(reason))).inc()


class QueueCollector:
    """Queue lengths read from the broker's Redis when Prometheus scrapes."""

    def __init__(self, client: redis.Redis) -> None:
        self._client = client

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily

        from newswatch.worker.celery_app import queue_lengths

        gauge = GaugeMetricFamily("newswatch_queue_length", "Messages waiting in each queue.", labels=["queue"])
        try:
            lengths = queue_lengths(self._client)
        except Exception as exc:  # a scrape while Redis is away shows no queues, not a broken endpoint
            LOGGER.warning("metrics: unable to read queue lengths: %s", exc)
            lengths = {}
        for queue, length in lengths.items():
            gauge.add_metric([queue], length)
        yield gauge


def serve_metrics(port: int, client: redis.Redis) -> None:
    """Choose multiprocess mode, count each task from Celery's signals, and serve `/metrics` on `port`."""
    if "prometheus_client" in sys.modules and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        LOGGER.warning("metrics: prometheus_client was imported before multiprocess mode was set")
    directory = tempfile.mkdtemp(prefix="newswatch-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    atexit.register(_remove_in, os.getpid(), directory)
    from celery.signals import worker_ready
    from prometheus_client import CollectorRegistry, multiprocess, start_http_server

    _connect_signals()
    instruments()
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(QueueCollector(client))

    def serve(**_: Any) -> None:
        # Started once the pool's children exist: a process forked while another thread runs inherits that
        # thread's locks held and can hang on its first task.
        start_http_server(port, registry=registry)
        LOGGER.info("metrics: serving http://0.0.0.0:%d/metrics", port)

    worker_ready.connect(serve, weak=False)


def _remove_in(parent: int, directory: str) -> None:
    # Removed when the worker exits; a forked child (which inherits this hook) leaves it alone.
    if os.getpid() == parent:
        shutil.rmtree(directory, ignore_errors=True)


_started: dict[str, float] = {}


def _connect_signals() -> None:
    from celery.signals import task_postrun, task_prerun, task_retry, worker_process_shutdown

    def prerun(task_id: str, **_: Any) -> None:
        _started[task_id] = time.monotonic()

    def postrun(task_id: str, task: Any, retval: Any = None, state: str | None = None, **_: Any) -> None:
        started = _started.pop(task_id, None)
        if started is not None:
            instruments().task_seconds.labels(task.name, state or "UNKNOWN").observe(time.monotonic() - started)
        if state == "SUCCESS":
            count_result(task.name, retval)

    def retry(sender: Any = None, reason: object = None, **_: Any) -> None:
        count_retry(str(getattr(sender, "name", "")), reason)

    def child_exit(pid: int, **_: Any) -> None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)

    task_prerun.connect(prerun, weak=False)
    task_postrun.connect(postrun, weak=False)
    task_retry.connect(retry, weak=False)
    worker_process_shutdown.connect(child_exit, weak=False)
