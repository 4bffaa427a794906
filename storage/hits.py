"""Hit rows: one per (article, rule), with the evidence the rule engine produced (queries: storage.hit_queries)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session

from newswatch.storage.db import insert_ignoring
from newswatch.storage.models import Hit, StoredArticle, utcnow


def store_hits(session: Session, article: StoredArticle, hits: Sequence[Hit]) -> dict[str, int]:
    """Insert an article's hits in one statement, each with the article's date, domain and feed (what queries
    filter on); the ids of those stored now, by rule (a rule that already hit this article is left out).

    `article` is the stored row (its date and domain as stored); the hits' own `article_id` is ignored.
    """
    if not hits:
        return {}
    now = utcnow()
    article_values = {
        "article_id": article.id,
        "article_date": article.published_at or article.fetched_at or now,
        "domain": article.domain,
        "feed_id": article.feed_id,
    }
    rows = [
        hit.model_dump(exclude={"id", "created_at"}) | {"created_at": hit.created_at or now} | article_values
        for hit in hits
    ]
    stored = session.execute(insert_ignoring(session, Hit, returning=("id", "rule")), rows)
    return {row.rule: row.id for row in stored}


def store_hit(session: Session, hit: Hit) -> int | None:
    """Insert one hit of a stored article (see `store_hits`); its id when new, None when this rule already
    hit this article."""
    return store_hits(session, session.get_one(StoredArticle, hit.article_id), [hit]).get(hit.rule)
