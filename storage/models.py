"""The tables: feeds polled, articles stored once, hits found in them, and the alert outbox.

Every uniqueness the pipeline relies on is a database constraint, so two workers racing on the same
article or hit end with one row each and the loser learns it from an empty `RETURNING`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, MetaData, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from newswatch.storage.times import UTCDateTime, utcnow

# SQLite migrations rebuild tables ("batch mode") and need every constraint named.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


def _when(nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class Feed(SQLModel, table=True):
    """A feed to poll on its own interval; conditional-GET validators and the last error live here."""

    __tablename__ = "feeds"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    title: str | None = None
    interval_seconds: int = 900
    enabled: bool = True
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    """Hash of the last body: many servers ignore ETags, so an unchanged body is skipped by hash."""
    last_polled_at: datetime | None = _when()
    next_poll_at: datetime | None = _when(index=True)
    last_status: int | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    error_count: int = 0
    """Failed polls in a row (a retry within one poll is not counted); the backoff and the pause read it."""
    poll_interval: int | None = None
    """Seconds between polls as adapted to how often the feed has new items; None: `interval_seconds`."""
    min_interval_seconds: int | None = None
    max_interval_seconds: int | None = None
    """The feed's own bounds for adapting its interval; None: NEWSWATCH_MIN_INTERVAL / NEWSWATCH_MAX_INTERVAL."""
    paused_at: datetime | None = _when()
    """Set when too many polls failed in a row: not polled until `newswatch feeds resume`."""
    created_at: datetime | None = _when()


class StoredArticle(SQLModel, table=True):
    """An article stored once, keyed by canonical URL and by content hash.

    Its full-text index lives outside the models, made and kept by the database (see storage.search).
    """

    __tablename__ = "articles"
    # A source filter naming a site finds the site's domains here, without reading the rows.
    __table_args__ = (Index("ix_articles_site_name_domain", "site_name", "domain"),)

    id: int | None = Field(default=None, primary_key=True)
    url_key: str | None = Field(default=None, sa_column=Column(Text, unique=True))
    """Canonical URL (no tracking parameters, no fragment); None for local files."""
    content_hash: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    url: str | None = Field(default=None, sa_column=Column(Text))
    source: str = Field(sa_column=Column(Text, nullable=False))
    title: str = Field(sa_column=Column(Text, nullable=False))
    text: str = Field(sa_column=Column(Text, nullable=False))
    author: str | None = None
    published_at: datetime | None = _when()
    site_name: str | None = None
    language: str | None = None
    domain: str | None = Field(default=None, index=True)
    feed_id: int | None = Field(default=None, foreign_key="feeds.id", ondelete="SET NULL", index=True)
    fingerprint: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    """Near-duplicate signature of the text, to group syndicated copies into one story."""
    story_id: int | None = Field(default=None, index=True)
    """Id of the first article of the same story (itself when it is the first)."""
    fetched_at: datetime | None = _when(index=True)


class StoryBand(SQLModel, table=True):
    """One locality-sensitive band of an article's fingerprint: articles sharing a band may be one story.

    Looking up a new article's bands finds its likely near-copies without reading every recent fingerprint.
    """

    __tablename__ = "story_bands"
    __table_args__ = (UniqueConstraint("band", "article_id", name="uq_story_bands_band_article"),)

    id: int | None = Field(default=None, primary_key=True)
    band: str = Field(index=True)
    article_id: int = Field(foreign_key="articles.id", ondelete="CASCADE", index=True)
    created_at: datetime | None = _when(index=True)


class Hit(SQLModel, table=True):
    """One rule matching one article, with its evidence; at most one per (article, rule)."""

    __tablename__ = "hits"
    __table_args__ = (
        UniqueConstraint("article_id", "rule", name="uq_hits_article_rule"),
        # Newest first, page by page (storage.hit_queries): one index per filter that leads a query.
        Index("ix_hits_article_date_id", "article_date", "id"),
        Index("ix_hits_rule_article_date_id", "rule", "article_date", "id"),
        Index("ix_hits_severity_article_date_id", "severity", "article_date", "id"),
        Index("ix_hits_domain_article_date_id", "domain", "article_date", "id"),
        Index("ix_hits_feed_id_article_date_id", "feed_id", "article_date", "id"),
        # A search's few articles: their hits' dates read from the index alone, to sort them.
        Index("ix_hits_article_id_article_date_id", "article_id", "article_date", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="articles.id", ondelete="CASCADE")
    rule: str
    severity: str = "info"
    rules_version: str
    score: float = 0.0
    snippet: str = Field(sa_column=Column(Text, nullable=False))
    evidence: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    """`RuleHit.to_dict()`: matches with offsets and clauses, marked snippets, score."""
    created_at: datetime | None = _when(index=True)
    article_date: datetime | None = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=True))
    """The article's publish date, else when the article was stored: what hit queries filter and sort on
    (set by `store_hit` from the article; never empty, nullable only for SQLite, see migration 0004)."""
    domain: str | None = None
    """The article's domain, copied with the date, so that a source filter reads one index of hits."""
    feed_id: int | None = Field(default=None, foreign_key="feeds.id", ondelete="SET NULL")
    """The article's feed, copied likewise."""


class Alert(SQLModel, table=True):
    """The outbox: one row per (rule, story, channel), written with its hit, delivered afterwards."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("rule", "story_key", "channel", name="uq_alerts_rule_story_channel"),)

    id: int | None = Field(default=None, primary_key=True)
    hit_id: int | None = Field(default=None, foreign_key="hits.id", ondelete="CASCADE", index=True)
    """None for a notice of newswatch itself (a feed paused), whose text is `notice`."""
    rule: str
    story_key: str
    channel: str
    status: str = Field(default="pending", index=True)
    """pending -> sending -> sent, or failed (permanent error or attempts exhausted), or unknown (sent, and
    no answer came, several times)."""
    attempts: int = 0
    unknown_outcomes: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    """Sends that got no answer (the receiver may have the alert); rows from before the column count 0."""
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    next_attempt_at: datetime | None = _when(index=True)
    lease_until: datetime | None = _when()
    sent_at: datetime | None = _when()
    created_at: datetime | None = _when()
    notice: str | None = Field(default=None, sa_column=Column(Text))


class Entry(SQLModel, table=True):
    """A feed entry as durable work: written with the poll that found it, done with the article it became.

    A poll may commit the feed's new state (ETag, body hash) only because its new entries are committed with
    it: whatever happens to the message that carries an entry on, the row stays until it is done.
    """

    __tablename__ = "entries"
    __table_args__ = (UniqueConstraint("feed_id", "entry_key", name="uq_entries_feed_entry_key"),)

    id: int | None = Field(default=None, primary_key=True)
    feed_id: int = Field(foreign_key="feeds.id", ondelete="CASCADE", index=True)
    entry_key: str = Field(sa_column=Column(Text, nullable=False))
    """The entry's identity within its feed: its canonical URL, else its id or title."""
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    """The entry itself (link, title, summary, date...), enough to ingest it without the feed."""
    status: str = Field(default="pending", index=True)
    """pending -> done, or failed after too many attempts."""
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    next_attempt_at: datetime | None = _when(index=True)
    """When the sweep hands the entry on again if it is not done by then."""
    article_id: int | None = Field(default=None, foreign_key="articles.id", ondelete="SET NULL")
    created_at: datetime | None = _when()
    done_at: datetime | None = _when()
