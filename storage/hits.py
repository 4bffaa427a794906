"""Hit rows: one per (article, rule), with the evidence the rule engine produced (queries: storage.hit_queries)."""

from __future__ import annotations

from sqlalchemy import func, literal
from sqlmodel import Session, col, select

from newswatch.storage.db import insert_ignore
from newswatch.storage.models import Hit, StoredArticle, UTCDateTime, utcnow


def store_hit(session: Session, hit: Hit) -> int | None:
    """Insert the hit with its article's date, domain and feed (what queries filter on); its id when new,
    None when this rule already hit this article."""
    now = utcnow()
    values = hit.model_dump(exclude={"id"})
    values["created_at"] = values.get("created_at") or now
    dated = func.coalesce(StoredArticle.published_at, StoredArticle.fetched_at, literal(now, UTCDateTime()))
    copied = {
        "article_date": dated,
        "domain": StoredArticle.domain,
        "feed_id": StoredArticle.feed_id,
    }
    for name, value in copied.items():
        values[name] = select(value).where(col(StoredArticle.id) == hit.article_id).scalar_subquery()
    return insert_ignore(session, Hit, values)
