"""The distributed pipeline on a real Celery worker process and the machine's Redis, on SQLite and PostgreSQL.

A feed served on loopback lists article pages; polling it through the workers stores each article once with
its hits; a second poll is answered 304 and stores nothing new; two polls of the same feed at once store
nothing twice.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from celery.result import AsyncResult
from pytest_httpserver import HTTPServer
from sqlmodel import func, select
from werkzeug import Request, Response

from storage.db import session_scope
from storage.feeds import add_feed, find_feed
from storage.models import Alert, Hit, StoredArticle
from storage.schema import upgrade

PAGES = Path(__file__).parent.parent / "fixtures" / "pipeline"
ETAG = '"feed-v1"'


def _rss(server: HTTPServer, paths: list[str]) -> str:
    items = "".join(
        f"<item><title>Item {p}</title><link>{server.url_for(p)}?utm_source=rss</link>"
        f"<guid>{server.url_for(p)}</guid><description>Summary of {p}</description>"
        "<pubDate>Sat, 10 Jun 2017 09:00:00 GMT</pubDate></item>"
        for p in paths
    )
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Desert Dispatch</title>'
            f"<link>{server.url_for('/')}</link><description>News</description>{items}</channel></rss>")


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


def _run_once(database_url: str, redis_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NEWSWATCH_DATABASE_URL": database_url, "NEWSWATCH_BROKER_URL": redis_url}
    return subprocess.run([sys.executable, "-m", "worker", "run", "--once", "--timeout", "90"], env=env,
                          cwd=cwd, capture_output=True, text=True, timeout=120)


def _counts(database_url: str) -> dict[str, Any]:
    with session_scope(database_url) as session:
        return {
            "articles": session.exec(select(func.count()).select_from(StoredArticle)).one(),
            "hits": sorted((h.article_id, h.rule) for h in session.exec(select(Hit))),
            "alerts": session.exec(select(func.count()).select_from(Alert)).one(),
            "urls": sorted(a.url_key or "" for a in session.exec(select(StoredArticle))),
        }


def _wait_for_tree(results: list[AsyncResult], timeout: float = 90.0) -> None:
    """Wait for the poll tasks, then for every ingest and delivery task they spawned."""
    from worker.celery_app import app

    deadline = time.monotonic() + timeout
    pending = list(results)
    while pending:
        result = pending.pop()
        value = result.get(timeout=max(1.0, deadline - time.monotonic()))
        children = value if isinstance(value, list) else value.get("deliveries", []) if isinstance(value, dict) else []
        pending += [AsyncResult(task_id, app=app) for task_id in children]


@pytest.mark.usefixtures("celery_worker_process")
def test_a_feed_polled_through_the_workers_stores_each_article_once_and_a_second_poll_gets_304(
    database_url: str, redis_url: str, httpserver: HTTPServer, tmp_path: Path
) -> None:
    _serve_feed(httpserver, "/feed.xml", _rss(httpserver, ["/news/border", "/news/tanf"]))
    _serve_pages(httpserver)
    upgrade(database_url)
    with session_scope(database_url) as session:
        add_feed(session, httpserver.url_for("/feed.xml"), interval_seconds=900)

    first = _run_once(database_url, redis_url, tmp_path)
    assert first.returncode == 0, first.stderr
    stored = _counts(database_url)
    assert stored["articles"] == 2
    assert stored["urls"] == [httpserver.url_for("/news/border"), httpserver.url_for("/news/tanf")]
    rules_hit = {rule for _, rule in stored["hits"]}
    assert rules_hit == {"border-crossings", "commanders", "airstrikes"}
    assert stored["alerts"] == len(stored["hits"])  # one console alert per hit

    # A redelivered delivery task for an alert already sent sends nothing.
    from worker import tasks

    with session_scope(database_url) as session:
        sent = [a.id for a in session.exec(select(Alert)) if a.status == "sent"]
    assert len(sent) == stored["alerts"]
    assert tasks.deliver_alert.delay(sent[0]).get(timeout=30) == "skipped"

    second = _run_once(database_url, redis_url, tmp_path)
    assert second.returncode == 0, second.stderr
    assert _counts(database_url) == stored
    with session_scope(database_url) as session:
        feed = find_feed(session, httpserver.url_for("/feed.xml"))
        assert feed is not None and feed.last_status == 304
    conditional = [r for r, _ in httpserver.log if r.path == "/feed.xml" and r.headers.get("If-None-Match") == ETAG]
    assert len(conditional) == 1


@pytest.mark.usefixtures("celery_worker_process")
def test_the_same_feed_polled_by_two_tasks_at_once_stores_nothing_twice(
    database_url: str, redis_url: str, httpserver: HTTPServer
) -> None:
    from worker import tasks

    # No ETag and a slow feed: both polls really fetch and parse, side by side.
    body = _rss(httpserver, ["/news/border", "/news/tanf"])

    def slow_feed(_: Request) -> Response:
        time.sleep(0.5)
        return Response(body, content_type="application/rss+xml")

    httpserver.expect_request("/slow-feed.xml").respond_with_handler(slow_feed)
    _serve_pages(httpserver)
    upgrade(database_url)
    with session_scope(database_url) as session:
        feed, _ = add_feed(session, httpserver.url_for("/slow-feed.xml"), interval_seconds=900)
        feed_id = feed.id

    _wait_for_tree([tasks.poll_feed.delay(feed_id), tasks.poll_feed.delay(feed_id)])

    stored = _counts(database_url)
    assert stored["articles"] == 2
    assert len(stored["hits"]) == len(set(stored["hits"]))
    assert {rule for _, rule in stored["hits"]} == {"border-crossings", "commanders", "airstrikes"}
    assert stored["alerts"] == len(stored["hits"])
    feed_requests = [r for r, _ in httpserver.log if r.path == "/slow-feed.xml"]
    assert len(feed_requests) == 2


@pytest.mark.usefixtures("celery_worker_process")
def test_a_page_that_keeps_killing_its_worker_is_skipped(
    database_url: str, redis_url: str, httpserver: HTTPServer
) -> None:
    import redis

    from worker import tasks

    httpserver.expect_request("/news/poison").respond_with_data("<html>never read</html>", content_type="text/html")
    upgrade(database_url)
    url = httpserver.url_for("/news/poison")
    entry = {"url": url, "title": "US airstrike near Tanf", "summary": "A US airstrike hit a convoy near Tanf.",
             "published": None, "entry_id": None, "author": None}
    # Two earlier starts of this very task ended with their worker killed (as a time limit would).
    redis.Redis.from_url(redis_url).set("newswatch:starts:poison-task", 2)

    result = tasks.ingest_entry.apply_async((None, httpserver.url_for("/feed.xml"), entry), task_id="poison-task")

    assert set(result.get(timeout=30)["hits"]) == {"airstrikes", "border-crossings"}
    assert [r.path for r, _ in httpserver.log] == []  # the page was not fetched again
    with session_scope(database_url) as session:
        (article,) = session.exec(select(StoredArticle))
        assert article.text == "A US airstrike hit a convoy near Tanf."
