"""All settings of the worker in one typed place, read from `NEWSWATCH_*` environment variables.

Read once per process (`get_settings()`) and passed down. Channel settings (SMTP, Slack, webhook,
apprise) belong to their channel kinds in `alerts.channels`; storage and alerts take plain values, so
this is the one place that knows the environment. Relative paths are resolved against the directory the
command runs in, and `newswatch config` shows them resolved.

A plain dataclass read by `settings_values`, not a validation library: every command reads the settings
first, and importing one cost a short command (`feeds list`) a quarter of its start-up.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Literal

from newswatch.storage.errors import ConfigError
from newswatch.worker.settings_values import (
    SECRET_MASK,
    Secret,
    from_environment,
    positive,
    variable,
    within,
)

__all__ = ["SECRET_MASK", "Secret", "Settings", "get_settings", "load_settings", "masked_url"]


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, which containers and `taskset` narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - platforms without affinity (macOS)
        return os.cpu_count() or 1


@dataclass(init=False)
class Settings:
    """Every worker setting; `newswatch config` prints them (with the channels') as they take effect.

    `Settings(**values)` reads the environment, with `values` (typed, or strings as in the environment) over it.
    """

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
    allow_hosts: list[str] | None = None
    """Hosts outbound HTTP may reach though their address is not public (loopback, a private network):
    names or IPs, optionally `host:port`, comma separated. Every other address must be public."""
    contact_url: str | None = None
    """A page or mailto: URL where site owners reach whoever runs this install, named in the User-Agent."""
    default_interval: int = 900
    """Seconds between two polls of a feed added without `--interval`."""
    min_interval: int | None = positive(None)
    """Seconds: a feed that always has new items is polled more often, down to this (unset: its interval)."""
    max_interval: int | None = positive(None)
    """Seconds: a feed that rarely has new items is polled less often, up to this (unset: its interval)."""
    feed_pause_after: int = positive(10)
    """Failed polls in a row (each backing off exponentially) after which a feed is paused and reported
    through the alert channels; `newswatch feeds resume` brings it back."""
    poll_concurrency: int = positive(8)
    """Feeds the embedded runner polls at once (a dead feed then costs a round one timeout, not one each)."""
    poll_per_host: int = positive(2)
    """Of those, at most this many to one host: politeness to sites with many feeds (and as many of the pages
    fetched ahead)."""
    fetch_ahead: int = positive(4)
    """Pages the embedded runner fetches ahead, in threads, while it extracts and stores the article before."""
    extract_processes: int = positive(default_factory=usable_cores)
    """Processes the embedded runner extracts pages in (trafilatura), while its own thread stores them in
    order; 1: extracted in the runner's own process. Default: the cores this process may use."""
    extract_timeout: float = positive(60.0)
    """Seconds an extraction in a process may take before the process is killed and the entry's error
    recorded (the sweep hands it on again later)."""
    host_concurrency: int | None = positive(None)
    """Requests at once to one host, counted across every worker (through Redis) or in the embedded process."""
    host_per_minute: int | None = positive(None)
    """Requests a minute to one host, counted the same way."""
    host_wait: float = 30.0
    """Seconds a request waits for its host's limits before it fails as a transient error (tried again later)."""
    fetch_pages: bool = True
    """Fetch each entry's page; off, the feed entry's own title and summary are the article."""
    robots_txt: bool = True
    """Fetch only the pages a site's robots.txt allows (others are stored from their feed entry's text)."""
    robots_ttl: int = positive(3600)
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
    default_channels: list[str] | None = None
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
    api_tokens: Secret | None = None
    """Bearer tokens the API accepts, comma separated (checked by `worker.api.access`); without any, the API
    serves loopback only."""

    # Operations.
    metrics_port: int | None = within(1, 65535)
    """Port of the worker's Prometheus metrics (`/metrics`, all interfaces); unset, no metrics are served."""
    log_format: Literal["auto", "json", "text"] = "auto"
    """`json`: one JSON object a line; `text`: for people; `auto`: text on a terminal, JSON otherwise."""

    def __init__(self, **values: object) -> None:
        for name, value in from_environment(Settings, values).items():
            setattr(self, name, value)
        self.rules = _absolute(self.rules)
        self.channels_file = _absolute(self.channels_file) if self.channels_file is not None else None
        self.database_url = _absolute_sqlite(self.database_url)
        if self.allow_hosts:
            from newswatch.worker.ingest.addresses import AllowList  # the outbound guard's, loaded when a host is set

            try:
                AllowList.parse(self.allow_hosts)
            except ValueError as exc:
                raise ConfigError(
                    f"config: NEWSWATCH_ALLOW_HOSTS: {exc} (got {','.join(self.allow_hosts)!r})"
                ) from None


def _absolute(path: Path) -> Path:
    return path.expanduser().absolute()


def _absolute_sqlite(url: str) -> str:
    """A relative SQLite path made absolute against the working directory (a later `cd` changes nothing)."""
    prefix = "sqlite:///"
    path = url[len(prefix) :] if url.startswith(prefix) else None
    if not path or path.startswith("/") or path.startswith(":memory:") or path.startswith("file:"):
        return url
    return prefix + str(_absolute(Path(path)))


def load_settings() -> Settings:
    """Settings from the environment; a bad value is a `ConfigError` naming its variable."""
    return Settings()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return load_settings()


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
    for name in (spec.name for spec in fields(Settings)):
        value = getattr(settings, name)
        if name in ("database_url", "broker_url") and isinstance(value, str):
            value = masked_url(value)
        if isinstance(value, Secret):
            value = SECRET_MASK
        shown[variable(name)] = str(value) if isinstance(value, Path) else value
    return shown
