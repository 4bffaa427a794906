"""`newswatch worker`, `run` and `config` as an operator starts them: mistakes stop them at once, clearly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.conftest import REDIS_URL, Mailbox

ROOT = Path(__file__).resolve().parents[3]


def _newswatch(*args: str) -> Result:
    from newswatch.worker.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_worker_without_a_broker_says_which_variable_to_set() -> None:
    result = _newswatch("worker")
    assert result.exit_code == 1
    assert "NEWSWATCH_BROKER_URL is not set" in result.stderr


def test_a_misconfigured_channel_stops_the_worker_before_it_takes_any_task(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSWATCH_BROKER_URL", REDIS_URL)
    monkeypatch.setenv("NEWSWATCH_SMTP_URL", "smtp://desk:s3cret@127.0.0.1:2525")
    monkeypatch.setenv("NEWSWATCH_EMAIL_FROM", "newswatch@example.org")
    for command in (["worker"], ["run", "--once"], ["scan", str(ROOT / "seeds")]):
        result = _newswatch(*command)
        assert result.exit_code == 1, command
        assert result.stderr.strip() == "error: channels: email in the environment: NEWSWATCH_EMAIL_TO is not set"


def test_channels_set_up_in_the_environment_get_alerts_without_naming_them(
    smtp_server: tuple[str, Mailbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, mailbox = smtp_server
    monkeypatch.setenv("NEWSWATCH_SMTP_URL", url)
    monkeypatch.setenv("NEWSWATCH_EMAIL_FROM", "newswatch@example.org")
    monkeypatch.setenv("NEWSWATCH_EMAIL_TO", "desk@example.org")
    result = _newswatch("scan", str(ROOT / "seeds"))
    assert result.exit_code == 0, result.output
    assert len(mailbox.messages) == 3  # one email per rule that matched the seed, no NEWSWATCH_DEFAULT_CHANNELS


def test_config_shows_the_effective_settings_with_secrets_masked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEWSWATCH_DATABASE_URL")
    monkeypatch.setenv("NEWSWATCH_BROKER_URL", "redis://:brokerpass@127.0.0.1:6379/0")
    monkeypatch.setenv("NEWSWATCH_SLACK_WEBHOOK_URL", "http://127.0.0.1:9/services/T0/B0/SECRET")
    result = _newswatch("config", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["settings"]["NEWSWATCH_DATABASE_URL"] == f"sqlite:///{tmp_path / 'newswatch.db'}"
    assert shown["settings"]["NEWSWATCH_BROKER_URL"] == "redis://:**********@127.0.0.1:6379/0"
    assert shown["settings"]["NEWSWATCH_SLACK_WEBHOOK_URL"] == "**********"
    assert shown["channels"] == ["console", "slack"] and shown["default_channels"] == ["console", "slack"]
    assert "brokerpass" not in result.stdout and "SECRET" not in result.stdout
    text = _newswatch("config").stdout
    assert "NEWSWATCH_RULES" in text and "SECRET" not in text
