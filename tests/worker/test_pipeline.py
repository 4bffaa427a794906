"""Feed items are told apart the way their feed tells them apart, and stored once however often they arrive.

A live blog lists its posts as anchors on one page a day: each post is an article of its own, read from its
own text in the feed (the shared page would make them all one). A guid tells items apart where links do not.
Re-polling stores nothing twice, an item two feeds carry is one article, and a site's page given as a feed
is read through the feed it names. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlmodel import col, select

from newswatch.storage.db import session_scope
from newswatch.storage.entries import add_entries
from newswatch.storage.feeds import add_feed, find_feed
from newswatch.storage.models import StoredArticle, utcnow
from newswatch.worker.embedded import ingest_entries, run_round
from newswatch.worker.report import RoundReport
from newswatch.worker.runtime import Runtime, migrated_runtime, reset_runtime

FEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"
PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pipeline"
DAY = "/live/2025-06-10"


@pytest.fixture
def runtime(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    monkeypatch.setenv("NEWSWATCH_DATABASE_URL", database_url)
    reset_runtime()
    return migrated_runtime()


def _add_feeds(runtime: Runtime, *urls: str) -> None:
    with session_scope(runtime.settings.database_url) as session:
        for url in urls:
            add_feed(session, url, interval_seconds=900)


def _articles(runtime: Runtime) -> list[StoredArticle]:
    with session_scope(runtime.settings.database_url) as session:
        return list(session.exec(select(StoredArticle).order_by(col(StoredArticle.id))))


def _live_blog(server: HTTPServer, posts: int = 9) -> str:
    """The fixture's live blog with its first `posts` posts, links on `server`; the day's page is served too."""
    feed = (FEEDS / "live-blog.xml").read_text().replace("{base}", server.url_for("").rstrip("/"))
    items = feed.split("<item>")
    return "<item>".join(items[: posts + 1]) + ("" if posts == len(items) - 1 else "</channel></rss>")


def _serve_live_blog(server: HTTPServer, posts: int = 9) -> None:
    server.expect_request("/live.xml").respond_with_data(_live_blog(server, posts), content_type="application/rss+xml")
    server.expect_request(DAY).respond_with_data((FEEDS / "live-blog-page.html").read_text(), content_type="text/html")


def _round(runtime: Runtime) -> RoundReport:
    report = run_round(runtime, every_feed=True)
    assert report.errors == [], report.errors
    return report


def test_nine_posts_on_one_live_page_are_nine_articles_each_with_its_own_text(
    httpserver: HTTPServer, runtime: Runtime
) -> None:
    _serve_live_blog(httpserver)
    _add_feeds(runtime, httpserver.url_for("/live.xml"))

    report = _round(runtime)

    page = httpserver.url_for(DAY)
    articles = _articles(runtime)
    assert [a.url_key for a in articles] == [f"{page}#post-{n}" for n in range(1, 10)]
    assert [a.url for a in articles] == [f"{page}#post-{n}" for n in range(1, 10)]
    assert articles[1].title == "Aid convoy waits at the border"
    assert articles[1].text.startswith("A convoy of 40 trucks") and "shelling" not in articles[1].text
    assert [a.new for a in report.articles] == [True] * 9
    assert not [r for r, _ in httpserver.log if r.path == DAY]  # the shared page would make them one


def test_re_polling_a_live_blog_stores_only_its_new_post(httpserver: HTTPServer, runtime: Runtime) -> None:
    _serve_live_blog(httpserver, posts=8)
    _add_feeds(runtime, httpserver.url_for("/live.xml"))
    assert len(_round(runtime).articles) == 8

    httpserver.clear()
    _serve_live_blog(httpserver, posts=9)
    again = _round(runtime)

    assert [(p.outcome, p.new_entries) for p in again.polled] == [("fetched", 1)]
    assert [a.title for a in again.articles] == ["Ceasefire talks adjourned until Friday"]
    assert len(_articles(runtime)) == 9


def test_items_sharing_one_link_are_told_apart_by_guid_and_a_re_poll_stores_nothing_twice(
    httpserver: HTTPServer, runtime: Runtime
) -> None:
    home = httpserver.url_for("/")
    notices = [("Road closed near the airport", "n-1"), ("Curfew lifted in the old city", "n-2")]

    def feed(built: str) -> str:
        items = "".join(
            f"<item><title>{title}</title><link>{home}</link><guid isPermaLink='false'>{guid}</guid>"
            f"<description>{title}, the city council said.</description></item>"
            for title, guid in notices
        )
        channel = f"<title>Notices</title><lastBuildDate>{built}</lastBuildDate>{items}"
        return f"<rss version='2.0'><channel>{channel}</channel></rss>"

    httpserver.expect_request("/notices.xml").respond_with_data(feed("Mon, 09 Jun 2025 10:00:00 GMT"))
    _add_feeds(runtime, httpserver.url_for("/notices.xml"))
    _round(runtime)
    httpserver.clear()
    httpserver.expect_request("/notices.xml").respond_with_data(feed("Mon, 09 Jun 2025 11:00:00 GMT"))
    again = _round(runtime)

    assert [(p.outcome, p.new_entries) for p in again.polled] == [("fetched", 0)]
    articles = _articles(runtime)
    assert [(a.title, a.url_key, a.url) for a in articles] == [
        ("Road closed near the airport", None, home),
        ("Curfew lifted in the old city", None, home),
    ]


def test_an_item_two_feeds_carry_with_the_same_canonical_link_is_one_article(
    httpserver: HTTPServer, runtime: Runtime
) -> None:
    page = httpserver.url_for("/news/tanf")
    httpserver.expect_request("/news/tanf").respond_with_data((PAGES / "article-tanf.html").read_text())
    for name, link in (("a", f"{page}?utm_source=feed-a"), ("b", f"{page}?utm_source=feed-b&utm_medium=rss")):
        httpserver.expect_request(f"/{name}.xml").respond_with_data(
            f"<rss version='2.0'><channel><title>{name}</title><item><title>Tanf</title><link>{link}</link>"
            f"<guid>{name}-tanf</guid><description>Feed {name} on Tanf.</description></item></channel></rss>"
        )
    _add_feeds(runtime, httpserver.url_for("/a.xml"), httpserver.url_for("/b.xml"))

    _round(runtime)

    assert [a.url_key for a in _articles(runtime)] == [page]


def test_a_site_page_given_as_a_feed_is_read_through_the_feed_it_names(
    httpserver: HTTPServer, runtime: Runtime
) -> None:
    _serve_live_blog(httpserver)
    _add_feeds(runtime, httpserver.url_for(DAY))

    report = _round(runtime)

    assert [(p.url, p.discovered, p.new_entries) for p in report.polled] == [
        (httpserver.url_for(DAY), httpserver.url_for("/live.xml"), 9)
    ]
    assert len(_articles(runtime)) == 9


def test_entries_stored_before_items_had_keys_are_ingested_under_their_link(
    httpserver: HTTPServer, runtime: Runtime
) -> None:
    page = httpserver.url_for("/news/tanf")
    httpserver.expect_request("/news/tanf").respond_with_data((PAGES / "article-tanf.html").read_text())
    _add_feeds(runtime, httpserver.url_for("/old.xml"))
    old_row = {"url": f"{page}?utm_source=rss", "title": "Tanf", "summary": "", "published": None}
    with session_scope(runtime.settings.database_url) as session:
        feed = find_feed(session, httpserver.url_for("/old.xml"))
        assert feed is not None and feed.id is not None
        ids = add_entries(session, feed.id, [(page, {**old_row, "entry_id": None, "author": None})], due=utcnow())

    report = ingest_entries(runtime, ids)

    assert report.errors == [] and [a.title[:30] for a in report.articles] == ["US jets strike convoy near Tan"]
    assert [a.url_key for a in _articles(runtime)] == [page]
