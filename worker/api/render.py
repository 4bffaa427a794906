"""HTML of the web page: one Jinja2 environment with autoescape on, so everything an article brings (a title
holding `<script>`, a site name, a snippet) is shown as text, never read as markup.

Templates never mark text up themselves: marked spans arrive as (text, marked) segments, each escaped, and a
link is only given for an http(s) URL (a feed can name `javascript:` as an article's link).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined

from newswatch.worker.api.access import csrf_value
from newswatch.worker.api.gate import session_token


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The templates of `worker/api/templates`, autoescaped."""
    env = Environment(
        loader=PackageLoader("newswatch.worker.api", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["web_link"] = web_link
    env.filters["when"] = lambda value: f"{value:%Y-%m-%d %H:%M}" if value else "not given"
    return env


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """Template `name` as a page, with what every page shows (the log-out form when logged in)."""
    token = session_token(request.headers)
    state = request.app.state.newswatch
    logged_in = not state.access.open and state.access.allows(token)
    page = (
        environment()
        .get_template(name)
        .render(logged_in=logged_in, csrf=csrf_value(token) if logged_in and token else "", **context)
    )
    return HTMLResponse(page, status_code=status)


def segments(text: str, marks: Iterable[Sequence[int]]) -> list[tuple[str, bool]]:
    """`text` cut at the marks' (start, end) offsets: (piece, marked) in order; marks out of range are dropped."""
    pieces, last = [], 0
    for start, end in sorted((int(mark[0]), int(mark[1])) for mark in marks):
        if start < last or end > len(text) or start >= end:
            continue
        pieces += [(text[last:start], False), (text[start:end], True)]
        last = end
    pieces.append((text[last:], False))
    return [(piece, marked) for piece, marked in pieces if piece]


def web_link(url: str | None) -> str | None:
    """`url` when a browser may follow it (http or https), else None."""
    if not url:
        return None
    return url if urlsplit(url).scheme.lower() in ("http", "https") else None
