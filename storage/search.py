"""Full-text search over stored articles (title and text): what a search text means, the condition each
backend answers it with, and where its words stand in a text, for marking them.

A search text is words and "quoted phrases"; an article matches when it holds every one of them, in any
case. Words are runs of letters and digits: "air-strike" is the phrase "air strike", and anything else a user
types (OR, *, quotes left open) is no syntax, so every search text is a valid search.

The index is made by a migration and kept by the database itself:
- SQLite: `articles_fts`, an FTS5 table over `articles` (external content, tokenizer `unicode61
  remove_diacritics 2`: diacritics ignored too), kept in step by three triggers on `articles`. A later
  migration that rebuilds `articles` (SQLite batch mode) drops those triggers and must create them again.
- PostgreSQL: `articles.search_vector`, a stored generated `tsvector` (configuration `simple`: lowercased, no
  stemming, as on SQLite) with a GIN index; a stored column, because an expression index is rechecked by
  recomputing `to_tsvector` and is hundreds of times slower for common words (lion-reader#1249).
SQLAlchemy models cannot describe either, so schema comparisons leave them out (`in_models`).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, cast

from sqlalchemy import ColumnElement, Integer, false, func, literal_column, text
from sqlalchemy.orm import Mapped
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression
from sqlmodel import Session, select

from newswatch.storage.errors import QueryError
from newswatch.storage.models import StoredArticle

FTS_TABLE = "articles_fts"
SEARCH_COLUMN = "search_vector"
SEARCH_INDEX = "ix_articles_search_vector"
PAGE, HITS_PER_ARTICLE = 50, 5
"""What the choice of a search plan assumes (see `_few_articles`)."""
_WORD = re.compile(r"[^\W_]+")
_PART = re.compile(r'"([^"]*)"?|(\S+)')


@dataclass(frozen=True)
class SearchQuery:
    """The phrases an article must hold, each a tuple of lowercased words (a lone word is a phrase of one)."""

    phrases: tuple[tuple[str, ...], ...]

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """Any of the phrases as whole words, in any case, words apart by anything but letters and digits
        (matched against a text with its diacritics removed, see `mark_spans`)."""
        longest_first = sorted(self.phrases, key=len, reverse=True)
        alternatives = "|".join(r"[\W_]+".join(re.escape(_fold(w)) for w in words) for words in longest_first)
        return re.compile(rf"(?<![^\W_])(?:{alternatives})(?![^\W_])", re.IGNORECASE)

    def fts5(self) -> str:
        """The FTS5 MATCH expression: every phrase quoted, so no word is read as an operator."""
        return " ".join('"' + " ".join(words) + '"' for words in self.phrases)


@dataclass(frozen=True)
class Excerpt:
    """A short passage of an article with the spans of the search words in it."""

    text: str
    marks: tuple[tuple[int, int], ...]


def parse_search(search: str) -> SearchQuery:
    """The phrases of a search text; a `QueryError` when it holds no word at all."""
    phrases: list[tuple[str, ...]] = []
    for quoted, bare in _PART.findall(search):
        words = tuple(word.lower() for word in _WORD.findall(quoted or bare))
        if words and words not in phrases:
            phrases.append(words)
    if not phrases:
        raise QueryError(f"search: no words to search for in {search!r}")
    return SearchQuery(tuple(phrases))


@dataclass(frozen=True)
class Matching:
    """A search as a condition on hits; `few` when it names its few matching articles (see `search_condition`)."""

    condition: ColumnElement[bool]
    few: bool


def search_condition(
    session: Session, query: SearchQuery, article_id: ColumnElement[int] | Mapped[int], *, newest_first: bool = False
) -> Matching:
    """The rows whose article (`article_id`) holds the query.

    Neither planner can tell how many articles a word is in (SQLite keeps no full-text statistics, and
    PostgreSQL guesses thousands for a word too rare to be in its statistics, then walks a million hits by
    date looking for the few). So the matching articles are read first, up to a limit (`_few_articles`):
    when that is all of them, the condition names them (`few`), and a page should be had by sorting their
    hits (see storage.hit_queries). Otherwise many match, and a page read newest first (`newest_first`)
    walks the hits by date and keeps those whose article matches: a page is found after a few rows
    (PostgreSQL chooses that itself, SQLite is told).
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    matching: Any
    if postgres:
        matching = select(StoredArticle.id).where(literal_column(SEARCH_COLUMN).op("@@")(_tsquery(query)))
    else:
        matching = text(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :fts_query").bindparams(
            fts_query=query.fts5()
        )
        matching = matching.columns(rowid=Integer)
    few = _few_articles(session, matching, postgres=postgres)
    if few is not None:
        return Matching(article_id.in_(few) if few else false(), few=True)
    if newest_first and not postgres:
        column = cast(ColumnElement[int], article_id)
        article_id = UnaryExpression(column, operator=operators.custom_op("+"), type_=Integer)  # no index
    return Matching(article_id.in_(matching), few=False)


def _few_articles(session: Session, matching: Any, *, postgres: bool) -> list[int] | None:
    """The matching articles' ids if there are few, else None.

    Few means reading every hit of them costs less than walking hits by date to a page of them: the walk
    reads about PAGE * articles / matching hits, the other way HITS_PER_ARTICLE * matching, so the walk wins
    past the square root of their ratio (about 1,400 matching articles of 200,000).
    """
    articles: int = session.execute(text("SELECT max(id) FROM articles")).scalar_one() or 0
    most = math.isqrt(PAGE * articles // HITS_PER_ARTICLE)
    # Materialized: planned on its own, the GIN index is read, not a table scan hoping for an early stop.
    found = matching.cte("matching").prefix_with("MATERIALIZED") if postgres else matching.subquery()
    ids: list[int] = list(session.execute(select(found.c[0]).limit(most + 1)).scalars())
    return ids if len(ids) <= most else None


def _tsquery(query: SearchQuery) -> ColumnElement[Any]:
    simple: ColumnElement[Any] = literal_column("'simple'::regconfig")
    words = [words[0] for words in query.phrases if len(words) == 1]
    parts = [func.plainto_tsquery(simple, " ".join(words))] if words else []
    parts += [func.phraseto_tsquery(simple, " ".join(words)) for words in query.phrases if len(words) > 1]
    tsquery: ColumnElement[Any] = parts[0]
    for part in parts[1:]:
        tsquery = tsquery.op("&&")(part)
    return tsquery


def mark_spans(value: str, query: SearchQuery, *, first_only: bool = False) -> list[tuple[int, int]]:
    """Where the query's phrases stand in `value`, as (start, end) offsets, in order, not overlapping."""
    spans = []
    for found in query.pattern.finditer(_fold_text(value)):
        spans.append(found.span())
        if first_only:
            break
    return spans


def excerpt(value: str, query: SearchQuery, width: int = 160) -> Excerpt | None:
    """About `width` characters of `value` around the first place the query's words stand, on one line, with
    their marks; "…" where it was cut."""
    spans = mark_spans(value, query, first_only=True)
    if not spans:
        return None
    first = spans[0][0]
    start = max(0, first - width // 3)
    if start:
        start = value.rfind(" ", 0, start) + 1
    end = min(len(value), start + width)
    if end < len(value) and value.rfind(" ", start, end) > first:
        end = value.rfind(" ", start, end)
    passage = ("… " if start else "") + " ".join(value[start:end].split()) + (" …" if end < len(value) else "")
    return Excerpt(passage, tuple(mark_spans(passage, query)))


def in_models(name: str | None, type_: str, parents: Mapping[Any, str | None]) -> bool:
    """False for the full-text index's tables, column and index, which the database keeps, not the models."""
    if type_ == "table":
        return not (name or "").startswith(FTS_TABLE)
    if type_ == "column":
        return not (parents.get("table_name") == "articles" and name == SEARCH_COLUMN)
    if type_ == "index":
        return name != SEARCH_INDEX
    return True


def _fold(word: str) -> str:
    """A word compared for marking: no diacritics (as SQLite's index; PostgreSQL's keeps them)."""
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _fold_text(value: str) -> str:
    """`value` with its letters' diacritics removed, character for character, so offsets stay the same (a
    character that folds to more or less than one, such as "…" or "ﬁ", is left as it is)."""
    if value.isascii():
        return value
    table = {}
    for char in set(value):
        if not char.isascii():
            folded = _fold(char)
            if len(folded) == 1 and folded != char:
                table[ord(char)] = folded
    return value.translate(table)
