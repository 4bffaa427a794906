"""Article rows: stored once by canonical URL or content hash, looked up to skip what was seen."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session, col, select

from storage.db import insert_ignore
from storage.models import StoredArticle, StoryBand, utcnow
from worker.article import Article


def store_article(
    session: Session,
    article: Article,
    *,
    url_key: str | None,
    content_hash: str,
    feed_id: int | None = None,
    fingerprint: bytes | None = None,
) -> tuple[StoredArticle, bool]:
    """Insert the article unless its URL key or content hash is already stored; returns (row, new)."""
    new_id = insert_ignore(session, StoredArticle, {
        "fingerprint": fingerprint,
        "url_key": url_key, "content_hash": content_hash, "url": article.url, "source": article.source,
        "title": article.title, "text": article.text, "author": article.author,
        "published_at": article.published, "site_name": article.site_name, "language": article.language,
        "domain": article.domain, "feed_id": feed_id, "fetched_at": utcnow(),
    })
    if new_id is not None:
        return session.get_one(StoredArticle, new_id), True
    existing = find_article(session, url_key=url_key, content_hash=content_hash)
    if existing is None:  # pragma: no cover - a conflict implies a row; guard against a concurrent delete
        raise LookupError(f"storage: article vanished after a conflict: {url_key or content_hash}")
    return existing, False


def find_article(session: Session, *, url_key: str | None, content_hash: str) -> StoredArticle | None:
    """The stored article with this URL key, else with this content hash."""
    if url_key is not None:
        row = session.exec(select(StoredArticle).where(StoredArticle.url_key == url_key)).first()
        if row is not None:
            return row
    return session.exec(select(StoredArticle).where(StoredArticle.content_hash == content_hash)).first()


def story_candidates(
    session: Session, *, bands: Iterable[str], since: datetime, exclude: int
) -> list[tuple[int, bytes]]:
    """(story id, fingerprint) of recent articles sharing a fingerprint band: possible copies of one story."""
    query = (
        select(StoredArticle.story_id, StoredArticle.fingerprint)
        .join(StoryBand, col(StoryBand.article_id) == col(StoredArticle.id))
        .where(col(StoryBand.band).in_(list(bands)), col(StoryBand.created_at) >= since,
               col(StoredArticle.id) != exclude)
        .distinct()
    )
    return [(story, fp) for story, fp in session.exec(query) if story is not None and fp is not None]


def add_story_bands(session: Session, article_id: int, bands: Iterable[str]) -> None:
    """Index an article's fingerprint bands, for later copies of its story to find it."""
    now = utcnow()
    for band in bands:
        insert_ignore(session, StoryBand, {"band": band, "article_id": article_id, "created_at": now})


def known_url_keys(session: Session, url_keys: Iterable[str]) -> set[str]:
    """Which of these canonical URLs are stored already (to skip fetching them again)."""
    keys = list(set(url_keys))
    if not keys:
        return set()
    query = select(StoredArticle.url_key).where(col(StoredArticle.url_key).in_(keys))
    return {key for key in session.exec(query) if key is not None}


def as_article(row: StoredArticle) -> Article:
    """A stored row back as the plain `Article` the rule engine reads (for backtests and re-matching)."""
    return Article(
        source=row.source, title=row.title, text=row.text, url=row.url, author=row.author,
        published=row.published_at, site_name=row.site_name, language=row.language, domain=row.domain,
    )
