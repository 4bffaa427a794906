"""What `newswatch scan` and `rules test` read: URLs, files, and folders of documents."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import httpx

from newswatch.worker.article import Article
from newswatch.worker.config import Settings
from newswatch.worker.ingest.extract import extract_file, extract_page, is_document
from newswatch.worker.ingest.fetch import fetch


def is_url(item: str) -> bool:
    """Whether a scan input names a web page rather than a file."""
    return item.lower().startswith(("http://", "https://"))


def expand_inputs(inputs: Iterable[str]) -> Iterator[str]:
    """URLs as given; files as given; folders as their text and HTML documents, sorted (not rules or feeds)."""
    for item in inputs:
        if is_url(item):
            yield item
            continue
        path = Path(item)
        if path.is_dir():
            yield from (str(p) for p in sorted(path.rglob("*")) if p.is_file() and is_document(p))
        elif path.exists():
            yield str(path)
        else:
            raise FileNotFoundError(f"scan: no such file or folder: {item}")


def article_for_input(item: str, *, settings: Settings, client: httpx.Client) -> Article:
    """Read one scan input: fetch and extract a URL, or read a file."""
    if is_url(item):
        page = fetch(client, item, max_bytes=settings.max_page_bytes, deadline=settings.fetch_deadline)
        return extract_page(page.body, url=page.final_url, content_type=page.content_type)
    return extract_file(Path(item))
