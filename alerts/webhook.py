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
    """POSTs signed JSON to one URL (a secret: never in errors)."""

    def __init__(self, name: str, settings: WebhookSettings) -> None:
        self.name = name
        self.mode = settings.mode
        self.url = settings.url.get_secret_value()
        self.secret = settings.secret.get_secret_value() if settings.secret else None
        self.timeout = settings.timeout

    def send(self, messages: Sequence[AlertMessage]) -> None:
        body = json.dumps(payload(messages), ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", "X-Newswatch-Key": ",".join(m.key for m in messages)}
        if self.secret:
            headers["X-Newswatch-Signature"] = sign(body, self.secret)
        try:
            response = httpx.post(self.url, content=body, headers=headers, timeout=self.timeout)
        except (httpx.ReadTimeout, httpx.RemoteProtocolError) as exc:
            # The request went out and no answer came: the receiver may have it (X-Newswatch-Key dedupes).
            raise AlertError(
                f"{self.name}: no answer from the webhook: {type(exc).__name__}", unknown_outcome=True
            ) from None
        except httpx.HTTPError as exc:
            raise AlertError(f"{self.name}: unable to reach the webhook: {type(exc).__name__}") from None
        status = response.status_code
        if status < 300:
            return
        if status == 429:
            retry_after = response.headers.get("Retry-After", "")
            raise AlertError(
                f"{self.name}: rate limited: status=429",
                retry_after=float(retry_after) if retry_after.isdigit() else None,
            )
        raise AlertError(
            f"{self.name}: unable to send alert: status={status}",
            permanent=400 <= status < 500 and status not in (408, 425),
        )
