"""The distributed pipeline on a real Celery worker process and the machine's Redis, on SQLite and PostgreSQL.

A feed served on loopback lists article pages; polling it through the workers stores each article once with
its hits; a second poll is answered 304 and stores nothing new; two polls of the same feed at once store
nothing twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import redis
from celery import Celery
from celery.result import AsyncResult
from pytest_httpserver import HTTPServer
from sqlmodel import func, select
from werkzeug import Request, Response

from newswatch.storage.db import session_scope
from newswatch.storage.entries import add_entries
from newswatch.storage.feeds import add_feed, find_feed
from newswatch.storage.models import Alert, Hit, StoredArticle, utcnow
from newswatch.worker.celery_app import create_app
from newswatch.worker.config import Settings
from tests.conftest import WorkerStack

PAGES = Path(__file__).parent.parent / "fixtures" / "pipeline"
ETAG = '"feed-v1"'


def _rss(server: HTTPServer, paths: list[str]) -> str:
    items = "".join(
        f"<item><title>Item {p}</title><link>{server.url_for(p)}?utm_source=rss</link>"
        f"<guid>{server.url_for(p)}</guid><description>Summary of {p}</description>"
        "<pubDate>Sat, 10 Jun 2017 09:00:00 GMT</pubDate></item>"
        for p in paths
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Desert Dispatch</title>'
        f"<link>{server.url_for('/')}</link><description>News</description>{items}</channel></rss>"
    )


def _serve_feed(server: HTTPServer, path: str, body: str) -> None:
    def handler(request: Request) -> Response:
        if request.headers.get("If-None-Match") == ETAG:
            return Response(status=304, headers={"ETag": ETAG})
        return Response(body, content_type="application/rss+xml", headers={"ETag": ETAG})

    server.expect_request(path).respond_with_handler(handler)


def _serve_pages(server: HTTPServer) -> None:
    for name in ("border", "tanf"):
        html = (PAGES / f"article-{name}.html").read_text()
        server.expect_request(f"/news/{name}").respond_with_data(html, content_type="text/html; charset=utf-8")


def _run_once(stack: WorkerStack, cwd: Path, *, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newswatch.worker", "run", "--once", "--timeout", str(timeout)],
        env=stack.env(),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout + 30,
    )


def _app(stack: WorkerStack) -> Celery:
    return create_app(Settings(broker_url=stack.redis_url))


def _counts(database_url: str) -> dict[str, Any]:
    with session_scope(database_url) as session:
        return {
            "articles": session.exec(select(func.count()).select_from(StoredArticle)).one(),
            "hits": sorted((h.article_id, h.rule) for h in session.exec(select(Hit))),
            "alerts": session.exec(select(func.count()).select_from(Alert)).one(),
            "urls": sorted(a.url_key or "" for a in session.exec(select(StoredArticle))),
        }


def _wait_for_tree(app: Celery, results: list[AsyncResult], timeout: float = 90.0) -> None:
    """Wait for the poll tasks, then for every ingest and delivery task they spawned."""
    deadline = time.monotonic() + timeout
    pending = list(results)
    while pending:
        value = pending.pop().get(timeout=max(1.0, deadline - time.monotonic()))
        children = value.get("entries", []) + value.get("deliveries", []) if isinstance(value, dict) else []
        pending += [AsyncResult(task_id, app=app) for task_id in children]


def test_a_feed_polled_through_the_workers_stores_each_article_once_and_a_second_poll_gets_304(
    stack: WorkerStack, httpserver: HTTPServer, tmp_path: Path
) -> None:
    database_url = stack.database_url
    _serve_feed(httpserver, "/feed.xml", _rss(httpserver, ["/news/border", "/news/tanf"]))
    _serve_pages(httpserver)
    with session_scope(database_url) as session:
        add_feed(session, httpserver.url_for("/feed.xml"), interval_seconds=900)

    first = _run_once(stack, tmp_path)
    assert first.returncode == 0, first.stderr
    # The same report as the embedded runner: the feed, each article with its rules, the totals.
    assert f"{httpserver.url_for('/feed.xml')}: fetched, 2 new entries" in first.stdout
    assert "  Militias reach the Syrian-Iraqi border crossing: border-crossings" in first.stdout
    assert "feeds polled: 1, articles: 2 (2 new), new hits: 3, alerts: 3 queued, 3 sent, errors: 0" in first.stdout
    stored = _counts(database_url)
    assert stored["articles"] == 2
    assert stored["urls"] == [httpserver.url_for("/news/border"), httpserver.url_for("/news/tanf")]
    rules_hit = {rule for _, rule in stored["hits"]}
    assert rules_hit == {"border-crossings", "commanders", "airstrikes"}
    assert stored["alerts"] == len(stored["hits"])  # one console alert per hit

    # A redelivered delivery task for an alert already sent sends nothing.
    with session_scope(database_url) as session:
        sent = [a.id for a in session.exec(select(Alert)) if a.status == "sent"]
    assert len(sent) == stored["alerts"]
    redelivered = _app(stack).send_task("newswatch.deliver_alert", args=(sent[0],))
    assert redelivered.get(timeout=30)["outcome"] == "skipped"

    second = _run_once(stack, tmp_path)
    assert second.returncode == 0, second.stderr
    assert _counts(database_url) == stored
    with session_scope(database_url) as session:
        feed = find_feed(session, httpserver.url_for("/feed.xml"))
        assert feed is not None and feed.last_status == 304
    conditional = [r for r, _ in httpserver.log if r.path == "/feed.xml" and r.headers.get("If-None-Match") == ETAG]
    assert len(conditional) == 1


def test_the_same_feed_polled_by_two_tasks_at_once_stores_nothing_twice(
    stack: WorkerStack, httpserver: HTTPServer
) -> None:
    database_url, app = stack.database_url, _app(stack)
    # No ETag and a slow feed: both polls really fetch and parse, side by side.
    body = _rss(httpserver, ["/news/border", "/news/tanf"])

    def slow_feed(_: Request) -> Response:
        time.sleep(0.5)
        return Response(body, content_type="application/rss+xml")

    httpserver.expect_request("/slow-feed.xml").respond_with_handler(slow_feed)
    _serve_pages(httpserver)
    with session_scope(database_url) as session:
        feed, _ = add_feed(session, httpserver.url_for("/slow-feed.xml"), interval_seconds=900)
        feed_id = feed.id

    _wait_for_tree(app, [app.send_task("newswatch.poll_feed", args=(feed_id,)) for _ in range(2)])

    stored = _counts(database_url)
    assert stored["articles"] == 2
    assert len(stored["hits"]) == len(set(stored["hits"]))
    assert {rule for _, rule in stored["hits"]} == {"border-crossings", "commanders", "airstrikes"}
    assert stored["alerts"] == len(stored["hits"])
    feed_requests = [r for r, _ in httpserver.log if r.path == "/slow-feed.xml"]
    assert len(feed_requests) == 2


def test_a_page_that_keeps_killing_its_worker_is_skipped(stack: WorkerStack, httpserver: HTTPServer) -> None:
    """Each fetch of the page kills the prefork child that asked for it (as a crash or a hard time limit
    would); after two such deaths the task uses the feed entry's own text instead of the page."""
    killed: list[int] = []

    def poison(_: Request) -> Response:
        for pid in stack.children():  # the worker's own children: started by this test's worker process
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        return Response("<html>never read</html>", content_type="text/html")

    httpserver.expect_request("/news/poison").respond_with_handler(poison)
    url = httpserver.url_for("/news/poison")
    entry = {
        "url": url,
        "title": "US airstrike near Tanf",
        "summary": "A US airstrike hit a convoy near Tanf.",
        "published": None,
        "entry_id": None,
        "author": None,
    }
    with session_scope(stack.database_url) as session:
        feed, _ = add_feed(session, httpserver.url_for("/feed.xml"), interval_seconds=900)
        assert feed.id is not None
        (entry_id,) = add_entries(session, feed.id, [(url, entry)], due=utcnow())

    result = _app(stack).send_task("newswatch.ingest_entry", args=(entry_id,))

    assert result.get(timeout=90)["article"]["hits"] == ["airstrikes"]
    assert len([r for r, _ in httpserver.log if r.path == "/news/poison"]) == 2  # not fetched a third time
    assert killed and stack.process.poll() is None  # children died; the worker itself lives on
    with session_scope(stack.database_url) as session:
        (article,) = session.exec(select(StoredArticle))
        assert article.text == "A US airstrike hit a convoy near Tanf."


def test_with_a_broker_scan_and_alerts_retry_deliver_on_the_workers(stack: WorkerStack, tmp_path: Path) -> None:
    seeds = str(Path(__file__).resolve().parents[2] / "seeds")

    def newswatch(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "newswatch.worker", *args],
            env=stack.env(),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )

    printed_before = stack.log.read_text().count("[newswatch] ")  # the worker serves the whole module
    scanned = newswatch("scan", seeds)
    assert scanned.returncode == 0, scanned.stderr
    with session_scope(stack.database_url) as session:
        alerts = list(session.exec(select(Alert)))
    assert len(alerts) == 3 and {a.status for a in alerts} == {"sent"}
    assert stack.log.read_text().count("[newswatch] ") == printed_before + 3  # the console printed in the worker

    with session_scope(stack.database_url) as session:
        for alert in alerts:
            alert.status = "failed"
            session.add(alert)
    retried = newswatch("alerts", "retry")
    assert retried.returncode == 0, retried.stderr
    assert "requeued 3 alert(s)" in retried.stdout
    assert sorted(retried.stdout.splitlines()[1:]) == sorted(f"alert {a.id}: sent" for a in alerts)
    assert stack.log.read_text().count("[newswatch] ") == printed_before + 6


def test_posts_on_one_live_page_are_told_apart_on_the_workers_too(stack: WorkerStack, httpserver: HTTPServer) -> None:
    """The workers key feed items with the embedded runner's code: a page given as the feed is read through
    the feed it names, and its nine posts, anchors on one page, are nine articles read from the feed."""
    fixtures = Path(__file__).parent.parent / "fixtures" / "feeds"
    day = "/live/2025-06-10"
    httpserver.expect_request(day).respond_with_data((fixtures / "live-blog-page.html").read_text())
    httpserver.expect_request("/live.xml").respond_with_data(
        (fixtures / "live-blog.xml").read_text().replace("{base}", httpserver.url_for("").rstrip("/"))
    )
    with session_scope(stack.database_url) as session:
        feed, _ = add_feed(session, httpserver.url_for(day), interval_seconds=900)
    app = _app(stack)

    poll = app.send_task("newswatch.poll_feed", args=(feed.id,))
    _wait_for_tree(app, [poll])

    assert poll.get(timeout=10)["discovered"] == httpserver.url_for("/live.xml")
    assert _counts(stack.database_url)["urls"] == sorted(f"{httpserver.url_for(day)}#post-{n}" for n in range(1, 10))
    assert len([r for r, _ in httpserver.log if r.path == day]) == 1  # read for its feed link, never as an article


def test_the_work_a_beat_tick_starts_stores_no_result_in_redis(stack: WorkerStack, httpserver: HTTPServer) -> None:
    _serve_feed(httpserver, "/feed.xml", _rss(httpserver, ["/news/border", "/news/tanf"]))
    _serve_pages(httpserver)
    with session_scope(stack.database_url) as session:
        feed, _ = add_feed(session, httpserver.url_for("/feed.xml"), interval_seconds=900)
    results = redis.Redis.from_url(stack.redis_url)
    earlier = set(results.keys("celery-task-meta-*"))  # other tests' on this worker
    tick = _app(stack).send_task("newswatch.poll_due")  # as beat sends it
    assert tick.get(timeout=30) == [feed.id]

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        with session_scope(stack.database_url) as session:
            statuses = [a.status for a in session.exec(select(Alert))]
        if len(statuses) == 3 and set(statuses) == {"sent"}:
            break
        time.sleep(0.2)
    assert statuses == ["sent"] * 3  # the poll, two pages and three alerts were done
    # Only the tick's own result, which its sender read: none for the poll, the pages or the alerts.
    assert set(results.keys("celery-task-meta-*")) - earlier == {f"celery-task-meta-{tick.id}".encode()}
