"""The seam around trafilatura: HTML pages and files in, `Article` out, failures as `ExtractionError`.

trafilatura returns None where it finds no main text; here that becomes an error naming the page. It is not
thread-safe (trafilatura#840): call it from one thread per process (Celery's `extract` queue runs prefork).
It has no timeout of its own (trafilatura#704), so inputs are capped in size and in tree size.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from pathlib import Path

import trafilatura
from trafilatura.meta import reset_caches
from trafilatura.settings import Document, use_config

from newswatch.worker.article import Article
from newswatch.worker.errors import ExtractionError
from newswatch.worker.ingest.feeds import FeedEntry
from newswatch.worker.ingest.identity import site_domain
from newswatch.worker.ingest.plaintext import parse_text_document

LOGGER = logging.getLogger(__name__)

MAX_TREE_SIZE = 200_000
"""Elements in a parsed page beyond which trafilatura gives up instead of working for minutes."""
MIN_WORDS = 8
"""Fewer words than this is a menu or an error page, not an article."""
_CONFIG = use_config()
_CONFIG["DEFAULT"]["max_tree_size"] = str(MAX_TREE_SIZE)
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
TEXT_SUFFIXES = {".txt", ".text", ".md"}
NOT_DOCUMENTS = {"Makefile", "Dockerfile", "LICENSE", "README"}
_BINARY_TYPES = (
    "image/",
    "audio/",
    "video/",
    "font/",
    "application/pdf",
    "application/octet-stream",
    "application/zip",
    "application/gzip",
)
_HTML_LANG = re.compile(r"""<html[^>]*\blang=["']?([a-zA-Z]{2,3})""", re.IGNORECASE)
_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([\w-]+)""", re.IGNORECASE)


_extracted = 0
RESET_CACHES_EVERY = 1000
"""trafilatura's LRU caches grow with every page (trafilatura#216); they are emptied this often."""


def extract_page(body: bytes, *, url: str, content_type: str | None = None) -> Article:
    """Main text and metadata of an HTML page fetched from `url`."""
    global _extracted
    _extracted += 1
    if _extracted % RESET_CACHES_EVERY == 0:
        reset_caches()
    if content_type and content_type.lower().startswith(_BINARY_TYPES) or b"\x00" in body[:4096]:
        raise ExtractionError(f"extract: binary content ({content_type or 'NUL bytes'}): {url}", source=url)
    if content_type and content_type.lower().startswith("text/plain"):
        article = parse_text_document(_decode(body, content_type), source=url)
        return _with_url(article, url)
    html = _decode(body, content_type)
    # favor_precision: on real news pages (bench/evaluate.py) it scores a higher token F1 and keeps
    # related-story teasers ("drone strike" in a sidebar) out of the text that rules match.
    document = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        favor_precision=True,
        config=_CONFIG,
    )
    if not isinstance(document, Document) or len((document.text or "").split()) < MIN_WORDS:
        raise ExtractionError(f"extract: no main text: {url}", source=url)
    text = (document.text or "").strip()
    title = (document.title or "").strip() or next((line for line in text.splitlines() if line.strip()), "")
    return Article(
        source=url,
        title=title,
        text=text,
        url=url,
        author=document.author or None,
        published=_date(document.date),
        site_name=document.sitename or None,
        language=document.language or _html_lang(html),
        domain=site_domain(url),
    )


def extract_file(path: Path) -> Article:
    """A local document: HTML through trafilatura, anything else as plain text."""
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise ExtractionError(f"extract: cannot read {path}: {exc.strerror}", source=str(path)) from exc
    if b"\x00" in body[:4096]:
        raise ExtractionError(f"extract: binary content (NUL bytes): {path}", source=str(path))
    if path.suffix.lower() in HTML_SUFFIXES:
        article = extract_page(body, url=path.resolve().as_uri(), content_type="text/html")
        return Article(**{**article.__dict__, "source": str(path), "url": None, "domain": None})
    article = parse_text_document(_decode(body, None), source=str(path))
    if not article.text:
        raise ExtractionError(f"extract: nothing to read in {path} (empty, or only site furniture)", source=str(path))
    return article


def article_from_entry(entry: FeedEntry, *, feed_url: str) -> Article:
    """The feed entry's own title and summary, standing in for a page that could not be fetched or read."""
    url = entry.url
    return Article(
        source=url or feed_url,
        title=entry.title or entry.summary[:120],
        text=entry.summary,
        url=url,
        author=entry.author,
        published=entry.published,
        domain=site_domain(url or feed_url),
    )


def is_document(path: Path) -> bool:
    """Whether a file in a scanned folder is an article (text or HTML), not a rules, feed or config file."""
    if path.name.startswith("."):
        return False
    suffix = path.suffix.lower()
    if suffix in HTML_SUFFIXES or suffix in TEXT_SUFFIXES:
        return True
    return suffix == "" and path.name not in NOT_DOCUMENTS


def _html_lang(html: str) -> str | None:
    found = _HTML_LANG.search(html[:4096])
    return found.group(1).lower() if found else None


def _with_url(article: Article, url: str) -> Article:
    return Article(**{**article.__dict__, "url": url, "domain": site_domain(url)})


def _decode(body: bytes, content_type: str | None) -> str:
    """Bytes to text: BOM, declared charset, <meta charset>, UTF-8, then cp1252 (never fails)."""
    if body.startswith(b"\xef\xbb\xbf"):
        return body[3:].decode("utf-8", errors="replace")
    candidates = []
    if content_type and "charset=" in content_type.lower():
        candidates.append(content_type.lower().split("charset=")[-1].split(";")[0].strip(" \"'"))
    declared = _CHARSET.search(body[:4096])
    if declared:
        candidates.append(declared.group(1).decode("ascii", errors="ignore").lower())
    candidates += ["utf-8", "cp1252"]
    for encoding in candidates:
        try:
            return body.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("utf-8", errors="replace")


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
