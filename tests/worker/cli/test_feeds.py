"""`newswatch feeds add` as a user types it: tracking parameters and fragments do not make a second feed, and a
site's page is replaced by the feed it names."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer

from newswatch.storage.db import session_scope
from newswatch.storage.feeds import add_feed, list_feeds
from tests.conftest import loopback_server

FEEDS = Path(__file__).resolve().parents[2] / "fixtures" / "feeds"
RSS = "<rss version='2.0'><channel><title>Desert Dispatch</title></channel></rss>"


def _newswatch(*args: str) -> Result:
    from newswatch.worker.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("NEWSWATCH_DATABASE_URL", url)
    return url


def _feed_urls(db: str) -> list[str]:
    with session_scope(db) as session:
        return [feed.url for feed in list_feeds(session)]


def test_a_url_that_differs_only_by_tracking_parameters_or_a_fragment_is_the_same_feed(
    db: str, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/rss").respond_with_data(RSS, content_type="application/rss+xml")
    feed = httpserver.url_for("/rss")
    first = _newswatch("feeds", "add", f"{feed}?utm_source=newsletter&utm_medium=email")
    assert first.exit_code == 0, first.output
    assert first.stdout.startswith(f"added feed 1: {feed} every 15 min")
    for same in (feed, f"{feed}#latest", f"{feed}?fbclid=IwAR0x&gclid=Cj0", f"{feed}?mc_cid=1a2b&mc_eid=3c4d"):
        again = _newswatch("feeds", "add", same)
        assert again.exit_code == 0 and again.stdout.startswith(f"updated feed 1: {feed}"), again.output
    assert _feed_urls(db) == [feed]
    assert _newswatch("feeds", "remove", f"{feed}?utm_campaign=spring").exit_code == 0
    assert _feed_urls(db) == []


def test_a_feed_stored_with_tracking_parameters_is_found_again_without_them(db: str, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/rss").respond_with_data(RSS, content_type="application/rss+xml")
    feed = httpserver.url_for("/rss")
    assert _newswatch("feeds", "list").exit_code == 0  # the database, migrated
    with session_scope(db) as session:
        add_feed(session, f"{feed}?utm_source=twitter", interval_seconds=900)

    result = _newswatch("feeds", "add", feed, "--interval", "1h")

    assert result.stdout.startswith(f"updated feed 1: {feed}?utm_source=twitter every 60 min"), result.output
    assert _feed_urls(db) == [f"{feed}?utm_source=twitter"]


def test_a_feeds_own_parameters_make_different_feeds(db: str, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/news").respond_with_data(RSS, content_type="application/rss+xml")
    for tag in ("Syria", "Iraq"):
        assert _newswatch("feeds", "add", httpserver.url_for(f"/news?format=rss&tag={tag}")).exit_code == 0
    assert _feed_urls(db) == [httpserver.url_for(f"/news?format=rss&tag={tag}") for tag in ("Syria", "Iraq")]


def test_a_page_given_as_a_feed_adds_the_feed_it_names_and_says_so(db: str, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/live/2025-06-10").respond_with_data(
        (FEEDS / "live-blog-page.html").read_text(), content_type="text/html"
    )
    httpserver.expect_request("/live.xml").respond_with_data(
        (FEEDS / "live-blog.xml").read_text().replace("{base}", httpserver.url_for("").rstrip("/")),
        content_type="application/rss+xml",
    )
    page, feed = httpserver.url_for("/live/2025-06-10"), httpserver.url_for("/live.xml")

    result = _newswatch("feeds", "add", page)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"{page} is a page; adding the feed it names: {feed}",
        f"added feed 1: {feed} every 15 min",
    ]
    assert _feed_urls(db) == [feed]


def test_a_page_naming_no_feed_and_a_missing_feed_are_refused(db: str, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/about").respond_with_data("<html><body>About</body></html>", content_type="text/html")
    httpserver.expect_request("/gone.xml").respond_with_data("", status=404)

    page = _newswatch("feeds", "add", httpserver.url_for("/about"))
    gone = _newswatch("feeds", "add", httpserver.url_for("/gone.xml"))

    assert page.exit_code == 1
    assert [line for line in page.stderr.splitlines() if line.startswith("error:")] == [
        f'error: feed: not a feed (an html page naming no feed in <link rel="alternate">): '
        f"{httpserver.url_for('/about')}; feed not added"
    ]
    assert gone.exit_code == 1 and "status 404" in gone.stderr and "feed not added" in gone.stderr
    assert "no feeds" in _newswatch("feeds", "list").stdout


def test_a_feed_that_cannot_be_reached_now_is_added_with_a_warning(db: str, closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}/rss"
    result = _newswatch("feeds", "add", url)
    assert result.exit_code == 0, result.output
    assert "added without checking that it is a feed" in result.stderr
    assert _feed_urls(db) == [url]


def test_a_feed_gets_bounds_of_its_own_for_its_adapted_interval(db: str, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/rss").respond_with_data(RSS, content_type="application/rss+xml")
    feed = httpserver.url_for("/rss")

    added = _newswatch("feeds", "add", feed, "--interval", "15m", "--min-interval", "5m", "--max-interval", "2h")
    kept = _newswatch("feeds", "add", feed, "--interval", "30m")  # no bounds given: the feed keeps its own
    listed = _newswatch("feeds", "list")

    assert added.stdout.startswith(f"added feed 1: {feed} every 15 min, adapts within 5-120 min"), added.output
    assert kept.stdout.startswith(f"updated feed 1: {feed} every 30 min\n"), kept.output
    assert "every 30 min, adapts within 5-120 min, last poll never" in listed.stdout, listed.output
    with session_scope(db) as session:
        (stored,) = list_feeds(session)
    assert (stored.min_interval_seconds, stored.max_interval_seconds) == (300, 7200)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--min-interval", "30s"], "Invalid value for --min-interval: 30s is too often"),
        (["--min-interval", "2h", "--max-interval", "1h"], "Invalid value for --min-interval: is longer than"),
        (["--interval", "3h", "--max-interval", "2h"], "Invalid value for --interval: 180 min is outside the"),
    ],
)
def test_bounds_that_cannot_hold_are_refused(db: str, options: list[str], message: str) -> None:
    result = _newswatch("feeds", "add", "https://news.example.org/rss", *options)

    assert result.exit_code == 2 and message in result.output, result.output


def test_several_urls_are_checked_together_and_each_is_added_or_refused_on_its_own(
    db: str, httpserver: HTTPServer
) -> None:
    with loopback_server() as other:  # a second host (127.0.0.1, the fixture's is localhost): fetched beside it
        httpserver.expect_request("/rss").respond_with_data(RSS, content_type="application/rss+xml")
        httpserver.expect_request("/gone.xml").respond_with_data("", status=404)
        other.expect_request("/atom").respond_with_data(
            "<feed xmlns='http://www.w3.org/2005/Atom'><title>Frontier</title></feed>",
            content_type="application/atom+xml",
        )
        first, gone, second = httpserver.url_for("/rss"), httpserver.url_for("/gone.xml"), other.url_for("/atom")

        result = _newswatch("feeds", "add", first, gone, second, "--interval", "30m")

        assert result.exit_code == 1
        assert result.stdout.splitlines() == [
            f"added feed 1: {first} every 30 min",
            f"added feed 2: {second} every 30 min",
        ]
        assert [line for line in result.stderr.splitlines() if line.startswith("error:")] == [
            f"error: fetch: status 404: {gone}; feed not added"
        ]
        assert _feed_urls(db) == [first, second]


def test_a_title_names_one_feed(db: str) -> None:
    result = _newswatch("feeds", "add", "https://a.example.org/rss", "https://b.example.org/rss", "--title", "Two")
    assert result.exit_code == 2 and "names one feed" in result.output
    assert "no feeds" in _newswatch("feeds", "list").stdout
