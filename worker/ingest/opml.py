"""OPML, the feed-list format feed readers exchange: read one (categories flattened), write one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

from lxml import etree

from newswatch.worker.errors import FeedError


@dataclass(frozen=True)
class OpmlFeed:
    """One feed of a feed list."""

    url: str
    title: str | None


def read_opml(path: Path) -> list[OpmlFeed]:
    """Every `xmlUrl` outline of the file, nested categories included; bad XML names file and line."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        tree = etree.parse(str(path), parser)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or (exc.position[0] if exc.position else "?")
        raise FeedError(f"opml: {exc.msg} at line {line}: {path}", source=str(path)) from exc
    except OSError as exc:
        raise FeedError(f"opml: cannot read: {path} ({exc})", source=str(path)) from exc
    if etree.QName(tree.getroot()).localname != "opml":
        raise FeedError(f"opml: root element is <{tree.getroot().tag}>, not <opml> at line 1: {path}", source=str(path))
    feeds: dict[str, OpmlFeed] = {}
    for outline in tree.iter("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if not url:
            continue  # a category
        if not url.lower().startswith(("http://", "https://")):
            raise FeedError(
                f"opml: not an http(s) feed URL {url!r} at line {outline.sourceline}: {path}", source=str(path)
            )
        title = outline.get("title") or outline.get("text")
        feeds.setdefault(url, OpmlFeed(url=url, title=title))
    return list(feeds.values())


def write_opml(feeds: Iterable[OpmlFeed], title: str = "newswatch feeds") -> str:
    """An OPML 2.0 document listing the feeds."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        f"  <head><title>{_escape(title)}</title></head>",
        "  <body>",
    ]
    for feed in feeds:
        name = feed.title or feed.url
        lines.append(
            f'    <outline type="rss" text={quoteattr(name)} title={quoteattr(name)} xmlUrl={quoteattr(feed.url)}/>'
        )
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
