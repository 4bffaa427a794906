"""Named channels: the registry, channels from the environment and from a channels file, validated at once."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from newswatch.alerts.channels import CHANNEL_KINDS, build_channels, default_channel_names
from newswatch.storage.errors import ConfigError

COMPLETE = {
    "NEWSWATCH_SMTP_URL": "smtp://127.0.0.1:2525",
    "NEWSWATCH_EMAIL_FROM": "nw@example.org",
    "NEWSWATCH_EMAIL_TO": "a@example.org, b@example.org",
    "NEWSWATCH_SLACK_WEBHOOK_URL": "http://127.0.0.1:9/hook",
    "NEWSWATCH_WEBHOOK_URL": "http://127.0.0.1:9/h",
    "NEWSWATCH_APPRISE_URLS": "json://127.0.0.1:9/notify",
}


def test_every_kind_has_a_settings_model_that_forbids_unknown_options() -> None:
    for kind, spec in CHANNEL_KINDS.items():
        assert spec.settings.model_config.get("extra") == "forbid", kind
        assert set(spec.env) <= set(spec.settings.model_fields), kind


def test_console_always_exists_and_the_environment_adds_the_others(http: httpx.Client) -> None:
    channels = build_channels(http=http, environ=COMPLETE)
    assert set(channels) == {"console", "email", "slack", "webhook", "apprise"}
    assert all(channel.mode == "immediate" for channel in channels.values())
    assert set(build_channels(http=http, environ={})) == {"console"}


def test_channels_complete_in_the_environment_are_default_channels_unless_the_setting_says_otherwise(
    http: httpx.Client,
) -> None:
    channels = build_channels(http=http, environ=COMPLETE)
    assert default_channel_names(channels, None) == ["console", "email", "slack", "webhook", "apprise"]
    assert default_channel_names(channels, ["slack"]) == ["slack"]
    only_console = build_channels(http=http, environ={})
    assert default_channel_names(only_console, None) == ["console"]


def test_a_file_channel_is_not_a_default_channel(tmp_path: Path, http: httpx.Client) -> None:
    path = tmp_path / "channels.yaml"
    path.write_text("channels:\n  ops-slack: {kind: slack, url_env: OPS}\n")
    channels = build_channels(http=http, channels_file=path, environ={"OPS": "http://127.0.0.1:9/ops"})
    assert default_channel_names(channels, None) == ["console"]


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"NEWSWATCH_SMTP_URL": "smtp://127.0.0.1:2525", "NEWSWATCH_EMAIL_FROM": "nw@example.org"},
            "email in the environment: NEWSWATCH_EMAIL_TO is not set",
        ),
        (
            {"NEWSWATCH_SMTP_URL": "http://127.0.0.1", "NEWSWATCH_EMAIL_FROM": "a@b", "NEWSWATCH_EMAIL_TO": "c@d"},
            "NEWSWATCH_SMTP_URL: .*smtp://host",
        ),
        ({"NEWSWATCH_WEBHOOK_SECRET": "s3cret"}, "webhook in the environment: NEWSWATCH_WEBHOOK_URL is not set"),
    ],
)
def test_a_half_configured_channel_is_an_error_naming_the_variable(
    environ: dict[str, str], message: str, http: httpx.Client
) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        build_channels(http=http, environ=environ)
    assert "s3cret" not in str(caught.value)


def test_a_channels_file_names_more_channels_with_secrets_from_the_environment(
    tmp_path: Path, http: httpx.Client
) -> None:
    environ = {"OPS_SLACK_URL": "http://127.0.0.1:9/ops", "DESK_SMTP_URL": "smtp://127.0.0.1:2525"}
    path = tmp_path / "channels.yaml"
    path.write_text(
        "channels:\n  ops-slack: {kind: slack, url_env: OPS_SLACK_URL, mode: hourly}\n"
        "  desk-mail: {kind: email, url_env: DESK_SMTP_URL, to: [desk@example.org], "
        "sender: nw@example.org, mode: daily}\n"
    )
    channels = build_channels(http=http, channels_file=path, environ=environ)
    assert (channels["ops-slack"].mode, channels["desk-mail"].mode) == ("hourly", "daily")


def test_a_file_channel_takes_what_it_leaves_out_from_its_kinds_variables(tmp_path: Path, http: httpx.Client) -> None:
    path = tmp_path / "channels.yaml"
    path.write_text("channels:\n  desk-mail: {kind: email, to: [desk@example.org], mode: daily}\n")
    channels = build_channels(http=http, channels_file=path, environ={**COMPLETE})
    assert channels["desk-mail"].to == ["desk@example.org"]  # type: ignore[attr-defined]
    assert channels["desk-mail"].sender == "nw@example.org"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("channels:\n  ops: {kind: slack, url_env: NOT_SET_ANYWHERE}\n", "ops in .*NOT_SET_ANYWHERE is not set"),
        ("channels:\n  ops: {kind: pager, url_env: X}\n", "ops: unknown kind 'pager'"),
        ("channels:\n  ops: {kind: slack, url: 'http://secret'}\n", r"channels.ops.url: a secret; .*`url_env`"),
        ("channels:\n  ops: {kind: slack, mode: weekly, url_env: X}\n", "channels.ops.mode"),
        ("channels:\n  ops: {kind: slack, url_env: X, colour: red}\n", "channels.ops.colour: Extra inputs"),
        ("channels:\n  ops: {kind: email, url_env: X}\n", "channels.ops.sender: Field required"),
    ],
)
def test_mistakes_name_the_file_and_the_channel(tmp_path: Path, text: str, message: str, http: httpx.Client) -> None:
    path = tmp_path / "channels.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as caught:
        build_channels(http=http, channels_file=path, environ={"X": "smtp://127.0.0.1:9"})
    assert "http://secret" not in str(caught.value)


def test_a_default_channel_that_is_not_configured_is_an_error(http: httpx.Client) -> None:
    with pytest.raises(ConfigError, match="default channel 'slack' is not configured"):
        build_channels(http=http, default_channels=["slack"], environ={})
