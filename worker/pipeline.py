"""The pipeline, step by step: poll a feed, turn an entry or a file into an article, match, store, queue alerts.

These functions are the one implementation both runners use: the embedded runner (`newswatch scan`,
`newswatch run` without a broker) calls them in a loop, and the Celery tasks call them one step per task.
Each step is idempotent: articles, hits and alerts are unique in the database, so a step run twice (a
redelivered task, two workers polling the same feed) stores nothing twice. Retries of transient failures
are the runners' business; a step only says, by `FetchError.transient`, that trying again may help.

One module on purpose (over 300 lines): it is the one place to follow an article from feed to stored hits.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx

from newswatch.alerts.outbox import enqueue_alerts
from newswatch.storage.articles import (
    add_story_bands,
    known_url_keys,
    lock_story_bands,
    set_story,
    store_article,
    story_candidates,
)
from newswatch.storage.backoff import backoff_seconds
from newswatch.storage.db import session_scope
from newswatch.storage.entries import add_entries, claim_due_entries, mark_entry_done, record_entry_error
from newswatch.storage.errors import NewswatchError
from newswatch.storage.hits import store_hits
from newswatch.storage.models import Entry, Feed, Hit, StoredArticle, utcnow
from newswatch.worker.article import Article
from newswatch.worker.config import Settings
from newswatch.worker.errors import ExtractionError, FeedError, FetchError
from newswatch.worker.ingest.discovery import fetch_feed
from newswatch.worker.ingest.extract import article_from_entry, extract_page
from newswatch.worker.ingest.feeds import FeedEntry, parse_feed
from newswatch.worker.ingest.fetch import FetchResult, fetch
from newswatch.worker.ingest.identity import ItemKeys, canonical_url, content_hash, feed_items
from newswatch.worker.ingest.inputs import read_input
from newswatch.worker.ingest.robots import RobotsCache
from newswatch.worker.ingest.stories import band_keys, find_story, story_fingerprint
from newswatch.worker.polls import FeedState, record_failure, record_success
from newswatch.worker.report import ArticleSummary
from newswatch.worker.rules import RuleHit, RuleSet

LOGGER = logging.getLogger(__name__)

STORY_WINDOW = timedelta(days=3)
"""How far back a new article looks for an earlier copy of the same story (syndication, rewrites)."""


@dataclass(frozen=True)
class Ingested:
    """What storing one article did: its id, whether it was new, every hit, and the alerts it queued."""

    article_id: int
    new: bool
    article: Article
    hits: list[RuleHit]
    new_hits: list[str] = field(default_factory=list)
    """Rules whose hit on this article was stored now (the others were stored before)."""
    alert_ids: list[int] = field(default_factory=list)
    problem: str | None = None
    """Why the feed entry's own text stood in for its page, if it did."""

    def summary(self, source: str | None = None) -> ArticleSummary:
        return ArticleSummary(
            source=source or self.article.url or self.article.source,
            title=self.article.title,
            new=self.new,
            hits=[h.rule for h in self.hits],
            new_hits=list(self.new_hits),
            alert_ids=list(self.alert_ids),
            problem=self.problem,
        )


@dataclass(frozen=True)
class Polled:
    """One poll of a feed: its outcome and the entry rows it wrote (new work, to hand on)."""

    feed_id: int
    url: str
    outcome: str
    """`fetched`, `not-modified` (304) or `unchanged` (same body as last time)."""
    entry_ids: list[int]
    warning: str | None = None
    """What feedparser disliked in a feed it could still read."""
    discovered: str | None = None
    """The feed read instead, when the URL is an HTML page that names its feed."""


class _Key(enum.Enum):
    OWN_URL = "own-url"


OWN_URL = _Key.OWN_URL
"""`ingest`'s default key: the canonical form of the article's own URL."""


def url_key(url: str | None) -> str | None:
    """The key an article's URL is stored and looked up under (None for documents without a URL)."""
    return canonical_url(url) if url else None


def ingest(
    article: Article,
    *,
    rules: RuleSet,
    settings: Settings,
    default_channels: Sequence[str],
    feed_id: int | None = None,
    key: str | None | _Key = OWN_URL,
    problem: str | None = None,
    entry_id: int | None = None,
    fingerprint: bytes | None = None,
) -> Ingested:
    """Match the article, then store it, its hits and their alerts in one transaction.

    A new article joins the story of an earlier near-copy (syndicated on another site), so its alerts are
    keyed by that story and a rule alerts once per story and channel, not once per copy. `key` is the URL
    key to store it under when that is not its own URL's (a feed entry's link that redirected, a post on a
    shared page; None where the text alone tells it apart); the entry row it came from, if any, is marked
    done in the same transaction. `fingerprint`: the article's story fingerprint, if computed already.
    """
    hits = rules.match(article)
    if fingerprint is None:
        fingerprint = _fingerprint(article)
    new_hits: list[str] = []
    alert_ids: list[int] = []
    # Built before the transaction, so that the process's other threads wait less for their turn (storage.db).
    article_row = _article_row(
        article, key=url_key(article.url) if key is OWN_URL else key, feed_id=feed_id, fingerprint=fingerprint
    )
    with session_scope(settings.database_url) as session:
        row, new = store_article(session, article_row)
        assert row.id is not None
        if new:
            bands = band_keys(fingerprint)
            lock_story_bands(session, bands)
            candidates = story_candidates(session, bands=bands, since=utcnow() - STORY_WINDOW, exclude=row.id)
            set_story(session, row, find_story(fingerprint, candidates) or row.id)
            add_story_bands(session, row.id, bands)
        stored_hits = store_hits(session, row, [_hit_row(row.id, hit) for hit in hits])
        for hit in hits:
            hit_id = stored_hits.get(hit.rule)
            if hit_id is None:
                continue
            new_hits.append(hit.rule)
            spec = rules.rule(hit.rule)
            alert_ids += enqueue_alerts(
                session,
                hit_id=hit_id,
                rule=hit.rule,
                story_key=str(row.story_id or row.id),
                channels=list(hit.alert) or default_channels,
                quiet=spec.realert if spec else None,
            )
        if entry_id is not None:
            mark_entry_done(session, entry_id, row.id)
        article_id = row.id
    return Ingested(article_id, new, article, hits, new_hits, alert_ids, problem)


def _article_row(article: Article, *, key: str | None, feed_id: int | None, fingerprint: bytes) -> StoredArticle:
    return StoredArticle(
        url_key=key,
        content_hash=content_hash(article.title, article.text),
        url=article.url,
        source=article.source,
        title=article.title,
        text=article.text,
        author=article.author,
        published_at=article.published,
        site_name=article.site_name,
        language=article.language,
        domain=article.domain,
        feed_id=feed_id,
        fingerprint=fingerprint,
    )


def _hit_row(article_id: int, hit: RuleHit) -> Hit:
    return Hit(
        article_id=article_id,
        rule=hit.rule,
        severity=hit.severity,
        rules_version=hit.rules_version,
        score=hit.score,
        snippet=hit.snippet,
        evidence=hit.to_dict(),
    )


def article_from_row(row: StoredArticle) -> Article:
    """A stored row back as the plain `Article` the rule engine reads (for backtests and re-matching)."""
    return Article(
        source=row.source,
        title=row.title,
        text=row.text,
        url=row.url,
        author=row.author,
        published=row.published_at,
        site_name=row.site_name,
        language=row.language,
        domain=row.domain,
    )


def poll_feed(
    feed_id: int,
    *,
    settings: Settings,
    client: httpx.Client,
    channels: Sequence[str],
    final_attempt: bool = True,
) -> Polled:
    """Fetch and parse one feed and return its unseen entries; the outcome is recorded on the feed.

    A network error or a body that is no feed is raised (the caller retries or reports it) and recorded as
    a failed poll (see worker.polls: backoff, and a pause reported on `channels`), except a transient one
    before the final attempt, which the runner retries at once unless the site asked to wait (Retry-After).
    A malformed feed that still yielded entries is recorded as a warning and its entries are returned.
    """
    with session_scope(settings.database_url) as session:
        feed = session.get(Feed, feed_id)
        if feed is None:
            raise FeedError(f"feed: no feed with id {feed_id}", source=str(feed_id))
        url, etag, last_modified, body_hash = feed.url, feed.etag, feed.last_modified, feed.body_hash
        state = FeedState.of(feed)
    try:
        fetched = fetch_feed(
            client,
            url,
            max_bytes=settings.max_feed_bytes,
            deadline=settings.fetch_deadline,
            etag=etag,
            last_modified=last_modified,
        )
        result, discovered = fetched.result, fetched.discovered
        if result.not_modified:
            _record(settings, state, status=304, error=None)
            return Polled(feed_id, url, "not-modified", [])
        digest = hashlib.sha256(result.body).hexdigest()
        if digest == body_hash:
            _record(
                settings,
                state,
                status=result.status,
                error=None,
                **_validators(result.etag, result.last_modified, discovered),
            )
            return Polled(feed_id, url, "unchanged", [], discovered=discovered)
        parsed = parse_feed(result.body, url=result.final_url, content_type=result.content_type)
    except (FetchError, FeedError) as exc:
        retried = isinstance(exc, FetchError) and exc.transient and exc.retry_after is None
        if final_attempt or not retried:
            record_failure(state, exc, settings=settings, channels=channels)
        raise
    if parsed.error:
        LOGGER.warning("feed: malformed but readable (%s): %s", parsed.error, url)
    items = feed_items(parsed.entries)
    due = utcnow() + timedelta(seconds=settings.entry_retry_after)
    with session_scope(settings.database_url) as session:
        # The new entries are committed with the feed's new validators: a 304 can never hide work.
        stored = known_url_keys(session, [keys.article for keys, _ in items if keys.article])
        fresh = [(keys.entry, _entry_data(keys, entry)) for keys, entry in items if keys.article not in stored]
        entry_ids = add_entries(session, feed_id, fresh, due=due)
        record_success(
            session,
            state,
            settings,
            new_items=bool(entry_ids),
            status=result.status,
            error=parsed.error,
            **_validators(result.etag, result.last_modified, discovered),
            body_hash=digest,
            title=parsed.title,
        )
    return Polled(feed_id, url, "fetched", entry_ids, parsed.error, discovered)


def _record(settings: Settings, state: FeedState, **outcome: Any) -> None:
    """A poll that found nothing new: 304 or the same body."""
    with session_scope(settings.database_url) as session:
        record_success(session, state, settings, new_items=False, **outcome)


def _validators(etag: str | None, last_modified: str | None, discovered: str | None) -> dict[str, str | None]:
    """The validators to keep for the feed's URL: none from a feed found on a page (they are the feed's)."""
    return {"etag": None, "last_modified": None} if discovered else {"etag": etag, "last_modified": last_modified}


def _entry_data(keys: ItemKeys, entry: FeedEntry) -> dict[str, Any]:
    """An entry row's data: the entry, and who it is (decided beside the feed's other items)."""
    return {**entry.to_json(), "identity": keys.to_json()}


def _entry_from_data(data: dict[str, Any]) -> tuple[FeedEntry, ItemKeys]:
    """The inverse of `_entry_data`; rows written before items had keys are keyed by their link."""
    fields = dict(data)
    identity = fields.pop("identity", None)
    entry = FeedEntry.from_json(fields)
    if identity is None:
        return entry, ItemKeys(entry=url_key(entry.url) or entry.title, article=url_key(entry.url), own_page=True)
    return entry, ItemKeys.from_json(identity)


@dataclass(frozen=True)
class EntryRow:
    """An entry row as read to be ingested: its entry, who the entry is, and its feed."""

    entry_id: int
    feed_id: int
    feed_url: str
    entry: FeedEntry
    keys: ItemKeys


def _fingerprint(article: Article) -> bytes:
    """The article's story fingerprint: of its text, or of its title when it has none."""
    return story_fingerprint(article.text or article.title)


@dataclass(frozen=True)
class Extracted:
    """An entry's article as `extract_entry` made it: why its feed entry's text stood in for the page (if it
    did), and its story fingerprint, computed beside the extraction (a pure step, run in another process by
    the embedded runner)."""

    article: Article
    problem: str | None
    fingerprint: bytes


@dataclass(frozen=True)
class EntryPage:
    """What fetching an entry's page gave: the page, or why the entry's own text stands in (neither: the
    entry is its own text, with no page to fetch)."""

    page: FetchResult | None = None
    problem: str | None = None


def ingest_entry(
    entry_id: int,
    *,
    rules: RuleSet,
    settings: Settings,
    client: httpx.Client,
    default_channels: Sequence[str],
    final_attempt: bool = True,
    robots: RobotsCache | None = None,
) -> Ingested | None:
    """One entry row, from page to stored hits: `load_entries`, `fetch_entry_page`, then `store_entry`.

    The Celery task (and the sweep) call this for every entry; the embedded runner calls the three steps
    itself, fetching the next pages while it stores an article. Before the final attempt, a timeout or a 5xx
    on the page is raised for the runner to retry later; on the final attempt (or for a page that cannot be
    read at all) the entry's own text stands in. Returns None when the row is done already (a redelivered
    task) or gone (its feed was removed).
    """
    rows = load_entries([entry_id], settings=settings)
    if not rows:
        return None
    page = fetch_entry_page(rows[0], settings=settings, client=client, retry_transient=not final_attempt, robots=robots)
    return store_entry(rows[0], page, rules=rules, settings=settings, default_channels=default_channels)


def load_entries(entry_ids: Sequence[int], *, settings: Settings) -> list[EntryRow]:
    """These entry rows, in the order given, leaving out those done already or gone."""
    with session_scope(settings.database_url, read_only=True) as session:
        rows = []
        for entry_id in entry_ids:
            row = session.get(Entry, entry_id)
            if row is None or row.status == "done":
                continue
            feed = session.get(Feed, row.feed_id)
            entry, keys = _entry_from_data(row.data)
            rows.append(EntryRow(entry_id, row.feed_id, feed.url if feed else "", entry, keys))
        return rows


def fetch_entry_page(
    row: EntryRow,
    *,
    settings: Settings,
    client: httpx.Client,
    retry_transient: bool = False,
    robots: RobotsCache | None = None,
) -> EntryPage:
    """The entry's page, or why it cannot be had: safe to run in threads (no extraction here).

    With `retry_transient`, a timeout or 5xx is raised instead. An entry whose page is shared with other
    items (`own_page` False) is its own text, and so is one whose page the site's robots.txt disallows
    (when `robots` is given).
    """
    entry = row.entry
    if not (row.keys.own_page and entry.url and settings.fetch_pages):
        return EntryPage()
    try:
        if robots is not None:
            robots.check(entry.url)
        return EntryPage(fetch(client, entry.url, max_bytes=settings.max_page_bytes, deadline=settings.fetch_deadline))
    except FetchError as exc:
        if retry_transient and exc.transient:
            raise
        return EntryPage(problem=str(exc))


def store_entry(
    row: EntryRow, page: EntryPage, *, rules: RuleSet, settings: Settings, default_channels: Sequence[str]
) -> Ingested:
    """The entry's article, from its fetched page or its own text, matched and stored; the row marked done."""
    extracted = extract_entry(row.entry, page, feed_url=row.feed_url)
    return store_extracted(row, extracted, rules=rules, settings=settings, default_channels=default_channels)


def extract_entry(entry: FeedEntry, page: EntryPage, *, feed_url: str) -> Extracted:
    """The entry's article (`article_for_entry`) and its story fingerprint: no database, no network."""
    article, problem = article_for_entry(entry, page, feed_url=feed_url)
    return Extracted(article, problem, _fingerprint(article))


def extract_input(item: str, *, page: FetchResult | None, max_bytes: int) -> Extracted | str:
    """A scan input's article (`read_input`) and story fingerprint, or the one-line error that stopped it:
    returned, not raised, so that it comes back from an extraction process as it reads (an `ExtractionError`
    does not cross processes). No database, no network."""
    try:
        article = read_input(item, page=page, max_bytes=max_bytes)
    except (NewswatchError, OSError) as exc:
        LOGGER.debug("scan failed on %s", item, exc_info=True)
        return str(exc)
    return Extracted(article, None, _fingerprint(article))


def store_extracted(
    row: EntryRow, extracted: Extracted, *, rules: RuleSet, settings: Settings, default_channels: Sequence[str]
) -> Ingested:
    """The entry's article as `extract_entry` made it (in this process or another), matched and stored with
    its hits and alerts; the row marked done in the same transaction."""
    return ingest(
        extracted.article,
        rules=rules,
        settings=settings,
        default_channels=default_channels,
        feed_id=row.feed_id,
        key=row.keys.article,
        problem=extracted.problem,
        entry_id=row.entry_id,
        fingerprint=extracted.fingerprint,
    )


def entry_failed(entry_id: int, error: str, *, settings: Settings) -> None:
    """Record why an entry could not be ingested this time; it stays pending for the sweep."""
    with session_scope(settings.database_url) as session:
        record_entry_error(session, entry_id, error)


def due_entries(settings: Settings) -> list[int]:
    """The sweep: entry rows not done in time (lost, crashed, failed), claimed for one more try each."""
    with session_scope(settings.database_url) as session:
        return claim_due_entries(
            session,
            max_attempts=settings.entry_max_attempts,
            wait=lambda attempts: timedelta(
                seconds=max(settings.entry_retry_after, backoff_seconds(attempts, base=settings.retry_base))
            ),
        )


def article_for_entry(entry: FeedEntry, page: EntryPage, *, feed_url: str) -> tuple[Article, str | None]:
    """The entry's page, extracted; where it could not be fetched or read, the entry's own title and summary.

    Returns the article and, when the fallback was used, why. Extraction (trafilatura) is not thread-safe:
    one thread per process runs this.
    """
    problem = page.problem
    if page.page is not None:
        fetched = page.page
        try:
            article = extract_page(
                fetched.body, url=fetched.final_url, content_type=fetched.content_type, language=entry.language
            )
        except ExtractionError as exc:
            problem = str(exc)
        else:
            return dataclasses.replace(
                article,
                title=article.title or entry.title,
                published=article.published or entry.published,
                author=article.author or entry.author,
            ), None
    if problem is None:
        return article_from_entry(entry, feed_url=feed_url), None
    LOGGER.warning("%s; using the feed entry instead", problem)
    return article_from_entry(entry, feed_url=feed_url), f"{problem}; used the feed entry instead"
