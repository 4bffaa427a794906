"""The console channel: alerts printed as readable text blocks, the default when nothing else is set."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from newswatch.alerts.message import AlertMessage
from newswatch.alerts.settings import ChannelSettings


class ConsoleSettings(ChannelSettings):
    """The console has nothing to configure."""


class ConsoleChannel:
    """Writes each alert to a stream (standard output unless told otherwise)."""

    def __init__(
        self, name: str = "console", settings: ConsoleSettings | None = None, stream: TextIO | None = None
    ) -> None:
        self.name = name
        self.mode = (settings or ConsoleSettings()).mode
        self.stream = stream

    def send(self, messages: Sequence[AlertMessage]) -> None:
        out = self.stream or sys.stdout
        for message in messages:
            out.write(console_block(message))
        out.flush()


def console_block(message: AlertMessage) -> str:
    """A plain-text alert block: rule, title, where, when, the marked excerpts and other sources."""
    lines = [f"[newswatch] {message.rule} ({message.severity}): {message.title}", f"  {message.url or message.source}"]
    if message.published:
        lines.append(f"  published {message.published:%Y-%m-%d %H:%M} UTC")
    lines += [f"  > {snippet.marked()}" for snippet in message.snippets[:5]]
    if message.other_sources:
        lines.append("  also reported by: " + ", ".join(s.site or s.url or s.title for s in message.other_sources))
    return "\n".join(lines) + "\n\n"
