"""Command-line parameter types shared by the command groups."""

from __future__ import annotations

from datetime import timedelta

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
