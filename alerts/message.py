"""The channel-neutral alert: what every channel renders, built from a stored hit, its article and its story."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Excerpt:
    """A sentence from the article with the spans that matched marked in it (untrusted text)."""

    text: str
    marks: tuple[tuple[int, int], ...]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Excerpt:
        """From a hit's stored evidence: `{"text": ..., "marks": [[start, end], ...]}`."""
        return cls(text=data["text"], marks=tuple((int(a), int(b)) for a, b in data.get("marks", ())))

    def pieces(self) -> Iterator[tuple[str, bool]]:
        """The text in order as (piece, is_marked); each channel escapes and decorates the pieces its own way."""
        last = 0
        for start, end in self.marks:
            yield self.text[last:start], False
            yield self.text[start:end], True
            last = end
        yield self.text[last:], False

    def marked(self, open: str = "**", close: str = "**") -> str:
        """The text with each marked span wrapped in `open`/`close` (for plain-text channels)."""
        return "".join(f"{open}{piece}{close}" if mark else piece for piece, mark in self.pieces())


@dataclass(frozen=True)
class SourceRef:
    """Another site that carried the same story."""

    url: str | None
    site: str | None
    title: str


@dataclass(frozen=True)
class AlertMessage:
    """One alert; `title` and excerpts are untrusted article text that every channel must escape."""

    key: str
    """Stable and unique per (rule, story, channel): the idempotency key channels pass on."""
    rule: str
    severity: str
    title: str
    url: str | None
    source: str
    published: datetime | None
    snippets: tuple[Excerpt, ...]
    matched: tuple[str, ...]
    other_sources: tuple[SourceRef, ...] = ()


def subject(messages: Sequence[AlertMessage]) -> str:
    """`[newswatch] airstrikes: <title>` for one alert, `[newswatch] digest: N alerts (rules)` for several."""
    if len(messages) == 1:
        title = " ".join(messages[0].title.split())
        return f"[newswatch] {messages[0].rule}: {title}"[:250]
    rules = ", ".join(sorted({m.rule for m in messages}))
    return f"[newswatch] digest: {len(messages)} alerts ({rules})"[:250]
