"""The embedded runner: the pipeline in one process, no broker. `newswatch scan` and `newswatch run` use it.

It calls exactly the functions the Celery tasks call (worker.pipeline), in a loop, with the same retries:
a feed or page that times out or answers 5xx is tried again after the same backoff the tasks use, and a
page still failing on its last try gives way to the feed entry's own text. An error in one feed, page or
file is reported and the run goes on with the rest. Feeds are polled several at once (worker.polling);
their entries are ingested here, one after another, as each poll ends, and each article's alerts are sent
in a thread (worker.alerting.AlertSender) while the next articles are read.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from newswatch.storage.backoff import backoff_seconds
from newswatch.storage.db import session_scope
from newswatch.storage.errors import NewswatchError
from newswatch.storage.feeds import due_feeds, list_feeds
from newswatch.storage.models import Feed, utcnow
from newswatch.worker import pipeline
from newswatch.worker.alerting import AlertSender, deliver_due, sending_alongside
from newswatch.worker.config import Settings
from newswatch.worker.errors import FetchError
from newswatch.worker.ingest.inputs import article_for_input, expand_inputs
from newswatch.worker.polling import host_of, poll_at_once
from newswatch.worker.report import PollSummary, RoundReport
from newswatch.worker.runtime import Runtime

LOGGER = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Scanned:
    """One scan input: what was stored, or the error that stopped it."""

    source: str
    result: pipeline.Ingested | None = None
    error: str | None = None


def with_retries(step: Callable[[bool], T], *, settings: Settings, sleep: Callable[[float], None] = time.sleep) -> T:
    """Run `step(final_attempt)`, again after a backoff while it raises a transient `FetchError` (one with a
    `Retry-After` is not tried again now: the site asked to wait longer)."""
    attempts = max(1, settings.retry_attempts)
    for attempt in range(attempts):
        final = attempt == attempts - 1
        try:
            return step(final)
        except FetchError as exc:
            if final or not exc.transient or exc.retry_after is not None:
                raise
            delay = backoff_seconds(attempt, base=settings.retry_base)
            LOGGER.warning("%s; trying again in %.1fs", exc, delay)
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def scan(runtime: Runtime, inputs: Iterable[str]) -> Iterator[Scanned]:
    """Ingest files, folders and URLs now, one result per document; alerts are queued in the outbox.

    An input that cannot be read (a path that does not exist) is one error result, and the inputs after it
    are scanned all the same."""
    rules = runtime.rules()
    for given in inputs:
        try:
            items = list(expand_inputs([given]))
        except (NewswatchError, OSError) as exc:
            yield Scanned(given, error=str(exc))
            continue
        for item in items:
            try:
                article = article_for_input(item, settings=runtime.settings, client=runtime.client)
                yield Scanned(
                    item,
                    pipeline.ingest(
                        article, rules=rules, settings=runtime.settings, default_channels=runtime.default_channels
                    ),
                )
            except (NewswatchError, OSError) as exc:
                LOGGER.debug("scan failed on %s", item, exc_info=True)
                yield Scanned(item, error=str(exc))


def run_round(runtime: Runtime, *, every_feed: bool = False) -> RoundReport:
    """Ingest the entries the sweep hands on again (lost or failed earlier), poll the due feeds (or every
    enabled feed) and ingest their new entries, then deliver the alerts due."""
    report = RoundReport()
    with sending_alongside(runtime) as sender:
        for entry_id in pipeline.due_entries(runtime.settings):  # first: this round's own entries are not due yet
            _ingest_one(runtime, entry_id, report, sender)
        with session_scope(runtime.settings.database_url) as session:
            feeds = [f for f in list_feeds(session) if _polled(f)] if every_feed else due_feeds(session)
        settings = runtime.settings
        polls = poll_at_once(
            feeds,
            lambda feed: _poll(runtime, feed),
            host=lambda feed: host_of(feed.url),
            limit=settings.poll_concurrency,
            per_host=settings.poll_per_host,
        )
        for _, polled in polls:
            _ingest_polled(runtime, polled, report, sender)
    report.deliveries += sender.deliveries + deliver_due(runtime)
    return report


def _polled(feed: Feed) -> bool:
    """Whether the feed is polled at all: enabled and not paused."""
    return feed.enabled and feed.paused_at is None


def _poll(runtime: Runtime, feed: Feed) -> pipeline.Polled | NewswatchError:
    """One feed's poll, with retries (in a polling thread): what it found, or the error that stopped it."""
    assert feed.id is not None
    feed_id, settings = feed.id, runtime.settings
    try:
        return with_retries(
            lambda final: pipeline.poll_feed(
                feed_id,
                settings=settings,
                client=runtime.client,
                channels=runtime.default_channels,
                final_attempt=final,
            ),
            settings=settings,
        )
    except NewswatchError as exc:
        return exc


def _ingest_polled(
    runtime: Runtime, polled: pipeline.Polled | NewswatchError, report: RoundReport, sender: AlertSender
) -> None:
    if isinstance(polled, NewswatchError):
        report.errors.append(str(polled))
        return
    report.polled.append(
        PollSummary(polled.url, polled.outcome, len(polled.entry_ids), polled.warning, polled.discovered)
    )
    if polled.warning:
        report.warnings.append(f"feed: malformed but readable ({polled.warning}): {polled.url}")
    for entry_id in polled.entry_ids:
        _ingest_one(runtime, entry_id, report, sender)


def ingest_entries(runtime: Runtime, entry_ids: Iterable[int]) -> RoundReport:
    """Ingest these entry rows now, in this process (`newswatch entries retry` without a broker)."""
    report = RoundReport()
    with sending_alongside(runtime) as sender:
        for entry_id in entry_ids:
            _ingest_one(runtime, entry_id, report, sender)
    report.deliveries += sender.deliveries + deliver_due(runtime)
    return report


def _ingest_one(runtime: Runtime, entry_id: int, report: RoundReport, sender: AlertSender) -> None:
    """One entry row, with the retries the tasks have; a failure stays on the row for the sweep. Its new
    alerts go to `sender` at once."""
    settings = runtime.settings
    try:
        rules = runtime.rules()
        ingested = with_retries(
            lambda final: pipeline.ingest_entry(
                entry_id,
                rules=rules,
                settings=settings,
                client=runtime.client,
                default_channels=runtime.default_channels,
                final_attempt=final,
                robots=runtime.robots,
            ),
            settings=settings,
        )
    except NewswatchError as exc:
        report.errors.append(str(exc))
        pipeline.entry_failed(entry_id, str(exc), settings=settings)
        return
    if ingested is None:
        return
    sender.submit(ingested.alert_ids)
    report.articles.append(ingested.summary())
    if ingested.problem:
        report.warnings.append(ingested.problem)


def run_forever(
    runtime: Runtime, *, on_round: Callable[[RoundReport, datetime | None], None], max_sleep: float = 30.0
) -> None:
    """Poll on schedule until interrupted: each feed on its own interval, alerts as they fall due.

    After each round `on_round` gets its report and when the next feed is due (None: no feed to poll).
    """
    while True:
        report = run_round(runtime)
        upcoming = next_poll_at(runtime)
        on_round(report, upcoming)
        wait = max_sleep if upcoming is None else (upcoming - utcnow()) / timedelta(seconds=1)
        time.sleep(max(1.0, min(max_sleep, wait)))


def next_poll_at(runtime: Runtime) -> datetime | None:
    """When the next enabled feed is due (None when there is none)."""
    with session_scope(runtime.settings.database_url) as session:
        upcoming = [f.next_poll_at or utcnow() for f in list_feeds(session) if _polled(f)]
    return min(upcoming, default=None)
