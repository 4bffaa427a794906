"""A command loads what it uses, nothing more: `newswatch --help` no database or pipeline library, a command
on a current database neither Alembic nor the pipeline. Checked by the modules a fresh process imported,
not by time (`bench/startup.py` measures that)."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

PIPELINE = {"celery", "kombu", "redis", "trafilatura", "feedparser", "simplemma", "ahocorasick", "numpy"}
"""Libraries of polling, extraction, matching and the workers."""
STORAGE = {"sqlalchemy", "sqlmodel", "alembic", "psycopg"}
CHANNELS = {"apprise", "slack_sdk", "jinja2"}


def _imported(code: str, *, cwd: Path, env: dict[str, str] | None = None) -> set[str]:
    """The top-level packages a fresh interpreter has imported after running `code`."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def _run_cli(*args: str) -> str:
    return f"""
from newswatch.worker.cli import main
try:
    main({list(args)!r})
except SystemExit as exit:
    assert not exit.code, exit.code
"""


def test_importing_the_command_line_loads_no_pipeline_storage_or_channel_library(tmp_path: Path) -> None:
    imported = _imported("import newswatch.worker.cli", cwd=tmp_path)
    assert imported & (PIPELINE | STORAGE | CHANNELS) == set()


def test_help_loads_no_pipeline_storage_or_channel_library(tmp_path: Path) -> None:
    imported = _imported(_run_cli("--help"), cwd=tmp_path)
    assert imported & (PIPELINE | STORAGE | CHANNELS) == set()


def test_a_command_on_a_current_database_loads_neither_alembic_nor_the_pipeline(tmp_path: Path) -> None:
    env = {"NEWSWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'news.db'}"}
    first = _imported(_run_cli("feeds", "list"), cwd=tmp_path, env=env)
    assert "alembic" in first  # a fresh database is migrated
    again = _imported(_run_cli("feeds", "list"), cwd=tmp_path, env=env)
    assert "alembic" not in again
    assert again & (PIPELINE | CHANNELS) == set()


def test_each_command_is_found_in_the_module_the_command_line_loads_for_it() -> None:
    from newswatch.worker.cli import COMMAND_MODULES

    defined = {
        command.name: module
        for module in set(COMMAND_MODULES.values())
        for command in importlib.import_module(f"newswatch.worker.cli.{module}").COMMANDS
    }
    assert defined == COMMAND_MODULES


def test_the_http_client_loads_no_async_library_yet_the_api_still_can(tmp_path: Path) -> None:
    """newswatch's HTTP client is sync: httpcore's async backends (anyio, trio) stay out of a command's start,
    and whoever needs anyio afterwards (the API's FastAPI) imports the real one."""
    start = "from newswatch.worker.cli import _skip_unused_imports\n_skip_unused_imports()\n"
    imported = _imported(start + "from newswatch.worker.runtime import get_runtime\nget_runtime().client", cwd=tmp_path)
    assert "httpx" in imported and "httpcore" in imported
    assert imported & {"anyio", "trio", "rich"} == set()
    later = _imported(start + "import httpx\nimport anyio\nimport fastapi\nassert anyio.Lock", cwd=tmp_path)
    assert {"anyio", "fastapi"} <= later
