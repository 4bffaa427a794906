"""The JSON routes: hits (filtered, paged), one hit, one article, the rules, the feeds, hits per day.

Every route here sits behind the token gate (`gate.py`, which answers 401 before a route is chosen); the
`HTTPBearer` dependency only declares that in the OpenAPI schema, so the explorer at `/docs` asks for a token.
Handlers are plain functions (FastAPI runs them in its thread pool), each one short transaction.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Security
from fastapi.security import HTTPBearer

from newswatch.storage.article_queries import article_hits, get_article
from newswatch.storage.db import session_scope
from newswatch.storage.errors import QueryError
from newswatch.storage.feeds import list_feeds
from newswatch.storage.hit_queries import HitFilters, HitRow, get_hit
from newswatch.worker.api.params import MAX_ID, hit_filters, read_time, text_query
from newswatch.worker.api.reading import AppState, app_state, next_link, read_hits, read_stats
from newswatch.worker.api.schemas import (
    ArticleHit,
    ArticleOut,
    ErrorOut,
    FeedOut,
    HitOut,
    HitPageOut,
    RulesOut,
    StatsOut,
)
from newswatch.worker.cli.hit_output import hit_json, stats_json
from newswatch.worker.errors import RuleError

BEARER = HTTPBearer(auto_error=False, description="One of the tokens of NEWSWATCH_API_TOKENS.")
DEFAULT_LIMIT, MAX_LIMIT = 50, 500

router = APIRouter(
    dependencies=[Security(BEARER)],
    responses={401: {"model": ErrorOut, "description": "No token, or not one of NEWSWATCH_API_TOKENS."}},
)
State = Annotated[AppState, Depends(app_state)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut, "description": "Nothing stored with this id."}}


@router.get("/hits", response_model=HitPageOut, tags=["hits"])
def list_hits(
    request: Request,
    state: State,
    filters: Annotated[HitFilters, Depends(hit_filters)],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Hits on this page.")] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, text_query("The `next_cursor` of the previous page.")] = None,
) -> HitPageOut:
    """Stored hits, newest first (dated by the article's publish date, else when it was stored), a page at a
    time; the same filters and the same hits as `newswatch hits`."""
    page, more = read_hits(state, filters, limit=limit, cursor=cursor or None)
    return HitPageOut(
        hits=[_hit(row) for row in page.rows],
        more=more,
        next_cursor=page.next_cursor,
        next=next_link(request, page.next_cursor),
    )


@router.get("/hits/{hit_id}", response_model=HitOut, responses=NOT_FOUND, tags=["hits"])
def show_hit(state: State, hit_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> HitOut:
    """One hit with its article, each match and the marked sentences (`newswatch hits show ID --json`)."""
    try:
        with session_scope(state.database_url) as session:
            row = get_hit(session, hit_id)
    except QueryError as exc:
        raise HTTPException(404, str(exc)) from None
    return _hit(row)


@router.get("/articles/{article_id}", response_model=ArticleOut, responses=NOT_FOUND, tags=["articles"])
def show_article(state: State, article_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> ArticleOut:
    """One stored article with its text and the hits found in it."""
    try:
        with session_scope(state.database_url) as session:
            article = get_article(session, article_id)
            hits = article_hits(session, article_id)
    except QueryError as exc:
        raise HTTPException(404, str(exc)) from None
    return ArticleOut(
        **article.model_dump(exclude={"fingerprint", "url_key", "content_hash", "published_at"}),
        published=article.published_at,
        hits=[ArticleHit(id=hit.id or 0, rule=hit.rule, severity=hit.severity, score=hit.score) for hit in hits],
    )


@router.get(
    "/rules",
    response_model=RulesOut,
    responses={503: {"model": ErrorOut, "description": "The rules file cannot be read."}},
    tags=["rules"],
)
def list_rules(state: State) -> RulesOut:
    """The rules of the configured rules file (`NEWSWATCH_RULES`), as the workers match them."""
    try:
        rules = state.rules()
    except RuleError as exc:
        raise HTTPException(503, str(exc).splitlines()[0]) from None
    return RulesOut(version=rules.version, rules=list(rules.rules))


@router.get("/feeds", response_model=list[FeedOut], tags=["feeds"])
def feeds(state: State) -> list[FeedOut]:
    """Every feed, oldest first, with how its last poll went."""
    with session_scope(state.database_url) as session:
        return [FeedOut.model_validate(feed, from_attributes=True) for feed in list_feeds(session)]


@router.get("/stats", response_model=StatsOut, tags=["hits"])
def stats(
    state: State,
    since: Annotated[str, text_query("From: 30d or a date.", 100)] = "30d",
    until: Annotated[str | None, text_query("Up to: a date (inclusive).", 100)] = None,
    rule: Annotated[str | None, text_query("Only this rule (any case).")] = None,
) -> StatsOut:
    """Hits per rule per day (`newswatch stats --json`)."""
    start = read_time("since", since) or read_time("since", "30d")
    assert start is not None
    end = read_time("until", until, end_of_day=True)
    counts = read_stats(state, HitFilters(rule=(rule or "").strip() or None, since=start, until=end))
    return StatsOut(since=start, until=end, rules=stats_json(counts)["rules"])


def _hit(row: HitRow) -> HitOut:
    return HitOut.model_validate(hit_json(row))
