"""Command-line parameter types shared by the command groups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click

from newswatch.worker.durations import parse_duration


class Duration(click.ParamType):
    """A click parameter holding a `timedelta`, written `90s`, `15m`, `2h`, `7d` or `1w`."""

    name = "duration"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> timedelta:
        if isinstance(value, timedelta):
            return value
        try:
            return parse_duration(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class TimeBound(click.ParamType):
    """A point in time (aware UTC), written as a duration back from now (`7d`) or a date or time (`2026-03-01`,
    `2026-03-01T08:00`, UTC unless it says otherwise). With `end_of_day`, a bare date means the end of that day,
    so `--until 2026-03-01` includes the first of March."""

    name = "time"

    def __init__(self, *, end_of_day: bool = False) -> None:
        self.end_of_day = end_of_day

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        written = str(value).strip()
        try:
            return datetime.now(UTC) - parse_duration(written)
        except ValueError:
            pass
        try:
            when = datetime.fromisoformat(written)
        except ValueError:
            self.fail(f"not a duration or a date: {written!r} (e.g. 7d, 2026-03-01, 2026-03-01T08:00)", param, ctx)
        if self.end_of_day and len(written) == 10:
            when += timedelta(days=1)
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
