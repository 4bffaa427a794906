"""Hit rows: one per (article, rule), with the evidence the rule engine produced, and the queries on them."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, func, select

from newswatch.storage.db import insert_ignore
from newswatch.storage.models import Hit, StoredArticle, utcnow


def store_hit(session: Session, hit: Hit) -> int | None:
    """Insert the hit; its id when new, None when this rule already hit this article."""
    values = hit.model_dump(exclude={"id"})
    values["created_at"] = values.get("created_at") or utcnow()
    return insert_ignore(session, Hit, values)


def count_hits(session: Session, *, rule: str | None = None, since: datetime | None = None) -> int:
    """How many stored hits the same filters as `query_hits` select, all of them."""
    query = select(func.count()).select_from(Hit)
    if rule is not None:
        query = query.where(Hit.rule == rule)
    if since is not None:
        query = query.where(col(Hit.created_at) >= since)
    return int(session.exec(query).one())


def query_hits(
    session: Session,
    *,
    rule: str | None = None,
    since: datetime | None = None,
    limit: int | None = None,
) -> list[tuple[Hit, StoredArticle]]:
    """Stored hits with their articles, newest first, optionally for one rule and after a time."""
    query = select(Hit, StoredArticle).join(StoredArticle, col(Hit.article_id) == col(StoredArticle.id))
    if rule is not None:
        query = query.where(Hit.rule == rule)
    if since is not None:
        query = query.where(col(Hit.created_at) >= since)
    query = query.order_by(col(Hit.created_at).desc(), col(Hit.id).desc())
    if limit is not None:
        query = query.limit(limit)
    return [(hit, article) for hit, article in session.exec(query)]
