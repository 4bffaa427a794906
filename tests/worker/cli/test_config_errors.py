"""Configuration mistakes as a user makes them: each is one line naming the variable or path and what is
wrong, a non-zero exit, and nothing stored is lost. Servers that cannot be reached are loopback ports that
refuse connections (`closed_port`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlmodel import select

from newswatch.storage.db import session_scope
from newswatch.storage.models import StoredArticle
from newswatch.worker.runtime import reset_runtime

ROOT = Path(__file__).resolve().parents[3]
SEED = ROOT / "seeds" / "000_dcd6abdc8038f5e6.txt"


def _newswatch(*args: str) -> Result:
    from newswatch.worker.cli import main

    reset_runtime()  # each command is a process of its own: settings read afresh
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _one_error_line(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def _articles(url: str) -> int:
    with session_scope(url) as session:
        return len(session.exec(select(StoredArticle)).all())


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("foo://somewhere/db", "unsupported database 'foo'"),
        ("mysql://user@127.0.0.1/db", "unsupported database 'mysql'"),
        ("not a url", "not a database URL"),
        ("postgresql+nodriver://user@127.0.0.1/db", "unknown driver 'postgresql+nodriver'"),
        ("postgresql+psycopg2://user@127.0.0.1/db", "the driver of postgresql+psycopg2 is not installed"),
        ("sqlite:///{tmp}/missing/news.db", "{tmp}/missing does not exist"),
        ("sqlite:///{tmp}/file.txt/news.db", "{tmp}/file.txt is not a folder"),
        ("sqlite:///{tmp}", "{tmp} is a folder, not a SQLite file"),
        ("sqlite:///{tmp}/file.txt", "file is not a database"),
        ("sqlite:///", "sqlite:/// is an in-memory database"),
        ("sqlite:///:memory:", "sqlite:///:memory: is an in-memory database"),
        ("postgresql://newswatch@127.0.0.1:{port}/news", '"127.0.0.1", port {port} failed'),
    ],
    ids=[
        "scheme",
        "other-database",
        "garbage",
        "unknown-driver",
        "driver-not-installed",
        "missing-folder",
        "folder-is-a-file",
        "path-is-a-folder",
        "not-a-database",
        "in-memory",
        "in-memory-named",
        "unreachable-server",
    ],
)
@pytest.mark.parametrize("command", [("feeds", "list"), ("scan", str(SEED))])
def test_a_database_url_newswatch_cannot_use_is_one_line_naming_the_variable(
    url: str, says: str, command: tuple[str, ...], tmp_path: Path, closed_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "file.txt").write_text("not a database\n")
    monkeypatch.setenv("NEWSWATCH_DATABASE_URL", url.format(tmp=tmp_path, port=closed_port))
    line = _one_error_line(_newswatch(*command))
    assert line.startswith("error: database: NEWSWATCH_DATABASE_URL: ")
    assert says.format(tmp=tmp_path, port=closed_port) in line


def test_the_password_of_an_unreachable_database_is_never_shown(
    closed_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSWATCH_DATABASE_URL", f"postgresql://newswatch:hunter2@127.0.0.1:{closed_port}/news")
    line = _one_error_line(_newswatch("feeds", "list"))
    assert "hunter2" not in line and "newswatch:***@127.0.0.1" in line


def test_a_bad_value_is_one_line_naming_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSWATCH_READ_TIMEOUT", "abc")
    line = _one_error_line(_newswatch("feeds", "list"))
    assert line.startswith("error: config: NEWSWATCH_READ_TIMEOUT: ") and "'abc'" in line


@pytest.mark.parametrize(
    "command",
    [("run", "--once"), ("worker",), ("beat",), ("alerts", "send"), ("scan", str(SEED)), ("entries", "retry")],
)
def test_a_broker_on_a_closed_port_stops_the_command_in_one_line(
    command: tuple[str, ...], sqlite_url: str, closed_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSWATCH_DATABASE_URL", sqlite_url)
    assert _newswatch("scan", str(SEED)).exit_code == 0  # stored before the broker was set
    monkeypatch.setenv("NEWSWATCH_BROKER_URL", f"redis://:hunter2@127.0.0.1:{closed_port}/0")
    line = _one_error_line(_newswatch(*command))
    assert line.startswith(
        f"error: config: NEWSWATCH_BROKER_URL: cannot reach the broker at redis://:**********@127.0.0.1:{closed_port}/0"
    )
    assert "hunter2" not in line
    assert _articles(sqlite_url) == 1  # what was stored stays, and nothing more was stored


def test_a_broker_url_that_is_not_redis_is_named(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSWATCH_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("NEWSWATCH_BROKER_URL", "amqp://guest@127.0.0.1//")
    line = _one_error_line(_newswatch("run", "--once"))
    assert line.startswith("error: config: NEWSWATCH_BROKER_URL: not a Redis URL: amqp://guest@127.0.0.1//")


def test_a_missing_scan_path_is_named_and_the_inputs_after_it_are_scanned(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSWATCH_DATABASE_URL", sqlite_url)
    missing = tmp_path / "no-such-folder"
    result = _newswatch("scan", str(missing), str(SEED), "also-missing.txt")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.stderr.splitlines() == [
        f"error: scan: no such file or folder: {missing}",
        "error: scan: no such file or folder: also-missing.txt",
    ]
    assert "Recapture of Iraq-Syria border point" in result.stdout
    assert _articles(sqlite_url) == 1


def test_the_installed_command_prints_the_line_without_a_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "NEWSWATCH_DATABASE_URL": f"sqlite:///{tmp_path}/missing/news.db"}
    done = subprocess.run(
        [sys.executable, "-m", "newswatch.worker", "feeds", "list"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr == (
        f"error: database: NEWSWATCH_DATABASE_URL: {tmp_path}/missing does not exist "
        f"(for the SQLite file {tmp_path}/missing/news.db)\n"
    )
