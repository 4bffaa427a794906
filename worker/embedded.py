"""The embedded runner: the pipeline in one process, no broker. `newswatch scan` and `newswatch run` use it.

It calls exactly the functions the Celery tasks call (worker.pipeline, alerts.delivery), in a loop. An error
in one feed, page or file is reported and the run goes on with the rest.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from alerts.delivery import Delivery, deliver
from alerts.outbox import due_alert_ids
from storage.db import session_scope
from storage.feeds import due_feeds, list_feeds
from storage.models import Feed, utcnow
from worker import pipeline
from worker.errors import NewswatchError
from worker.identity import canonical_url
from worker.runtime import Runtime

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class Scanned:
    """One scan input: what was stored, or the error that stopped it."""

    source: str
    result: pipeline.Ingested | None = None
    error: str | None = None


@dataclass
class RoundReport:
    """What one polling round did, for the CLI to print."""

    polled: list[pipeline.Polled] = field(default_factory=list)
    ingested: list[pipeline.Ingested] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def scan(runtime: Runtime, inputs: Iterable[str]) -> Iterator[Scanned]:
    """Ingest files, folders and URLs now, one result per document; alerts are queued in the outbox."""
    rules = runtime.rules()
    for item in pipeline.expand_inputs(inputs):
        try:
            article = pipeline.article_for_input(item, settings=runtime.settings, client=runtime.client)
            yield Scanned(item, pipeline.ingest(article, rules=rules, settings=runtime.settings))
        except (NewswatchError, OSError) as exc:
            LOGGER.debug("scan failed on %s", item, exc_info=True)
            yield Scanned(item, error=str(exc))


def run_round(runtime: Runtime, *, every_feed: bool = False) -> RoundReport:
    """Poll the due feeds (or every enabled feed), ingest their new entries, deliver the alerts due."""
    report = RoundReport()
    settings = runtime.settings
    with session_scope(settings.database_url) as session:
        feeds = [f for f in list_feeds(session) if f.enabled] if every_feed else due_feeds(session)
    for feed in feeds:
        _poll_one(runtime, feed, report)
    report.deliveries += deliver_due(runtime)
    return report


def _poll_one(runtime: Runtime, feed: Feed, report: RoundReport) -> None:
    assert feed.id is not None
    try:
        polled = pipeline.poll_feed(feed.id, settings=runtime.settings, client=runtime.client)
    except NewswatchError as exc:
        report.errors.append(str(exc))
        return
    report.polled.append(polled)
    if polled.warning:
        report.warnings.append(f"feed: malformed but readable ({polled.warning}): {polled.url}")
    rules = runtime.rules()
    for entry in polled.entries:
        try:
            article, problem = pipeline.article_for_entry(entry, feed_url=polled.url, settings=runtime.settings,
                                                          client=runtime.client)
            if problem:
                report.warnings.append(problem)
            url_key = canonical_url(entry.url) if entry.url else None
            report.ingested.append(pipeline.ingest(article, rules=rules, settings=runtime.settings,
                                                   feed_id=feed.id, url_key=url_key))
        except NewswatchError as exc:
            report.errors.append(str(exc))


def deliver_due(runtime: Runtime, channels: dict | None = None) -> list[Delivery]:
    """Deliver every outbox row that is due now."""
    with session_scope(runtime.settings.database_url) as session:
        ids = due_alert_ids(session)
    use = runtime.channels if channels is None else channels
    return [deliver(alert_id, settings=runtime.settings, channels=use) for alert_id in ids]


def run_forever(runtime: Runtime, *, on_round: Callable[[RoundReport], None], max_sleep: float = 30.0) -> None:
    """Poll on schedule until interrupted: each feed on its own interval, alerts as they fall due."""
    while True:
        on_round(run_round(runtime))
        time.sleep(_seconds_to_next_poll(runtime, max_sleep))


def _seconds_to_next_poll(runtime: Runtime, max_sleep: float) -> float:
    with session_scope(runtime.settings.database_url) as session:
        upcoming = [f.next_poll_at for f in list_feeds(session) if f.enabled and f.next_poll_at is not None]
    if not upcoming:
        return max_sleep
    wait = min(upcoming) - utcnow()
    return max(1.0, min(max_sleep, wait / timedelta(seconds=1)))
