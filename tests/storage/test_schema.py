"""Migrations bring an empty database to the models' schema, and running them again changes nothing."""

from __future__ import annotations

from sqlalchemy import inspect

from newswatch.storage.db import get_engine
from newswatch.storage.schema import upgrade


def test_upgrade_creates_every_table_and_is_idempotent(database_url: str) -> None:
    upgrade(database_url)
    upgrade(database_url)
    tables = set(inspect(get_engine(database_url)).get_table_names())
    assert {"feeds", "articles", "story_bands", "hits", "alerts", "alembic_version"} <= tables


def test_the_unique_keys_the_pipeline_relies_on_exist(database_url: str) -> None:
    upgrade(database_url)
    inspector = inspect(get_engine(database_url))
    uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints("articles")}
    assert {("url_key",), ("content_hash",)} <= uniques
    assert ("article_id", "rule") in {tuple(u["column_names"]) for u in inspector.get_unique_constraints("hits")}
    assert ("rule", "story_key", "channel") in {
        tuple(u["column_names"]) for u in inspector.get_unique_constraints("alerts")
    }
