"""Named channels from the environment and from a channels file; secrets only by variable name."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts.channels import build_channels
from worker.config import Settings
from worker.errors import ConfigError


def test_console_always_exists_and_the_environment_adds_the_others() -> None:
    settings = Settings(smtp_url="smtp://127.0.0.1:2525", email_from="nw@example.org", email_to=["a@example.org"],
                        slack_webhook_url="http://127.0.0.1:9/hook", webhook_url="http://127.0.0.1:9/h",
                        apprise_urls="json://127.0.0.1:9/notify")
    channels = build_channels(settings)
    assert set(channels) == {"console", "email", "slack", "webhook", "apprise"}
    assert all(channel.mode == "immediate" for channel in channels.values())
    assert set(build_channels(Settings())) == {"console"}


def test_a_channels_file_names_more_channels_with_secrets_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPS_SLACK_URL", "http://127.0.0.1:9/ops")
    monkeypatch.setenv("DESK_SMTP_URL", "smtp://127.0.0.1:2525")
    path = tmp_path / "channels.yaml"
    path.write_text("channels:\n  ops-slack: {kind: slack, url_env: OPS_SLACK_URL, mode: hourly}\n"
                    "  desk-mail: {kind: email, url_env: DESK_SMTP_URL, to: [desk@example.org], "
                    "sender: nw@example.org, mode: daily}\n")
    channels = build_channels(Settings(channels_file=path))
    assert (channels["ops-slack"].mode, channels["desk-mail"].mode) == ("hourly", "daily")


@pytest.mark.parametrize(("text", "message"), [
    ("channels:\n  ops: {kind: slack, url_env: NOT_SET_ANYWHERE}\n", "ops in .*NOT_SET_ANYWHERE is not set"),
    ("channels:\n  ops: {kind: pager, url_env: X}\n", "ops: unknown kind 'pager'"),
    ("channels:\n  ops: {kind: slack, url: 'http://secret'}\n", "channels.ops.url: Extra inputs"),
    ("channels:\n  ops: {kind: slack, mode: weekly, url_env: X}\n", "channels.ops.mode"),
])
def test_mistakes_name_the_file_and_the_channel(tmp_path: Path, text: str, message: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X", "http://127.0.0.1:9/x")
    path = tmp_path / "channels.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as caught:
        build_channels(Settings(channels_file=path))
    assert "http://secret" not in str(caught.value)


def test_a_default_channel_that_is_not_configured_is_an_error() -> None:
    with pytest.raises(ConfigError, match="default channel 'slack' is not configured"):
        build_channels(Settings(default_channels=["slack"]))
