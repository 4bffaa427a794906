"""Feed parsing: RSS and Atom through feedparser (bytes only), JSON Feed by hand.

A malformed feed that still yields entries is not an error: its entries are returned and feedparser's
complaint (`bozo_exception`) travels along to be recorded on the feed. A body that is no feed at all
(an HTML page, binary, empty) raises `FeedError` naming the URL.
"""

from __future__ import annotations

import calendar
import io
import json
import logging
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

import feedparser

from newswatch.worker.errors import FeedError
from newswatch.worker.ingest.charset import decode, is_binary, with_charset
from newswatch.worker.ingest.language import declared_language
from newswatch.worker.ingest.markup import fragment_to_text

LOGGER = logging.getLogger(__name__)

EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class FeedEntry:
    """One entry of a feed, with plain-text summary and an aware UTC date (or None when implausible)."""

    url: str | None
    title: str
    summary: str
    published: datetime | None
    entry_id: str | None
    author: str | None
    language: str | None = None
    """As the feed declares it (the entry's `xml:lang`, else the feed's `language` or `xml:lang`)."""

    def to_json(self) -> dict[str, Any]:
        """The entry as a JSON-safe message body (a task argument)."""
        data = asdict(self)
        data["published"] = self.published.isoformat() if self.published else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FeedEntry:
        """The inverse of `to_json`."""
        published = data.get("published")
        return cls(**{**data, "published": datetime.fromisoformat(published) if published else None})


@dataclass(frozen=True)
class ParsedFeed:
    """A feed's title, its entries, and what the parser disliked about it (None when well-formed)."""

    title: str | None
    entries: list[FeedEntry]
    error: str | None


def parse_feed(body: bytes, *, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse feed bytes fetched from `url`; raise `FeedError` when they are not a feed at all."""
    if not body.strip():
        raise FeedError(f"feed: not a feed (empty body): {url}", source=url)
    if is_binary(body):
        raise FeedError(f"feed: not a feed (binary content): {url}", source=url)
    if _looks_like_json(body, content_type):
        return _parse_json_feed(body, url=url)
    # Without chardet, feedparser reads an undeclared KOI8-R or Big5 feed as Windows-1252: it gets the text as
    # read here, as UTF-8 declared in the HTTP header, which it prefers to the XML declaration (RFC 3023).
    # Blank lines before the XML declaration (common) would make it "malformed XML": they go.
    decoded = decode(body, content_type=content_type)
    # feedparser treats a str as a URL or a path: always hand it bytes.
    parsed = feedparser.parse(
        io.BytesIO(decoded.text.lstrip().encode("utf-8")),
        response_headers={"content-type": with_charset(content_type, "utf-8"), "content-location": url},
    )
    error = describe_problem(parsed.get("bozo_exception")) if parsed.get("bozo") else None
    if decoded.declared_wrong and not error:
        error = f"declared encoding was wrong: declared as {decoded.declared_wrong}, read as {decoded.encoding}"
    if not parsed.get("version") and not parsed.entries:
        reason = "html page" if b"<html" in body[:2048].lower() else (error or "no feed elements")
        raise FeedError(f"feed: not a feed ({reason}): {url}", source=url)
    language = declared_language(parsed.feed.get("language"))
    entries = [_entry(raw, base=url, language=language) for raw in parsed.entries]
    title = fragment_to_text(parsed.feed.get("title")) or None
    return ParsedFeed(title=title, entries=entries, error=error)


def describe_problem(exc: object) -> str:
    """feedparser's complaint as a person reads it: "malformed XML: mismatched tag (line 12)"."""
    name = type(exc).__name__
    message = str(getattr(exc, "getMessage", lambda: exc)()) or name
    line = getattr(exc, "getLineNumber", lambda: None)()
    if name == "SAXParseException":
        return f"malformed XML: {message}" + (f" (line {line})" if line else "")
    if name == "CharacterEncodingOverride":
        return f"declared encoding was wrong: {message}"
    if name == "NonXMLContentType":
        return f"served as another content type: {message}"
    return f"{name}: {message}"


def _entry(raw: Any, *, base: str, language: str | None) -> FeedEntry:
    link = raw.get("link") or _first_link(raw)
    summary = raw.get("summary") or ""
    detail = raw.get("summary_detail") or {}
    if not summary and raw.get("content"):
        summary = raw["content"][0].get("value", "")
        detail = raw["content"][0]
    return FeedEntry(
        url=urljoin(base, link) if link else None,
        title=fragment_to_text(raw.get("title")),
        summary=fragment_to_text(summary),
        published=_date(raw.get("published_parsed") or raw.get("updated_parsed")),
        entry_id=raw.get("id") or None,
        author=fragment_to_text(raw.get("author")) or None,
        language=declared_language(detail.get("language")) or language,
    )


def _first_link(raw: Any) -> str | None:
    for link in raw.get("links", ()):
        if link.get("href") and link.get("rel", "alternate") == "alternate":
            return str(link["href"])
    return None


def _date(parsed: time.struct_time | None) -> datetime | None:
    """feedparser's naive-UTC struct_time as an aware datetime; implausible dates become None (feedparser#114)."""
    if parsed is None:
        return None
    try:
        when = datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    except (OverflowError, ValueError, OSError):
        return None
    if not EARLIEST <= when <= datetime.now(UTC) + timedelta(days=2):
        return None
    return when


def _looks_like_json(body: bytes, content_type: str | None) -> bool:
    if content_type and "json" in content_type.lower():
        return True
    return body.lstrip()[:1] == b"{"


def _parse_json_feed(body: bytes, *, url: str) -> ParsedFeed:
    """JSON Feed 1.x (https://jsonfeed.org/version/1.1), which feedparser does not read."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FeedError(f"feed: not a feed (invalid JSON: {exc}): {url}", source=url) from exc
    if not isinstance(data, dict) or "jsonfeed.org" not in str(data.get("version", "")):
        raise FeedError(f"feed: not a feed (JSON without a jsonfeed.org version): {url}", source=url)
    entries = []
    language = declared_language(data.get("language"))
    for item in data.get("items") or []:
        if not isinstance(item, dict):
            continue
        link = item.get("url") or item.get("external_url")
        summary = item.get("summary") or item.get("content_text") or fragment_to_text(item.get("content_html"))
        authors = item.get("authors") or ([item["author"]] if isinstance(item.get("author"), dict) else [])
        entries.append(
            FeedEntry(
                url=urljoin(url, link) if link else None,
                title=fragment_to_text(item.get("title")),
                summary=fragment_to_text(summary),
                published=_iso_date(item.get("date_published") or item.get("date_modified")),
                entry_id=str(item["id"]) if item.get("id") is not None else None,
                author=(authors[0].get("name") if authors and isinstance(authors[0], dict) else None),
                language=declared_language(item.get("language")) or language,
            )
        )
    return ParsedFeed(title=data.get("title"), entries=entries, error=None)


def _iso_date(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return _date(when.astimezone(UTC).timetuple())
