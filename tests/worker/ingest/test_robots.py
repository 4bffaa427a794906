"""robots.txt is respected for article pages, not for feeds: a disallowed page is never requested and its
article is stored from the feed entry, saying why; each site's robots.txt is fetched once per TTL."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlmodel import col, select

from newswatch.storage.db import session_scope
from newswatch.storage.feeds import add_feed
from newswatch.storage.models import StoredArticle
from newswatch.worker.config import Settings
from newswatch.worker.embedded import run_round
from newswatch.worker.errors import FetchError
from newswatch.worker.ingest.fetch import http_client
from newswatch.worker.ingest.robots import RobotsCache
from newswatch.worker.runtime import migrated_runtime, reset_runtime
from tests.conftest import LOOPBACK_HOSTS

PAGES = Path(__file__).resolve().parents[2] / "fixtures" / "pipeline"


def _item(server: HTTPServer, path: str, title: str) -> str:
    link = server.url_for(path)
    return f"<item><title>{title}</title><link>{link}</link><description>Summary of {title}.</description></item>"


def _requests(server: HTTPServer, path: str) -> int:
    return len([r for r, _ in server.log if r.path == path])


def test_a_page_robots_txt_disallows_is_stored_from_its_feed_entry_and_never_fetched(
    httpserver: HTTPServer, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = (PAGES / "article-tanf.html").read_text()
    httpserver.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow: /private/\n")
    items = _item(httpserver, "/news/tanf", "Tanf") + _item(httpserver, "/private/memo", "Memo")
    feed = f"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title>{items}</channel></rss>"
    # The feed itself sits under the disallowed path: feeds are published to be polled, so it is read.
    httpserver.expect_request("/private/feed.xml").respond_with_data(feed, content_type="application/rss+xml")
    httpserver.expect_request("/news/tanf").respond_with_data(page, content_type="text/html")
    httpserver.expect_request("/private/memo").respond_with_data(page, content_type="text/html")
    monkeypatch.setenv("NEWSWATCH_DATABASE_URL", sqlite_url)
    reset_runtime()
    runtime = migrated_runtime()
    with session_scope(sqlite_url) as session:
        add_feed(session, httpserver.url_for("/private/feed.xml"), interval_seconds=900)

    report = run_round(runtime, every_feed=True)

    assert report.errors == []
    assert _requests(httpserver, "/private/memo") == 0
    assert _requests(httpserver, "/robots.txt") == 1  # once for the site, not once per page
    with session_scope(sqlite_url) as session:
        stored = {a.title: a.text for a in session.exec(select(StoredArticle).order_by(col(StoredArticle.id)))}
    assert stored["Memo"] == "Summary of Memo."
    assert "Summary of Tanf" not in stored["US jets strike convoy near Tanf garrison"]
    (warning,) = report.warnings
    assert "disallowed by" in warning and "robots.txt" in warning and httpserver.url_for("/private/memo") in warning
    assert "used the feed entry instead" in warning


@pytest.fixture
def settings() -> Settings:
    return Settings(allow_hosts=LOOPBACK_HOSTS)  # type: ignore[arg-type]  # split by its validator


@pytest.mark.parametrize(
    ("robots", "status", "path", "allowed"),
    [
        ("User-agent: *\nDisallow: /private/\n", 200, "/news/a", True),
        ("User-agent: *\nDisallow: /private/\n", 200, "/private/a", False),
        ("User-agent: newswatch\nDisallow: /\n\nUser-agent: *\nAllow: /\n", 200, "/news/a", False),
        ("User-agent: otherbot\nDisallow: /\n", 200, "/news/a", True),
        ("not found", 404, "/private/a", True),  # none published: everything allowed
        ("forbidden", 403, "/private/a", True),
        ("down", 503, "/private/a", True),  # cannot say, for now: allowed, and asked again soon
    ],
)
def test_it_reads_robots_txt_the_way_sites_mean_it(
    httpserver: HTTPServer, settings: Settings, robots: str, status: int, path: str, allowed: bool
) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data(robots, status=status)
    cache = RobotsCache(http_client(settings), ttl=3600, deadline=5)
    if allowed:
        cache.check(httpserver.url_for(path))
    else:
        with pytest.raises(FetchError, match="disallowed by .*/robots.txt"):
            cache.check(httpserver.url_for(path))


def test_robots_txt_is_kept_for_its_ttl_then_fetched_again(httpserver: HTTPServer, settings: Settings) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow: /private/\n")
    now = [1000.0]
    cache = RobotsCache(http_client(settings), ttl=60, deadline=5, clock=lambda: now[0])
    for path in ("/a", "/b", "/c"):
        cache.check(httpserver.url_for(path))
    assert _requests(httpserver, "/robots.txt") == 1
    now[0] += 61
    cache.check(httpserver.url_for("/d"))
    assert _requests(httpserver, "/robots.txt") == 2
