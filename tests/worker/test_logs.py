"""Logs are one JSON object a line when not written to a terminal (or when asked), text when asked."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from newswatch.storage.schema import upgrade
from newswatch.worker.celery_app import create_app
from newswatch.worker.config import Settings
from newswatch.worker.logs import JsonFormatter, wants_json
from tests.conftest import worker_stack


def _newswatch(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newswatch.worker", *args],
        env={**os.environ, "NEWSWATCH_DATABASE_URL": f"sqlite:///{cwd / 'news.db'}", **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_a_record_is_one_line_with_its_fields_and_traceback() -> None:
    logger = logging.getLogger("newswatch.test")
    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        record = logger.makeRecord(
            logger.name, logging.WARNING, __file__, 1, "feed %s failed", ("a",), sys.exc_info(), extra={"feed_id": 7}
        )
    line = JsonFormatter().format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert data["level"] == "warning" and data["logger"] == "newswatch.test"
    assert data["message"] == "feed a failed" and data["feed_id"] == 7
    assert data["time"].endswith("+00:00") and data["pid"] == os.getpid()
    assert "ValueError: bad\nvalue" in data["exception"]


def test_auto_means_text_on_a_terminal_only() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert wants_json(io.StringIO(), "auto") and not wants_json(Terminal(), "auto")
    assert wants_json(Terminal(), "json") and not wants_json(io.StringIO(), "text")


def test_a_command_writes_json_lines_to_a_pipe_and_text_when_asked(tmp_path: Path) -> None:
    piped = _newswatch("-v", "db", "upgrade", cwd=tmp_path)
    assert piped.returncode == 0, piped.stderr
    lines = piped.stderr.splitlines()
    assert lines and all(json.loads(line).keys() >= {"time", "level", "logger", "message"} for line in lines)

    fresh = f"sqlite:///{tmp_path / 'other.db'}"  # a fresh database again: the migrations log
    text = _newswatch("-v", "db", "upgrade", cwd=tmp_path, NEWSWATCH_LOG_FORMAT="text", NEWSWATCH_DATABASE_URL=fresh)
    assert text.stderr.startswith("INFO ") and not _json_lines(text.stderr)


def test_an_unknown_format_is_refused_naming_the_variable(tmp_path: Path) -> None:
    done = _newswatch("status", cwd=tmp_path, NEWSWATCH_LOG_FORMAT="yaml")
    assert done.returncode == 1
    assert "error: config: NEWSWATCH_LOG_FORMAT: must be one of auto, json, text (got 'yaml')" in done.stderr


def test_a_worker_logs_json_lines_naming_the_task(sqlite_url: str, tmp_path: Path) -> None:
    upgrade(sqlite_url)
    with worker_stack(sqlite_url, tmp_path, env={"NEWSWATCH_LOG_FORMAT": "auto"}) as stack:  # a log file: JSON
        app = create_app(Settings(broker_url=stack.redis_url))
        task_id = app.send_task("newswatch.sweep_entries").id
        app.AsyncResult(task_id).get(timeout=30)
        deadline = time.monotonic() + 10
        while not any(task_id in json.dumps(line) for line in _json_lines(stack.log.read_text())):
            assert time.monotonic() < deadline, stack.log.read_text()
            time.sleep(0.1)
    lines = _json_lines(stack.log.read_text())
    assert any(line["logger"].startswith("celery") and line["level"] == "info" for line in lines)
    done = [line for line in lines if task_id in line["message"] and "succeeded" in line["message"]]
    assert done, stack.log.read_text()
