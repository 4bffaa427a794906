"""What `newswatch scan` and `rules test` read: URLs, files, and folders of documents."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import httpx

from newswatch.worker.article import Article
from newswatch.worker.config import Settings
from newswatch.worker.errors import ExtractionError
from newswatch.worker.ingest.extract import extract_file, extract_page, is_document
from newswatch.worker.ingest.fetch import FetchResult, fetch


def is_url(item: str) -> bool:
    """Whether a scan input names a web page rather than a file."""
    return item.lower().startswith(("http://", "https://"))


def expand_inputs(inputs: Iterable[str]) -> Iterator[str]:
    """URLs and files as given; folders as their text and HTML documents (gzipped too), sorted (not rules or
    feeds). A folder without any, or a path that is not there, is passed on as it is: `article_for_input`
    names it as an error, and the other inputs go on."""
    for item in inputs:
        path = Path(item)
        if is_url(item) or not path.is_dir():
            yield item
            continue
        documents = [str(p) for p in sorted(path.rglob("*")) if p.is_file() and is_document(p)]
        yield from documents or [item]


def article_for_input(item: str, *, settings: Settings, client: httpx.Client) -> Article:
    """Read one scan input: fetch and extract a URL, or read a file (pages and files have one size cap)."""
    page = fetch_input(item, settings=settings, client=client)
    return read_input(item, page=page, max_bytes=settings.max_page_bytes)


def fetch_input(item: str, *, settings: Settings, client: httpx.Client) -> FetchResult | None:
    """A URL input's page (the network half of reading it); None for a file."""
    if not is_url(item):
        return None
    return fetch(client, item, max_bytes=settings.max_page_bytes, deadline=settings.fetch_deadline)


def read_input(item: str, *, page: FetchResult | None, max_bytes: int) -> Article:
    """The article of a scan input: its fetched `page` extracted (a URL), or the file read, at most
    `max_bytes`. No network: safe to run in an extraction process."""
    if page is not None:
        return extract_page(page.body, url=page.final_url, content_type=page.content_type)
    path = Path(item)
    if path.is_dir():
        files = [p for p in path.rglob("*") if p.is_file()]
        if any(is_document(p) for p in files):  # `rules test` takes documents one by one
            raise ExtractionError(f"scan: a folder, not a document: {item}", source=item)
        raise ExtractionError(
            f"scan: no readable document in {item} (looked for text and HTML files, .txt .md .html..., gzipped "
            f"too; found {len(files)} other file{'' if len(files) == 1 else 's'})",
            source=item,
        )
    if not path.exists():
        raise ExtractionError(f"scan: no such file or folder: {item}", source=item)
    return extract_file(path, max_bytes=max_bytes)
