"""Alert channels: one module each, one verb (`send`), one error (`AlertError`), one registry (below).

A channel receives one message (an alert) or several (a digest, grouped by rule) and either returns or
raises `worker.errors.AlertError(message, permanent=..., retry_after=...)`; the only retry policy is in
`alerts.delivery`. Channels are named in configuration (`alerts.channels.build_channels`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from alerts.message import AlertMessage


class Channel(Protocol):
    """Something that delivers alerts: immediately, or as an hourly or daily digest (`mode`)."""

    name: str
    mode: str

    def send(self, messages: Sequence[AlertMessage]) -> None: ...


def _console(**options: object) -> Channel:
    from alerts.console import ConsoleChannel

    return ConsoleChannel(**options)  # type: ignore[arg-type]


def _slack(**options: object) -> Channel:
    from alerts.slack import SlackChannel

    return SlackChannel(**options)  # type: ignore[arg-type]


def _email(**options: object) -> Channel:
    from alerts.email import EmailChannel

    return EmailChannel(**options)  # type: ignore[arg-type]


def _webhook(**options: object) -> Channel:
    from alerts.webhook import WebhookChannel

    return WebhookChannel(**options)  # type: ignore[arg-type]


def _apprise(**options: object) -> Channel:
    from alerts.apprise_channel import AppriseChannel

    return AppriseChannel(**options)  # type: ignore[arg-type]


# Channel modules are imported on first use: their libraries are slow to import and most runs need one.
CHANNEL_KINDS: dict[str, Callable[..., Channel]] = {
    "console": _console,
    "email": _email,
    "slack": _slack,
    "webhook": _webhook,
    "apprise": _apprise,
}
"""Every kind of channel a configuration may name, by kind."""
