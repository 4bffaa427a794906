"""All settings of the worker in one typed place, read from `NEWSWATCH_*` environment variables.

Read once per process (`get_settings()`) and passed down. Channel settings (SMTP, Slack, webhook,
apprise) belong to their channel kinds in `alerts.channels`; storage and alerts take plain values, so
this is the one place that knows the environment. Relative paths are resolved against the directory the
command runs in, and `newswatch config` shows them resolved.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, PositiveFloat, PositiveInt, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from newswatch.storage.errors import ConfigError

ENV_PREFIX = "NEWSWATCH_"
CommaList = Annotated[list[str], NoDecode]
"""A list written in the environment as `a,b,c`."""


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, which containers and `taskset` narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - platforms without affinity (macOS)
        return os.cpu_count() or 1


class Settings(BaseSettings):
    """Every worker setting; `newswatch config` prints them (with the channels') as they take effect."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    database_url: str = "sqlite:///newswatch.db"
    """SQLAlchemy URL; a relative SQLite path is made absolute against the working directory."""
    broker_url: str | None = None
    """Redis URL; without it everything runs embedded in one process."""
    rules: Path = Path("seeds/rules.yaml")

    # Outbound HTTP (feeds and pages).
    user_agent: str = "newswatch/0.1 (news monitoring; +https://github.com/newswatch/newswatch)"
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    fetch_deadline: float = 30.0
    """Whole-request deadline in seconds: httpx's read timeout is per chunk only."""
    max_feed_bytes: int = 10_000_000
    max_page_bytes: int = 5_000_000
    allow_hosts: CommaList | None = None
    """Hosts outbound HTTP may reach though their address is not public (loopback, a private network):
    names or IPs, optionally `host:port`, comma separated. Every other address must be public."""
    contact_url: str | None = None
    """A page or mailto: URL where site owners reach whoever runs this install, named in the User-Agent."""
    default_interval: int = 900
    """Seconds between two polls of a feed added without `--interval`."""
    min_interval: PositiveInt | None = None
    """Seconds: a feed that always has new items is polled more often, down to this (unset: its interval)."""
    max_interval: PositiveInt | None = None
    """Seconds: a feed that rarely has new items is polled less often, up to this (unset: its interval)."""
    feed_pause_after: PositiveInt = 10
    """Failed polls in a row (each backing off exponentially) after which a feed is paused and reported
    through the alert channels; `newswatch feeds resume` brings it back."""
    poll_concurrency: PositiveInt = 8
    """Feeds the embedded runner polls at once (a dead feed then costs a round one timeout, not one each)."""
    poll_per_host: PositiveInt = 2
    """Of those, at most this many to one host: politeness to sites with many feeds (and as many of the pages
    fetched ahead)."""
    fetch_ahead: PositiveInt = 4
    """Pages the embedded runner fetches ahead, in threads, while it extracts and stores the article before."""
    extract_processes: PositiveInt = Field(default_factory=usable_cores)
    """Processes the embedded runner extracts pages in (trafilatura), while its own thread stores them in
    order; 1: extracted in the runner's own process. Default: the cores this process may use."""
    extract_timeout: PositiveFloat = 60.0
    """Seconds an extraction in a process may take before the process is killed and the entry's error
    recorded (the sweep hands it on again later)."""
    host_concurrency: PositiveInt | None = None
    """Requests at once to one host, counted across every worker (through Redis) or in the embedded process."""
    host_per_minute: PositiveInt | None = None
    """Requests a minute to one host, counted the same way."""
    host_wait: float = 30.0
    """Seconds a request waits for its host's limits before it fails as a transient error (tried again later)."""
    fetch_pages: bool = True
    """Fetch each entry's page; off, the feed entry's own title and summary are the article."""
    robots_txt: bool = True
    """Fetch only the pages a site's robots.txt allows (others are stored from their feed entry's text)."""
    robots_ttl: PositiveInt = 3600
    """Seconds a site's robots.txt is kept before it is fetched again."""
    retry_attempts: int = 3
    """Tries of a feed poll or a page fetch that fails with a timeout or a 5xx, in both runners."""
    retry_base: float = 10.0
    """Seconds before the second try; doubling (with jitter) for each later one."""
    entry_retry_after: float = 300.0
    """Seconds after which a feed entry not yet stored is handed on again by the sweep (lost, crashed)."""
    entry_max_attempts: int = 5
    """Hand-ons of one entry before it is marked failed (`newswatch entries retry` brings it back)."""

    # Alerts.
    default_channels: CommaList | None = None
    """Channels for rules without an `alert:` list; unset: the console and every channel set up in the
    environment."""
    channels_file: Path | None = None
    alert_max_attempts: int = 12
    alert_retry_base: float = 10.0
    """Seconds before the first retry of a failed alert; doubles each attempt (with jitter) up to 15 minutes."""

    # Celery.
    task_soft_time_limit: int = 120
    task_time_limit: int = 180
    visibility_timeout: int = 300
    """Seconds before Redis hands an unacknowledged task (its worker died) to another worker."""

    # HTTP API and web page (`newswatch api`).
    api_tokens: SecretStr | None = None
    """Bearer tokens the API accepts, comma separated (checked by `worker.api.access`); without any, the API
    serves loopback only."""

    # Operations.
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    """Port of the worker's Prometheus metrics (`/metrics`, all interfaces); unset, no metrics are served."""
    log_format: Literal["auto", "json", "text"] = "auto"
    """`json`: one JSON object a line; `text`: for people; `auto`: text on a terminal, JSON otherwise."""

    @field_validator("default_channels", "allow_hosts", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()] or None
        return value

    @field_validator("allow_hosts")
    @classmethod
    def _hosts(cls, value: list[str] | None) -> list[str] | None:
        if not value:
            return value
        from newswatch.worker.ingest.addresses import AllowList  # the outbound guard's, loaded when a host is set

        AllowList.parse(value)  # a ValueError naming the entry that is no host
        return value

    @field_validator("rules", "channels_file")
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        return value.expanduser().absolute() if value is not None else None

    @field_validator("database_url")
    @classmethod
    def _absolute_sqlite(cls, value: str) -> str:
        prefix = "sqlite:///"
        path = value[len(prefix) :] if value.startswith(prefix) else None
        if not path or path.startswith("/") or path.startswith(":memory:") or path.startswith("file:"):
            return value
        return prefix + str(Path(path).expanduser().absolute())


def load_settings() -> Settings:
    """Settings from the environment; a bad value is a `ConfigError` naming its variable."""
    try:
        return Settings()
    except ValidationError as exc:
        error = exc.errors()[0]
        variable = ENV_PREFIX + "_".join(str(part) for part in error["loc"][:1]).upper()
        raise ConfigError(f"config: {variable}: {error['msg']} (got {error.get('input')!r})") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return load_settings()


SECRET_MASK = "**********"


def masked_url(url: str) -> str:
    """A URL with its password replaced, safe to print."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:{SECRET_MASK}@{host}" if ":" in credentials else url


def effective_settings(settings: Settings) -> dict[str, object]:
    """Every setting as it takes effect, by environment variable, with passwords masked."""
    shown: dict[str, object] = {}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if name in ("database_url", "broker_url") and isinstance(value, str):
            value = masked_url(value)
        if isinstance(value, SecretStr):
            value = SECRET_MASK
        shown[f"{ENV_PREFIX}{name.upper()}"] = str(value) if isinstance(value, Path) else value
    return shown
