"""A progress bar for long commands, on a terminal only: one line on stderr, redrawn in place.

Output piped to another program, and `--json`, get none: a bar there is noise in what a program reads. Lines a
command prints meanwhile go above the bar (it is cleared first and drawn again on the next step).
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import time
from types import TracebackType
from typing import TextIO

REDRAW_EVERY = 0.1
"""Seconds between two redraws: a fast scan is not slowed down by its own bar."""
WIDTH = 30


def on_terminal() -> bool:
    """Whether a bar may be drawn: stderr is a terminal, and stdout is not a pipe into another program."""
    try:
        return sys.stderr.isatty() and not stat.S_ISFIFO(os.fstat(sys.stdout.fileno()).st_mode)
    except (OSError, ValueError):  # a stream without a file descriptor (captured output)
        return False


class Progress:
    """`label [#####-----] 12/500 current item`, drawn on `stream` when `enabled`, cleared when done."""

    def __init__(self, total: int, label: str, *, enabled: bool, stream: TextIO | None = None) -> None:
        self.total, self.label, self.enabled = total, label, enabled and total > 1
        self.stream = stream or sys.stderr
        self.done = 0
        self.drawn_at = 0.0
        self.visible = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.clear()

    def step(self, current: str = "") -> None:
        """One more item done (`current` names it)."""
        self.done += 1
        now = time.monotonic()
        if self.enabled and (now - self.drawn_at >= REDRAW_EVERY or self.done == 1):
            self.drawn_at = now
            self._draw(current)

    def clear(self) -> None:
        """Take the bar off the screen (before printing a line, and at the end)."""
        if self.visible:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.visible = False

    def _draw(self, current: str) -> None:
        filled = WIDTH * self.done // max(self.total, 1)
        line = f"{self.label} [{'#' * filled}{'-' * (WIDTH - filled)}] {self.done}/{self.total} {current}"
        columns = shutil.get_terminal_size().columns
        self.stream.write("\r\x1b[K" + line[: max(columns - 1, 10)])
        self.stream.flush()
        self.visible = True
