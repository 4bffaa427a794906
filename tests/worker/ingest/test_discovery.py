"""A site's page given where a feed is wanted: the feed it names is found and read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pytest_httpserver import HTTPServer

from newswatch.worker.config import Settings
from newswatch.worker.errors import FeedError
from newswatch.worker.ingest.discovery import feed_links, fetch_feed, is_html_page
from newswatch.worker.ingest.fetch import http_client

FEEDS = Path(__file__).resolve().parents[2] / "fixtures" / "feeds"


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with http_client(Settings()) as c:
        yield c


@pytest.mark.parametrize(
    ("body", "page"),
    [
        (b"<!DOCTYPE html><html><head></head></html>", True),
        (b"\xef\xbb\xbf\n  <html lang='en'>", True),
        (b'<?xml version="1.0"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "x"><html>', True),
        (b"<!-- generated --><head><title>x</title></head>", True),
        (b'<?xml version="1.0"?><rss version="2.0"><channel><title>html</title></channel></rss>', False),
        (b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>x</title></feed>', False),
        (b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">', False),
        (b'{"version": "https://jsonfeed.org/version/1.1"}', False),
    ],
)
def test_an_html_page_is_told_from_a_feed_by_its_first_element(body: bytes, page: bool) -> None:
    assert is_html_page(body) is page


def test_the_feeds_a_page_names_are_listed_absolute_in_its_order() -> None:
    html = b"""<html><head>
      <link rel="stylesheet" href="/site.css">
      <link rel="alternate" hreflang="fr" href="/fr/">
      <link rel="alternate" type="application/rss+xml" title="News" href="/feeds/news.xml">
      <LINK REL="Alternate" TYPE="application/atom+xml" HREF="https://cdn.example/atom">
      <link rel="alternate" type="application/rss+xml" title="Comments" href="/feeds/comments.xml" />
      <link rel="alternate" type="application/feed+json" href="feed.json">
    </head><body></body></html>"""
    assert feed_links(html, base="https://news.example/section/") == [
        "https://news.example/feeds/news.xml",
        "https://cdn.example/atom",
        "https://news.example/feeds/comments.xml",
        "https://news.example/section/feed.json",
    ]


def test_a_page_is_read_through_the_first_feed_it_names(httpserver: HTTPServer, client: httpx.Client) -> None:
    httpserver.expect_request("/live/2025-06-10").respond_with_data(
        (FEEDS / "live-blog-page.html").read_text(), content_type="text/html"
    )
    feed = (FEEDS / "live-blog.xml").read_text().replace("{base}", httpserver.url_for("").rstrip("/"))
    httpserver.expect_request("/live.xml").respond_with_data(feed, content_type="application/rss+xml")

    fetched = fetch_feed(client, httpserver.url_for("/live/2025-06-10"), max_bytes=100_000, deadline=5)

    assert fetched.discovered == httpserver.url_for("/live.xml")
    assert fetched.result.body == feed.encode()


def test_a_page_that_names_no_feed_is_not_a_feed(httpserver: HTTPServer, client: httpx.Client) -> None:
    httpserver.expect_request("/about").respond_with_data("<html><body>About</body></html>", content_type="text/html")
    url = httpserver.url_for("/about")
    with pytest.raises(FeedError) as caught:
        fetch_feed(client, url, max_bytes=100_000, deadline=5)
    assert str(caught.value) == f'feed: not a feed (an html page naming no feed in <link rel="alternate">): {url}'


def test_a_feed_is_read_as_it_is(httpserver: HTTPServer, client: httpx.Client) -> None:
    httpserver.expect_request("/rss").respond_with_data("<rss version='2.0'><channel/></rss>")
    fetched = fetch_feed(client, httpserver.url_for("/rss"), max_bytes=100_000, deadline=5)
    assert fetched.discovered is None and fetched.result.body.startswith(b"<rss")
