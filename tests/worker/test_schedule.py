"""When a feed is polled next: adapted within the user's bounds, backed off while failing, Retry-After honoured,
jittered a few percent; and the User-Agent names the contact URL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from newswatch.worker.config import Settings
from newswatch.worker.ingest.fetch import retry_after, user_agent
from newswatch.worker.schedule import (
    FAILURE_CAP,
    JITTER,
    RETRY_AFTER_CAP,
    adapt_interval,
    failure_delay,
    interval_bounds,
    jittered,
)


@pytest.mark.parametrize(
    ("current", "new_items", "low", "high", "expected"),
    [
        (900, True, 300, 3600, 450),  # news at every poll: polled more often
        (450, True, 300, 3600, 300),  # ...down to the lower bound
        (300, True, 300, 3600, 300),
        (900, False, 300, 3600, 1350),  # nothing new: polled less often
        (2700, False, 300, 3600, 3600),  # ...up to the upper bound
        (3600, False, 300, 3600, 3600),
        (900, True, 900, 900, 900),  # no bounds set: the feed's own interval, whatever happens
        (900, False, 900, 900, 900),
        (5000, True, 300, 1200, 1200),  # bounds narrowed since: back within them at once
    ],
)
def test_it_adapts_the_interval_within_its_bounds(
    current: int, new_items: bool, low: int, high: int, expected: int
) -> None:
    assert adapt_interval(current, new_items=new_items, low=low, high=high) == expected


@pytest.mark.parametrize(
    ("interval", "low", "high", "expected"),
    [
        (900, None, None, (900, 900)),
        (900, 300, None, (300, 900)),
        (900, None, 3600, (900, 3600)),
        (900, 300, 3600, (300, 3600)),
        (900, 1800, None, (1800, 1800)),  # a minimum above the feed's interval is its interval
        (900, None, 600, (600, 600)),
    ],
)
def test_unset_bounds_are_the_feeds_own_interval(
    interval: int, low: int | None, high: int | None, expected: tuple[int, int]
) -> None:
    assert interval_bounds(interval, low=low, high=high) == expected


@pytest.mark.parametrize(
    ("failures", "asked", "expected"),
    [
        (1, None, 900),
        (2, None, 1800),
        (3, None, 3600),
        (8, None, FAILURE_CAP),  # at most a day
        (1000, None, FAILURE_CAP),
        (1, 7200, 7200),  # Retry-After longer than the backoff: waited out
        (3, 60, 3600),  # shorter: the backoff stands
        (1, 10**9, RETRY_AFTER_CAP),  # absurd: a week
    ],
)
def test_it_backs_off_exponentially_and_honours_retry_after(
    failures: int, asked: float | None, expected: float
) -> None:
    assert failure_delay(900, failures, retry_after=asked) == expected


def test_an_interval_longer_than_the_cap_is_kept() -> None:
    assert failure_delay(2 * FAILURE_CAP, 5) == 2 * FAILURE_CAP


def test_jitter_stays_within_a_few_percent() -> None:
    waits = {jittered(1000) for _ in range(200)}
    assert all(1000 * (1 - JITTER) <= wait <= 1000 * (1 + JITTER) for wait in waits)
    assert len(waits) > 1


NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("Thu, 26 Nov 2026 14:00:00 GMT", 7200.0),
        ("Thu, 26 Nov 2026 11:00:00 GMT", 0.0),  # a date gone by: no wait
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
    ],
)
def test_it_reads_retry_after_as_seconds_or_an_http_date(header: str | None, expected: float | None) -> None:
    assert retry_after(header, now=NOW) == expected


@pytest.mark.parametrize(
    ("agent", "contact", "expected"),
    [
        (None, None, "newswatch/0.1 (news monitoring; +https://github.com/newswatch/newswatch)"),
        (None, "https://desk.example.org/bot", "newswatch/0.1 (news monitoring; +https://desk.example.org/bot)"),
        ("deskbot/2", "mailto:ops@example.org", "deskbot/2 (+mailto:ops@example.org)"),
        ("deskbot/2 (+mailto:ops@example.org)", "mailto:ops@example.org", "deskbot/2 (+mailto:ops@example.org)"),
    ],
)
def test_the_user_agent_names_the_contact_url(agent: str | None, contact: str | None, expected: str) -> None:
    given = {"user_agent": agent} if agent else {}
    assert user_agent(Settings(**given, contact_url=contact)) == expected
