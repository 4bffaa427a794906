"""Reading stored articles back: one article by id with the hits found in it, for the HTTP API and the web page.

Hits are queried in `hit_queries`; this module answers what a reader of one article asks next.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from newswatch.storage.errors import QueryError
from newswatch.storage.models import Hit, StoredArticle


def get_article(session: Session, article_id: int) -> StoredArticle:
    """One stored article with its text; a `QueryError` naming the id when there is none."""
    article = session.get(StoredArticle, article_id)
    if article is None:
        raise QueryError(f"articles: no article with id {article_id}")
    return article


def article_hits(session: Session, article_id: int) -> list[Hit]:
    """The hits of one article, one per rule, by rule name."""
    return list(session.exec(select(Hit).where(col(Hit.article_id) == article_id).order_by(col(Hit.rule))))
