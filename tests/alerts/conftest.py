"""Alert fixtures: sample messages and the HTTP client channels are built with (the SMTP server is in
tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from newswatch.alerts.message import AlertMessage, Excerpt, SourceRef
from newswatch.worker.config import load_settings
from newswatch.worker.ingest.fetch import http_client
from newswatch.worker.runtime import Runtime


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """The worker's guarded client, as the runtime hands it to channels (the tests' loopback hosts allowed)."""
    with http_client(load_settings()) as client:
        yield client


def send_as_configured(channel: str, messages: list[AlertMessage]) -> None:
    """Send through `channel` as every runner builds it from the environment (with the runtime's client)."""
    runtime = Runtime(load_settings())
    try:
        runtime.channels[channel].send(messages)
    finally:
        runtime.client.close()


def sample(
    title: str = "US airstrike hits convoy near Tanf", rule: str = "airstrikes", key: str = "k1"
) -> AlertMessage:
    text = "On June 6, a US airstrike on a position held by the Syrian army in Tanf drew a line."
    start = text.index("airstrike")
    return AlertMessage(
        key=key,
        rule=rule,
        severity="high",
        title=title,
        url="http://127.0.0.1/news/tanf",
        source="Desert Dispatch",
        published=datetime(2017, 6, 6, 17, 5, tzinfo=UTC),
        snippets=(Excerpt(text, ((start, start + 9),)),),
        matched=("airstrike",),
        other_sources=(SourceRef("http://127.0.0.1/copy", "Wire Service", "Strike near Tanf"),),
    )
