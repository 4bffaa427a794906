"""Who a feed, a feed item and an article are: the rules as tables, one row a case."""

from __future__ import annotations

import pytest

from newswatch.worker.ingest.feeds import FeedEntry
from newswatch.worker.ingest.identity import content_hash, feed_items, feed_url, item_url_key


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("https://news.example/rss.xml", "https://news.example/rss.xml"),
        ("https://news.example/rss.xml?utm_source=newsletter&utm_medium=email", "https://news.example/rss.xml"),
        (
            "https://news.example/rss.xml?fbclid=IwAR0x&gclid=Cj0&mc_cid=1a2b&mc_eid=3c4d",
            "https://news.example/rss.xml",
        ),
        ("https://news.example/rss.xml#top", "https://news.example/rss.xml"),
        ("HTTPS://News.Example/rss.xml", "https://news.example/rss.xml"),
        ("https://news.example", "https://news.example/"),
        # A feed's own parameters choose the feed (courlan's cleaning would drop `format`).
        ("https://news.example/?feed=rss2&utm_campaign=x", "https://news.example/?feed=rss2"),
        ("https://news.example/news?format=rss&tag=Syria", "https://news.example/news?format=rss&tag=Syria"),
        ("https://news.example/Feed/RSS.xml", "https://news.example/Feed/RSS.xml"),
    ],
)
def test_a_feed_url_is_stored_without_what_only_tracks_a_visitor(given: str, stored: str) -> None:
    assert feed_url(given) == stored


@pytest.mark.parametrize(
    ("link", "key"),
    [
        ("https://news.example/live/2025-06-10#post-3", "https://news.example/live/2025-06-10#post-3"),
        ("https://news.example/live/2025-06-10/?utm_source=rss#post-3", "https://news.example/live/2025-06-10#post-3"),
        ("https://news.example/a/1?utm_source=rss", "https://news.example/a/1"),
        ("https://news.example/a/1#comments", "https://news.example/a/1"),
        ("https://news.example/a/1#more-1234", "https://news.example/a/1"),
        ("https://news.example/a/1#xtor=RSS-3208", "https://news.example/a/1"),
        ("https://news.example/a/1#", "https://news.example/a/1"),
    ],
)
def test_an_article_key_keeps_a_fragment_only_where_it_names_a_post(link: str, key: str) -> None:
    assert item_url_key(link) == key


def _entry(url: str | None, title: str, guid: str | None = None) -> FeedEntry:
    return FeedEntry(url=url, title=title, summary=f"Text of {title}.", published=None, entry_id=guid, author=None)


def _keys(entries: list[FeedEntry]) -> list[tuple[str, str | None, bool]]:
    return [(keys.entry, keys.article, keys.own_page) for keys, _ in feed_items(entries)]


PAGE = "https://news.example/live/2025-06-10"


def test_posts_on_one_page_are_told_apart_by_their_fragment_and_not_read_from_the_page() -> None:
    entries = [_entry(f"{PAGE}#post-{n}", f"Post {n}") for n in (1, 2, 3)]
    assert _keys(entries) == [(f"{PAGE}#post-{n}", f"{PAGE}#post-{n}", False) for n in (1, 2, 3)]


def test_a_guid_is_the_item_and_the_link_the_article() -> None:
    entries = [_entry("https://news.example/a/1?utm_source=rss", "One", guid="tag:news.example,2025:1")]
    assert _keys(entries) == [("id:tag:news.example,2025:1", "https://news.example/a/1", True)]


def test_items_sharing_a_link_without_fragments_are_told_apart_by_guid_and_by_their_text() -> None:
    entries = [_entry("https://news.example/", f"Notice {n}", guid=f"notice-{n}") for n in (1, 2)]
    assert _keys(entries) == [("id:notice-1", None, False), ("id:notice-2", None, False)]


def test_a_guid_the_feed_gives_to_every_item_is_not_trusted() -> None:
    entries = [_entry(f"https://news.example/a/{n}", f"Story {n}", guid="https://news.example/") for n in (1, 2)]
    assert _keys(entries) == [(f"https://news.example/a/{n}", f"https://news.example/a/{n}", True) for n in (1, 2)]


def test_an_item_listed_twice_is_one_item() -> None:
    twice = _entry("https://news.example/a/1", "Story", guid="a-1")
    assert _keys([twice, twice]) == [("id:a-1", "https://news.example/a/1", True)]


def test_an_item_without_link_or_guid_is_its_title() -> None:
    assert _keys([_entry(None, "Bulletin")]) == [("id:Bulletin", None, False)]


def test_an_article_refetched_with_other_spacing_or_unicode_forms_has_the_same_content_hash() -> None:
    """Stored hashes are compared with new ones: the same text, re-fetched, must hash the same in every version."""
    stored = content_hash("Airstrike near Tanf", "Coalition jets struck\u00a0a convoy.\n\n\uff34he border \u00a8 post")
    # The value articles stored by earlier versions carry for this text (sha256 of NFKC, spacing, casefold).
    assert stored == "90a76bc0e525ad29b76ce7820f25439377c865a1b7833582acd639d3ce023e50"
    assert content_hash(" airstrike  near\ttanf ", "coalition JETS struck a convoy. The border \u00a8 post") == stored
    assert content_hash("Airstrike near Tanf", "Coalition jets struck a convoy. The border post") != stored
