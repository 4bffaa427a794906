"""The signed JSON webhook and apprise, against local HTTP servers."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from newswatch.alerts.apprise_channel import AppriseChannel, AppriseSettings
from newswatch.alerts.errors import AlertError
from newswatch.alerts.webhook import WebhookChannel, WebhookSettings
from newswatch.storage.errors import ConfigError

from .conftest import sample, send_as_configured


def test_the_receiver_can_verify_the_signature_and_dedupe_by_key(httpserver: HTTPServer, http: httpx.Client) -> None:
    seen: list[tuple[bytes, dict[str, str]]] = []

    def handler(request: Request) -> Response:
        seen.append((request.get_data(), dict(request.headers)))
        return Response(status=204)

    httpserver.expect_request("/hook", method="POST").respond_with_handler(handler)
    WebhookChannel("webhook", WebhookSettings(url=httpserver.url_for("/hook"), secret="s3cret"), http).send([sample()])
    ((body, headers),) = seen
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["X-Newswatch-Signature"] == expected
    assert headers["X-Newswatch-Key"] == "k1"
    (alert,) = json.loads(body)["alerts"]
    assert (alert["rule"], alert["matched"]) == ("airstrikes", ["airstrike"])
    snippet = alert["snippets"][0]
    ((start, end),) = snippet["marks"]
    assert snippet["text"][start:end] == "airstrike"


@pytest.mark.parametrize(("status", "permanent"), [(500, False), (404, True), (401, True)])
def test_webhook_failures(httpserver: HTTPServer, http: httpx.Client, status: int, permanent: bool) -> None:
    httpserver.expect_request("/hook").respond_with_data("no", status=status)
    with pytest.raises(AlertError, match=f"status={status}") as caught:
        WebhookChannel("webhook", WebhookSettings(url=httpserver.url_for("/hook")), http).send([sample()])
    assert caught.value.permanent is permanent


def test_a_webhook_on_an_address_not_listed_is_refused_for_good_and_never_reached(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    httpserver.expect_request("/hook").respond_with_data("", status=204)
    monkeypatch.setenv("NEWSWATCH_ALLOW_HOSTS", "localhost:1")  # another port
    monkeypatch.setenv("NEWSWATCH_WEBHOOK_URL", f"http://127.0.0.1:{httpserver.port}/hook")
    with pytest.raises(AlertError) as caught:
        send_as_configured("webhook", [sample()])
    assert caught.value.permanent and httpserver.log == []
    assert "webhook: refused 127.0.0.1:" in str(caught.value) and "/hook" not in str(caught.value)


def test_apprise_delivers_through_its_json_service(httpserver: HTTPServer) -> None:
    bodies: list[dict[str, str]] = []

    def handler(request: Request) -> Response:
        bodies.append(json.loads(request.get_data()))
        return Response("{}", content_type="application/json")

    httpserver.expect_request("/notify", method="POST").respond_with_handler(handler)
    AppriseChannel("apprise", AppriseSettings(urls=f"json://127.0.0.1:{httpserver.port}/notify")).send([sample()])
    (body,) = bodies
    assert body["title"] == "[newswatch] airstrikes: US airstrike hits convoy near Tanf"
    assert "[airstrike]" in body["message"]


def test_apprise_failure_is_an_alert_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/notify").respond_with_data("down", status=503)
    with pytest.raises(AlertError, match="apprise"):
        AppriseChannel("apprise", AppriseSettings(urls=f"json://127.0.0.1:{httpserver.port}/notify")).send([sample()])


def test_an_invalid_apprise_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="not valid"):
        AppriseChannel("apprise", AppriseSettings(urls="nosuchservice://token"))
