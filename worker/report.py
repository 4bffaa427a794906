"""What a polling round or a scan did, in plain records both runners fill and the CLI prints.

The Celery tasks return these records as JSON, so `run --once` on the workers reports exactly what the
embedded runner reports.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from newswatch.alerts.delivery import Delivery


@dataclass(frozen=True)
class PollSummary:
    """One poll of one feed."""

    url: str
    outcome: str
    """`fetched`, `not-modified` (304) or `unchanged` (same body as last time)."""
    new_entries: int
    warning: str | None = None
    discovered: str | None = None
    """The feed read instead, when the URL is an HTML page naming it."""


@dataclass(frozen=True)
class ArticleSummary:
    """One article stored (or found stored already) and what it set off."""

    source: str
    title: str
    new: bool
    hits: list[str]
    new_hits: list[str]
    alert_ids: list[int]
    problem: str | None = None
    """Why the feed entry's own text stands in for its page, if it does."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ArticleSummary:
        return cls(**data)


@dataclass
class RoundReport:
    """Everything one round did; `errors` name the feed, page or alert that failed."""

    polled: list[PollSummary] = field(default_factory=list)
    articles: list[ArticleSummary] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    """Work still running when the round stopped waiting (workers only)."""

    def is_idle(self) -> bool:
        """Whether the round found nothing to do: no feed due, no entry, alert, warning or error."""
        return not (self.polled or self.articles or self.deliveries or self.warnings or self.errors or self.pending)

    def totals(self) -> str:
        """One line: feeds, articles, hits, alerts, errors."""
        new = sum(a.new for a in self.articles)
        hits = sum(len(a.new_hits) for a in self.articles)
        sent = sum(d.outcome == "sent" for d in self.deliveries)
        queued = sum(len(a.alert_ids) for a in self.articles)
        parts = [
            f"feeds polled: {len(self.polled)}",
            f"articles: {len(self.articles)} ({new} new)",
            f"new hits: {hits}",
            f"alerts: {queued} queued, {sent} sent",
            f"errors: {len(self.errors)}",
        ]
        if self.pending:
            parts.append(f"still pending: {len(self.pending)}")
        return ", ".join(parts)
