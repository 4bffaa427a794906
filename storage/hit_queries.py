"""Queries on stored hits, the one place every front end (command line, HTTP API, web page) asks them.

Dates: a hit is dated by its article: the publish date, else when the article was stored (`Hit.article_date`,
copied from the article when the hit is stored). `since` (inclusive) and `until` (exclusive) filter on that
date, and pages run newest first by it, then by hit id.

Filters, all optional, all of them together:
- `rule`: a rule name in any case; a name no stored hit has raises `UnknownRuleError` listing those that do.
- `source`: the article's domain and its subdomains ("bbc.co.uk" covers "news.bbc.co.uk"), its site name
  in any case, or its feed (id or title); a URL stands for its feed, else for its host.
- `severity`: one or more severities, exactly as the rules name them.
- `search`: full text over the articles' titles and texts (storage.search).

Pages are keyset pages: a cursor is the (date, id) of the last row of a page, opaque to callers, and the
next page is the rows after it in that order. Hits stored meanwhile shift nothing: paging on shows no row
twice and skips none that existed when the first page was read. `iter_hits` streams every hit of a filter
in such pages, each read in its own short transaction (a long read would hold SQLite's write lock).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, and_, false, func, literal, literal_column, or_, text
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select, SelectOfScalar

from newswatch.storage.db import session_scope
from newswatch.storage.errors import QueryError, UnknownRuleError
from newswatch.storage.models import Feed, Hit, StoredArticle, UTCDateTime
from newswatch.storage.search import Excerpt, excerpt, parse_search, search_condition

STREAM_BATCH = 1000


@dataclass(frozen=True)
class HitFilters:
    """Which hits a query selects (see the module docstring); the default selects every hit."""

    rule: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    source: str | None = None
    severity: Sequence[str] = ()
    search: str | None = None


@dataclass(frozen=True)
class HitRow:
    """A hit with its article; the article's text is loaded only for a search, to excerpt it (`found`)."""

    hit: Hit
    article: StoredArticle
    found: Excerpt | None = None


@dataclass(frozen=True)
class HitPage:
    """One page of hits, newest first; `next_cursor` reads the next page, None when this is the last."""

    rows: list[HitRow]
    next_cursor: str | None

    @property
    def has_more(self) -> bool:
        return self.next_cursor is not None


@dataclass(frozen=True)
class DayCount:
    """How many hits of one rule are dated on one day (UTC)."""

    rule: str
    day: date
    hits: int


def find_hits(session: Session, filters: HitFilters, *, limit: int = 50, cursor: str | None = None) -> HitPage:
    """One page of the hits the filters select, newest first, after `cursor` (from the previous page).

    Two steps: the page's hit ids from `hits` alone, then those rows with their articles. A planner
    choosing a page's plan over one table cannot be led astray by a join's estimates.
    """
    if limit < 1:
        raise QueryError(f"hits: limit must be at least 1, not {limit}")
    where, few = _conditions(session, filters, cursor, newest_first=True)
    newest = col(Hit.article_date).desc()
    if few and session.get_bind().dialect.name == "postgresql":
        # A search naming its few articles: PostgreSQL would still walk the date index, guessing matches
        # are everywhere; ordering by an expression no index holds makes it read their hits and sort them.
        newest = (col(Hit.article_date) + literal_column("interval '0 seconds'")).desc()
    ids = list(session.exec(select(Hit.id).where(*where).order_by(newest, col(Hit.id).desc()).limit(limit + 1)))
    wanted = parse_search(filters.search) if filters.search else None
    query = _with_articles(text=wanted is not None).where(col(Hit.id).in_(ids[:limit]))
    by_id = {hit.id: (hit, article) for hit, article in session.exec(query)}
    rows = [HitRow(*by_id[i], excerpt(by_id[i][1].text, wanted) if wanted else None) for i in ids[:limit]]
    return HitPage(rows, _cursor(rows[-1].hit) if len(ids) > limit else None)


def count_hits(session: Session, filters: HitFilters, *, cursor: str | None = None, at_most: int | None = None) -> int:
    """How many hits the filters select (after `cursor`, if given: how many more there are).

    With `at_most`, counting stops there, so "more than N" costs what reading N rows costs: a count of
    everything a common word matches reads all of it.
    """
    if at_most is None:
        query: SelectOfScalar[int] = select(func.count()).select_from(Hit)
        return int(session.exec(query.where(*_conditions(session, filters, cursor)[0])).one())
    where, _ = _conditions(session, filters, cursor, newest_first=True)
    capped = select(Hit.id).where(*where).limit(at_most).subquery()
    return int(session.exec(select(func.count()).select_from(capped)).one())


def iter_hits(
    url: str, filters: HitFilters, *, cursor: str | None = None, batch: int = STREAM_BATCH
) -> Iterator[HitRow]:
    """Every hit the filters select (after `cursor`), newest first, read `batch` at a time in constant memory."""
    while True:
        with session_scope(url) as session:
            page = find_hits(session, filters, limit=batch, cursor=cursor)
        yield from page.rows
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def get_hit(session: Session, hit_id: int) -> HitRow:
    """One hit with its whole article; a `QueryError` naming the id when there is none."""
    found = session.exec(_with_articles(text=True).where(col(Hit.id) == hit_id)).first()
    if found is None:
        raise QueryError(f"hits: no hit with id {hit_id}")
    return HitRow(*found)


def hits_per_day(session: Session, filters: HitFilters) -> list[DayCount]:
    """Hits per rule per day (UTC, by the hits' dates), oldest day first."""
    dialect = session.get_bind().dialect.name
    day = func.date(func.timezone("UTC", Hit.article_date)) if dialect == "postgresql" else func.date(Hit.article_date)
    query = select(Hit.rule, day, func.count()).where(*_conditions(session, filters, None)[0])
    query = query.group_by(Hit.rule, day).order_by(day, Hit.rule)
    return [
        DayCount(rule, value if isinstance(value, date) else date.fromisoformat(value), hits)
        for rule, value, hits in session.exec(query)
    ]


def known_rules(session: Session) -> list[str]:
    """The rules with stored hits, sorted."""
    return _distinct(session, "hits", "rule")


MAX_ID = 2**31 - 1
"""Row ids are 32-bit integers on PostgreSQL: a larger number names no row (and would not bind)."""


def _with_articles(*, text: bool) -> Select[Hit, StoredArticle]:
    """Hits joined to their articles; the article's text only when asked for (it is the bulk of a row)."""
    query = select(Hit, StoredArticle).join(StoredArticle, col(Hit.article_id) == col(StoredArticle.id))
    if not text:
        query = query.options(defer(StoredArticle.text, raiseload=True))  # type: ignore[arg-type]
    return query.options(defer(StoredArticle.fingerprint, raiseload=True))  # type: ignore[arg-type]


def _conditions(
    session: Session, filters: HitFilters, cursor: str | None, *, newest_first: bool = False
) -> tuple[list[ColumnElement[bool]], bool]:
    """The filters as conditions on `hits` alone (no join needed to count them), and whether a search named
    its few matching articles (see storage.search)."""
    where: list[ColumnElement[bool]] = []
    few = False
    if filters.rule is not None:
        names = [name for name in known_rules(session) if name.casefold() == filters.rule.strip().casefold()]
        if not names:
            raise UnknownRuleError(filters.rule, known_rules(session))
        where.append(col(Hit.rule).in_(names))
    if filters.since is not None:
        where.append(col(Hit.article_date) >= filters.since)
    if filters.until is not None:
        where.append(col(Hit.article_date) < filters.until)
    if filters.severity:
        where.append(col(Hit.severity).in_(list(filters.severity)))
    if filters.source is not None:
        where.append(_source_condition(session, filters.source))
    if filters.search:
        matching = search_condition(
            session, parse_search(filters.search), col(Hit.article_id), newest_first=newest_first
        )
        where.append(matching.condition)
        few = matching.few
    if cursor is not None:
        when, hit_id = _read_cursor(cursor)
        bound = literal(when, UTCDateTime())
        # Not a row-value comparison: this form uses the (date, id) indexes on SQLite and PostgreSQL alike.
        where.append(and_(col(Hit.article_date) <= bound, or_(col(Hit.article_date) < bound, col(Hit.id) < hit_id)))
    return where, few


def _source_condition(session: Session, source: str) -> ColumnElement[bool]:
    wanted = source.strip()
    if "://" in wanted:
        feeds = list(session.exec(select(Feed.id).where(Feed.url == wanted)))
        if feeds:
            return col(Hit.feed_id).in_(feeds)
        wanted = urlsplit(wanted).hostname or wanted
    host = wanted.lower().removeprefix("www.").strip("/")
    domains = {d for d in _distinct(session, "articles", "domain") if d == host or d.endswith("." + host)}
    sites = [s for s in _distinct(session, "articles", "site_name") if s.casefold() == wanted.casefold()]
    if sites:
        of_sites = select(StoredArticle.domain).where(col(StoredArticle.site_name).in_(sites)).distinct()
        domains |= {domain for domain in session.exec(of_sites) if domain is not None}
    by_feed = func.lower(Feed.title) == wanted.lower()
    if wanted.isascii() and wanted.isdigit() and int(wanted) <= MAX_ID:
        by_feed = or_(by_feed, col(Feed.id) == int(wanted))
    feeds = list(session.exec(select(Feed.id).where(by_feed)))
    conditions = [col(Hit.domain).in_(sorted(domains))] if domains else []
    conditions += [col(Hit.feed_id).in_(feeds)] if feeds else []
    return or_(*conditions) if conditions else false()


def _distinct(session: Session, table: str, column: str) -> list[str]:
    """The distinct values of an indexed column, one index probe each (a loose index scan)."""
    query = text(
        f"WITH RECURSIVE seen(value) AS (SELECT min({column}) FROM {table} UNION ALL "
        f"SELECT (SELECT min({column}) FROM {table} WHERE {column} > seen.value) FROM seen "
        "WHERE seen.value IS NOT NULL) SELECT value FROM seen WHERE value IS NOT NULL"
    )
    return list(session.execute(query).scalars())


def _cursor(hit: Hit) -> str:
    assert hit.article_date is not None and hit.id is not None
    raw = f"{hit.article_date.astimezone(UTC).isoformat()}|{hit.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _read_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, _, hit_id = raw.partition("|")
        parsed = datetime.fromisoformat(when)
        if parsed.tzinfo is None:
            raise ValueError(when)
        if not (hit_id.isascii() and hit_id.isdigit()) or int(hit_id) > MAX_ID:
            raise ValueError(hit_id)
        return parsed, int(hit_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise QueryError(f"hits: not a cursor: {cursor!r} (use the one the previous page gave)") from None
