"""Article rows: stored once by canonical URL or content hash, looked up to skip what was seen."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session, col, select

from newswatch.storage.db import insert_ignore
from newswatch.storage.models import StoredArticle, StoryBand, utcnow


def store_article(session: Session, article: StoredArticle) -> tuple[StoredArticle, bool]:
    """Insert the row unless its URL key or content hash is stored already; returns (stored row, new)."""
    values = article.model_dump(exclude={"id"})
    values["fetched_at"] = values.get("fetched_at") or utcnow()
    new_id = insert_ignore(session, StoredArticle, values)
    if new_id is not None:
        return session.get_one(StoredArticle, new_id), True
    existing = find_article(session, url_key=article.url_key, content_hash=article.content_hash)
    if existing is None:  # pragma: no cover - a conflict implies a row; guard against a concurrent delete
        raise LookupError(f"storage: article vanished after a conflict: {article.url_key or article.content_hash}")
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
        .where(
            col(StoryBand.band).in_(list(bands)), col(StoryBand.created_at) >= since, col(StoredArticle.id) != exclude
        )
        .distinct()
    )
    return [(story, fp) for story, fp in session.exec(query) if story is not None and fp is not None]


def lock_story_bands(session: Session, bands: Iterable[str]) -> None:
    """Hold the bands until the transaction ends, so two copies of one story stored at the same moment by
    two processes see each other: the second waits, then finds the first as a candidate.

    PostgreSQL: transaction-level advisory locks, taken in one sorted order (no deadlock between two
    articles sharing several bands). SQLite needs none: a write transaction there holds the whole database.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    keys = sorted(
        {int.from_bytes(hashlib.blake2b(b.encode(), digest_size=8).digest(), "big", signed=True) for b in bands}
    )
    session.execute(
        text("SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT unnest(CAST(:keys AS bigint[])) AS k ORDER BY 1) s"),
        {"keys": keys},
    )


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
