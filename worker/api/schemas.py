"""What the API answers, as pydantic models: they type the routes and make the OpenAPI schema.

A hit is the same document `newswatch hits --json` prints (`hit_output.hit_json`), validated into `HitOut`, so
the command line and the API cannot drift apart. Rules are the loader's own `RuleModel`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from newswatch.worker.rules.loader import RuleModel


class ArticleRef(BaseModel):
    """The article a hit was found in."""

    id: int
    title: str
    url: str | None
    source: str = Field(description="The URL or file the article was read from.")
    site_name: str | None
    domain: str | None
    published: datetime | None


class Found(BaseModel):
    """Where the searched words stand: a passage of the article and the words' (start, end) offsets in it."""

    text: str
    marks: list[tuple[int, int]]


class HitOut(BaseModel):
    """A stored hit: the rule, the article, what matched and why."""

    id: int
    rule: str
    severity: str
    date: datetime | None = Field(description="The article's publish date, else when it was stored.")
    created_at: datetime | None
    article: ArticleRef
    matches: list[str] = Field(description="The distinct texts the rule matched, in order of appearance.")
    snippet: str
    score: float
    rules_version: str
    found: Found | None = Field(description="With `search`: the passage holding the searched words.")
    evidence: dict[str, Any] = Field(description="Every match with its offsets and clause, the marked sentences.")


class HitPageOut(BaseModel):
    """One page of hits, newest first."""

    hits: list[HitOut]
    more: int = Field(description="How many more hits there are after this page (counting stops at 10,000).")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")
    next: str | None = Field(description="The path and query of the next page; null on the last page.")


class ArticleHit(BaseModel):
    """A hit of an article, in brief."""

    id: int
    rule: str
    severity: str
    score: float


class ArticleOut(BaseModel):
    """A stored article with its text and the hits found in it."""

    id: int
    title: str
    url: str | None
    source: str
    site_name: str | None
    domain: str | None
    author: str | None
    language: str | None
    published: datetime | None
    fetched_at: datetime | None
    feed_id: int | None
    story_id: int | None = Field(description="The id of the first article of the same story.")
    text: str
    hits: list[ArticleHit]


class RulesOut(BaseModel):
    """The configured rules file, as the workers read it."""

    version: str = Field(description="The rule set's version (a hash of the file), recorded with every hit.")
    rules: list[RuleModel]


class FeedOut(BaseModel):
    """A polled feed and how its last poll went."""

    id: int
    url: str
    title: str | None
    interval_seconds: int
    enabled: bool
    last_polled_at: datetime | None
    next_poll_at: datetime | None
    last_status: int | None
    last_error: str | None
    error_count: int


class StatsOut(BaseModel):
    """Hits per rule per day (UTC, by the hits' dates)."""

    since: datetime
    until: datetime | None = Field(description="The end, exclusive: a date given as `until` includes that day.")
    rules: dict[str, dict[str, int]] = Field(description="rule -> day (YYYY-MM-DD) -> hits; days without are left out")


class Health(BaseModel):
    """Whether the API can read its database."""

    status: str


class ErrorOut(BaseModel):
    """An error: what is wrong, in one line."""

    detail: str
