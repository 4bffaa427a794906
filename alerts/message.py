"""The channel-neutral alert: what every channel renders, built from a hit, its article and its story."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from worker.rules import Snippet


@dataclass(frozen=True)
class SourceRef:
    """Another site that carried the same story."""

    url: str | None
    site: str | None
    title: str


@dataclass(frozen=True)
class AlertMessage:
    """One alert; `title` and snippets are untrusted article text that every channel must escape."""

    key: str
    """Stable and unique per (rule, story, channel): the idempotency key channels pass on."""
    rule: str
    severity: str
    title: str
    url: str | None
    source: str
    published: datetime | None
    snippets: tuple[Snippet, ...]
    matched: tuple[str, ...]
    other_sources: tuple[SourceRef, ...] = ()
