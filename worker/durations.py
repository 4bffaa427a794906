"""Durations as users type them in rules files and on the command line: `90s`, `15m`, `2h`, `7d`, `1w`."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.IGNORECASE)


def parse_duration(text: str) -> timedelta:
    """`15m` -> 15 minutes; a bare number is seconds. Raises ValueError naming the text."""
    found = _DURATION.match(text)
    if not found or float(found.group(1)) <= 0:
        raise ValueError(f"not a duration: {text!r} (use e.g. 90s, 15m, 2h, 7d)")
    return timedelta(seconds=float(found.group(1)) * _UNITS[(found.group(2) or "s").lower()])
