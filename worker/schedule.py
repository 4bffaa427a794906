"""When to poll a feed next: the feed's interval with jitter, adapted to how often it has news, backed off
while it fails.

Pure functions on plain numbers, so that both runners (and their tests) decide the same way:
- `adapt_interval`: after a poll that found new items the interval is halved, after one that found none it
  grows by half (the way Miniflux and Media Cloud poll busy feeds often and quiet ones rarely), always
  within the bounds the user set: the feed's own (`feeds add --min-interval --max-interval`), else
  NEWSWATCH_MIN_INTERVAL and NEWSWATCH_MAX_INTERVAL; unset, the feed's interval, so nothing adapts.
- `failure_delay`: after `failures` failed polls in a row, the interval doubled for each failure after the
  first, capped at `FAILURE_CAP` (or the interval, when that is longer); a `Retry-After` the site sent is
  waited out in full (up to `RETRY_AFTER_CAP`).
- `jittered`: a few percent either way, so that feeds added together do not all fire together.
"""

from __future__ import annotations

import random

JITTER = 0.03
"""Fraction of a wait added or taken at random."""
FAILURE_CAP = 24 * 3600.0
"""Seconds: a failing feed is still tried at least once a day (until it is paused)."""
RETRY_AFTER_CAP = 7 * 24 * 3600.0
"""Seconds: a `Retry-After` longer than a week is taken as a week."""
GROW, SHRINK = 1.5, 0.5


def jittered(seconds: float, *, fraction: float = JITTER) -> float:
    """`seconds`, give or take `fraction` of it at random."""
    return seconds * random.uniform(1 - fraction, 1 + fraction)


def interval_bounds(interval: int, *, low: int | None, high: int | None) -> tuple[int, int]:
    """The bounds a feed's interval adapts within: the settings', each defaulting to the feed's own interval."""
    upper = high if high is not None else max(interval, low or interval)
    lower = low if low is not None else min(interval, upper)
    return min(lower, upper), upper


def adapt_interval(current: float, *, new_items: bool, low: float, high: float) -> int:
    """The next interval: shorter after a poll with new items, longer after one without, within [low, high]."""
    wanted = current * (SHRINK if new_items else GROW)
    return round(min(high, max(low, wanted)))


def failure_delay(interval: float, failures: int, *, retry_after: float | None = None) -> float:
    """Seconds to wait after the `failures`-th failed poll in a row (1 for the first)."""
    cap = max(interval, FAILURE_CAP)
    delay = min(cap, interval * 2 ** min(max(0, failures - 1), 32))
    if retry_after is not None:
        delay = max(delay, min(retry_after, RETRY_AFTER_CAP))
    return delay
