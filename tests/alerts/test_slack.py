"""Slack alerts through a local stand-in for the incoming webhook."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from newswatch.alerts.errors import AlertError
from newswatch.alerts.slack import BLOCK_LIMIT, HEADER_LIMIT, TEXT_LIMIT, SlackChannel, SlackSettings

from .conftest import sample, send_as_configured


def _capture(
    httpserver: HTTPServer, status: int = 200, body: str = "ok", headers: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []

    def handler(request: Request) -> Response:
        received.append(json.loads(request.get_data()))
        return Response(body, status=status, headers=headers or {})

    httpserver.expect_request("/services/T000/B000/XXXX", method="POST").respond_with_handler(handler)
    return received


def _check_block_kit(payload: dict[str, Any]) -> None:
    blocks = payload["blocks"]
    assert 0 < len(blocks) <= BLOCK_LIMIT
    for block in blocks:
        assert block["type"] in {"header", "section", "context", "divider"}
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text" and len(block["text"]["text"]) <= HEADER_LIMIT
        if block["type"] == "section":
            assert block["text"]["type"] == "mrkdwn" and len(block["text"]["text"]) <= TEXT_LIMIT
        if block["type"] == "context":
            assert all(element["type"] in {"mrkdwn", "plain_text"} for element in block["elements"])


def test_it_posts_valid_block_kit_with_the_evidence(httpserver: HTTPServer, http: httpx.Client) -> None:
    received = _capture(httpserver)
    SlackChannel("slack", SlackSettings(url=httpserver.url_for("/services/T000/B000/XXXX")), http).send([sample()])
    (payload,) = received
    _check_block_kit(payload)
    body = json.dumps(payload)
    assert "US *airstrike* on a position" in body
    assert "<http://127.0.0.1/news/tanf|US airstrike hits convoy near Tanf>" in body
    assert payload["text"] == "airstrikes: US airstrike hits convoy near Tanf"


def test_article_text_is_escaped_for_slack(httpserver: HTTPServer, http: httpx.Client) -> None:
    received = _capture(httpserver)
    hostile = sample(title="<script>alert(1)</script> & <!channel> strike")
    SlackChannel("slack", SlackSettings(url=httpserver.url_for("/services/T000/B000/XXXX")), http).send([hostile])
    section = received[0]["blocks"][1]["text"]["text"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;!channel&gt;" in section
    assert "<!channel>" not in section and "<script>" not in section


def test_a_long_digest_stays_within_slack_limits(httpserver: HTTPServer, http: httpx.Client) -> None:
    received = _capture(httpserver)
    messages = [sample(title="x" * 400, rule=f"rule-{i}", key=str(i)) for i in range(80)]
    SlackChannel("slack", SlackSettings(url=httpserver.url_for("/services/T000/B000/XXXX")), http).send(messages)
    _check_block_kit(received[0])


@pytest.mark.parametrize(
    ("status", "headers", "permanent", "retry_after"),
    [
        (500, {}, False, None),
        (429, {"Retry-After": "7"}, False, 7.0),
        (404, {}, True, None),
        (410, {}, True, None),
    ],
)
def test_failures_say_whether_and_when_to_retry(
    httpserver: HTTPServer,
    http: httpx.Client,
    status: int,
    headers: dict[str, str],
    permanent: bool,
    retry_after: float | None,
) -> None:
    _capture(httpserver, status=status, body="no_service", headers=headers)
    url = httpserver.url_for("/services/T000/B000/XXXX")
    with pytest.raises(AlertError) as caught:
        SlackChannel("slack", SlackSettings(url=url), http).send([sample()])
    assert caught.value.permanent is permanent
    assert caught.value.retry_after == retry_after
    assert "XXXX" not in str(caught.value)  # the webhook URL is a secret


def test_a_webhook_on_a_host_not_listed_is_refused_for_good_and_never_reached(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    received = _capture(httpserver)
    monkeypatch.setenv("NEWSWATCH_ALLOW_HOSTS", "")
    monkeypatch.setenv("NEWSWATCH_SLACK_WEBHOOK_URL", httpserver.url_for("/services/T000/B000/XXXX"))
    with pytest.raises(AlertError) as caught:
        send_as_configured("slack", [sample()])
    assert caught.value.permanent and received == []
    assert str(caught.value) == (
        f"slack: refused localhost:{httpserver.port}: loopback name localhost; "
        "list the host in NEWSWATCH_ALLOW_HOSTS to allow it"
    )
