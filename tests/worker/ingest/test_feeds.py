"""Feed parsing: RSS, Atom and JSON Feed; malformed feeds keep their entries; non-feeds are named errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from newswatch.worker.errors import FeedError
from newswatch.worker.ingest.feeds import parse_feed

URL = "http://127.0.0.1:8000/feeds/world.xml"

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>World desk</title>
<item><title>Strike near &lt;b&gt;Tanf&lt;/b&gt;</title><link>/news/tanf?utm_source=rss</link>
<description>&lt;p&gt;A US airstrike hit a convoy.&lt;/p&gt;&lt;p&gt;Second paragraph.&lt;/p&gt;</description>
<pubDate>Tue, 06 Jun 2017 17:05:00 +0200</pubDate><guid>tanf-1</guid><author>desk@example.org (Desk)</author></item>
<item><title>No date</title><link>http://127.0.0.1:8000/news/2</link>
<pubDate>Sun, 01 Jan 0017 00:00:00 GMT</pubDate></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom desk</title>
<entry><title>Border crossing reopens</title><link rel="alternate" href="http://127.0.0.1:8000/a/1"/>
<id>urn:1</id><updated>2017-06-10T08:30:00Z</updated><summary>Traffic resumed at al-Qaim.</summary></entry>
</feed>"""


def test_rss_entries_have_plain_text_absolute_links_and_utc_dates() -> None:
    feed = parse_feed(RSS, url=URL, content_type="application/rss+xml")
    assert feed.title == "World desk" and feed.error is None
    first, second = feed.entries
    assert first.url == "http://127.0.0.1:8000/news/tanf?utm_source=rss"
    assert first.title == "Strike near Tanf"
    assert first.summary == "A US airstrike hit a convoy.\nSecond paragraph."
    assert first.published == datetime(2017, 6, 6, 15, 5, tzinfo=UTC)
    assert first.entry_id is not None and first.entry_id.endswith("tanf-1")
    assert second.published is None  # year 17 is not a plausible publication date


def test_atom_entries() -> None:
    (entry,) = parse_feed(ATOM, url=URL).entries
    assert (entry.url, entry.title, entry.summary) == (
        "http://127.0.0.1:8000/a/1",
        "Border crossing reopens",
        "Traffic resumed at al-Qaim.",
    )
    assert entry.published == datetime(2017, 6, 10, 8, 30, tzinfo=UTC)


def test_json_feed_is_read_too() -> None:
    body = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "JSON desk",
            "items": [
                {
                    "id": "7",
                    "url": "/j/7",
                    "title": "Drone strike",
                    "content_text": "A drone strike was reported.",
                    "date_published": "2024-03-01T10:00:00Z",
                    "authors": [{"name": "Reporter"}],
                }
            ],
        }
    ).encode()
    feed = parse_feed(body, url=URL, content_type="application/feed+json")
    (entry,) = feed.entries
    assert (feed.title, entry.url, entry.author) == ("JSON desk", "http://127.0.0.1:8000/j/7", "Reporter")
    assert entry.published == datetime(2024, 3, 1, 10, tzinfo=UTC)


def test_a_malformed_feed_keeps_its_entries_and_reports_the_problem() -> None:
    broken = RSS.replace(b"</channel></rss>", b"<item><title>Cut off & unescaped</title>")
    feed = parse_feed(broken, url=URL)
    assert len(feed.entries) >= 2
    assert feed.error is not None


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html><head><title>Home</title></head><body><p>Welcome</p></body></html>", "html page"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"   ", "empty"),
        (b'{"not": "a feed"}', "JSON"),
    ],
)
def test_what_is_not_a_feed_is_an_error_naming_the_url(body: bytes, reason: str) -> None:
    with pytest.raises(FeedError, match=reason) as caught:
        parse_feed(body, url=URL)
    assert URL in str(caught.value)
