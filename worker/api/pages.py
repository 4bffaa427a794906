"""The web page: the hit list with the filters of `/hits` and a per-rule timeline, and one hit with its matched
sentences highlighted. Server-rendered (`render.py`), no script; the filters are a GET form, so a filtered list
is a link to share. Logging in and out is `login.py`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from importlib.resources import files
from typing import Annotated, Any, get_args

from fastapi import APIRouter, Depends, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from newswatch.storage.db import session_scope
from newswatch.storage.errors import QueryError
from newswatch.storage.hit_queries import HitFilters, HitRow, get_hit
from newswatch.storage.search import SearchQuery, mark_spans, parse_search
from newswatch.worker.api.params import MAX_ID, hit_filters, text_query
from newswatch.worker.api.reading import AppState, app_state, next_link, read_hits, read_stats, rule_choices
from newswatch.worker.api.render import render, segments
from newswatch.worker.api.timeline import timeline
from newswatch.worker.cli.hit_output import matched_texts, source_name
from newswatch.worker.rules.loader import Severity

router = APIRouter(include_in_schema=False)
State = Annotated[AppState, Depends(app_state)]
PAGE_SIZE = 50
TIMELINE_DAYS = 30
SEVERITIES = get_args(Severity)


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/web/", status_code=303)


@router.get("/web/style.css")
def stylesheet() -> Response:
    css = files("newswatch.worker.api").joinpath("static/style.css").read_text(encoding="utf-8")
    return Response(css, media_type="text/css")


@router.get("/web/", response_class=HTMLResponse)
def hit_list(
    request: Request,
    state: State,
    filters: Annotated[HitFilters, Depends(hit_filters)],
    cursor: Annotated[str | None, text_query("The next page's cursor.")] = None,
) -> HTMLResponse:
    """Hits, newest first, a page at a time, with the filters' form and the timeline of the filtered hits."""
    page, more = read_hits(state, filters, limit=PAGE_SIZE, cursor=cursor or None)
    last = (filters.until - timedelta(microseconds=1)) if filters.until else datetime.now(UTC)
    since = filters.since or datetime.combine(last.date() - timedelta(days=TIMELINE_DAYS - 1), time(), UTC)
    counts = read_stats(state, replace(filters, since=since))
    query = parse_search(filters.search) if filters.search else None
    rows = [_row(row, query) for row in page.rows]
    return render(
        request,
        "hits.html.j2",
        form=_form(request),
        rules=rule_choices(state),
        severities=SEVERITIES,
        rows=rows,
        more=more,
        next_page=next_link(request, page.next_cursor),
        timeline=timeline(counts, since.date(), last.date()),
        error=None,
    )


@router.get("/web/hits/{hit_id}", response_class=HTMLResponse)
def hit_page(request: Request, state: State, hit_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> HTMLResponse:
    """One hit: the article's title, source, dates and link, the rule, and every matched sentence marked."""
    try:
        with session_scope(state.database_url) as session:
            row = get_hit(session, hit_id)
    except QueryError as exc:
        return render(request, "missing.html.j2", 404, message=str(exc))
    hit = row.hit
    sentences = [segments(str(s.get("text", "")), s.get("marks", ())) for s in hit.evidence.get("snippets", ())]
    return render(
        request, "hit.html.j2", row=row, source=source_name(row), matches=matched_texts(row), sentences=sentences
    )


def invalid_page(request: Request, exc: RequestValidationError) -> HTMLResponse:
    """The hit list again with what is wrong with its filters, for a 422 of the web page."""
    problems = [f"{'.'.join(str(part) for part in error['loc'][1:])}: {error['msg']}" for error in exc.errors()]
    state: AppState = request.app.state.newswatch
    return render(
        request,
        "hits.html.j2",
        422,
        form=_form(request),
        rules=state.rule_names(),
        severities=SEVERITIES,
        rows=[],
        more=0,
        next_page=None,
        timeline=None,
        error="; ".join(problems),
    )


def _row(row: HitRow, query: SearchQuery | None) -> dict[str, Any]:
    title = row.article.title
    return {
        "id": row.hit.id,
        "date": row.hit.article_date,
        "rule": row.hit.rule,
        "severity": row.hit.severity,
        "title": segments(title, mark_spans(title, query)) if query else [(title, False)],
        "source": source_name(row),
        "matches": matched_texts(row),
        "found": segments(row.found.text, row.found.marks) if row.found else None,
    }


def _form(request: Request) -> dict[str, Any]:
    """The filters as the user wrote them, to fill the form again."""
    params = request.query_params
    return {
        "rule": params.get("rule", ""),
        "since": params.get("since", ""),
        "until": params.get("until", ""),
        "source": params.get("source", ""),
        "search": params.get("search", ""),
        "severity": params.getlist("severity"),
    }
