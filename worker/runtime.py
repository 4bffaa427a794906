"""What a process needs to run the pipeline, built on first use: settings, HTTP client, rules, channels, Celery.

Nothing here happens at import: a command that never sends an alert never builds a channel, one that never
talks to the broker never builds the Celery app.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from newswatch.storage.errors import ConfigError
from newswatch.worker.config import Settings, get_settings, masked_url
from newswatch.worker.errors import RuleError

if TYPE_CHECKING:
    import httpx
    import redis
    from celery import Celery

    from newswatch.alerts.channels import Channel
    from newswatch.worker.extracting import ExtractionPool
    from newswatch.worker.ingest.hostlimits import HostLimits
    from newswatch.worker.ingest.robots import RobotsCache
    from newswatch.worker.rules import RuleCache, RuleSet

LOGGER = logging.getLogger(__name__)

BROKER_CHECK_TIMEOUT = 3.0
"""Seconds a command waits for the broker at start before it gives up."""


@dataclass
class Runtime:
    """Per-process resources; the rule set is re-read when its file changes, without a restart."""

    settings: Settings
    pid: int = field(default_factory=os.getpid)

    @cached_property
    def client(self) -> httpx.Client:
        from newswatch.worker.ingest.fetch import http_client

        return http_client(self.settings, self.host_limits)

    @cached_property
    def host_limits(self) -> HostLimits | None:
        """Per-host request limits: shared through Redis with a broker, else in this process; None unset."""
        from newswatch.worker.ingest.hostlimits import LocalHostLimits, RedisHostLimits

        at_once, per_minute = self.settings.host_concurrency, self.settings.host_per_minute
        if at_once is None and per_minute is None:
            return None
        if self.settings.broker_url:
            lease = self.settings.fetch_deadline + 10  # a request outlives its deadline by little
            return RedisHostLimits(self.redis, at_once=at_once, per_minute=per_minute, lease=lease)
        return LocalHostLimits(at_once=at_once, per_minute=per_minute)

    @cached_property
    def robots(self) -> RobotsCache | None:
        """robots.txt per site for page fetches (None when NEWSWATCH_ROBOTS_TXT is off)."""
        from newswatch.worker.ingest.robots import RobotsCache

        if not self.settings.robots_txt:
            return None
        return RobotsCache(self.client, ttl=self.settings.robots_ttl, deadline=self.settings.fetch_deadline)

    @cached_property
    def extraction_pool(self) -> ExtractionPool | None:
        """Processes the embedded runner extracts pages in (None: NEWSWATCH_EXTRACT_PROCESSES is 1, in this
        process); they start when the first page comes."""
        if self.settings.extract_processes <= 1:
            return None
        from newswatch.worker.extracting import ExtractionPool

        return ExtractionPool(self.settings.extract_processes, timeout=self.settings.extract_timeout)

    def close_extraction_pool(self) -> None:
        """Stop the extraction processes, if they started: jobs not started are dropped, the running ones
        end first (so that none is reported lost at exit); the next page starts new ones."""
        pool = self.__dict__.pop("extraction_pool", None)
        if pool is not None:
            pool.close()

    @cached_property
    def app(self) -> Celery:
        """The Celery app for the configured broker (a `ConfigError` without one)."""
        from newswatch.worker.celery_app import create_app

        return create_app(self.settings)

    @cached_property
    def redis(self) -> redis.Redis:
        """The broker's Redis, for counters Celery does not keep (see worker.tasks)."""
        import redis

        return redis.Redis.from_url(redis_py_url(self.broker_url))

    @property
    def broker_url(self) -> str:
        if not self.settings.broker_url:
            raise ConfigError("config: NEWSWATCH_BROKER_URL is not set (e.g. redis://127.0.0.1:6379/0)")
        return self.settings.broker_url

    @cached_property
    def rule_cache(self) -> RuleCache:
        from newswatch.worker.rules import RuleCache

        return RuleCache(self.settings.rules, channels=tuple(self.channels))  # `alert:` must name a real channel

    @cached_property
    def channels(self) -> dict[str, Channel]:
        """Every configured channel, validated: a mistake is a `ConfigError` naming the channel."""
        from newswatch.alerts.channels import build_channels

        return build_channels(
            http=self.client, default_channels=self.settings.default_channels, channels_file=self.settings.channels_file
        )

    @cached_property
    def default_channels(self) -> list[str]:
        """Where alerts of rules without an `alert:` list go."""
        from newswatch.alerts.channels import default_channel_names

        return default_channel_names(self.channels, self.settings.default_channels)

    def rules(self) -> RuleSet:
        """The current rule set; an edited file with a mistake is logged and the previous set kept."""
        try:
            return self.rule_cache.get()
        except RuleError as exc:
            current = self.rule_cache.current
            if current is None:
                raise
            LOGGER.error("%s; keeping rule set %s", exc, current.version)
            return current

    def migrate(self) -> None:
        """Open the database and bring its schema up to date (idempotent, one process at a time); a database
        newswatch cannot use is one error naming NEWSWATCH_DATABASE_URL, before anything is stored."""
        from newswatch.storage.db import check_database
        from newswatch.storage.schema import upgrade

        check_database(self.settings.database_url, setting="NEWSWATCH_DATABASE_URL")
        upgrade(self.settings.database_url)

    def check_broker(self) -> None:
        """With a broker set, reach it once within seconds: a wrong URL or a broker that is down stops the
        command in one line before it does anything, rather than after Celery's retries and a traceback."""
        if not self.settings.broker_url:
            return
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        shown = masked_url(self.settings.broker_url)
        try:
            client = redis.Redis.from_url(
                redis_py_url(self.settings.broker_url),
                socket_connect_timeout=BROKER_CHECK_TIMEOUT,
                socket_timeout=BROKER_CHECK_TIMEOUT,
                retry=Retry(NoBackoff(), 0),
            )
        except ValueError as exc:
            raise ConfigError(f"config: NEWSWATCH_BROKER_URL: not a Redis URL: {shown} ({exc})") from None
        try:
            client.ping()
        except (redis.RedisError, OSError) as exc:
            raise ConfigError(f"config: NEWSWATCH_BROKER_URL: cannot reach the broker at {shown}: {exc}") from None
        finally:
            client.close()


def redis_py_url(broker_url: str) -> str:
    """The broker URL as redis-py reads it: kombu's `redis+socket:///path?virtual_host=N` (a unix socket)
    is redis-py's `unix:///path?db=N`; other URLs are the same for both."""
    prefix = "redis+socket://"
    if not broker_url.startswith(prefix):
        return broker_url
    return "unix://" + broker_url[len(prefix) :].replace("virtual_host=", "db=")


_RUNTIME: Runtime | None = None


def get_runtime() -> Runtime:
    """This process's runtime (a forked child builds its own, keeping only its parent's rule cache: compiled
    rules are plain data, and a worker compiles them once before it forks instead of once per child)."""
    global _RUNTIME
    if _RUNTIME is None or _RUNTIME.pid != os.getpid():
        parent, _RUNTIME = _RUNTIME, Runtime(get_settings())
        if parent is not None and "rule_cache" in parent.__dict__ and parent.settings == _RUNTIME.settings:
            _RUNTIME.__dict__["rule_cache"] = parent.rule_cache  # still re-read when the file changes
    return _RUNTIME


def reset_runtime() -> None:
    """Drop the cached runtime and settings (after the environment changed, e.g. between test databases)."""
    global _RUNTIME
    if _RUNTIME is not None and "client" in _RUNTIME.__dict__:
        _RUNTIME.client.close()
    if _RUNTIME is not None:
        _RUNTIME.close_extraction_pool()
    if _RUNTIME is not None and "channels" in _RUNTIME.__dict__:
        for channel in _RUNTIME.channels.values():
            close = getattr(channel, "close", None)  # a channel that keeps connections open (email)
            if close is not None:
                close()
    _RUNTIME = None
    get_settings.cache_clear()


def migrated_runtime() -> Runtime:
    """This process's runtime with its database brought up to date: what every storing command starts with."""
    runtime = get_runtime()
    runtime.migrate()
    return runtime
