"""Schema migrations with Alembic, run in-process so every entry point brings the database up to date."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config

from storage.db import get_engine

LOGGER = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the packaged migrations and `url` (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply every pending migration to the database at `url`."""
    config = alembic_config(url)
    with get_engine(url).begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def revision(url: str, message: str) -> None:
    """Autogenerate a new migration from the models (a developer command)."""
    config = alembic_config(url)
    command.revision(config, message=message, autogenerate=True)
