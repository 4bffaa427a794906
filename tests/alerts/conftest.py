"""Alert fixtures: a real SMTP server on loopback (aiosmtpd) and sample messages."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from alerts.message import AlertMessage, SourceRef
from worker.rules import Snippet


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Mailbox:
    """What the SMTP server received; recipients in `refuse` are rejected with 550."""

    messages: list[bytes] = field(default_factory=list)
    envelopes: list[Any] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content)
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[tuple[str, Mailbox]]:
    """A real SMTP server on 127.0.0.1; yields its smtp:// URL and its mailbox."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", mailbox
    finally:
        controller.stop()


def sample(
    title: str = "US airstrike hits convoy near Tanf", rule: str = "airstrikes", key: str = "k1"
) -> AlertMessage:
    text = "On June 6, a US airstrike on a position held by the Syrian army in Tanf drew a line."
    start = text.index("airstrike")
    return AlertMessage(
        key=key, rule=rule, severity="high", title=title, url="http://127.0.0.1/news/tanf", source="Desert Dispatch",
        published=datetime(2017, 6, 6, 17, 5, tzinfo=UTC),
        snippets=(Snippet(text, ((start, start + 9),)),), matched=("airstrike",),
        other_sources=(SourceRef("http://127.0.0.1/copy", "Wire Service", "Strike near Tanf"),),
    )
