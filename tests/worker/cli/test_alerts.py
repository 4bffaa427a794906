"""`newswatch alerts`: test a channel, list failures, retry them once the channel is fixed."""

from __future__ import annotations

import email
import os
from datetime import timedelta
from email.policy import default
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import update

from newswatch.storage.db import session_scope
from newswatch.storage.models import Alert, utcnow
from newswatch.worker.runtime import reset_runtime
from tests.conftest import Mailbox

SEED = Path(__file__).resolve().parents[3] / "seeds" / "000_dcd6abdc8038f5e6.txt"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "rules"


def _newswatch(*args: str) -> Result:
    from newswatch.worker.cli import main

    reset_runtime()
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _mail_env(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("NEWSWATCH_SMTP_URL", url)
    monkeypatch.setenv("NEWSWATCH_EMAIL_FROM", "nw@example.org")
    monkeypatch.setenv("NEWSWATCH_EMAIL_TO", "desk@example.org")
    monkeypatch.setenv("NEWSWATCH_DEFAULT_CHANNELS", "email")


def test_alerts_test_sends_a_sample(smtp_server: tuple[str, Mailbox], monkeypatch: pytest.MonkeyPatch) -> None:
    url, mailbox = smtp_server
    _mail_env(monkeypatch, url)
    result = _newswatch("alerts", "test", "email")
    assert result.exit_code == 0, result.output
    (raw,) = mailbox.messages
    assert email.message_from_bytes(raw, policy=default)["Subject"].strip().startswith("[newswatch] sample-rule:")
    assert _newswatch("alerts", "test", "pager").exit_code != 0


def test_failed_alerts_are_listed_and_retried_once_the_channel_works(
    smtp_server: tuple[str, Mailbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, mailbox = smtp_server
    _mail_env(monkeypatch, url)
    mailbox.refuse.add("desk@example.org")
    assert (
        _newswatch(
            "scan", str(SEED), str(FIXTURES / "border-report.txt"), str(FIXTURES / "commander-profile.txt")
        ).exit_code
        == 0
    )
    failed = _newswatch("alerts", "list", "--status", "failed")
    assert failed.stdout.count("failed") == 6 and "recipients refused" in failed.stdout

    mailbox.refuse.clear()
    with session_scope(os.environ["NEWSWATCH_DATABASE_URL"]) as session:  # the fix took the desk ten minutes
        session.execute(update(Alert).values(created_at=utcnow() - timedelta(minutes=10)))
    retried = _newswatch("alerts", "retry")
    assert "requeued 6 alert(s)" in retried.stdout
    # Each goes out as the single alert it was, not gathered with the same rule's others into a digest.
    subjects = [email.message_from_bytes(raw, policy=default)["Subject"] for raw in mailbox.messages]
    assert len(subjects) == 6 and not any("digest" in subject for subject in subjects)
    assert _newswatch("alerts", "list", "--status", "failed").stdout.strip() == "no alerts with status failed"


def test_an_unreachable_channel_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch, closed_port: int) -> None:
    _mail_env(monkeypatch, f"smtp://127.0.0.1:{closed_port}")
    result = _newswatch("alerts", "test", "email")
    assert result.exit_code == 1
    assert "unable to reach 127.0.0.1" in result.output
