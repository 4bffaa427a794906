"""One polling round sent to the Celery workers, waited on until every article and alert is processed.

`newswatch run --once` with a broker uses this: the work itself happens in worker.tasks, this only sends
the polls and follows the tasks each one spawned.
"""

from __future__ import annotations

import time
from typing import Any

from celery.result import AsyncResult

from storage.db import session_scope
from storage.feeds import list_feeds
from worker.embedded import RoundReport
from worker.runtime import Runtime


def run_round_on_workers(runtime: Runtime, *, timeout: float) -> RoundReport:
    """Send a poll for every enabled feed and wait for the polls, their entries and their alerts."""
    from worker import tasks

    report = RoundReport()
    deadline = time.monotonic() + timeout
    with session_scope(runtime.settings.database_url) as session:
        feeds = [(f.id, f.url) for f in list_feeds(session) if f.enabled]
    polls = [(url, tasks.poll_feed.delay(feed_id)) for feed_id, url in feeds]
    entry_ids: list[str] = []
    for url, result in polls:
        try:
            entry_ids += list(_wait(result, deadline))
        except Exception as exc:  # the task's own error, re-raised by Celery
            report.errors.append(f"{url}: {exc}")
    delivery_ids: list[str] = []
    for task_id in entry_ids:
        try:
            outcome = _wait(AsyncResult(task_id, app=tasks.app), deadline)
            delivery_ids += list(outcome.get("deliveries", []))
        except Exception as exc:
            report.errors.append(str(exc))
    for task_id in delivery_ids:
        try:
            _wait(AsyncResult(task_id, app=tasks.app), deadline)
        except Exception as exc:
            report.errors.append(str(exc))
    return report


def _wait(result: AsyncResult, deadline: float) -> Any:
    remaining = max(0.1, deadline - time.monotonic())
    try:
        return result.get(timeout=remaining, propagate=True)
    finally:
        result.forget()
