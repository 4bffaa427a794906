"""The query parameters of the hit routes, read as the command line reads its options, and the 422 answer for
a value the API cannot use.

`since` and `until` take what `newswatch hits` takes (`7d`, `2026-03-01`, `2026-03-01T08:00`; UTC; an `until`
date includes that day) through the same parameter type, so the two read a date alike. An empty value is no
filter, as a web form sends an empty field. Every mistake is a 422 in FastAPI's own shape (`detail`: a list of
`{loc, msg, type}`), whether the schema or newswatch found it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import click
from fastapi import Query
from fastapi.exceptions import RequestValidationError

from newswatch.storage.errors import QueryError
from newswatch.storage.hit_queries import MAX_ID, HitFilters
from newswatch.storage.search import parse_search
from newswatch.worker.cli.params import TimeBound
from newswatch.worker.rules.loader import Severity

MAX_TEXT = 500
NO_NUL = r"^[^\x00]*$"
"""PostgreSQL refuses text holding NUL characters: such a value is a mistake of the request, said as one."""


def text_query(description: str, max_length: int = MAX_TEXT) -> Any:
    """A text query parameter: at most `max_length` characters, no NUL."""
    return Query(max_length=max_length, pattern=NO_NUL, description=description)


def invalid(name: str, message: str, value: Any) -> RequestValidationError:
    """The 422 for query parameter `name`, saying what is wrong with it."""
    return RequestValidationError([{"type": "value_error", "loc": ("query", name), "msg": message, "input": value}])


def read_time(name: str, value: str | None, *, end_of_day: bool = False) -> datetime | None:
    """A `since`/`until` value as the command line reads it; None for no value."""
    if _given(value) is None:
        return None
    try:
        when: datetime = TimeBound(end_of_day=end_of_day).convert(value, None, None)
    except click.BadParameter as exc:
        raise invalid(name, exc.message, value) from None
    except OverflowError:
        raise invalid(name, f"out of range: {value!r}", value) from None
    return when


def hit_filters(
    rule: Annotated[str | None, text_query("A rule name, any case.")] = None,
    since: Annotated[str | None, text_query("Dated at or after: 7d (back from now) or a date.", 100)] = None,
    until: Annotated[str | None, text_query("Dated before: 1d or a date (inclusive).", 100)] = None,
    source: Annotated[str | None, text_query("A domain (and subdomains), site name, or feed id/URL/title.")] = None,
    severity: Annotated[list[Severity] | None, Query(description="Only these severities (repeat it).")] = None,
    search: Annotated[str | None, text_query('Full text: words and "phrases", all of them.')] = None,
) -> HitFilters:
    """The filters of `/hits` and of the web page's list, checked; what `newswatch hits` takes as options."""
    search = _given(search)
    if search is not None:
        try:
            parse_search(search)
        except QueryError as exc:
            raise invalid("search", str(exc), search) from None
    source = _given(source)
    if source is not None and source.isdigit() and not (source.isascii() and int(source) <= MAX_ID):
        raise invalid("source", f"not a feed id: {source!r} (a number names a feed: 1 to {MAX_ID})", source)
    return HitFilters(
        rule=_given(rule),
        since=read_time("since", since),
        until=read_time("until", until, end_of_day=True),
        source=source,
        severity=tuple(dict.fromkeys(severity or ())),
        search=search,
    )


def _given(value: str | None) -> str | None:
    """A text parameter, None when empty or blank."""
    return value.strip() or None if value is not None else None
