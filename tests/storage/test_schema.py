"""Migrations bring an empty database to the models' schema, running them again changes nothing, several
processes may run them at once, and the schema they build is the one the models describe."""

from __future__ import annotations

import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from newswatch.storage.db import get_engine
from newswatch.storage.models import metadata
from newswatch.storage.schema import alembic_config, current_revisions, head_revision, upgrade
from newswatch.storage.search import in_models

# A process that imports everything first, says so, then upgrades on "go": the test says "go" to every
# process once all are ready, so the upgrades start together rather than one import apart.
UPGRADE_ON_GO = """
import sys
from newswatch.storage.schema import upgrade
print("ready", flush=True)
sys.stdin.readline()
upgrade(sys.argv[1])
"""


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


def test_three_processes_upgrading_a_fresh_database_at_once_all_succeed(database_url: str) -> None:
    """PostgreSQL's advisory lock, SQLite's write lock (and its first switch to WAL, see storage.db) serialise them."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", UPGRADE_ON_GO, database_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    try:
        for process in processes:
            assert process.stdout is not None and process.stdin is not None
            assert process.stdout.readline() == "ready\n", process.communicate(timeout=60)[1]
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        results = [(process.communicate(timeout=60)[1], process.returncode) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()

    assert [code for _, code in results] == [0, 0, 0], "\n\n".join(stderr for stderr, _ in results)
    head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
    with get_engine(database_url).connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head]
        tables = [name for name in inspect(connection).get_table_names() if in_models(name, "table", {})]
        assert sorted(tables) == sorted([*metadata.tables, "alembic_version"])


def test_the_migrated_schema_is_the_one_the_models_describe(database_url: str) -> None:
    upgrade(database_url)
    with get_engine(database_url).connect() as connection:
        options = {"compare_type": True, "compare_server_default": True, "include_name": in_models}
        context = MigrationContext.configure(connection, opts=options)
        assert compare_metadata(context, metadata) == []


def test_the_newest_revision_read_from_the_files_is_alembics_head(database_url: str) -> None:
    """Commands skip Alembic when the database is at this revision; it must be the one Alembic would reach."""
    assert head_revision() == ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
    assert current_revisions(database_url) == []
    upgrade(database_url)
    assert current_revisions(database_url) == [head_revision()]
