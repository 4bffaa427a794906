"""An embedded round that extracts its pages in processes (NEWSWATCH_EXTRACT_PROCESSES) stores what a round
extracting in its own process stores, in the same order; an extraction lost to its process (here: stopped
past NEWSWATCH_EXTRACT_TIMEOUT) is its entry's error, and a later round stores that entry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlmodel import col, select

from newswatch.storage.db import session_scope
from newswatch.storage.entries import entry_counts
from newswatch.storage.feeds import add_feed
from newswatch.storage.models import Entry, Hit, StoredArticle
from newswatch.worker.embedded import run_round
from newswatch.worker.report import RoundReport
from newswatch.worker.runtime import migrated_runtime, reset_runtime

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PAGES = {
    "/news/tanf": (FIXTURES / "pipeline" / "article-tanf.html").read_bytes(),
    "/news/border": (FIXTURES / "pipeline" / "article-border.html").read_bytes(),
    "/news/football": (FIXTURES / "pipeline" / "article-football.html").read_bytes(),
    "/news/boilerplate": (FIXTURES / "ingest" / "page-with-boilerplate.html").read_bytes(),
    "/news/live": (FIXTURES / "feeds" / "live-blog-page.html").read_bytes(),
    "/news/menu": b"<html><body><nav>Home | World | Sport</nav></body></html>",  # no main text: the entry's text
}


def _serve(server: HTTPServer) -> str:
    """The pages, a picture where a page should be, and a feed listing them all; the feed's URL."""
    for path, body in PAGES.items():
        server.expect_request(path).respond_with_data(body, content_type="text/html")
    server.expect_request("/news/photo").respond_with_data(b"\x89PNG\r\n\x1a\n....", content_type="image/png")
    items = "".join(
        f"<item><title>Item {path}</title><link>{server.url_for(path)}</link>"
        f"<description>The feed's own summary of {path}: a US airstrike near the border.</description></item>"
        for path in [*PAGES, "/news/photo"]
    )
    server.expect_request("/feed.xml").respond_with_data(
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title>{items}</channel></rss>",
        content_type="application/rss+xml",
    )
    return server.url_for("/feed.xml")


def _round(monkeypatch: pytest.MonkeyPatch, database_url: str, feed: str | None, **settings: str) -> RoundReport:
    monkeypatch.setenv("NEWSWATCH_DATABASE_URL", database_url)
    for name, value in settings.items():
        monkeypatch.setenv(f"NEWSWATCH_{name.upper()}", value)
    reset_runtime()
    runtime = migrated_runtime()
    if feed is not None:
        with session_scope(database_url) as session:
            add_feed(session, feed, interval_seconds=900)
    return run_round(runtime, every_feed=True)


def _stored(database_url: str) -> dict[str, Any]:
    """Everything a round stored that does not depend on when it ran (an article without a date of its own
    is dated when it was stored)."""
    with session_scope(database_url) as session:
        articles = session.exec(select(StoredArticle).order_by(col(StoredArticle.id))).all()
        hits = session.exec(select(Hit).order_by(col(Hit.id))).all()
        entries = session.exec(select(Entry).order_by(col(Entry.id))).all()
        return {
            "articles": [
                a.model_dump(exclude={"fetched_at", "feed_id"}) | {"fingerprint": bytes(a.fingerprint or b"")}
                for a in articles
            ],
            "hits": [h.model_dump(exclude={"created_at", "article_date", "feed_id"}) for h in hits],
            "entries": [(e.status, e.article_id, e.last_error) for e in entries],
        }


def test_a_round_stores_the_same_with_one_and_with_two_extraction_processes(
    httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = _serve(httpserver)
    one, two = f"sqlite:///{tmp_path / 'one.db'}", f"sqlite:///{tmp_path / 'two.db'}"

    alone = _round(monkeypatch, one, feed, extract_processes="1")
    beside = _round(monkeypatch, two, feed, extract_processes="2")

    assert alone.errors == beside.errors == []
    assert [a.to_json() for a in beside.articles] == [a.to_json() for a in alone.articles]
    assert beside.warnings == alone.warnings and len(alone.warnings) == 2  # the menu and the picture
    stored = _stored(one)
    assert _stored(two) == stored
    assert len(stored["articles"]) == len(PAGES) + 1 and stored["hits"]
    assert {status for status, _, _ in stored["entries"]} == {"done"}


def test_an_extraction_stopped_past_its_timeout_is_the_entry_s_error_and_a_later_round_stores_it(
    httpserver: HTTPServer, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = _serve(httpserver)
    monkeypatch.setenv("NEWSWATCH_ENTRY_RETRY_AFTER", "0")

    stopped = _round(monkeypatch, sqlite_url, feed, extract_processes="2", extract_timeout="0.001")

    assert stopped.articles == [] and len(stopped.errors) == len(PAGES) + 1
    assert all(e.startswith("extract: no article after 0.001s, extraction stopped: http://") for e in stopped.errors)
    with session_scope(sqlite_url) as session:
        assert entry_counts(session) == {(1, "pending"): len(PAGES) + 1}
        errors = [e.last_error for e in session.exec(select(Entry).order_by(col(Entry.id)))]
    assert errors == stopped.errors

    later = _round(monkeypatch, sqlite_url, None, extract_processes="2", extract_timeout="60")

    assert later.errors == [] and len(later.articles) == len(PAGES) + 1
    with session_scope(sqlite_url) as session:
        assert entry_counts(session) == {(1, "done"): len(PAGES) + 1}
