"""Channels by name: the registry of kinds, and the named channels a configuration asks for.

A kind is a settings model (pydantic, `extra="forbid"`) and a channel class built from it; adding a kind
is one module and one line in `CHANNEL_KINDS`. Every channel has one verb, `send(messages)`, which returns
or raises `AlertError` (the retry policy is `alerts.delivery`'s alone).

Where channels come from:
- `console`, always.
- One channel per kind whose environment variables are set (`email` from NEWSWATCH_SMTP_URL,
  NEWSWATCH_EMAIL_FROM and NEWSWATCH_EMAIL_TO, ...). Setting some of a kind's variables but not all is
  a mistake, reported when a process starts, not at the first alert.
- A channels file (NEWSWATCH_CHANNELS_FILE) names more, each with a `kind`, a `mode` (immediate, hourly,
  daily) and its options; secrets only by environment variable name (`url_env`, `secret_env`). Options a
  file leaves out come from the kind's environment variables.

        channels:
          ops-slack: {kind: slack, url_env: OPS_SLACK_WEBHOOK, mode: hourly}
          desk-mail: {kind: email, to: [desk@example.org], mode: daily}

Rules without an `alert:` list use the default channels: NEWSWATCH_DEFAULT_CHANNELS when set, else
`console` plus every channel configured from the environment.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
import yaml
from pydantic import BaseModel, SecretStr, ValidationError

from newswatch.alerts.apprise_channel import AppriseChannel, AppriseSettings
from newswatch.alerts.console import ConsoleChannel, ConsoleSettings
from newswatch.alerts.email import EmailChannel, EmailSettings
from newswatch.alerts.message import AlertMessage
from newswatch.alerts.slack import SlackChannel, SlackSettings
from newswatch.alerts.webhook import WebhookChannel, WebhookSettings
from newswatch.storage.errors import ConfigError


class Channel(Protocol):
    """Something that delivers alerts: immediately, or as an hourly or daily digest (`mode`)."""

    @property
    def name(self) -> str: ...

    @property
    def mode(self) -> str: ...

    def send(self, messages: Sequence[AlertMessage]) -> None: ...


@dataclass(frozen=True)
class ChannelKind:
    """A kind of channel: its settings, how to build it, and the variables of its built-in channel."""

    settings: type[BaseModel]
    build: Callable[..., Channel]
    """(name, settings), and the HTTP client for a kind that speaks HTTP."""
    env: Mapping[str, str]
    """Settings field -> environment variable, for the channel named after the kind."""
    http: bool = False
    """Sends through the worker's guarded HTTP client (see `alerts.outbound`)."""


CHANNEL_KINDS: dict[str, ChannelKind] = {
    "console": ChannelKind(ConsoleSettings, ConsoleChannel, {}),
    "email": ChannelKind(
        EmailSettings,
        EmailChannel,
        {"url": "NEWSWATCH_SMTP_URL", "sender": "NEWSWATCH_EMAIL_FROM", "to": "NEWSWATCH_EMAIL_TO"},
    ),
    "slack": ChannelKind(SlackSettings, SlackChannel, {"url": "NEWSWATCH_SLACK_WEBHOOK_URL"}, http=True),
    "webhook": ChannelKind(
        WebhookSettings,
        WebhookChannel,
        {"url": "NEWSWATCH_WEBHOOK_URL", "secret": "NEWSWATCH_WEBHOOK_SECRET"},
        http=True,
    ),
    "apprise": ChannelKind(AppriseSettings, AppriseChannel, {"urls": "NEWSWATCH_APPRISE_URLS"}),
}
"""Every kind of channel a configuration may name."""


def build_channels(
    *,
    http: httpx.Client,
    default_channels: Sequence[str] | None = None,
    channels_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Channel]:
    """Every configured channel by name; a misconfigured one is a `ConfigError` naming it (never its secret).

    `http` is the worker's guarded client, the only way the Slack and webhook channels reach the network.
    """
    env = os.environ if environ is None else environ
    channels: dict[str, Channel] = {"console": ConsoleChannel("console", ConsoleSettings())}
    for kind, spec in CHANNEL_KINDS.items():
        values = _from_env(spec, env)
        if values:
            channels[kind] = _build(kind, kind, values, http=http)
    if channels_file is not None:
        channels.update(_read_channels_file(channels_file, env, http=http))
    for name in default_channels or ():
        if name not in channels:
            raise ConfigError(
                f"channels: default channel {name!r} is not configured (configured: {', '.join(sorted(channels))})"
            )
    return channels


def default_channel_names(channels: Mapping[str, Channel], default_channels: Sequence[str] | None) -> list[str]:
    """The channels for rules without an `alert:` list: the setting, else console and the environment's."""
    if default_channels:
        return list(default_channels)
    return [name for name in channels if name == "console" or name in CHANNEL_KINDS]


def channel_variables(environ: Mapping[str, str] | None = None) -> dict[str, tuple[str, bool]]:
    """Each channel variable set in the environment: (value, is_secret), for `newswatch config` to mask."""
    env = os.environ if environ is None else environ
    return {
        variable: (env[variable], _is_secret(kind, field))
        for kind, spec in CHANNEL_KINDS.items()
        for field, variable in spec.env.items()
        if variable in env
    }


def _from_env(spec: ChannelKind, env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field, variable in spec.env.items():
        if env.get(variable):
            values[field] = _split(env[variable]) if _is_list(spec, field) else env[variable]
    return values


def _is_list(spec: ChannelKind, field: str) -> bool:
    return "list" in str(spec.settings.model_fields[field].annotation)


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _build(name: str, kind: str, values: dict[str, Any], *, http: httpx.Client, where: str | None = None) -> Channel:
    """The channel from its settings; `where` is the channels file entry it came from (else the environment)."""
    spec = CHANNEL_KINDS[kind]
    try:
        settings = spec.settings.model_validate(values)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"])
        variable = spec.env.get(field)
        if where is not None:
            what = f"{where}.{field}: {error['msg']}"
        elif variable and error["type"] == "missing":
            what = f"{name} in the environment: {variable} is not set"
        else:
            what = f"{name} in the environment: {variable or field}: {error['msg']}"
        raise ConfigError(f"channels: {what}") from None
    return spec.build(name, settings, http) if spec.http else spec.build(name, settings)


def _read_channels_file(path: Path, env: Mapping[str, str], *, http: httpx.Client) -> dict[str, Channel]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"channels: cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"channels: invalid YAML in {path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("channels"), dict) or set(data) != {"channels"}:
        raise ConfigError(f"channels: {path}: expected one mapping `channels:` of names to channels")
    channels: dict[str, Channel] = {}
    for name, options in data["channels"].items():
        if not isinstance(options, dict):
            raise ConfigError(f"channels: {path}: channels.{name}: expected a mapping with a `kind`")
        options = dict(options)
        kind = options.pop("kind", None)
        if kind not in CHANNEL_KINDS:
            known = ", ".join(sorted(CHANNEL_KINDS))
            raise ConfigError(f"channels: {path}: {name}: unknown kind {kind!r} (known: {known})")
        values = _from_env(CHANNEL_KINDS[kind], env)
        for key, value in options.items():
            if key.endswith("_env"):  # a secret, named by the variable that holds it
                if not env.get(str(value)):
                    raise ConfigError(f"channels: {name} in {path}: environment variable {value} is not set")
                values[key.removesuffix("_env")] = env[str(value)]
            else:
                if key in CHANNEL_KINDS[kind].settings.model_fields and _is_secret(kind, key):
                    raise ConfigError(
                        f"channels: {path}: channels.{name}.{key}: a secret; name its variable with `{key}_env`"
                    )
                values[key] = value
        channels[name] = _build(name, kind, values, http=http, where=f"{path}: channels.{name}")
    return channels


def _is_secret(kind: str, field: str) -> bool:
    annotation = CHANNEL_KINDS[kind].settings.model_fields[field].annotation
    return annotation in (SecretStr, SecretStr | None)
