"""Checking that the URLs given to `newswatch feeds add` are feeds before they are stored: each fetched and
parsed (a site's page gives the feed it names), several hosts at once. Imported by that command only: it loads the
HTTP client and the feed parser."""

from __future__ import annotations

import importlib
import threading

import click

from newswatch.storage.errors import NewswatchError
from newswatch.worker.errors import FeedError, FetchError
from newswatch.worker.ingest.discovery import fetch_feed
from newswatch.worker.ingest.feeds import parse_feed
from newswatch.worker.ingest.identity import feed_url
from newswatch.worker.runtime import get_runtime

CHECKS_AT_ONCE = 8
"""Hosts whose feeds `feeds add` checks at the same time; one host's feeds are fetched one after another."""


def checked_feeds(urls: list[str]) -> list[str | NewswatchError]:
    """The feed to add for each URL (see `checked_feed`), or why it is refused, in the order given. Feeds of
    different hosts are fetched at the same time (a list of feeds takes about as long as its slowest host),
    each host's in turn, as a poll would."""
    from concurrent.futures import ThreadPoolExecutor
    from urllib.parse import urlsplit

    by_host: dict[str, list[int]] = {}
    for index, url in enumerate(urls):
        by_host.setdefault(urlsplit(url).hostname or "", []).append(index)
    outcomes: list[tuple[str | NewswatchError, list[tuple[str, bool]]]] = [("", [])] * len(urls)

    def check_host(indexes: list[int]) -> None:
        for index in indexes:
            notes: list[tuple[str, bool]] = []
            try:
                outcomes[index] = (checked_feed(urls[index], notes), notes)
            except NewswatchError as exc:
                outcomes[index] = (exc, notes)

    if len(by_host) == 1:
        check_host(next(iter(by_host.values())))
    else:
        _ = get_runtime().client  # made once, here: the threads share it
        with ThreadPoolExecutor(max_workers=min(CHECKS_AT_ONCE, len(by_host))) as pool:
            list(pool.map(check_host, by_host.values()))
    for _, notes in outcomes:  # printed in the order the URLs were given, not the order they were fetched in
        for line, err in notes:
            click.echo(line, err=err)
    return [outcome for outcome, _ in outcomes]


def checked_feed(url: str, notes: list[tuple[str, bool]]) -> str:
    """The feed to add for `url`: itself, or the feed its page names. A URL that is no feed is refused; one that
    cannot be reached now (a timeout, a 5xx) is added as given, with a warning. What to tell the user is
    appended to `notes` (line, to standard error)."""
    runtime = get_runtime()
    settings = runtime.settings
    try:
        fetched = fetch_feed(runtime.client, url, max_bytes=settings.max_feed_bytes, deadline=settings.fetch_deadline)
        result = fetched.result
        parse_feed(result.body, url=result.final_url, content_type=result.content_type)
    except FetchError as exc:
        if not exc.transient:
            raise FetchError(f"{exc}; feed not added", url=url) from exc
        notes.append((f"warning: {exc}; added without checking that it is a feed", True))
        return url
    except FeedError as exc:
        raise FeedError(f"{exc}; feed not added", source=url) from exc
    if fetched.discovered is None:
        return url
    notes.append((f"{url} is a page; adding the feed it names: {fetched.discovered}", False))
    return feed_url(fetched.discovered)


def import_in_background(*modules: str) -> threading.Thread:
    """Import `modules` in a thread of their own, started when the HTTP client is ready and the feeds are about to
    be fetched: the time a feed takes to answer, which the command waits for anyway, then also pays for importing
    the storage layer (SQLAlchemy: about half a second on a slow machine). Started earlier, it would only share the
    processor with the imports of the client. Join the thread before using them; an import that fails there fails
    again, with its error, when the caller imports the module itself."""

    def run() -> None:
        for module in modules:
            try:
                importlib.import_module(module)
            except Exception:  # reported by the caller's own import
                return

    thread = threading.Thread(target=run, name="import-storage", daemon=True)
    thread.start()
    return thread
