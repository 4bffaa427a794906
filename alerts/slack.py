"""Slack through an incoming webhook, as Block Kit (https://api.slack.com/reference/block-kit).

Article text is untrusted: only `&`, `<` and `>` are escaped in mrkdwn (which also defuses `<!channel>`),
titles go in `plain_text`. Limits: header text 150 characters, section text 3,000, 50 blocks a message.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from itertools import groupby
from typing import Any

import httpx
from pydantic import SecretStr

from newswatch.alerts.errors import AlertError
from newswatch.alerts.message import AlertMessage, Excerpt
from newswatch.alerts.outbound import post, retry_after
from newswatch.alerts.settings import ChannelSettings

LOGGER = logging.getLogger(__name__)

HEADER_LIMIT = 150
TEXT_LIMIT = 3000
BLOCK_LIMIT = 50


def escape(text: str) -> str:
    """Slack mrkdwn escaping (https://api.slack.com/reference/surfaces/formatting#escaping)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _link(url: str | None, label: str) -> str:
    if not url or not url.startswith(("http://", "https://")):
        return escape(label)
    return f"<{escape(url)}|{escape(label).replace('|', '¦')}>"


def _marked(excerpt: Excerpt) -> str:
    return "".join(f"*{escape(piece)}*" if mark else escape(piece) for piece, mark in excerpt.pieces())


def alert_blocks(message: AlertMessage) -> list[dict[str, Any]]:
    """The blocks of one alert: header, rule and link, the marked snippets, then where and when."""
    quoted = "\n".join(f"> {_marked(s)}" for s in message.snippets[:5])
    body = f"*{escape(message.rule)}* ({escape(message.severity)}): {_link(message.url, message.title)}"
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _cut(f"{message.rule}: {message.title}", HEADER_LIMIT)},
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": _cut(body, TEXT_LIMIT)}},
    ]
    if quoted:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut(quoted, TEXT_LIMIT)}})
    context = [escape(message.source)]
    if message.published:
        context.append(f"{message.published:%Y-%m-%d %H:%M} UTC")
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _cut(" · ".join(context), 300)}]})
    if message.other_sources:
        others = ", ".join(_link(s.url, s.site or s.title) for s in message.other_sources)
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": _cut(f"Also reported by: {others}", 300)}]}
        )
    return blocks


def digest_blocks(messages: Sequence[AlertMessage]) -> list[dict[str, Any]]:
    """A digest: one header, then one section per rule listing its articles (within Slack's limits)."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"newswatch digest: {len(messages)} alerts"}}
    ]
    for rule, group in groupby(sorted(messages, key=lambda m: m.rule), key=lambda m: m.rule):
        lines = [f"• {_link(m.url, m.title)} ({escape(m.source)})" for m in group]
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _cut(f"*{escape(rule)}*\n" + "\n".join(lines), TEXT_LIMIT)},
            }
        )
        if len(blocks) >= BLOCK_LIMIT:
            break
    return blocks


class SlackSettings(ChannelSettings):
    """An incoming webhook URL (a secret)."""

    url: SecretStr
    timeout: int = 10


class SlackChannel:
    """Posts to one incoming webhook through the worker's guarded client; the URL is a secret and never
    appears in errors or logs."""

    def __init__(self, name: str, settings: SlackSettings, http: httpx.Client) -> None:
        self.name = name
        self.http = http
        self.mode = settings.mode
        self._url = settings.url.get_secret_value()
        self._timeout = settings.timeout

    def send(self, messages: Sequence[AlertMessage]) -> None:
        if len(messages) == 1:
            blocks, text = alert_blocks(messages[0]), f"{messages[0].rule}: {messages[0].title}"
        else:
            blocks, text = digest_blocks(messages), f"newswatch digest: {len(messages)} alerts"
        # One POST, no retry of its own (a retry after a connection error can post twice): delivery retries.
        content = json.dumps({"text": _cut(text, TEXT_LIMIT), "blocks": blocks[:BLOCK_LIMIT]}).encode("utf-8")
        headers = {"Content-Type": "application/json;charset=utf-8"}
        response = post(
            self.http, self._url, channel=self.name, content=content, headers=headers, timeout=self._timeout
        )
        status, body = response.status_code, response.text.strip()
        if status == 200 and body == "ok":
            return
        if status == 429:
            delay = retry_after(response)
            raise AlertError(f"{self.name}: rate limited: status=429", retry_after=30.0 if delay is None else delay)
        if status >= 500 or status in (408,):
            raise AlertError(f"{self.name}: unable to send alert: status={status}")
        # 400 invalid_payload, 403 action_prohibited, 404 no_service / 410 channel_is_archived: the
        # webhook will not start working by itself (https://api.slack.com/messaging/webhooks#handling_errors).
        raise AlertError(f"{self.name}: unable to send alert: status={status} {body[:100]}", permanent=True)
