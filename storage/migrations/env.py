"""Alembic environment: migrates the database named by the caller's URL (see storage.schema)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from newswatch.storage.models import metadata
from newswatch.storage.search import in_models

config = context.config


def run_migrations() -> None:
    """Online migrations only: newswatch always has a live database URL to migrate."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = engine_from_config(
        config.get_section(config.config_ini_section) or {}, prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with engine.connect() as fresh:
        _run(fresh)


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=metadata,
        render_as_batch=True,  # SQLite alters tables by rebuilding them
        compare_type=True,
        include_name=in_models,  # the full-text index is the database's, not the models' (storage.search)
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
