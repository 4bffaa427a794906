"""The layout keeps its promises: layers import downwards only, modules stay small and say what they are for, and
the commands run most often load only what they use (checked by the modules a new process loaded, not by time:
`bench/startup.py` measures that)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("worker", "storage", "alerts")
MAX_LINES = 300
LOWER = {"storage": set(), "alerts": {"storage"}, "worker": {"storage", "alerts"}}
"""Which of newswatch's own packages each package may import."""


def _modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py") if "versions" not in p.parts)


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_a_package_imports_only_the_layers_below_it(path: Path) -> None:
    package = path.relative_to(ROOT).parts[0]
    ours = {name.split(".")[1] for name in _imported(path) if name.startswith("newswatch.")}
    assert ours <= LOWER[package] | {package}, f"{path.relative_to(ROOT)} imports {sorted(ours - {package})}"
    flat = {name.split(".")[0] for name in _imported(path)} & set(PACKAGES)
    assert not flat, f"{path.relative_to(ROOT)} imports {flat} by its folder name, not as newswatch.*"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_module_says_what_it_is_for_and_stays_small(path: Path) -> None:
    tree = ast.parse(path.read_text())
    assert ast.get_docstring(tree), f"{path.relative_to(ROOT)} has no module docstring"
    lines = len(path.read_text().splitlines())
    reason = "one module on purpose" in (ast.get_docstring(tree) or "").lower()
    assert lines <= MAX_LINES or reason, f"{path.relative_to(ROOT)} has {lines} lines and says not why"


def test_the_installed_names_are_one_namespace() -> None:
    code = "import importlib.util as u; print([u.find_spec(n) is None for n in ('worker', 'storage', 'alerts')])"
    out = subprocess.run([sys.executable, "-c", code], cwd="/", capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[True, True, True]"  # nothing installed under the bare folder names


def test_importing_the_storage_layer_loads_no_rule_engine_and_no_celery() -> None:
    code = (
        "import sys, newswatch.storage.hits, newswatch.alerts.delivery; "
        "print(sorted(m for m in ('simplemma', 'ahocorasick', 'celery', 'newswatch.worker') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd="/", capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


HEAVY = {
    "sqlalchemy.orm",
    "sqlmodel",
    "newswatch.storage.models",
    "alembic",
    "psycopg",
    "httpx",
    "rich",
    "jinja2",
    "celery",
    "redis",
    "trafilatura",
    "feedparser",
    "charset_normalizer",
    "courlan",
    "yaml",
    "numpy",
    "py3langid",
    "simplemma",
    "ahocorasick",
    "newswatch.worker.pipeline",
    "newswatch.worker.rules",
    "newswatch.alerts.channels",
}
"""What the commands run most often have no use for: the ORM and the models (they read and add feeds in Core,
storage.overview), migrations (the database is current), PostgreSQL's driver (on SQLite), the pipeline
(extraction, URL cleaning, rules, matching), the alert channels, and (but `feeds add`, which checks the URL is
a feed) the HTTP client and the feed parser."""


def _loaded_by_command(args: list[str], cwd: Path) -> set[str]:
    """Every module a new `newswatch ARGS` process had loaded when it was done."""
    code = (
        "import sys\nfrom newswatch.worker.cli import main\n"
        f"try:\n    main({args!r})\nexcept SystemExit as exit:\n    assert not exit.code, exit.code\n"
        "print(' '.join(sorted(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.splitlines()[-1].split())


@pytest.fixture
def current_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A migrated SQLite database in the settings (the check at start then finds nothing to do)."""
    monkeypatch.setenv("NEWSWATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'news.db'}")
    subprocess.run([sys.executable, "-m", "newswatch.worker", "db", "upgrade"], cwd=tmp_path, check=True)
    return tmp_path


def test_help_loads_neither_the_settings_nor_the_database_library(tmp_path: Path) -> None:
    loaded = _loaded_by_command(["--help"], tmp_path)
    assert "click" in loaded  # the test reads what a real run loaded
    assert loaded & (HEAVY | {"pydantic", "sqlalchemy"}) == set()


@pytest.mark.parametrize("args", [["feeds", "list"], ["feeds", "list", "--json"], ["status"], ["feeds", "export"]])
def test_listing_feeds_loads_neither_the_orm_nor_the_models_nor_the_pipeline(
    current_database: Path, args: list[str]
) -> None:
    loaded = _loaded_by_command(args, current_database)
    assert "sqlalchemy" in loaded  # the test reads what a real run loaded
    assert loaded & HEAVY == set()


def test_adding_a_feed_loads_the_http_client_and_the_feed_parser_only(
    current_database: Path, httpserver: HTTPServer
) -> None:
    feed = "<rss version='2.0'><channel><title>Desert Dispatch</title></channel></rss>"
    httpserver.expect_request("/rss").respond_with_data(feed, content_type="application/rss+xml")
    loaded = _loaded_by_command(["feeds", "add", httpserver.url_for("/rss")], current_database)
    assert {"httpx", "feedparser"} <= loaded
    assert loaded & HEAVY == {"httpx", "feedparser"}
