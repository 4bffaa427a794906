"""Articles are stored once per canonical URL and per content hash, even when writers race."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlmodel import func, select

from newswatch.storage.articles import (
    add_story_bands,
    find_article,
    known_url_keys,
    store_article,
    story_candidates,
)
from newswatch.storage.db import session_scope
from newswatch.storage.models import StoredArticle, utcnow
from newswatch.storage.schema import upgrade
from newswatch.worker.ingest.identity import canonical_url, content_hash

ARTICLE = StoredArticle(
    source="https://news.example/a/1",
    url="https://news.example/a/1",
    title="Border point retaken",
    text="Forces reached the border crossing at al-Qaim.",
    published_at=datetime(2017, 6, 10, tzinfo=UTC),
    domain="news.example",
    content_hash="",
)


def _store(url: str, article: StoredArticle = ARTICLE) -> tuple[int, bool]:
    keyed = article.model_copy(
        update={"url_key": canonical_url(article.url or ""), "content_hash": content_hash(article.title, article.text)}
    )
    with session_scope(url) as session:
        row, new = store_article(session, keyed)
        assert row.id is not None
        return row.id, new


def _count(url: str) -> int:
    with session_scope(url) as session:
        return session.exec(select(func.count()).select_from(StoredArticle)).one()


def test_the_same_article_twice_is_stored_once(database_url: str) -> None:
    upgrade(database_url)
    first_id, first_new = _store(database_url)
    second_id, second_new = _store(database_url)
    assert (first_new, second_new) == (True, False)
    assert first_id == second_id
    assert _count(database_url) == 1


def test_a_tracking_parameter_does_not_make_a_new_article(database_url: str) -> None:
    upgrade(database_url)
    _store(database_url)
    tracked = ARTICLE.model_copy(
        update={"url": "https://news.example/a/1?utm_source=rss#comments", "text": ARTICLE.text + " Updated."}
    )
    _, new = _store(database_url, tracked)
    assert not new
    assert _count(database_url) == 1


def test_the_same_text_on_another_url_is_stored_once(database_url: str) -> None:
    upgrade(database_url)
    _store(database_url)
    copy = ARTICLE.model_copy(update={"url": "https://mirror.example/story"})
    _, new = _store(database_url, copy)
    assert not new


def test_racing_writers_store_one_row_and_one_of_them_is_told_new(database_url: str) -> None:
    upgrade(database_url)
    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(lambda _: _store(database_url), range(12)))
    assert _count(database_url) == 1
    assert sum(new for _, new in outcomes) == 1
    assert len({article_id for article_id, _ in outcomes}) == 1


def test_stored_times_come_back_aware_utc(database_url: str) -> None:
    upgrade(database_url)
    _store(database_url)
    with session_scope(database_url) as session:
        row = find_article(session, url_key=canonical_url(ARTICLE.url or ""), content_hash="")
        assert row is not None
        assert row.published_at == datetime(2017, 6, 10, tzinfo=UTC)
        assert row.fetched_at is not None and row.fetched_at.tzinfo is not None


def test_known_url_keys_reports_only_stored_ones(database_url: str) -> None:
    upgrade(database_url)
    _store(database_url)
    with session_scope(database_url) as session:
        known = known_url_keys(session, [canonical_url(ARTICLE.url or ""), "https://news.example/a/2"])
    assert known == {canonical_url(ARTICLE.url or "")}


def _copies(url: str, count: int, band: str) -> list[int]:
    """`count` articles of one story sharing `band`, each with a band of its own and a fingerprint naming it."""
    ids: list[int] = []
    with session_scope(url) as session:
        for index in range(count):
            copy = ARTICLE.model_copy(
                update={
                    "url_key": f"copy-{index}",
                    "content_hash": f"hash-{index}",
                    "fingerprint": f"fp-{index}".encode(),
                }
            )
            row, _ = store_article(session, copy)
            assert row.id is not None
            row.story_id = ids[0] if ids else row.id
            session.add(row)
            add_story_bands(session, row.id, [band, f"own-{index}"])
            ids.append(row.id)
    return ids


def test_a_band_lookup_reads_the_most_recent_articles_of_each_band(database_url: str) -> None:
    upgrade(database_url)
    ids = _copies(database_url, 12, band="0:crowded")
    since = utcnow() - timedelta(days=3)
    with session_scope(database_url) as session:
        found = story_candidates(session, bands=["0:crowded", "own-2"], since=since, exclude=ids[-1], per_band=4)
        later = story_candidates(session, bands=["0:crowded"], since=utcnow() + timedelta(seconds=1), exclude=0)
    expected = [2, *range(7, 11)]  # its own band's article, and the 4 most recent of the crowded band but itself
    assert found == [(ids[0], f"fp-{index}".encode()) for index in expected]
    assert later == []  # bands older than the window are not read
