"""The embedded runner retries what the workers retry (a page that times out or answers 5xx is tried again),
and sends each article's alerts without waiting for the end of its round."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlmodel import select
from werkzeug import Request, Response

from newswatch.storage.db import session_scope
from newswatch.storage.entries import entry_counts
from newswatch.storage.feeds import add_feed
from newswatch.storage.models import StoredArticle
from newswatch.worker.embedded import run_round
from newswatch.worker.report import RoundReport
from newswatch.worker.runtime import migrated_runtime, reset_runtime
from tests.conftest import Mailbox, loopback_server

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pipeline"


def _feed_with_one_page(server: HTTPServer, answers: list[int]) -> None:
    """A feed listing /news/tanf, whose page answers with the given statuses in turn (then 200)."""
    page = (PAGES / "article-tanf.html").read_text()
    link = server.url_for("/news/tanf")
    server.expect_request("/feed.xml").respond_with_data(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>Tanf</title>'
        f"<link>{link}</link><description>Feed summary of the Tanf story.</description></item></channel></rss>",
        content_type="application/rss+xml",
    )
    statuses = list(answers)

    def handler(_: Request) -> Response:
        status = statuses.pop(0) if statuses else 200
        return Response(page if status == 200 else "busy", status=status, content_type="text/html")

    server.expect_request("/news/tanf").respond_with_handler(handler)


def _stored_text(database_url: str) -> str:
    with session_scope(database_url) as session:
        (article,) = session.exec(select(StoredArticle))
        return article.text


def _round(
    server: HTTPServer, database_url: str, monkeypatch: pytest.MonkeyPatch, *, attempts: int, answers: list[int]
) -> RoundReport:
    """One embedded round over a feed whose page answers `answers` in turn, with `attempts` tries a page."""
    monkeypatch.setenv("NEWSWATCH_DATABASE_URL", database_url)
    monkeypatch.setenv("NEWSWATCH_RETRY_ATTEMPTS", str(attempts))
    reset_runtime()
    _feed_with_one_page(server, answers)
    runtime = migrated_runtime()
    with session_scope(database_url) as session:
        add_feed(session, server.url_for("/feed.xml"), interval_seconds=900)
    return run_round(runtime, every_feed=True)


def test_a_page_that_answers_503_twice_is_fetched_again_and_stored_with_its_own_text(
    httpserver: HTTPServer, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = _round(httpserver, sqlite_url, monkeypatch, attempts=3, answers=[503, 503])

    assert report.errors == [] and report.warnings == []
    assert len([r for r, _ in httpserver.log if r.path == "/news/tanf"]) == 3
    assert "Feed summary" not in _stored_text(sqlite_url)
    assert report.articles[0].title == "US jets strike convoy near Tanf garrison"


def test_a_page_still_failing_on_its_last_try_gives_way_to_the_feed_entry(
    httpserver: HTTPServer, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = _round(httpserver, sqlite_url, monkeypatch, attempts=2, answers=[503, 503, 503])

    assert len([r for r, _ in httpserver.log if r.path == "/news/tanf"]) == 2
    assert _stored_text(sqlite_url) == "Feed summary of the Tanf story."
    assert report.warnings and "503" in report.warnings[0] and "used the feed entry instead" in report.warnings[0]


def test_entries_polled_while_the_rules_file_is_broken_are_stored_once_it_is_fixed(
    httpserver: HTTPServer, sqlite_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The feed's ETag is saved with the entries it listed: its next answer, a 304, hides nothing."""
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - name: airstrikes\n    query: airstrike AND (\n")
    monkeypatch.setenv("NEWSWATCH_RULES", str(rules))
    monkeypatch.setenv("NEWSWATCH_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("NEWSWATCH_ENTRY_RETRY_AFTER", "0")
    reset_runtime()
    items = "".join(
        f"<item><title>Story {i}</title><link>{httpserver.url_for(f'/s/{i}')}</link>"
        f"<description>A US airstrike hit target number {i} near the border town.</description></item>"
        for i in range(3)
    )
    feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}</channel></rss>'

    def conditional(request: Request) -> Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304)
        return Response(feed, content_type="application/rss+xml", headers={"ETag": '"v1"'})

    httpserver.expect_request("/feed.xml").respond_with_handler(conditional)
    monkeypatch.setenv("NEWSWATCH_FETCH_PAGES", "false")
    reset_runtime()
    runtime = migrated_runtime()
    with session_scope(sqlite_url) as session:
        add_feed(session, httpserver.url_for("/feed.xml"), interval_seconds=900)

    broken = run_round(runtime, every_feed=True)
    assert len(broken.errors) == 3 and all(str(rules) in error for error in broken.errors)
    with session_scope(sqlite_url) as session:
        assert session.exec(select(StoredArticle)).all() == []
        assert entry_counts(session) == {(1, "pending"): 3}

    rules.write_text("rules:\n  - name: airstrikes\n    query: airstrike\n")
    fixed = run_round(runtime, every_feed=True)

    assert [p.outcome for p in fixed.polled] == ["not-modified"]
    assert sorted(a.title for a in fixed.articles) == ["Story 0", "Story 1", "Story 2"]
    assert all(a.hits == ["airstrikes"] for a in fixed.articles)
    with session_scope(sqlite_url) as session:
        assert len(session.exec(select(StoredArticle)).all()) == 3
        assert entry_counts(session) == {(1, "done"): 3}


@pytest.fixture
def threaded_server() -> Iterator[HTTPServer]:
    """A loopback HTTP server answering each request in its own thread (pages fetched ahead wait side by side)."""
    with loopback_server(threaded=True) as server:
        yield server


def test_an_article_s_alert_is_sent_while_the_round_reads_the_next_pages(
    threaded_server: HTTPServer, sqlite_url: str, smtp_server: tuple[str, Mailbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second page answers only once the first article's alert reached the SMTP server (or after 20 s):
    alerts sent at the end of the round would find it still waiting. The server is threaded: the second
    page, fetched ahead, waits beside the first, not in front of it."""
    httpserver = threaded_server
    url, mailbox = smtp_server
    for name, value in {
        "NEWSWATCH_DATABASE_URL": sqlite_url,
        "NEWSWATCH_SMTP_URL": url,
        "NEWSWATCH_EMAIL_FROM": "nw@example.org",
        "NEWSWATCH_EMAIL_TO": "desk@example.org",
        "NEWSWATCH_DEFAULT_CHANNELS": "email",
    }.items():
        monkeypatch.setenv(name, value)
    reset_runtime()
    runtime = migrated_runtime()
    links = [httpserver.url_for("/news/tanf"), httpserver.url_for("/news/border")]
    items = "".join(f"<item><title>{link}</title><link>{link}</link></item>" for link in links)
    httpserver.expect_request("/feed.xml").respond_with_data(
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title>{items}</channel></rss>",
        content_type="application/rss+xml",
    )
    httpserver.expect_request("/news/tanf").respond_with_data(
        (PAGES / "article-tanf.html").read_text(), content_type="text/html"
    )
    mail_before_second_page: list[int] = []

    def second_page(_: Request) -> Response:
        deadline = time.monotonic() + 20
        while not mailbox.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        mail_before_second_page.append(len(mailbox.messages))
        return Response((PAGES / "article-border.html").read_text(), content_type="text/html")

    httpserver.expect_request("/news/border").respond_with_handler(second_page)
    with session_scope(sqlite_url) as session:
        add_feed(session, httpserver.url_for("/feed.xml"), interval_seconds=900)

    report = run_round(runtime, every_feed=True)

    assert mail_before_second_page == [1]
    alerts = sum(len(article.alert_ids) for article in report.articles)
    assert len(report.articles) == 2 and alerts >= 2
    assert len(mailbox.messages) == alerts and sum(d.outcome == "sent" for d in report.deliveries) == alerts
