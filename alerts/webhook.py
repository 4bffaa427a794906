"""A JSON webhook for other systems, signed so the receiver can check it came from newswatch.

Body: `{"alerts": [...]}` (one alert, or a digest's alerts). Headers: `X-Newswatch-Signature:
sha256=<hex HMAC-SHA256 of the body with the shared secret>` and `X-Newswatch-Key` (the alert key, for
the receiver to drop a redelivery).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import httpx
from pydantic import SecretStr

from newswatch.alerts.errors import AlertError
from newswatch.alerts.message import AlertMessage
from newswatch.alerts.outbound import post, retry_after
from newswatch.alerts.settings import ChannelSettings


def payload(messages: Sequence[AlertMessage]) -> dict[str, Any]:
    """The JSON body: each alert with its snippets (text and marked spans) and other sources."""
    alerts = []
    for message in messages:
        data = asdict(message)
        data["published"] = message.published.isoformat() if message.published else None
        data["snippets"] = [{"text": s.text, "marks": [list(m) for m in s.marks]} for s in message.snippets]
        alerts.append(data)
    return {"alerts": alerts}


def sign(body: bytes, secret: str) -> str:
    """The signature header value for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookSettings(ChannelSettings):
    """The receiver's URL and the shared signing secret (both secrets)."""

    url: SecretStr
    secret: SecretStr | None = None
    timeout: float = 10.0


class WebhookChannel:
    """POSTs signed JSON to one URL (a secret: never in errors), through the worker's guarded client."""

    def __init__(self, name: str, settings: WebhookSettings, http: httpx.Client) -> None:
        self.name = name
        self.http = http
        self.mode = settings.mode
        self.url = settings.url.get_secret_value()
        self.secret = settings.secret.get_secret_value() if settings.secret else None
        self.timeout = settings.timeout

    def send(self, messages: Sequence[AlertMessage]) -> None:
        body = json.dumps(payload(messages), ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", "X-Newswatch-Key": ",".join(m.key for m in messages)}
        if self.secret:
            headers["X-Newswatch-Signature"] = sign(body, self.secret)
        # An alert sent without an answer may have arrived: X-Newswatch-Key lets the receiver drop a resend.
        response = post(self.http, self.url, channel=self.name, content=body, headers=headers, timeout=self.timeout)
        status = response.status_code
        if status < 300:
            return
        if status == 429:
            raise AlertError(f"{self.name}: rate limited: status=429", retry_after=retry_after(response))
        raise AlertError(
            f"{self.name}: unable to send alert: status={status}",
            permanent=400 <= status < 500 and status not in (408, 425),
        )
