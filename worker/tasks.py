"""Celery tasks: thin wrappers that load by id, call one pipeline step, and hand on to the next queue.

One task per feed poll, per article and per alert (a Redis round trip costs ~2 ms, an extraction 5-30 ms),
never one per rule or per hit. Every task is idempotent (see worker.pipeline), so a redelivery is harmless.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import datetime
from typing import Any

from celery import Task

from alerts.delivery import deliver
from alerts.outbox import due_alert_ids
from storage.db import session_scope
from storage.feeds import due_feeds
from worker import pipeline
from worker.backoff import backoff_seconds
from worker.celery_app import app
from worker.errors import FeedError, FetchError
from worker.feeds import FeedEntry
from worker.identity import canonical_url
from worker.runtime import get_runtime

LOGGER = logging.getLogger(__name__)

MAX_CRASHES = 2
"""Starts of one task that ended without an outcome (the worker was killed: a time limit, a crash on a page)
before its page is skipped: Redis keeps no delivery count and would redeliver such a task forever."""
MAX_COUNTDOWN = 900.0
"""Retries wait at most this long: far below Redis's visibility timeout (celery#5935)."""


@app.task(name="newswatch.poll_due")
def poll_due() -> list[int]:
    """Beat's tick: send a poll for every feed whose interval has passed."""
    runtime = get_runtime()
    with session_scope(runtime.settings.database_url) as session:
        ids = [feed.id for feed in due_feeds(session) if feed.id is not None]
    for feed_id in ids:
        poll_feed.delay(feed_id)
    return ids


@app.task(name="newswatch.poll_feed", bind=True, max_retries=5)
def poll_feed(self: Task, feed_id: int) -> list[str]:
    """Poll one feed and send each unseen entry to the extract queue; returns those tasks' ids."""
    runtime = get_runtime()
    try:
        polled = pipeline.poll_feed(feed_id, settings=runtime.settings, client=runtime.client)
    except FetchError as exc:
        if exc.transient:
            raise self.retry(exc=exc, countdown=backoff_seconds(self.request.retries, cap=MAX_COUNTDOWN)) from exc
        LOGGER.error("%s", exc)
        return []
    except FeedError as exc:
        LOGGER.error("%s", exc)
        return []
    return [ingest_entry.delay(feed_id, polled.url, entry_to_json(e)).id for e in polled.entries]


@app.task(name="newswatch.ingest_entry", bind=True, max_retries=3)
def ingest_entry(self: Task, feed_id: int | None, feed_url: str, entry: dict[str, Any]) -> dict[str, Any]:
    """Fetch, extract, match and store one feed entry; send its new alerts to the alerts queue."""
    runtime = get_runtime()
    feed_entry = entry_from_json(entry)
    last_try = self.request.retries >= (self.max_retries or 0)
    settings = runtime.settings
    if _crashed_starts(self) >= MAX_CRASHES:
        LOGGER.error("page skipped after %d crashed attempts: %s", MAX_CRASHES, feed_entry.url)
        settings = settings.model_copy(update={"fetch_pages": False})  # the entry's own text stands in
    try:
        article, _ = pipeline.article_for_entry(feed_entry, feed_url=feed_url, settings=settings,
                                                client=runtime.client, retry_transient=not last_try)
    except FetchError as exc:
        raise self.retry(exc=exc, countdown=backoff_seconds(self.request.retries, cap=MAX_COUNTDOWN)) from exc
    url_key = canonical_url(feed_entry.url) if feed_entry.url else None
    result = pipeline.ingest(article, rules=runtime.rules(), settings=runtime.settings, feed_id=feed_id,
                             url_key=url_key)
    deliveries = [deliver_alert.delay(alert_id).id for alert_id in result.alert_ids]
    return {"article_id": result.article_id, "new": result.new, "hits": [h.rule for h in result.hits],
            "deliveries": deliveries}


@app.task(name="newswatch.deliver_alert")
def deliver_alert(alert_id: int) -> str:
    """Deliver one outbox row; a transient failure schedules the next try."""
    runtime = get_runtime()
    outcome = deliver(alert_id, settings=runtime.settings, channels=runtime.channels)
    if outcome.outcome in ("retry", "deferred") and outcome.retry_in is not None and outcome.retry_in <= MAX_COUNTDOWN:
        deliver_alert.apply_async((alert_id,), countdown=outcome.retry_in + 1)
    # Longer waits (a Slack Retry-After of an hour, a daily digest) are picked up by deliver_due instead.
    return outcome.outcome


@app.task(name="newswatch.deliver_due")
def deliver_due() -> list[int]:
    """Beat's sweep: send every due or abandoned outbox row (lost messages, long retry waits)."""
    runtime = get_runtime()
    with session_scope(runtime.settings.database_url) as session:
        ids = due_alert_ids(session)
    for alert_id in ids:
        deliver_alert.delay(alert_id)
    return ids


def _crashed_starts(task: Task) -> int:
    """How often this task started before without finishing or retrying (counted in Redis per task id)."""
    key = f"newswatch:starts:{task.request.id}"
    starts = int(get_runtime().redis.incr(key))
    get_runtime().redis.expire(key, 86_400)
    return starts - 1 - task.request.retries


def entry_to_json(entry: FeedEntry) -> dict[str, Any]:
    """A feed entry as a JSON-safe message body."""
    data = asdict(entry)
    if entry.published is not None:
        data["published"] = entry.published.isoformat()
    return data


def entry_from_json(data: dict[str, Any]) -> FeedEntry:
    """The inverse of `entry_to_json`."""
    published = data.get("published")
    return FeedEntry(**{**data, "published": datetime.fromisoformat(published) if published else None})
