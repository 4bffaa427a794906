"""The embedded runner: the pipeline in one process, no broker. `newswatch run` uses it, and `newswatch scan`
reads its documents ahead the same way (worker.scanning).

It calls exactly the functions the Celery tasks call (worker.pipeline), in a loop, with the same retries:
a feed or page that times out or answers 5xx is tried again after the same backoff the tasks use, and a
page still failing on its last try gives way to the feed entry's own text. An error in one feed, page or
file is reported and the run goes on with the rest. Feeds are polled several at once (worker.polling);
their entries are ingested here, one after another, as each poll ends, and each article's alerts are sent
in a thread (worker.alerting.AlertSender) while the next articles are read. Pages, and the documents a
scan reads, are extracted in processes beside this one (worker.extracting, NEWSWATCH_EXTRACT_PROCESSES) or,
with one, in the storing thread; either way the articles are stored here, in order.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import closing, contextmanager
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeAlias, TypeVar

from newswatch.storage.backoff import backoff_seconds
from newswatch.storage.db import session_scope
from newswatch.storage.errors import NewswatchError
from newswatch.storage.feeds import due_feeds, list_feeds
from newswatch.storage.models import Feed, utcnow
from newswatch.worker import pipeline
from newswatch.worker.alerting import AlertSender, deliver_due, sending_alongside
from newswatch.worker.config import Settings
from newswatch.worker.errors import FetchError
from newswatch.worker.polling import FetchAhead, host_of, poll_at_once
from newswatch.worker.report import PollSummary, RoundReport
from newswatch.worker.runtime import Runtime

LOGGER = logging.getLogger(__name__)

T = TypeVar("T")


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


def extracting(runtime: Runtime, job: Callable[[], T], *, source: str) -> Callable[[], T]:
    """How the storing thread gets an extraction job's result: waiting for it in an extraction process (the
    job is sent there now), or, with none, running it itself (trafilatura is not thread-safe: not in the
    fetching threads). `source` names the page or file in the error of a lost process."""
    pool = runtime.extraction_pool
    if pool is None:
        return job
    return pool.submit(job, source=source).result


def run_round(runtime: Runtime, *, every_feed: bool = False) -> RoundReport:
    """Ingest the entries the sweep hands on again (lost or failed earlier), poll the due feeds (or every
    enabled feed) and ingest their new entries, then deliver the alerts due.

    The entries are stored one after another in this thread, in the order the polls ended, while the pages
    of the next ones are fetched (`fetching_ahead`) and the feeds still polling are polled."""
    report = RoundReport()
    due = pipeline.due_entries(runtime.settings)  # first: this round's own entries are not due yet
    with session_scope(runtime.settings.database_url) as session:
        feeds = [f for f in list_feeds(session) if _polled(f)] if every_feed else due_feeds(session)
    with sending_alongside(runtime) as sender, fetching_ahead(runtime) as ahead:
        put_entries(runtime, ahead, due)
        polling = threading.Thread(target=_poll_into, args=(runtime, feeds, ahead), name="newswatch-polls", daemon=True)
        polling.start()
        try:
            _store_all(runtime, ahead, report, sender)
        finally:
            ahead.close()
            polling.join()
    report.deliveries += sender.deliveries + deliver_due(runtime)
    return report


def _polled(feed: Feed) -> bool:
    """Whether the feed is polled at all: enabled and not paused."""
    return feed.enabled and feed.paused_at is None


Item: TypeAlias = pipeline.EntryRow | pipeline.Polled | NewswatchError
"""What a round hands on in order: an entry to store, or a poll (its outcome or error) to report."""
Ahead: TypeAlias = FetchAhead[Item, Callable[[], pipeline.Extracted]]
"""Each entry's job fetches its page and hands back how to get its article: waiting for an extraction
process, or extracting in the storing thread (trafilatura is not thread-safe)."""


@contextmanager
def fetching_ahead(runtime: Runtime) -> Iterator[FetchAhead[Any, Any]]:
    """A `FetchAhead` of NEWSWATCH_FETCH_AHEAD pages, NEWSWATCH_POLL_PER_HOST at once to one host; with
    extraction processes, the pages they work on are held ahead too (one more per process). For a round
    (`Ahead`) and for a scan (`scanning.ScanAhead`)."""
    _ = (runtime.client, runtime.robots)  # built here, once, before the threads share them (cached_property)
    settings, pool = runtime.settings, runtime.extraction_pool
    ahead: FetchAhead[Any, Any] = FetchAhead(
        limit=settings.fetch_ahead,
        per_host=settings.poll_per_host,
        window=settings.fetch_ahead + (pool.processes if pool is not None else 0),
    )
    try:
        yield ahead
    finally:
        ahead.close()


def put_entries(runtime: Runtime, ahead: Ahead, entry_ids: Sequence[int]) -> None:
    """Hand these entry rows on to be stored in turn, each page fetched ahead with the tasks' retries."""
    for row in pipeline.load_entries(entry_ids, settings=runtime.settings):
        ahead.put(row, partial(_fetch_page, runtime, row), host=host_of(row.entry.url or ""))


def _fetch_page(runtime: Runtime, row: pipeline.EntryRow) -> Callable[[], pipeline.Extracted]:
    """One entry's page, with retries (in a fetching thread), handed on to be extracted."""
    page = with_retries(
        lambda final: pipeline.fetch_entry_page(
            row, settings=runtime.settings, client=runtime.client, retry_transient=not final, robots=runtime.robots
        ),
        settings=runtime.settings,
    )
    extract = partial(pipeline.extract_entry, row.entry, page, feed_url=row.feed_url)
    return extracting(runtime, extract, source=row.entry.url or row.feed_url)


def _poll_into(runtime: Runtime, feeds: Sequence[Feed], ahead: Ahead) -> None:
    """Poll the feeds at once (in a thread) and hand on each poll, then its new entries, as it ends."""
    settings = runtime.settings
    polls = poll_at_once(
        feeds,
        lambda feed: _poll(runtime, feed),
        host=lambda feed: host_of(feed.url),
        limit=settings.poll_concurrency,
        per_host=settings.poll_per_host,
    )
    try:
        with closing(polls):
            for _, polled in polls:
                if ahead.stopped:
                    break
                ahead.put(polled)
                if not isinstance(polled, NewswatchError):
                    put_entries(runtime, ahead, polled.entry_ids)
    except BaseException as exc:  # noqa: BLE001 - raised again in the storing thread
        ahead.end(exc)
    else:
        ahead.end()


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


def _store_all(runtime: Runtime, ahead: Ahead, report: RoundReport, sender: AlertSender) -> None:
    """Take the items in order: report each poll, store each entry once its page is in."""
    for item, page in ahead:
        if isinstance(item, pipeline.EntryRow):
            assert page is not None
            _store_one(runtime, item, page, report, sender)
        elif isinstance(item, NewswatchError):
            report.errors.append(str(item))
        else:
            report.polled.append(
                PollSummary(item.url, item.outcome, len(item.entry_ids), item.warning, item.discovered)
            )
            if item.warning:
                report.warnings.append(f"feed: malformed but readable ({item.warning}): {item.url}")


def ingest_entries(runtime: Runtime, entry_ids: Iterable[int]) -> RoundReport:
    """Ingest these entry rows now, in this process (`newswatch entries retry` without a broker)."""
    report = RoundReport()
    with sending_alongside(runtime) as sender, fetching_ahead(runtime) as ahead:
        put_entries(runtime, ahead, list(entry_ids))
        ahead.end()
        _store_all(runtime, ahead, report, sender)
    report.deliveries += sender.deliveries + deliver_due(runtime)
    return report


def _store_one(
    runtime: Runtime,
    row: pipeline.EntryRow,
    page: Future[Callable[[], pipeline.Extracted]],
    report: RoundReport,
    sender: AlertSender,
) -> None:
    """One entry row, its page fetched (with the retries the tasks have) and extracted; a failure (an
    extraction process lost too) stays on the row for the sweep. Its new alerts go to `sender` at once."""
    settings = runtime.settings
    try:
        extracted = page.result()()
        ingested = pipeline.store_extracted(
            row, extracted, rules=runtime.rules(), settings=settings, default_channels=runtime.default_channels
        )
    except NewswatchError as exc:
        report.errors.append(str(exc))
        pipeline.entry_failed(row.entry_id, str(exc), settings=settings)
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
