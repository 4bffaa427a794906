"""Article rows: stored once by canonical URL or content hash, looked up to skip what was seen."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache

from sqlalchemy import bindparam, insert, text, union_all, update
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from newswatch.storage.db import insert_ignore
from newswatch.storage.models import StoredArticle, StoryBand, utcnow


def store_article(session: Session, article: StoredArticle) -> tuple[StoredArticle, bool]:
    """Insert the row unless its URL key or content hash is stored already; returns (stored row, new).

    A new row is made from the values written, in the session as if read back (reading the text back cost
    more than the insert).
    """
    values = article.model_dump(exclude={"id"})
    values["fetched_at"] = values.get("fetched_at") or utcnow()
    new_id = insert_ignore(session, StoredArticle, values)
    if new_id is not None:
        row = StoredArticle(id=new_id, **values)
        make_transient_to_detached(row)
        session.add(row)
        return row, True
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


CANDIDATES_PER_BAND = 32
"""Articles read per fingerprint band, the most recent first. A story copied thousands of times (one feed of
thousands of near-identical items) fills its bands with its own copies: reading them all made each new copy
cost one comparison per earlier copy, quadratic in all. Its most recent copies in 16 bands are as good a
match for the next one, and different stories almost never share a band."""


def story_candidates(
    session: Session, *, bands: Iterable[str], since: datetime, exclude: int, per_band: int = CANDIDATES_PER_BAND
) -> list[tuple[int, bytes]]:
    """(story id, fingerprint) of recent articles sharing a fingerprint band: possible copies of one story.

    At most `per_band` articles per band, the most recent ones (each band read backwards on its unique
    index), so the cost of one lookup does not grow with the number of copies stored.
    """
    keys = list(dict.fromkeys(bands))
    if not keys:
        return []
    params = {f"band_{i}": band for i, band in enumerate(keys)} | {"since": since, "exclude": exclude}
    rows = session.exec(_candidates_query(len(keys), per_band), params=params)
    return [(story, fp) for story, fp in rows if story is not None and fp is not None]


@lru_cache(maxsize=64)
def _candidates_query(count: int, per_band: int) -> Select[int | None, bytes | None]:
    """The lookup for `count` bands, built once: bands, window and article are bound parameters."""
    recent = [
        select(StoryBand.article_id)
        .where(
            col(StoryBand.band) == bindparam(f"band_{i}"),
            col(StoryBand.created_at) >= bindparam("since"),
            col(StoryBand.article_id) != bindparam("exclude"),
        )
        .order_by(col(StoryBand.article_id).desc())
        .limit(per_band)
        .subquery()
        for i in range(count)
    ]
    ids = union_all(*(select(band.c.article_id) for band in recent))
    return (
        select(col(StoredArticle.story_id), col(StoredArticle.fingerprint))
        .where(col(StoredArticle.id).in_(ids))
        .order_by(col(StoredArticle.id))
    )


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


# Statements on the tables, not the models: no ORM bookkeeping (flushes, bulk-insert plans) for a known row.
_ARTICLES = StoredArticle.__table__  # type: ignore[attr-defined]
_SET_STORY = update(_ARTICLES).where(_ARTICLES.c.id == bindparam("article_id")).values(story_id=bindparam("story_id"))
_ADD_BANDS = insert(StoryBand.__table__)  # type: ignore[attr-defined]


def set_story(session: Session, article: StoredArticle, story_id: int) -> None:
    """Put a stored article in a story (the id of the story's first article; its own for a new story)."""
    session.execute(_SET_STORY, {"article_id": article.id, "story_id": story_id})
    set_committed_value(article, "story_id", story_id)  # written already: nothing left for the ORM to flush


def add_story_bands(session: Session, article_id: int, bands: Iterable[str]) -> None:
    """Index a new article's fingerprint bands, for later copies of its story to find it.

    One statement for all of them; the article was inserted in this transaction, so none can exist yet.
    """
    now = utcnow()
    rows = [{"band": band, "article_id": article_id, "created_at": now} for band in dict.fromkeys(bands)]
    if rows:
        session.execute(_ADD_BANDS, rows)


def known_url_keys(session: Session, url_keys: Iterable[str]) -> set[str]:
    """Which of these canonical URLs are stored already (to skip fetching them again)."""
    keys = list(set(url_keys))
    if not keys:
        return set()
    query = select(StoredArticle.url_key).where(col(StoredArticle.url_key).in_(keys))
    return {key for key in session.exec(query) if key is not None}
