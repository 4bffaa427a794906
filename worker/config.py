"""All settings in one typed place, read from `NEWSWATCH_*` environment variables (secrets included)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

CommaList = Annotated[list[str], NoDecode]
"""A list written in the environment as `a,b,c`."""


class Settings(BaseSettings):
    """Read once per process with `get_settings()` and passed down; secrets stay `SecretStr`."""

    model_config = SettingsConfigDict(env_prefix="NEWSWATCH_", extra="ignore")

    database_url: str = "sqlite:///newswatch.db"
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
    default_interval: int = 900
    """Seconds between two polls of a feed added without `--interval`."""
    fetch_pages: bool = True
    """Fetch each entry's page; off, the feed entry's own title and summary are the article."""

    # Alerts. Channels are built from these; see alerts/.
    default_channels: CommaList = Field(default_factory=lambda: ["console"])
    channels_file: Path | None = None
    smtp_url: SecretStr | None = None
    email_from: str | None = None
    email_to: CommaList = Field(default_factory=list)
    slack_webhook_url: SecretStr | None = None
    webhook_url: SecretStr | None = None
    webhook_secret: SecretStr | None = None
    apprise_urls: SecretStr | None = None
    alert_max_attempts: int = 12
    alert_retry_base: float = 10.0
    """Seconds before the first retry of a failed alert; doubles each attempt (with jitter) up to 15 minutes."""

    # Celery.
    task_soft_time_limit: int = 120
    task_time_limit: int = 180
    visibility_timeout: int = 3600

    @field_validator("default_channels", "email_to", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
