"""What makes two arrivals the same: a feed's URL, a feed item's identity, an article's URL key and content hash.

A feed item is the entry's guid/id where the feed gives one that tells its items apart, else its link.
An article is its canonical link (courlan: no tracking parameters, no fragment), except that a fragment
naming a post is kept: a live blog or a daily page lists many posts as `page#post-1`, `page#post-2`, and
those are as many articles. Items that share one page cannot be told apart by fetching it: each is read
from its own text in the feed.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from newswatch.worker.ingest.feeds import FeedEntry

LOGGER = logging.getLogger(__name__)

_TRACKING = re.compile(
    r"^(utm_\w*|fbclid|gclid|gclsrc|dclid|gbraid|wbraid|msclkid|yclid|twclid|ttclid|igshid|mc_cid|mc_eid"
    r"|_hsenc|_hsmi|mkt_tok|oly_anon_id|oly_enc_id|vero_id|vero_conv|_ga|_gl|s_cid|at_medium|at_campaign|xtor)$",
    re.IGNORECASE,
)
"""Query parameters that say who sent a visitor, never which resource: dropped from feed URLs."""
_SECTION = re.compile(r"^(comments?|respond|more(-\d+)?|main|content|top|article|disqus_thread)$", re.IGNORECASE)
"""Fragments that point into an article's own page (WordPress' `#more-123`, `#comments`), not at a post."""


def canonical_url(url: str) -> str:
    """The dedup key of a URL: lower-cased host, no tracking parameters, no fragment.

    courlan also drops some real parameters, so the original URL is kept beside this key, never replaced.
    """
    from courlan import normalize_url  # here: commands that only compare feed URLs start without it

    try:
        return normalize_url(url, strict=True, trailing_slash=False)
    except (ValueError, TypeError):
        return url.split("#", 1)[0]


def content_hash(title: str, text: str) -> str:
    """A hash of title and text insensitive to whitespace and Unicode form, so re-fetches compare equal.

    Whitespace runs become one space after NFKC (which can make spaces: "¨" is a space and a mark), as a `\\s+`
    substitution would; `str.split` knows the same whitespace and is several times faster on an article."""
    normalised = f"{title}\n{text}"
    if not unicodedata.is_normalized("NFKC", normalised):
        normalised = unicodedata.normalize("NFKC", normalised)
    normalised = " ".join(normalised.split()).casefold()
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def site_domain(url: str | None) -> str | None:
    """The host of a URL without `www.`, the value `source:` rules compare against."""
    if not url:
        return None
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.") or None


def feed_url(url: str) -> str:
    """How a feed's URL is stored and compared: scheme and host in lower case, no tracking parameters (`utm_*`,
    `fbclid`, `gclid`, `mc_cid`...), no fragment, and everything else as given: a feed's own parameters
    (`?format=rss`, `?tag=x`) choose the feed, and courlan's cleaning drops some of them."""
    parts = urlsplit(url.strip())
    query = "&".join(p for p in parts.query.split("&") if p and not _TRACKING.match(p.split("=", 1)[0]))
    userinfo, at, host = parts.netloc.rpartition("@")
    path = parts.path or ("/" if host else "")
    return urlunsplit((parts.scheme.lower(), f"{userinfo}{at}{host.lower()}", path, query, ""))


def item_url_key(url: str) -> str:
    """An item link's article key: its canonical URL, with the fragment where it names a post on the page."""
    fragment = urlsplit(url).fragment
    tracking = "=" in fragment and not fragment.startswith("!")  # `#xtor=RSS-3`; `#!/post/1` is a hashbang path
    if not fragment or tracking or _SECTION.match(fragment):
        return canonical_url(url)
    return f"{canonical_url(url)}#{fragment}"


@dataclass(frozen=True)
class ItemKeys:
    """Who a feed item is: within its feed (`entry`), and as an article across feeds (`article`)."""

    entry: str
    """The entry row's key: re-polling the feed finds the row and stores nothing twice."""
    article: str | None
    """The article's URL key; None where the link is shared by other items (the text tells them apart)."""
    own_page: bool
    """Whether the link is this item's page alone, worth fetching for the full text."""

    def to_json(self) -> dict[str, Any]:
        return {"entry": self.entry, "article": self.article, "own_page": self.own_page}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ItemKeys:
        return cls(entry=data["entry"], article=data["article"], own_page=data["own_page"])


def feed_items(entries: Sequence[FeedEntry]) -> list[tuple[ItemKeys, FeedEntry]]:
    """A feed's entries with their keys, each item once (a feed that lists an item twice stores it once).

    An entry's guid is its key unless the feed gives the same guid to different items; its link (with a
    post's fragment) is its article key unless other items share that link too; a page shared by several
    items is not fetched for any of them.
    """
    links = [item_url_key(e.url) if e.url else None for e in entries]
    pages = [canonical_url(e.url) if e.url else None for e in entries]
    items = [(e.entry_id, link, e.title) for e, link in zip(entries, links, strict=True)]
    by_guid: defaultdict[str, set[object]] = defaultdict(set)
    by_link: defaultdict[str, set[object]] = defaultdict(set)
    by_page: defaultdict[str, set[object]] = defaultdict(set)
    for entry, link, page, item in zip(entries, links, pages, items, strict=True):
        if entry.entry_id:
            by_guid[entry.entry_id].add((link, entry.title))
        if link and page:
            by_link[link].add(item)
            by_page[page].add(item)
    keyed: dict[str, tuple[ItemKeys, FeedEntry]] = {}
    for entry, link, page in zip(entries, links, pages, strict=True):
        link_alone = link is not None and len(by_link[link]) == 1
        if entry.entry_id and len(by_guid[entry.entry_id]) == 1:
            key = f"id:{entry.entry_id}"
        elif link and link_alone:
            key = link
        else:
            key = f"id:{entry.title or entry.entry_id or link}"
        own_page = page is not None and len(by_page[page]) == 1
        keyed.setdefault(key, (ItemKeys(key, link if link_alone else None, own_page), entry))
    shared = Counter(page for page in pages if page and len(by_page[page]) > 1)
    for page, count in shared.items():
        LOGGER.info("feed: %d items share the page %s; each is read from its own text in the feed", count, page)
    return list(keyed.values())
