"""Seed hits by email end to end, hourly digests, and a rule's quiet window."""

from __future__ import annotations

import email
from datetime import timedelta
from email.policy import default
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import select

from newswatch.storage.db import session_scope
from newswatch.storage.models import Alert
from newswatch.worker.alerting import deliver_due
from newswatch.worker.runtime import Runtime, get_runtime, reset_runtime
from newswatch.worker.scanning import scan
from tests.conftest import Mailbox

SEED = Path(__file__).resolve().parents[2] / "seeds" / "000_dcd6abdc8038f5e6.txt"
TITLE = "Recapture of Iraq-Syria border point heralds new regional reality"


def _runtime(monkeypatch: pytest.MonkeyPatch, **env: str) -> Runtime:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    reset_runtime()
    runtime = get_runtime()
    runtime.migrate()
    return runtime


def _subjects(mailbox: Mailbox) -> list[str]:
    return sorted(email.message_from_bytes(raw, policy=default)["Subject"].strip() for raw in mailbox.messages)


def _rewind(runtime: Runtime, by: timedelta) -> None:
    """Let time pass for the outbox: alerts were created, and are due, `by` earlier."""
    with session_scope(runtime.settings.database_url) as session:
        for alert in session.exec(select(Alert)):
            assert alert.created_at is not None and alert.next_attempt_at is not None
            session.execute(
                update(Alert)
                .where(Alert.id == alert.id)
                .values(created_at=alert.created_at - by, next_attempt_at=alert.next_attempt_at - by)
            )


def test_each_seed_hit_arrives_as_an_email(smtp_server: tuple[str, Mailbox], monkeypatch: pytest.MonkeyPatch) -> None:
    url, mailbox = smtp_server
    runtime = _runtime(
        monkeypatch,
        NEWSWATCH_SMTP_URL=url,
        NEWSWATCH_EMAIL_FROM="nw@example.org",
        NEWSWATCH_EMAIL_TO="desk@example.org",
        NEWSWATCH_DEFAULT_CHANNELS="email",
    )
    list(scan(runtime, [str(SEED)]))
    assert {d.outcome for d in deliver_due(runtime)} == {"sent"}
    assert _subjects(mailbox) == [
        f"[newswatch] {rule}: {TITLE}" for rule in ("airstrikes", "border-crossings", "commanders")
    ]


def test_an_hourly_digest_waits_for_the_hour_then_sends_one_email(
    smtp_server: tuple[str, Mailbox], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url, mailbox = smtp_server
    channels = tmp_path / "channels.yaml"
    channels.write_text(
        "channels:\n  desk: {kind: email, url_env: DESK_SMTP, to: [desk@example.org], "
        "sender: nw@example.org, mode: hourly}\n"
    )
    runtime = _runtime(
        monkeypatch, DESK_SMTP=url, NEWSWATCH_CHANNELS_FILE=str(channels), NEWSWATCH_DEFAULT_CHANNELS="desk"
    )
    list(scan(runtime, [str(SEED)]))
    assert {d.outcome for d in deliver_due(runtime)} == {"deferred"}
    assert mailbox.messages == []

    _rewind(runtime, timedelta(hours=2))
    outcomes = [d for d in deliver_due(runtime) if d.outcome != "skipped"]  # the rest went with the first

    assert [(d.outcome, len(d.batch)) for d in outcomes] == [("sent", 3)]
    assert _subjects(mailbox) == ["[newswatch] digest: 3 alerts (airstrikes, border-crossings, commanders)"]


def test_a_quiet_window_holds_a_rules_next_alerts_until_it_has_passed(
    smtp_server: tuple[str, Mailbox], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url, mailbox = smtp_server
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - name: airstrikes\n    query: airstrike\n    realert: 1h\n")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    stories = {  # three different stories: near-copies would be one story and alert once
        "first": "An airstrike hit a weapons depot near the border on Monday, a monitor said.",
        "second": "Officials reported that an airstrike destroyed a bridge over the river late on Tuesday night.",
        "third": "Witnesses described an airstrike on a convoy of fuel trucks heading north along the desert road.",
    }
    for day, text in stories.items():
        (inbox / f"{day}.txt").write_text(f"The {day} strike\n\n{text}\n")
    runtime = _runtime(
        monkeypatch,
        NEWSWATCH_RULES=str(rules),
        NEWSWATCH_SMTP_URL=url,
        NEWSWATCH_EMAIL_FROM="nw@example.org",
        NEWSWATCH_EMAIL_TO="desk@example.org",
        NEWSWATCH_DEFAULT_CHANNELS="email",
    )
    list(scan(runtime, [str(inbox / "first.txt")]))
    deliver_due(runtime)
    list(scan(runtime, [str(inbox / "second.txt"), str(inbox / "third.txt")]))
    assert deliver_due(runtime) == []
    assert _subjects(mailbox) == ["[newswatch] airstrikes: The first strike"]

    _rewind(runtime, timedelta(minutes=61))
    outcomes = [d for d in deliver_due(runtime) if d.outcome != "skipped"]

    assert [(d.outcome, len(d.batch)) for d in outcomes] == [("sent", 2)]
    assert _subjects(mailbox) == [
        "[newswatch] airstrikes: The first strike",
        "[newswatch] digest: 2 alerts (airstrikes)",
    ]
    with session_scope(runtime.settings.database_url) as session:
        assert {a.status for a in session.exec(select(Alert))} == {"sent"}


def test_an_immediate_channel_sends_one_email_per_alert(
    smtp_server: tuple[str, Mailbox], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url, mailbox = smtp_server
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.txt").write_text("Depot hit\n\nAn airstrike hit a weapons depot near the border on Monday.\n")
    (inbox / "b.txt").write_text("Bridge down\n\nOfficials said an airstrike destroyed the only river bridge.\n")
    runtime = _runtime(
        monkeypatch,
        NEWSWATCH_SMTP_URL=url,
        NEWSWATCH_EMAIL_FROM="nw@example.org",
        NEWSWATCH_EMAIL_TO="desk@example.org",
        NEWSWATCH_DEFAULT_CHANNELS="email",
    )
    list(scan(runtime, [str(inbox)]))
    assert [d.outcome for d in deliver_due(runtime)] == ["sent", "sent"]
    assert _subjects(mailbox) == ["[newswatch] airstrikes: Bridge down", "[newswatch] airstrikes: Depot hit"]
