"""The one hit query every front end asks: each filter, pages that neither repeat nor skip a hit while new hits
arrive, full-text search with the words' places, counts and per-day totals, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import bindparam, text

from newswatch.storage.articles import store_article
from newswatch.storage.db import session_scope
from newswatch.storage.errors import QueryError, UnknownRuleError
from newswatch.storage.feeds import add_feed
from newswatch.storage.hit_queries import (
    DayCount,
    HitFilters,
    count_hits,
    find_hits,
    get_hit,
    hits_per_day,
    iter_hits,
)
from newswatch.storage.hits import store_hit
from newswatch.storage.models import Hit, StoredArticle, UTCDateTime
from newswatch.storage.schema import upgrade

DAY = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
_serial = itertools.count()


def _article(
    url: str,
    title: str = "A story",
    body: str = "Nothing happened.",
    *,
    published: datetime | None = DAY,
    fetched: datetime | None = None,
    domain: str | None = "news.example",
    site: str | None = None,
    feed_id: int | None = None,
) -> int:
    n = next(_serial)
    row = StoredArticle(
        content_hash=f"hash-{n}",
        source=f"https://{domain or 'local'}/{n}",
        url=f"https://{domain or 'local'}/{n}",
        title=title,
        text=body,
        published_at=published,
        fetched_at=fetched,
        domain=domain,
        site_name=site,
        feed_id=feed_id,
    )
    with session_scope(url) as session:
        stored, _ = store_article(session, row)
        assert stored.id is not None
        return stored.id


def _hit(url: str, article_id: int, rule: str = "airstrikes", severity: str = "high") -> int:
    with session_scope(url) as session:
        hit = Hit(
            article_id=article_id,
            rule=rule,
            severity=severity,
            rules_version="v1",
            score=1.0,
            snippet="s",
            evidence={"matches": [{"text": "airstrike"}]},
        )
        hit_id = store_hit(session, hit)
        assert hit_id is not None
        return hit_id


def _ids(url: str, **filters: object) -> list[int]:
    with session_scope(url) as session:
        page = find_hits(session, HitFilters(**filters), limit=1000)  # type: ignore[arg-type]
    return [row.hit.id for row in page.rows if row.hit.id is not None]


@pytest.fixture
def db(database_url: str) -> str:
    upgrade(database_url)
    return database_url


def test_the_rule_filter_ignores_case(db: str) -> None:
    strike = _hit(db, _article(db), "airstrikes")
    _hit(db, _article(db), "commanders")
    assert _ids(db, rule="Airstrikes") == [strike]
    assert _ids(db, rule=" AIRSTRIKES ") == [strike]


def test_an_unknown_rule_is_an_error_that_lists_the_known_ones(db: str) -> None:
    _hit(db, _article(db), "airstrikes")
    _hit(db, _article(db), "commanders")
    with pytest.raises(UnknownRuleError) as caught:
        _ids(db, rule="air-strikes")
    assert caught.value.known == ["airstrikes", "commanders"]
    assert "air-strikes" in str(caught.value) and "airstrikes, commanders" in str(caught.value)


def test_dates_are_publish_dates_else_when_the_article_was_stored(db: str) -> None:
    old = _hit(db, _article(db, published=DAY - timedelta(days=30), fetched=DAY))
    undated = _hit(db, _article(db, published=None, fetched=DAY - timedelta(days=2)))
    recent = _hit(db, _article(db, published=DAY, fetched=DAY + timedelta(days=1)))
    assert _ids(db) == [recent, undated, old]
    assert _ids(db, since=DAY - timedelta(days=7)) == [recent, undated]
    assert _ids(db, until=DAY - timedelta(days=1)) == [undated, old]
    assert _ids(db, since=DAY - timedelta(days=3), until=DAY) == [undated]  # until is exclusive
    with session_scope(db) as session:
        assert get_hit(session, undated).hit.article_date == DAY - timedelta(days=2)


def test_the_source_filter_takes_a_domain_a_site_name_or_a_feed(db: str) -> None:
    with session_scope(db) as session:
        feed, _ = add_feed(session, "https://wire.example/rss.xml", interval_seconds=900, title="Wire Service")
        assert feed.id is not None
    bbc = _hit(db, _article(db, domain="bbc.co.uk", site="BBC News"))
    bbc_news = _hit(db, _article(db, domain="news.bbc.co.uk"))
    not_bbc = _hit(db, _article(db, domain="notbbc.co.uk"))
    wired = _hit(db, _article(db, domain="cdn.example", feed_id=feed.id))
    assert set(_ids(db, source="bbc.co.uk")) == {bbc, bbc_news}
    assert set(_ids(db, source="https://www.bbc.co.uk/news/world")) == {bbc, bbc_news}
    assert _ids(db, source="bbc news") == [bbc]
    assert _ids(db, source="wire service") == [wired]
    assert _ids(db, source=str(feed.id)) == [wired]
    assert _ids(db, source="https://wire.example/rss.xml") == [wired]
    assert _ids(db, source="notbbc.co.uk") == [not_bbc]
    assert _ids(db, source="elsewhere.example") == []


def test_the_severity_filter_takes_one_or_more(db: str) -> None:
    high = _hit(db, _article(db), severity="high")
    low = _hit(db, _article(db), severity="low")
    critical = _hit(db, _article(db), severity="critical")
    assert _ids(db, severity=["high"]) == [high]
    assert set(_ids(db, severity=["critical", "low"])) == {critical, low}


def test_search_finds_every_word_in_title_or_text_and_says_where(db: str) -> None:
    both = _hit(db, _article(db, "Soleimani killed", "The strike near the Border Crossing was confirmed by officials."))
    phrase_apart = _hit(db, _article(db, "Crossing the border", "Soleimani spoke of a crossing at the border."))
    _hit(db, _article(db, "Weather", "Rain over the crossing."))
    assert set(_ids(db, search="soleimani border")) == {both, phrase_apart}
    assert _ids(db, search='SOLEIMANI "border crossing"') == [both]
    assert _ids(db, search="border-crossing") == [both]  # a hyphenated word is the phrase of its parts
    with session_scope(db) as session:
        (row,) = find_hits(session, HitFilters(search='"border crossing"')).rows
    assert row.found is not None
    start, end = row.found.marks[0]
    assert row.found.text[start:end] == "Border Crossing"


def test_a_search_pages_newest_first_whether_few_or_most_articles_match(db: str) -> None:
    # On SQLite the two take different plans: from the few matching articles, or along the hits by date.
    ids = [
        _hit(
            db,
            _article(db, "Crisis talks", "Mosul" if i % 10 == 0 else "Elsewhere", published=DAY - timedelta(hours=i)),
        )
        for i in range(40)
    ]
    for search, expected in (("crisis", ids), ("mosul", ids[::10])):
        seen: list[int] = []
        cursor: str | None = None
        while True:
            with session_scope(db) as session:
                page = find_hits(session, HitFilters(search=search), limit=3, cursor=cursor)
            seen += [row.hit.id for row in page.rows if row.hit.id is not None]
            if not page.has_more:
                break
            cursor = page.next_cursor
        assert seen == expected


def test_a_search_with_no_words_is_an_error_not_everything(db: str) -> None:
    _hit(db, _article(db))
    with pytest.raises(QueryError, match="no words"):
        _ids(db, search=' "" * - ')


def test_pages_neither_repeat_nor_skip_hits_while_new_ones_arrive(db: str) -> None:
    # Ten articles share one date, so the order within it rests on the hit id.
    existing = [_hit(db, _article(db, published=DAY - timedelta(hours=i // 10))) for i in range(25)]
    seen: list[int] = []
    cursor: str | None = None
    pages = 0
    while True:
        pages += 1
        with session_scope(db) as session:
            page = find_hits(session, HitFilters(), limit=7, cursor=cursor)
        seen += [row.hit.id for row in page.rows if row.hit.id is not None]
        _hit(db, _article(db, published=DAY + timedelta(days=1)))  # newer than any page: before the first one
        _hit(db, _article(db, published=DAY - timedelta(hours=1)))  # dated among the rows already paged
        if not page.has_more:
            break
        cursor = page.next_cursor
    assert pages == 4
    assert len(seen) == len(set(seen))
    assert set(existing) <= set(seen)


def test_count_after_a_cursor_is_how_many_more_there_are(db: str) -> None:
    for i in range(12):
        _hit(db, _article(db, published=DAY - timedelta(minutes=i)), "airstrikes" if i % 3 else "commanders")
    filters = HitFilters(rule="airstrikes")
    with session_scope(db) as session:
        first = find_hits(session, filters, limit=5)
        assert count_hits(session, filters) == 8
        assert count_hits(session, filters, cursor=first.next_cursor) == 3
        assert count_hits(session, filters, at_most=5) == 5
        assert count_hits(session, filters, at_most=100) == 8
        assert count_hits(session, HitFilters(search="nothing")) == 12
        assert count_hits(session, HitFilters(source="news.example", since=DAY - timedelta(minutes=4))) == 5


def test_iterating_returns_every_hit_once_across_batches(db: str) -> None:
    expected = [_hit(db, _article(db, published=DAY - timedelta(hours=i))) for i in range(11)]
    assert [row.hit.id for row in iter_hits(db, HitFilters(), batch=4)] == expected


def test_hits_per_day_counts_each_rule_on_each_utc_day(db: str) -> None:
    late = datetime(2026, 3, 9, 23, 30, tzinfo=UTC)
    for published, rule in [(late, "airstrikes"), (late, "airstrikes"), (DAY, "airstrikes"), (DAY, "commanders")]:
        _hit(db, _article(db, published=published), rule)
    with session_scope(db) as session:
        counts = hits_per_day(session, HitFilters(since=datetime(2026, 3, 1, tzinfo=UTC)))
    assert counts == [
        DayCount("airstrikes", date(2026, 3, 9), 2),
        DayCount("airstrikes", date(2026, 3, 10), 1),
        DayCount("commanders", date(2026, 3, 10), 1),
    ]


def test_a_cursor_that_is_not_one_is_a_query_error(db: str) -> None:
    with session_scope(db) as session, pytest.raises(QueryError, match="not a cursor"):
        find_hits(session, HitFilters(), cursor="garbage!")


@pytest.mark.parametrize("cursor", ["garbage!", "MjAyNi0wMS0wMVQwMDowMDowMCswMDowMHw5OTk5OTk5OTk5OTk5OTk5OTk5OTk"])
def test_a_forged_cursor_with_an_id_past_any_row_is_a_query_error(db: str, cursor: str) -> None:
    with session_scope(db) as session, pytest.raises(QueryError, match="not a cursor"):
        find_hits(session, HitFilters(), cursor=cursor)


@pytest.mark.parametrize("source", ["\u00b2", "9" * 30])
def test_a_source_that_only_looks_like_a_feed_id_matches_nothing(db: str, source: str) -> None:
    _hit(db, _article(db))
    assert _ids(db, source=source) == []


def test_the_migration_dates_and_indexes_what_was_stored_before_it(database_url: str) -> None:
    upgrade(database_url, "0003")
    with session_scope(database_url) as session:
        for n, published in enumerate([datetime(2026, 3, 1, 8, tzinfo=UTC), None]):
            session.execute(
                text(
                    "INSERT INTO articles (id, content_hash, source, title, text, published_at, fetched_at) "
                    "VALUES (:id, :hash, 'seed.txt', 'Old news', 'An airstrike near Mosul.', :published, :fetched)"
                ).bindparams(bindparam("published", type_=UTCDateTime()), bindparam("fetched", type_=UTCDateTime())),
                {"id": n + 1, "hash": f"h{n}", "published": published, "fetched": datetime(2026, 3, 5, 9, tzinfo=UTC)},
            )
            session.execute(
                text(
                    "INSERT INTO hits (article_id, rule, severity, rules_version, score, snippet, evidence) "
                    "VALUES (:id, 'airstrikes', 'high', 'v1', 1.0, 's', '{}')"
                ),
                {"id": n + 1},
            )
    upgrade(database_url)
    with session_scope(database_url) as session:
        rows = find_hits(session, HitFilters(search="mosul airstrike")).rows
    assert [row.hit.article_date for row in rows] == [
        datetime(2026, 3, 5, 9, tzinfo=UTC),
        datetime(2026, 3, 1, 8, tzinfo=UTC),
    ]
