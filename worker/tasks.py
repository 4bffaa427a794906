"""Celery tasks: thin wrappers that load by id, call one pipeline step, and hand on to the next queue.

One task per feed poll, per article and per alert (a Redis round trip costs ~2 ms, an extraction 5-30 ms),
never one per rule or per hit. Every task is idempotent (see worker.pipeline), so a redelivery is harmless.
They are `shared_task`s, bound to the app the process built (worker.celery_app); callers send them by
name. Results are the plain records of worker.report, so `run --once` reports what the embedded run does. A
task's result is stored only when its sender follows it (`run --once`, a caller of `send_task`): the tasks that
beat's ticks and sweeps start, and the tasks those start, store none, so an unattended worker does not write
(and read back) a result in Redis for every poll, page and alert that nobody reads.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from typing import Any

from celery import Task, shared_task
from celery.app.task import get_actual_ignore_result
from celery.utils.time import get_exponential_backoff_interval
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import InterfaceError, OperationalError

from newswatch.alerts.delivery import SentNotRecorded, deliver, record_sent
from newswatch.alerts.outbox import due_alert_ids
from newswatch.storage.backoff import backoff_seconds
from newswatch.storage.db import session_scope
from newswatch.storage.errors import NewswatchError
from newswatch.storage.feeds import due_feeds
from newswatch.storage.models import utcnow
from newswatch.worker import pipeline
from newswatch.worker.celery_app import POLL_TICK
from newswatch.worker.errors import FeedError, FetchError
from newswatch.worker.runtime import get_runtime

LOGGER = logging.getLogger(__name__)

MAX_CRASHES = 2
"""Starts of one task that ended without an outcome (the worker was killed: a time limit, a crash on a page)
before its page is skipped: Redis keeps no delivery count and would redeliver such a task forever."""
MAX_COUNTDOWN = 240.0
"""Retries wait at most this long: below Redis's visibility timeout (celery#5935); longer waits are the
sweeps' (entries and alerts stay in the database until done)."""
TRANSIENT = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError)
"""A database or Redis that is briefly away: every task retries these with backoff, then leaves its row to
the sweep."""
RETRYING: dict[str, Any] = {
    "autoretry_for": TRANSIENT,
    "retry_backoff": 5,
    "retry_backoff_max": int(MAX_COUNTDOWN),
    "retry_jitter": True,
    "max_retries": 6,
}


@shared_task(name="newswatch.poll_due", **RETRYING)
def poll_due() -> list[int]:
    """Beat's tick: send a poll for every feed whose interval has passed, or will before the next tick is
    half over (else a feed due just after a tick waits a whole tick)."""
    runtime = get_runtime()
    soon = utcnow() + timedelta(seconds=POLL_TICK / 2)
    with session_scope(runtime.settings.database_url) as session:
        ids = [feed.id for feed in due_feeds(session, now=soon) if feed.id is not None]
    for feed_id in ids:
        poll_feed.apply_async((feed_id,), ignore_result=True)
    return ids


@shared_task(name="newswatch.poll_feed", bind=True, **RETRYING)
def poll_feed(self: Task, feed_id: int) -> dict[str, Any]:
    """Poll one feed and send each new entry row to the extract queue; returns the poll and those tasks' ids."""
    runtime = get_runtime()
    settings = runtime.settings
    final = self.request.retries >= settings.retry_attempts - 1
    try:
        polled = pipeline.poll_feed(
            feed_id, settings=settings, client=runtime.client, channels=runtime.default_channels, final_attempt=final
        )
    except FetchError as exc:
        if exc.transient and exc.retry_after is None and not final:
            raise self.retry(exc=exc, countdown=_backoff(self), max_retries=settings.retry_attempts) from exc
        return {"error": str(exc)}
    except FeedError as exc:
        return {"error": str(exc)}
    unread = _unread(self)
    entries = [ingest_entry.apply_async((entry_id,), ignore_result=unread).id for entry_id in polled.entry_ids]
    return {
        "url": polled.url,
        "outcome": polled.outcome,
        "new_entries": len(polled.entry_ids),
        "warning": polled.warning,
        "discovered": polled.discovered,
        "entries": entries,
    }


@shared_task(name="newswatch.ingest_entry", bind=True, **RETRYING)
def ingest_entry(self: Task, entry_id: int) -> dict[str, Any]:
    """Fetch, extract, match and store one entry row; send its new alerts to the alerts queue.

    A failure that is no network or database blip (a broken rules file, a bug) is recorded on the row,
    which the sweep hands on again later.
    """
    runtime = get_runtime()
    settings = runtime.settings
    if _crashed_starts(self) >= MAX_CRASHES:
        LOGGER.error("page of entry %s skipped after %d crashed attempts", entry_id, MAX_CRASHES)
        settings = replace(settings, fetch_pages=False)  # the entry's own text stands in
    try:
        ingested = pipeline.ingest_entry(
            entry_id,
            rules=runtime.rules(),
            settings=settings,
            client=runtime.client,
            default_channels=runtime.default_channels,
            final_attempt=self.request.retries >= settings.retry_attempts - 1,
            robots=runtime.robots,
        )
    except FetchError as exc:
        raise self.retry(exc=exc, countdown=_backoff(self), max_retries=settings.retry_attempts) from exc
    except NewswatchError as exc:
        pipeline.entry_failed(entry_id, str(exc), settings=settings)
        return {"entry_id": entry_id, "error": str(exc), "article": None, "deliveries": []}
    if ingested is None:
        return {"entry_id": entry_id, "article": None, "deliveries": []}
    unread = _unread(self)
    deliveries = [deliver_alert.apply_async((alert_id,), ignore_result=unread).id for alert_id in ingested.alert_ids]
    return {"entry_id": entry_id, "article": ingested.summary().to_json(), "deliveries": deliveries}


@shared_task(name="newswatch.sweep_entries", **RETRYING)
def sweep_entries() -> list[int]:
    """Beat's sweep of entries: hand on every entry row not done in time (its message lost, its worker killed)."""
    ids = pipeline.due_entries(get_runtime().settings)
    for entry_id in ids:
        ingest_entry.apply_async((entry_id,), ignore_result=True)
    return ids


@shared_task(name="newswatch.deliver_alert", bind=True, **RETRYING)
def deliver_alert(self: Task, alert_id: int, sent: list[int] | None = None, until: int = 0) -> dict[str, Any]:
    """Deliver one outbox row; a transient failure schedules the next try.

    Rows the channel accepted while the database was away are never sent again: the retries (with `sent`,
    up to retry number `until`) only record them as sent.
    """
    runtime = get_runtime()
    try:
        if sent is not None:
            return record_sent(alert_id, tuple(sent), settings=runtime.settings).to_json()
        outcome = deliver(alert_id, settings=runtime.settings, channels=runtime.channels)
    except SentNotRecorded as exc:
        sent, until = list(exc.batch), self.request.retries + RETRYING["max_retries"]  # the step's own tries
        raise self.retry(kwargs={"sent": sent, "until": until}, exc=exc, countdown=_blip(0), max_retries=until) from exc
    except TRANSIENT as exc:
        if sent is None:
            raise  # RETRYING's autoretry: the delivery itself is tried again
        tries = self.request.retries - (until - RETRYING["max_retries"])
        raise self.retry(exc=exc, countdown=_blip(tries), max_retries=until) from exc
    if outcome.outcome in ("retry", "deferred") and outcome.retry_in is not None and outcome.retry_in <= MAX_COUNTDOWN:
        deliver_alert.apply_async((alert_id,), countdown=outcome.retry_in + 1, ignore_result=True)
    # Longer waits (a Slack Retry-After of an hour, a daily digest) are picked up by deliver_due instead.
    return outcome.to_json()


@shared_task(name="newswatch.deliver_due", **RETRYING)
def deliver_due() -> list[int]:
    """Beat's sweep of alerts: send every due or abandoned outbox row (lost messages, long retry waits)."""
    runtime = get_runtime()
    with session_scope(runtime.settings.database_url) as session:
        ids = due_alert_ids(session)
    for alert_id in ids:
        deliver_alert.apply_async((alert_id,), ignore_result=True)
    return ids


def _unread(task: Task) -> bool:
    """Whether nobody follows this task's result, so nobody will follow the results of the tasks it starts."""
    return bool(get_actual_ignore_result(task, task.request))


def _blip(retries: int) -> int:
    """RETRYING's countdown before retry number `retries` + 1 (for retries a task sends itself)."""
    return get_exponential_backoff_interval(
        factor=RETRYING["retry_backoff"], retries=retries, maximum=RETRYING["retry_backoff_max"], full_jitter=True
    )


def _backoff(task: Task) -> float:
    return backoff_seconds(task.request.retries, base=get_runtime().settings.retry_base, cap=MAX_COUNTDOWN)


def _crashed_starts(task: Task) -> int:
    """How often this task started before without finishing or retrying (counted in Redis per task id)."""
    key = f"newswatch:starts:{task.request.id}"
    pipe = get_runtime().redis.pipeline(transaction=False)  # one round trip for both
    pipe.incr(key)
    pipe.expire(key, 86_400)
    starts, _ = pipe.execute()
    return int(starts) - 1 - task.request.retries
