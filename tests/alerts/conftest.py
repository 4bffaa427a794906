"""Alert fixtures: sample messages (the SMTP server is in tests/conftest.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from newswatch.alerts.message import AlertMessage, Excerpt, SourceRef


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
