"""Named channels from configuration: built-in names from `NEWSWATCH_*` settings, more from a channels file.

Built-in: `console` (always), `email` (NEWSWATCH_SMTP_URL), `slack` (NEWSWATCH_SLACK_WEBHOOK_URL), `webhook`
(NEWSWATCH_WEBHOOK_URL), `apprise` (NEWSWATCH_APPRISE_URLS). A channels file (NEWSWATCH_CHANNELS_FILE)
names more, each with a `kind`, a `mode` (immediate, hourly, daily) and its secret by environment variable
name only, e.g.

    channels:
      ops-slack: {kind: slack, url_env: OPS_SLACK_WEBHOOK, mode: hourly}
      desk-mail: {kind: email, to: [desk@example.org], mode: daily}
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alerts import CHANNEL_KINDS, Channel
from worker.config import Settings
from worker.errors import ConfigError

Mode = Literal["immediate", "hourly", "daily"]


class ChannelSpec(BaseModel):
    """One channel of a channels file."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    mode: Mode = "immediate"
    url_env: str | None = None
    """Name of the environment variable holding the channel's URL (webhook, SMTP or apprise URL)."""
    secret_env: str | None = None
    to: list[str] = Field(default_factory=list)
    sender: str | None = None


class ChannelsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channels: dict[str, ChannelSpec]


def build_channels(settings: Settings) -> dict[str, Channel]:
    """Every configured channel by name; a misconfigured one is a `ConfigError` naming it (never its secret)."""
    specs: dict[str, tuple[str, dict[str, object]]] = {"console": ("console", {})}
    if settings.smtp_url:
        specs["email"] = ("email", {"url": settings.smtp_url.get_secret_value(), "sender": settings.email_from,
                                    "to": settings.email_to})
    if settings.slack_webhook_url:
        specs["slack"] = ("slack", {"url": settings.slack_webhook_url.get_secret_value()})
    if settings.webhook_url:
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        specs["webhook"] = ("webhook", {"url": settings.webhook_url.get_secret_value(), "secret": secret})
    if settings.apprise_urls:
        specs["apprise"] = ("apprise", {"urls": settings.apprise_urls.get_secret_value()})
    if settings.channels_file:
        specs.update(_read_channels_file(settings.channels_file, settings))
    channels = {}
    for name, (kind, options) in specs.items():
        factory = CHANNEL_KINDS.get(kind)
        if factory is None:
            known = ", ".join(sorted(CHANNEL_KINDS))
            raise ConfigError(f"channels: {name}: unknown kind {kind!r} (known: {known})")
        channels[name] = factory(name=name, **options)
    for name in settings.default_channels:
        if name not in channels:
            raise ConfigError(f"channels: default channel {name!r} is not configured "
                              f"(configured: {', '.join(sorted(channels))})")
    return channels


def _read_channels_file(path: Path, settings: Settings) -> dict[str, tuple[str, dict[str, object]]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        parsed = ChannelsFile.model_validate(data)
    except OSError as exc:
        raise ConfigError(f"channels: cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"channels: invalid YAML in {path}: {exc}") from None
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise ConfigError(f"channels: {path}: {where}: {error['msg']}") from None
    result: dict[str, tuple[str, dict[str, object]]] = {}
    for name, spec in parsed.channels.items():
        options: dict[str, object] = {"mode": spec.mode}
        url = _env(spec.url_env, name, path) if spec.url_env else None
        if spec.kind in ("slack", "webhook"):
            options["url"] = url or _missing(name, path, "url_env")
            if spec.kind == "webhook":
                options["secret"] = _env(spec.secret_env, name, path) if spec.secret_env else None
        elif spec.kind == "email":
            smtp = url or (settings.smtp_url.get_secret_value() if settings.smtp_url else None)
            options.update(url=smtp or _missing(name, path, "url_env"), to=spec.to or settings.email_to,
                           sender=spec.sender or settings.email_from)
        elif spec.kind == "apprise":
            options["urls"] = url or _missing(name, path, "url_env")
        result[name] = (spec.kind, options)
    return result


def _env(variable: str | None, name: str, path: Path) -> str:
    value = os.environ.get(variable or "")
    if not value:
        raise ConfigError(f"channels: {name} in {path}: environment variable {variable} is not set")
    return value


def _missing(name: str, path: Path, key: str) -> str:
    raise ConfigError(f"channels: {name} in {path}: `{key}` is required for this kind")
