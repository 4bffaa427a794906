"""The console channel: alerts printed as readable text blocks, the default when nothing else is set."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from alerts.message import AlertMessage


@dataclass
class ConsoleChannel:
    """Writes each alert to a stream (standard output unless told otherwise)."""

    name: str = "console"
    mode: str = "immediate"
    stream: TextIO | None = None

    def send(self, messages: Sequence[AlertMessage]) -> None:
        out = self.stream or sys.stdout
        for message in messages:
            out.write(render_text(message))
        out.flush()


def render_text(message: AlertMessage) -> str:
    """A plain-text alert block: rule, title, where, when, the marked snippets and other sources."""
    lines = [f"[newswatch] {message.rule} ({message.severity}): {message.title}",
             f"  {message.url or message.source}"]
    if message.published:
        lines.append(f"  published {message.published:%Y-%m-%d %H:%M} UTC")
    lines += [f"  > {snippet.marked()}" for snippet in message.snippets[:5]]
    if message.other_sources:
        lines.append("  also reported by: " + ", ".join(s.site or s.url or s.title for s in message.other_sources))
    return "\n".join(lines) + "\n\n"
