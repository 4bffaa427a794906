"""What a process needs to run the pipeline, built once per process: settings, HTTP client, rules, channels."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import httpx
import redis

if TYPE_CHECKING:
    from alerts import Channel

from storage.schema import upgrade
from worker.config import Settings, get_settings
from worker.errors import RuleError
from worker.fetch import http_client
from worker.rules import RuleCache, RuleSet

LOGGER = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Per-process resources; the rule set is re-read when its file changes, without a restart."""

    settings: Settings
    pid: int = field(default_factory=os.getpid)

    @cached_property
    def client(self) -> httpx.Client:
        return http_client(self.settings)

    @cached_property
    def redis(self) -> redis.Redis:
        """The broker's Redis, for counters Celery does not keep (see worker.tasks)."""
        return redis.Redis.from_url(self.settings.broker_url or "redis://127.0.0.1:6379/0")

    @cached_property
    def rule_cache(self) -> RuleCache:
        return RuleCache(self.settings.rules)

    @cached_property
    def channels(self) -> dict[str, Channel]:
        # Imported on first use: channel libraries (apprise, slack_sdk) are slow to import and most
        # commands never send.
        from alerts.channels import build_channels

        return build_channels(self.settings)

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
        """Bring the database schema up to date (idempotent)."""
        upgrade(self.settings.database_url)


_RUNTIME: Runtime | None = None


def get_runtime() -> Runtime:
    """This process's runtime (a forked child builds its own)."""
    global _RUNTIME
    if _RUNTIME is None or _RUNTIME.pid != os.getpid():
        _RUNTIME = Runtime(get_settings())
    return _RUNTIME


def reset_runtime() -> None:
    """Drop the cached runtime and settings (after the environment changed, e.g. between test databases)."""
    global _RUNTIME
    if _RUNTIME is not None and "client" in _RUNTIME.__dict__:
        _RUNTIME.client.close()
    _RUNTIME = None
    get_settings.cache_clear()
