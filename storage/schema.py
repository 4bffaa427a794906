"""Schema migrations with Alembic, run in-process, one process at a time.

Commands that store migrate on start, so several processes (a compose stack's worker, beat and api) may
upgrade a fresh database at once. Each upgrade runs in one transaction that first takes a lock: a
PostgreSQL transaction-level advisory lock, or SQLite's write lock (`BEGIN IMMEDIATE`, see storage.db).
The second process waits, then finds the schema current and does nothing.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from newswatch.storage.db import get_engine

LOGGER = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 0x6E657773  # "news": the advisory lock key every newswatch upgrade takes


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the packaged migrations and `url` (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply every pending migration to the database at `url`, under the migration lock."""
    config = alembic_config(url)
    with get_engine(url).begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def revision(url: str, message: str) -> None:
    """Autogenerate a new migration from the models (a developer command)."""
    config = alembic_config(url)
    command.revision(config, message=message, autogenerate=True)
