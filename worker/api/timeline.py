"""The web page's timeline: hits per rule per day as rows of bars, sized for an inline SVG (no script, no chart
library). Every rule's row is scaled to the busiest day of all rules, so rows compare at a glance."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from newswatch.storage.hit_queries import DayCount

MAX_DAYS = 366
"""A longer range shows its last year: a bar a day stays readable."""
BAR_WIDTH, BAR_GAP, HEIGHT = 6, 2, 40


@dataclass(frozen=True)
class Bar:
    """One day of one rule: where its bar stands in the SVG and how tall it is."""

    day: date
    hits: int
    x: int
    height: float

    @property
    def y(self) -> float:
        return HEIGHT - self.height


@dataclass(frozen=True)
class RuleRow:
    """A rule's bars (days with hits only), its total and its busiest day."""

    rule: str
    total: int
    peak: int
    bars: list[Bar]


@dataclass(frozen=True)
class Timeline:
    """Rows for the days `first` to `last` (inclusive), each `width` wide and `HEIGHT` tall."""

    first: date
    last: date
    width: int
    height: int
    rows: list[RuleRow]


def timeline(counts: Iterable[DayCount], first: date, last: date) -> Timeline:
    """The rows of `counts` between `first` and `last`, one per rule, by rule name (no days: one day)."""
    first = max(min(first, last), last - timedelta(days=MAX_DAYS - 1))
    per_rule: dict[str, dict[date, int]] = {}
    for count in counts:
        if first <= count.day <= last:
            per_rule.setdefault(count.rule, {})[count.day] = count.hits
    peak = max((hits for days in per_rule.values() for hits in days.values()), default=0)
    rows = []
    for rule, days in sorted(per_rule.items()):
        bars = [
            Bar(day, hits, (day - first).days * (BAR_WIDTH + BAR_GAP), max(1.0, round(hits / peak * HEIGHT, 1)))
            for day, hits in sorted(days.items())
        ]
        rows.append(RuleRow(rule, sum(days.values()), max(days.values()), bars))
    width = ((last - first).days + 1) * (BAR_WIDTH + BAR_GAP)
    return Timeline(first, last, width, HEIGHT, rows)
