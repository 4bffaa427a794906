"""A poll's outcome, written on its feed: when to poll next, the adapted interval, failures in a row, and the
pause (reported once) when there were too many.

The decisions are `worker.schedule`'s pure functions; this module reads the settings and writes the rows.
A pause is reported as a notice in the alert outbox, in the pause's own transaction, so it is delivered
(with retries) like any alert, and once: only the worker whose conditional UPDATE paused the feed queues it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from newswatch.alerts.outbox import enqueue_notice
from newswatch.storage.db import session_scope
from newswatch.storage.feeds import pause_feed, record_poll
from newswatch.storage.models import Feed
from newswatch.worker.config import Settings
from newswatch.worker.errors import FeedError, FetchError
from newswatch.worker.schedule import adapt_interval, failure_delay, interval_bounds, jittered

LOGGER = logging.getLogger(__name__)

PAUSED = "feed-paused"
"""The notice's name where an alert has its rule's."""


@dataclass(frozen=True)
class FeedState:
    """What a poll's outcome is weighed against, read before the poll."""

    id: int
    url: str
    interval: int
    """The feed's own interval (`feeds add --interval`)."""
    current: int
    """The interval as adapted so far."""
    failures: int
    low: int | None = None
    high: int | None = None
    """The feed's own bounds for adapting (`feeds add --min-interval/--max-interval`); None: the settings'."""

    @classmethod
    def of(cls, feed: Feed) -> FeedState:
        assert feed.id is not None
        current = feed.poll_interval or feed.interval_seconds
        return cls(
            feed.id,
            feed.url,
            feed.interval_seconds,
            current,
            feed.error_count,
            feed.min_interval_seconds,
            feed.max_interval_seconds,
        )


def record_success(session: Session, state: FeedState, settings: Settings, *, new_items: bool, **outcome: Any) -> None:
    """Record a poll that read the feed (changed or not): failures reset, the interval adapted to whether it
    brought new items, the next poll one (jittered) interval away."""
    low, high = interval_bounds(
        state.interval,
        low=state.low if state.low is not None else settings.min_interval,
        high=state.high if state.high is not None else settings.max_interval,
    )
    interval = adapt_interval(state.current, new_items=new_items, low=low, high=high)
    record_poll(session, state.id, failed=False, wait=jittered(interval), interval=interval, **outcome)


def record_failure(
    state: FeedState, exc: FetchError | FeedError, *, settings: Settings, channels: Sequence[str]
) -> None:
    """Record a failed poll: back off (at least as long as a `Retry-After` asked), and pause the feed, with one
    notice on `channels`, when it failed NEWSWATCH_FEED_PAUSE_AFTER times in a row."""
    asked = exc.retry_after if isinstance(exc, FetchError) else None
    delay = failure_delay(state.current, state.failures + 1, retry_after=asked)
    wait = max(jittered(delay), delay if asked is not None else 0.0)
    with session_scope(settings.database_url) as session:
        feed = record_poll(session, state.id, status=None, error=str(exc), failed=True, wait=wait)
        if feed.error_count < settings.feed_pause_after:
            return
        paused_at = pause_feed(session, state.id)
        if paused_at is None:
            return
        text = (
            f"feed {state.id} paused after {feed.error_count} failed polls in a row: {state.url}\n"
            f"last error: {exc}\n"
            f"resume it with: newswatch feeds resume {state.id}"
        )
        LOGGER.error("feed %s paused after %d failed polls in a row: %s", state.id, feed.error_count, exc)
        enqueue_notice(
            session, kind=PAUSED, key=f"feed-{state.id}@{paused_at.isoformat()}", text=text, channels=channels
        )
