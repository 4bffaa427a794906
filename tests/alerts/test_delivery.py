"""Delivery end to end: hits from the pipeline reach a Slack webhook served on loopback exactly once,
through outages, rate limits, redelivered tasks and syndicated copies of one story."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlmodel import select
from werkzeug import Request, Response
from werkzeug.serving import make_server

from newswatch.alerts.delivery import deliver
from newswatch.storage.db import session_scope
from newswatch.storage.feeds import add_feed
from newswatch.storage.models import Alert, StoredArticle
from newswatch.worker.alerting import deliver_due
from newswatch.worker.embedded import run_round
from newswatch.worker.runtime import Runtime, get_runtime, reset_runtime
from newswatch.worker.scanning import scan

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "seeds" / "000_dcd6abdc8038f5e6.txt"
PAGES = ROOT / "tests" / "fixtures" / "pipeline"
SEED_RULES = {"border-crossings", "commanders", "airstrikes"}


class SlackStandIn:
    """A webhook that answers from a script of statuses, then 200 "ok"; it remembers what it accepted."""

    def __init__(self, script: list[tuple[int, dict[str, str]]] | None = None) -> None:
        self.script = list(script or [])
        self.accepted: list[dict[str, Any]] = []
        self.calls = 0

    def __call__(self, request: Request) -> Response:
        self.calls += 1
        payload = json.loads(request.get_data())
        if self.script:
            status, headers = self.script.pop(0)
            return Response("failure", status=status, headers=headers)
        self.accepted.append(payload)
        return Response("ok", status=200)

    def rules_accepted(self) -> Counter[str]:
        text = [json.dumps(p) for p in self.accepted]
        return Counter(rule for body in text for rule in SEED_RULES if rule in body)


def _served_slack(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, script: list[tuple[int, dict[str, str]]] | None = None
) -> tuple[SlackStandIn, Runtime]:
    """A Slack stand-in on the test HTTP server, and a runtime whose default channel posts to it."""
    slack = SlackStandIn(script)
    httpserver.expect_request("/hook", method="POST").respond_with_handler(slack)
    return slack, _slack_runtime(monkeypatch, httpserver.url_for("/hook"))


def _slack_runtime(monkeypatch: pytest.MonkeyPatch, webhook: str) -> Runtime:
    monkeypatch.setenv("NEWSWATCH_DEFAULT_CHANNELS", "slack")
    monkeypatch.setenv("NEWSWATCH_SLACK_WEBHOOK_URL", webhook)
    monkeypatch.setenv("NEWSWATCH_ALERT_RETRY_BASE", "0.05")
    reset_runtime()
    runtime = get_runtime()
    runtime.migrate()
    return runtime


def _statuses(runtime: Runtime) -> list[str]:
    with session_scope(runtime.settings.database_url) as session:
        return [a.status for a in session.exec(select(Alert))]


def _deliver_until(runtime: Runtime, done: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"alerts not delivered in time: {_statuses(runtime)}"
        deliver_due(runtime)
        time.sleep(0.05)


def test_an_alert_survives_a_500_and_a_429_and_arrives_exactly_once(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack, runtime = _served_slack(httpserver, monkeypatch, [(500, {}), (429, {"Retry-After": "1"})])

    assert [s.error for s in scan(runtime, [str(SEED)])] == [None]
    first_round = deliver_due(runtime)
    assert sorted(d.outcome for d in first_round) == ["retry", "retry", "sent"]
    assert [d.retry_in for d in first_round if d.error and "429" in d.error] == [1.0]

    _deliver_until(runtime, lambda: _statuses(runtime) == ["sent"] * 3)

    assert slack.rules_accepted() == Counter(dict.fromkeys(SEED_RULES, 1))
    assert slack.calls == 5


def test_an_alert_waits_out_a_webhook_that_is_down_and_arrives_once_it_is_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The port stays bound by this test throughout: refused while not listening, then served on the same socket.
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    port = holder.getsockname()[1]
    runtime = _slack_runtime(monkeypatch, f"http://127.0.0.1:{port}/hook")
    list(scan(runtime, [str(SEED)]))

    outcomes = deliver_due(runtime)
    assert {d.outcome for d in outcomes} == {"retry"}
    assert all(f"127.0.0.1:{port}" not in (d.error or "") for d in outcomes)  # the webhook URL is a secret

    slack = SlackStandIn()
    holder.listen()
    server = make_server("127.0.0.1", port, Request.application(slack), fd=holder.fileno())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        _deliver_until(runtime, lambda: _statuses(runtime) == ["sent"] * 3)
    finally:
        server.shutdown()
        thread.join()
        holder.close()
    assert slack.rules_accepted() == Counter(dict.fromkeys(SEED_RULES, 1))


def test_a_redelivered_or_concurrent_delivery_of_a_sent_alert_sends_nothing(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack, runtime = _served_slack(httpserver, monkeypatch)
    list(scan(runtime, [str(SEED)]))
    with session_scope(runtime.settings.database_url) as session:
        alert_ids = [a.id for a in session.exec(select(Alert)) if a.id is not None]

    def send(alert_id: int) -> str:
        return deliver(alert_id, settings=runtime.settings, channels=runtime.channels).outcome

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(send, alert_ids * 4))
    assert Counter(outcomes) == {"sent": 3, "skipped": 9}
    assert [send(alert_id) for alert_id in alert_ids] == ["skipped"] * 3
    assert slack.calls == 3


def _copy_of_tanf_story(site: str, lead: str) -> str:
    html = (PAGES / "article-tanf.html").read_text()
    html = html.replace("Desert Dispatch", site)
    return html.replace("A US airstrike on Tuesday hit a convoy", lead)


def test_the_same_story_from_three_feeds_gives_one_alert_per_rule_and_channel(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSWATCH_RULES", str(ROOT / "tests" / "fixtures" / "rules" / "engine-rules.yaml"))
    # The round sends the first copy's two alerts at once; the webhook is down for them, so they go out on
    # their retry, after the other copies were stored, and then name those copies too.
    slack, runtime = _served_slack(httpserver, monkeypatch, [(503, {}), (503, {})])
    copies = {
        "wire": ("Wire Service", "A US airstrike on Tuesday hit a convoy"),
        "daily": ("The Daily Courier", "A US air strike on Tuesday struck a convoy"),
        "post": ("Evening Post", "A United States airstrike on Tuesday hit a convoy"),
    }
    with session_scope(runtime.settings.database_url) as session:
        for name, (site, lead) in copies.items():
            httpserver.expect_request(f"/{name}/story").respond_with_data(
                _copy_of_tanf_story(site, lead), content_type="text/html"
            )
            httpserver.expect_request(f"/{name}/rss").respond_with_data(
                f'<?xml version="1.0"?><rss version="2.0"><channel><title>{site}</title><item>'
                f"<title>Strike near Tanf</title><link>{httpserver.url_for(f'/{name}/story')}</link>"
                "</item></channel></rss>",
                content_type="application/rss+xml",
            )
            add_feed(session, httpserver.url_for(f"/{name}/rss"), interval_seconds=900)

    report = run_round(runtime, every_feed=True)
    _deliver_until(runtime, lambda: len(slack.accepted) == 2)

    assert report.errors == []
    with session_scope(runtime.settings.database_url) as session:
        articles = list(session.exec(select(StoredArticle)))
        alerts = list(session.exec(select(Alert)))
    assert len(articles) == 3
    assert len({a.story_id for a in articles}) == 1
    # The Tanf story hits two rules; each alerts once for the story, not once per site.
    assert Counter((a.rule, a.channel) for a in alerts) == {
        ("airstrikes", "slack"): 1,
        ("border-crossings", "slack"): 1,
    }
    assert slack.rules_accepted() == {"airstrikes": 1, "border-crossings": 1}
    for payload in slack.accepted:  # each alert links its article and lists the two other sites
        body = json.dumps(payload)
        assert "Also reported by" in body
        assert all(httpserver.url_for(f"/{name}/story") in body for name in copies)


def test_a_webhook_that_answers_too_late_gets_the_same_key_a_few_times_and_the_row_says_unknown(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The receiver got every POST but answered after the client gave up: not `failed`, `unknown`."""
    keys: list[str] = []

    def slow(request: Request) -> Response:
        keys.append(request.headers["X-Newswatch-Key"])
        time.sleep(0.6)
        return Response(status=204)

    httpserver.expect_request("/slow", method="POST").respond_with_handler(slow)
    channels = tmp_path / "channels.yaml"
    channels.write_text("channels:\n  slowhook: {kind: webhook, url_env: SLOW_HOOK, timeout: 0.3}\n")
    monkeypatch.setenv("SLOW_HOOK", httpserver.url_for("/slow"))
    monkeypatch.setenv("NEWSWATCH_CHANNELS_FILE", str(channels))
    monkeypatch.setenv("NEWSWATCH_DEFAULT_CHANNELS", "slowhook")
    monkeypatch.setenv("NEWSWATCH_ALERT_RETRY_BASE", "0.01")
    reset_runtime()
    runtime = get_runtime()
    runtime.migrate()
    list(scan(runtime, [str(SEED)]))

    _deliver_until(runtime, lambda: _statuses(runtime) == ["unknown"] * 3, timeout=30)

    deadline = time.monotonic() + 10  # the stand-in answers one POST at a time: let it read the last ones
    while len(keys) < 9 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert Counter(keys) == {f"{rule}/{story}/slowhook": 3 for rule, story in _rule_stories(runtime)}
    with session_scope(runtime.settings.database_url) as session:
        assert all(
            "no answer from the webhook: ReadTimeout" in (a.last_error or "") for a in session.exec(select(Alert))
        )


def _rule_stories(runtime: Runtime) -> list[tuple[str, str]]:
    with session_scope(runtime.settings.database_url) as session:
        return [(a.rule, a.story_key) for a in session.exec(select(Alert))]
