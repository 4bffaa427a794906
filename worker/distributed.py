"""One polling round sent to the Celery workers, followed until every article and alert is processed.

`newswatch run --once` with a broker uses this: the work happens in worker.tasks; this sends a poll per
feed and follows the tasks each one spawned, collecting the same report the embedded runner builds. Work
not finished by the deadline is listed as pending, not dropped from the report.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from contextlib import suppress
from typing import Any

from celery.exceptions import TimeoutError as CeleryTimeout
from celery.result import AsyncResult

from newswatch.alerts.delivery import Delivery
from newswatch.alerts.outbox import due_alert_ids
from newswatch.storage.db import session_scope
from newswatch.storage.feeds import list_feeds
from newswatch.worker.alerting import DELIVER_TASK
from newswatch.worker.pipeline import due_entries
from newswatch.worker.report import ArticleSummary, PollSummary, RoundReport
from newswatch.worker.runtime import Runtime


def run_round_on_workers(runtime: Runtime, *, timeout: float) -> RoundReport:
    """Send a poll for every enabled feed, and the sweep's entries, and wait for them, their entries and
    their alerts; then send the alerts still due (the embedded round ends the same way) and wait for them."""
    app = runtime.app
    report = RoundReport()
    deadline = time.monotonic() + timeout
    # The sweep first, as on every round: entries an earlier round lost (a Redis restart, a killed worker).
    entries = _send_entries(runtime, due_entries(runtime.settings))
    with session_scope(runtime.settings.database_url) as session:
        feeds = [(f.id, f.url) for f in list_feeds(session) if f.enabled]
    polls = [(url, app.send_task("newswatch.poll_feed", args=(feed_id,))) for feed_id, url in feeds]
    for url, result in polls:
        outcome = _wait(result, deadline, report, f"poll of {url}")
        if outcome is None:
            continue
        if outcome.get("error"):
            report.errors.append(outcome["error"])
            continue
        found, warning = outcome.get("discovered"), outcome.get("warning")
        report.polled.append(PollSummary(url, outcome["outcome"], outcome["new_entries"], warning, found))
        if outcome.get("warning"):
            report.warnings.append(f"feed: malformed but readable ({outcome['warning']}): {url}")
        entries += [(f"an entry of {url}", AsyncResult(task_id, app=app)) for task_id in outcome["entries"]]
    _follow_entries(runtime, entries, deadline, report)
    # The alerts' sweep: an alert whose message was lost (Redis restarted between the commit of its row and
    # the delivery task's arrival) is due and has no task; without this only beat would ever send it.
    # A row that does have a task is sent once all the same: only one claim on it wins.
    with session_scope(runtime.settings.database_url) as session:
        due = due_alert_ids(session)
    _follow_deliveries([runtime.app.send_task(DELIVER_TASK, args=(i,)) for i in due], deadline, report)
    return report


def ingest_on_workers(runtime: Runtime, entry_ids: Iterable[int], *, timeout: float) -> RoundReport:
    """Send these entry rows to the workers and wait for them and their alerts (`entries retry`)."""
    report = RoundReport()
    _follow_entries(runtime, _send_entries(runtime, entry_ids), time.monotonic() + timeout, report)
    return report


def _send_entries(runtime: Runtime, entry_ids: Iterable[int]) -> list[tuple[str, AsyncResult]]:
    return [(f"entry {i}", runtime.app.send_task("newswatch.ingest_entry", args=(i,))) for i in entry_ids]


def _follow_entries(
    runtime: Runtime, entries: list[tuple[str, AsyncResult]], deadline: float, report: RoundReport
) -> None:
    deliveries: list[AsyncResult] = []
    for what, result in entries:
        outcome = _wait(result, deadline, report, what)
        if outcome is None:
            continue
        if outcome.get("error"):
            report.errors.append(outcome["error"])
        if outcome.get("article") is None:
            continue
        article = ArticleSummary.from_json(outcome["article"])
        report.articles.append(article)
        if article.problem:
            report.warnings.append(article.problem)
        deliveries += [AsyncResult(task_id, app=runtime.app) for task_id in outcome["deliveries"]]
    _follow_deliveries(deliveries, deadline, report)


def _follow_deliveries(deliveries: list[AsyncResult], deadline: float, report: RoundReport) -> None:
    for result in deliveries:
        outcome = _wait(result, deadline, report, "an alert")
        if outcome is not None:
            report.deliveries.append(Delivery.from_json(outcome))


def _wait(result: AsyncResult, deadline: float, report: RoundReport, what: str) -> Any:
    """The task's return value; None when it failed (an error) or is still running (pending)."""
    remaining = deadline - time.monotonic()
    try:
        if remaining <= 0 and not result.ready():
            report.pending.append(f"{what} (task {result.id})")
            return None
        return result.get(timeout=max(0.1, remaining), propagate=True)
    except CeleryTimeout:
        report.pending.append(f"{what} (task {result.id})")
        return None
    except Exception as exc:  # noqa: BLE001 - the task's own error, re-raised by Celery
        report.errors.append(f"{what}: {exc}")
        return None
    finally:
        with suppress(Exception):  # the backend may be away (a Redis restart): forgetting is only tidying
            if result.ready():
                result.forget()
