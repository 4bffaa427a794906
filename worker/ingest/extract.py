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
from newswatch.worker.ingest.charset import decode, is_binary
from newswatch.worker.ingest.feeds import FeedEntry
from newswatch.worker.ingest.files import document_suffix, read_document
from newswatch.worker.ingest.identity import site_domain
from newswatch.worker.ingest.language import detect_language
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


_extracted = 0
RESET_CACHES_EVERY = 1000
"""trafilatura's LRU caches grow with every page (trafilatura#216); they are emptied this often."""


def preload_extraction() -> None:
    """Build now what trafilatura's helpers otherwise build on the first page that needs each: the list of
    top-level domains (courlan), dateparser's locales and patterns (htmldate), jusText's stoplists. That is about
    0.3 s of CPU a process, which a worker's children would each pay on their first pages, and again whenever a
    child is replaced: the worker calls this once before it forks them (as for the language detector)."""
    from courlan.urlutils import get_tldinfo
    from htmldate.extractors import get_external_parser, month_words
    from trafilatura.external import jt_stoplist_init

    get_tldinfo("https://www.example.org/news/")
    month_words()
    get_external_parser().get_date_data("12 March 2021")
    jt_stoplist_init()


def extract_page(body: bytes, *, url: str, content_type: str | None = None, language: str | None = None) -> Article:
    """Main text and metadata of an HTML page fetched from `url`. The page's own language (metadata, `lang`)
    wins over `language`, declared elsewhere (its feed); the detector runs only when neither is known."""
    global _extracted
    _extracted += 1
    if _extracted % RESET_CACHES_EVERY == 0:
        reset_caches()
    if content_type and content_type.lower().startswith(_BINARY_TYPES) or is_binary(body):
        raise ExtractionError(f"extract: binary content ({content_type or 'NUL bytes'}): {url}", source=url)
    if content_type and content_type.lower().startswith("text/plain"):
        article = parse_text_document(decode(body, content_type=content_type).text, source=url)
        return _with_url(article, url)
    html = decode(body, content_type=content_type).text
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
        language=document.language or _html_lang(html) or language or detect_language(f"{title}\n{text}"),
        domain=site_domain(url),
    )


def extract_file(path: Path, *, max_bytes: int) -> Article:
    """A local document (gzip-compressed too), at most `max_bytes`: HTML through trafilatura, anything else as
    plain text."""
    body = read_document(path, max_bytes=max_bytes)
    if is_binary(body):
        raise ExtractionError(f"extract: binary content (NUL bytes): {path}", source=str(path))
    if document_suffix(path) in HTML_SUFFIXES:
        article = extract_page(body, url=path.resolve().as_uri(), content_type="text/html")
        return Article(**{**article.__dict__, "source": str(path), "url": None, "domain": None})
    article = parse_text_document(decode(body).text, source=str(path))
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
        language=entry.language or detect_language(f"{entry.title}\n{entry.summary}"),
        domain=site_domain(url or feed_url),
    )


def is_document(path: Path) -> bool:
    """Whether a file in a scanned folder is an article (text or HTML, gzipped too), not a rules, feed or
    config file."""
    if path.name.startswith("."):
        return False
    suffix = document_suffix(path)
    if suffix in HTML_SUFFIXES or suffix in TEXT_SUFFIXES:
        return True
    return suffix == "" and path.name not in NOT_DOCUMENTS


def _html_lang(html: str) -> str | None:
    found = _HTML_LANG.search(html[:4096])
    return found.group(1).lower() if found else None


def _with_url(article: Article, url: str) -> Article:
    return Article(**{**article.__dict__, "url": url, "domain": site_domain(url)})


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
