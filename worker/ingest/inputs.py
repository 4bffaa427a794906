"""What `newswatch scan` and `rules test` read: URLs, files, and folders of documents."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import httpx

from newswatch.worker.article import Article
from newswatch.worker.config import Settings
from newswatch.worker.errors import ExtractionError
from newswatch.worker.ingest.extract import extract_file, extract_page, is_document
from newswatch.worker.ingest.fetch import fetch


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
    if is_url(item):
        page = fetch(client, item, max_bytes=settings.max_page_bytes, deadline=settings.fetch_deadline)
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
    return extract_file(path, max_bytes=settings.max_page_bytes)
