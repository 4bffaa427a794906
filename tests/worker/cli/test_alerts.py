"""`newswatch alerts`: test a channel, list failures, retry them once the channel is fixed."""

from __future__ import annotations

import email
from email.policy import default
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from newswatch.worker.runtime import reset_runtime
from tests.conftest import Mailbox

SEED = Path(__file__).resolve().parents[3] / "seeds" / "000_dcd6abdc8038f5e6.txt"


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
    assert _newswatch("scan", str(SEED)).exit_code == 0
    failed = _newswatch("alerts", "list", "--status", "failed")
    assert failed.stdout.count("failed") == 3 and "recipients refused" in failed.stdout

    mailbox.refuse.clear()
    retried = _newswatch("alerts", "retry")
    assert "requeued 3 alert(s)" in retried.stdout
    assert len(mailbox.messages) == 3
    assert _newswatch("alerts", "list", "--status", "failed").stdout.strip() == "no alerts with status failed"


def test_an_unreachable_channel_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch, closed_port: int) -> None:
    _mail_env(monkeypatch, f"smtp://127.0.0.1:{closed_port}")
    result = _newswatch("alerts", "test", "email")
    assert result.exit_code == 1
    assert "unable to reach 127.0.0.1" in result.output
