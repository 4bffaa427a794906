"""A site's page where its feed was wanted: find the feed the page names, and read that instead.

People paste a site's address or an article's; the page names its feeds in its head as
`<link rel="alternate" type="application/rss+xml" href="...">` (or Atom, or JSON Feed). The first one named is
the site's main feed by convention (comment feeds come after it). Only one step is taken: a page naming a page
is not followed further.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx

from newswatch.worker.errors import FeedError
from newswatch.worker.ingest.fetch import FetchResult, fetch

FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/feed+json"})
_HTML_START = re.compile(
    rb"^(?:\s|<\?xml[^>]*>|<!--.*?-->)*<(?:!doctype\s+html|html|head|body|meta|title)[\s/>]", re.IGNORECASE | re.DOTALL
)
"""A body whose first element is one only HTML has (a feed's is `<rss>`, `<feed>` or `<rdf:RDF>`)."""


@dataclass(frozen=True)
class FeedFetch:
    """A feed fetched: its response, and the feed's own URL when the URL given was a page naming it."""

    result: FetchResult
    discovered: str | None = None


def is_html_page(body: bytes) -> bool:
    """Whether a body is an HTML page, not a feed."""
    return bool(_HTML_START.match(body.removeprefix(b"\xef\xbb\xbf")[:4096]))


def feed_links(html: bytes, *, base: str) -> list[str]:
    """The feeds a page names in `<link rel="alternate">`, as absolute URLs, in the page's order."""
    parser = _AlternateLinks()
    parser.feed(html.decode("utf-8", errors="replace"))
    parser.close()
    return list(dict.fromkeys(urljoin(base, href) for href in parser.hrefs))


def fetch_feed(
    client: httpx.Client, url: str, *, max_bytes: int, deadline: float, **validators: str | None
) -> FeedFetch:
    """GET a feed (conditionally, with `etag` and `last_modified`); when `url` answers with an HTML page, GET
    the first feed the page names instead.

    Raises `FeedError` for a page that names no feed, and `FetchError` as `fetch` does.
    """
    result = fetch(client, url, max_bytes=max_bytes, deadline=deadline, **validators)
    if result.not_modified or not is_html_page(result.body):
        return FeedFetch(result)
    links = feed_links(result.body, base=result.final_url)
    if not links:
        raise FeedError(f'feed: not a feed (an html page naming no feed in <link rel="alternate">): {url}', source=url)
    found = fetch(client, links[0], max_bytes=max_bytes, deadline=deadline)
    if is_html_page(found.body):
        raise FeedError(f"feed: not a feed (the page names {links[0]}, another html page): {url}", source=url)
    return FeedFetch(found, discovered=links[0])


class _AlternateLinks(HTMLParser):
    """Collects `href`s of `<link rel="alternate" type="...feed type...">` elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "link":
            return
        values = {name.lower(): (value or "").strip() for name, value in attrs}
        rels = values.get("rel", "").lower().split()
        kind = values.get("type", "").lower().split(";")[0].strip()
        if "alternate" in rels and kind in FEED_TYPES and values.get("href"):
            self.hrefs.append(values["href"])
