"""Schema migrations with Alembic, run in-process, one process at a time.

Commands that store migrate on start, so several processes (a compose stack's worker, beat and api) may
upgrade a fresh database at once. Each upgrade runs in one transaction that first takes a lock: a
PostgreSQL transaction-level advisory lock, or SQLite's write lock (`BEGIN IMMEDIATE`, see storage.db).
The second process waits, then finds the schema current and does nothing.

Every command that stores starts with an upgrade, so a database already at the newest revision is told
apart without loading Alembic and every migration script (a tenth of a second of each command's start):
the newest revision is read from the migration files, the database's from `alembic_version`.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from newswatch.storage.db import get_engine

if TYPE_CHECKING:
    from alembic.config import Config

LOGGER = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 0x6E657773  # "news": the advisory lock key every newswatch upgrade takes


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the packaged migrations and `url` (no alembic.ini needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply every pending migration to the database at `url`, under the migration lock."""
    if revision == "head" and head_revision() is not None and current_revisions(url) == [head_revision()]:
        return
    from alembic import command

    config = alembic_config(url)
    with get_engine(url).begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def revision(url: str, message: str) -> None:
    """Autogenerate a new migration from the models (a developer command)."""
    from alembic import command

    config = alembic_config(url)
    command.revision(config, message=message, autogenerate=True)


_REVISION_LINE = re.compile(r"^(down_)?revision\b[^=\n]*=\s*[\"']?([^\"'\s]+)", re.MULTILINE)


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    """The newest migration's revision, from the `revision` and `down_revision` lines of the migration files;
    None unless exactly one revision is no other's parent (a merge, say: then Alembic decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for down, value in _REVISION_LINE.findall(path.read_text(encoding="utf-8")):
            (parents if down else revisions).add(value)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def current_revisions(url: str) -> list[str]:
    """The revisions the database at `url` is at; none for a fresh database."""
    try:
        with get_engine(url).connect() as connection:
            return list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except DBAPIError:
        return []  # no version table yet
