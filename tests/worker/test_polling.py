"""An embedded round polls feeds at once, within its bounds: dead feeds cost a round one timeout, not one each;
and it fetches the next pages while it stores an article, within bounds too, storing them in feed order.

The servers here are threaded, so a request that hangs does not hold up the others; `localhost` and
`127.0.0.1` are the same server under two host names, i.e. two hosts for the per-host bound. Concurrency is
shown by requests that wait for each other at a barrier: polled one after another, they would never meet.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlmodel import select
from werkzeug import Request, Response

from newswatch.storage.db import session_scope
from newswatch.storage.feeds import add_feed
from newswatch.storage.models import StoredArticle
from newswatch.worker.embedded import run_round
from newswatch.worker.runtime import Runtime, migrated_runtime, reset_runtime
from tests.conftest import loopback_server


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    """A loopback HTTP server answering each request in its own thread."""
    with loopback_server(threaded=True) as threaded:
        yield threaded


def _runtime(sqlite_url: str, monkeypatch: pytest.MonkeyPatch, **settings: str) -> Runtime:
    monkeypatch.setenv("NEWSWATCH_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("NEWSWATCH_FETCH_PAGES", "false")
    monkeypatch.setenv("NEWSWATCH_RETRY_ATTEMPTS", "1")
    for name, value in settings.items():
        monkeypatch.setenv(f"NEWSWATCH_{name.upper()}", value)
    reset_runtime()
    return migrated_runtime()


def _url(server: HTTPServer, host: str, path: str) -> str:
    return f"http://{host}:{server.port}{path}"


def _rss(title: str) -> str:
    return (
        f"<rss version='2.0'><channel><title>{title}</title><item><title>{title}: the news</title>"
        f"<link>http://127.0.0.1/{title}</link><description>What {title} reports.</description></item></channel></rss>"
    )


def _add_feeds(runtime: Runtime, urls: list[str]) -> None:
    with session_scope(runtime.settings.database_url) as session:
        for url in urls:
            add_feed(session, url, interval_seconds=900)


def test_dead_feeds_wait_out_one_timeout_together_and_each_error_names_it(
    server: HTTPServer, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = _runtime(sqlite_url, monkeypatch, read_timeout="2")
    met = threading.Barrier(2, timeout=1.5)  # shorter than the read timeout: one after another, they never meet
    together: list[bool] = []
    released = threading.Event()

    def dead(_: Request) -> Response:
        try:
            met.wait()
            together.append(True)
        except threading.BrokenBarrierError:
            together.append(False)
        released.wait(10)  # past the client's read timeout
        return Response(_rss("late"), content_type="application/rss+xml")

    server.expect_request("/dead.xml").respond_with_handler(dead)
    for name in ("a", "b", "c"):
        server.expect_request(f"/{name}.xml").respond_with_data(_rss(name), content_type="application/rss+xml")
    dead_feeds = [_url(server, host, "/dead.xml") for host in ("localhost", "127.0.0.1")]
    fast_feeds = [_url(server, host, f"/{name}.xml") for host, name in [("localhost", "a"), ("127.0.0.1", "b")]]
    _add_feeds(runtime, [dead_feeds[0], *fast_feeds, dead_feeds[1], _url(server, "localhost", "/c.xml")])

    try:
        report = run_round(runtime, every_feed=True)
    finally:
        released.set()

    assert together == [True, True]
    assert sorted(report.errors) == sorted(
        f"fetch: timed out: no data for 2s (read timeout, NEWSWATCH_READ_TIMEOUT): {url}" for url in dead_feeds
    )
    with session_scope(sqlite_url) as session:
        titles = sorted(a.title for a in session.exec(select(StoredArticle)))
    assert titles == ["a: the news", "b: the news", "c: the news"]


def test_polls_stay_within_the_bound_overall_and_per_host(
    server: HTTPServer, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = _runtime(sqlite_url, monkeypatch, poll_concurrency="3", poll_per_host="2")
    wave = threading.Barrier(3, timeout=10)  # three at once or the round stalls: the bound is reached, too
    lock = threading.Lock()
    running: Counter[str] = Counter()
    most: Counter[str] = Counter()

    def counted(request: Request) -> Response:
        host = request.host.rsplit(":", 1)[0]
        with lock:
            running[host] += 1
            most[host] = max(most[host], running[host])
            most["all"] = max(most["all"], running.total())
        try:
            wave.wait()
        finally:
            with lock:
                running[host] -= 1
        return Response(_rss(request.path.strip("/.xml")), content_type="application/rss+xml")

    for n in range(3):
        server.expect_request(f"/feed-{n}.xml").respond_with_handler(counted)
    _add_feeds(runtime, [_url(server, host, f"/feed-{n}.xml") for host in ("localhost", "127.0.0.1") for n in range(3)])

    report = run_round(runtime, every_feed=True)

    assert report.errors == [] and len(report.polled) == 6
    assert (most["all"], most["localhost"], most["127.0.0.1"]) == (3, 2, 2)


PAGE = (Path(__file__).resolve().parents[1] / "fixtures" / "pipeline" / "article-tanf.html").read_text()


def _feed_of_pages(server: HTTPServer, runtime: Runtime, count: int) -> list[str]:
    """A feed listing pages /page-0 ... on 127.0.0.1 (their handlers are the test's); their URLs in feed order."""
    links = [_url(server, "127.0.0.1", f"/page-{n}") for n in range(count)]
    items = "".join(f"<item><title>Page {n}</title><link>{link}</link></item>" for n, link in enumerate(links))
    server.expect_request("/pages.xml").respond_with_data(
        f"<rss version='2.0'><channel><title>pages</title>{items}</channel></rss>", content_type="application/rss+xml"
    )
    _add_feeds(runtime, [_url(server, "127.0.0.1", "/pages.xml")])
    return links


def test_the_next_page_is_fetched_while_the_one_before_is_still_on_its_way_and_articles_keep_feed_order(
    server: HTTPServer, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Page 0 answers only once page 1 was asked for (or after 10 s): fetched one after another, page 1 is
    asked for after page 0's article is stored, so page 0 would wait in vain."""
    runtime = _runtime(sqlite_url, monkeypatch, fetch_pages="true")
    asked_for_page_1 = threading.Event()
    page_1_asked_first: list[bool] = []

    def page_0(_: Request) -> Response:
        page_1_asked_first.append(asked_for_page_1.wait(10))
        return Response(PAGE, content_type="text/html")

    def page_1(_: Request) -> Response:
        asked_for_page_1.set()
        return Response(PAGE, content_type="text/html")

    server.expect_request("/page-0").respond_with_handler(page_0)
    server.expect_request("/page-1").respond_with_handler(page_1)
    server.expect_request("/page-2").respond_with_data(PAGE, content_type="text/html")
    links = _feed_of_pages(server, runtime, 3)

    report = run_round(runtime, every_feed=True)

    assert page_1_asked_first == [True]
    assert report.errors == [] and report.warnings == []
    assert [article.source for article in report.articles] == links


@pytest.mark.parametrize(("fetch_ahead", "per_host"), [("4", "2"), ("2", "4")])
def test_pages_fetched_ahead_stay_within_the_bound_overall_and_per_host(
    server: HTTPServer, sqlite_url: str, monkeypatch: pytest.MonkeyPatch, fetch_ahead: str, per_host: str
) -> None:
    """Four pages of one host, fetched two at once: by the host's bound, or by the overall one. Each request
    stays a second, or until a third request runs beside it: within the bound that never happens."""
    runtime = _runtime(sqlite_url, monkeypatch, fetch_pages="true", fetch_ahead=fetch_ahead, poll_per_host=per_host)
    changed = threading.Condition()
    running, most = 0, 0

    def counted(_: Request) -> Response:
        nonlocal running, most
        with changed:
            running += 1
            most = max(most, running)
            changed.notify_all()
            changed.wait_for(lambda: running > 2, timeout=1)
            running -= 1
        return Response(PAGE, content_type="text/html")

    for n in range(4):
        server.expect_request(f"/page-{n}").respond_with_handler(counted)
    links = _feed_of_pages(server, runtime, 4)

    report = run_round(runtime, every_feed=True)

    assert report.errors == [] and [article.source for article in report.articles] == links
    assert most == 2
