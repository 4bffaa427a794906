"""`newswatch scan` shows a progress bar on a terminal, and none in a pipe or with `--json`.

The command runs as a user starts it, with its stdout and stderr on a pseudo-terminal or a pipe.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
TEXTS = sorted((ROOT / "tests" / "fixtures" / "rules").glob("*.txt"))
BAR = b"scanning ["


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NEWSWATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'scan.db'}")
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - name: airstrikes\n    query: airstrike\n")  # small: quick to start
    monkeypatch.setenv("NEWSWATCH_RULES", str(rules))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for text in TEXTS:
        (inbox / text.name).write_text(text.read_text())
    return inbox


def _scan(*args: str, stdout_on_terminal: bool, stderr_on_terminal: bool) -> tuple[bytes, bytes]:
    """Run `newswatch scan ARGS`; what reached the terminal, and what reached the pipes."""
    terminal, child_end = pty.openpty()
    command = [sys.executable, "-m", "newswatch.worker", "scan", *args]
    process = subprocess.Popen(
        command,
        stdout=child_end if stdout_on_terminal else subprocess.PIPE,
        stderr=child_end if stderr_on_terminal else subprocess.PIPE,
        env=dict(os.environ),
    )
    os.close(child_end)
    shown = bytearray()
    while True:
        try:
            chunk = os.read(terminal, 65536)
        except OSError:  # the command closed the terminal: it is done
            break
        if not chunk:
            break
        shown += chunk
    piped, errors = process.communicate(timeout=120)
    os.close(terminal)
    assert process.returncode == 0, (shown, errors)
    return bytes(shown), (piped or b"") + (errors or b"")


def test_a_scan_on_a_terminal_shows_its_progress_and_clears_it(folder: Path) -> None:
    shown, _ = _scan(str(folder), stdout_on_terminal=True, stderr_on_terminal=True)
    assert BAR in shown and f"/{len(TEXTS)} ".encode() in shown
    assert b"\r\x1b[K" in shown  # drawn in place, and taken away before the report's lines


def test_a_scan_piped_into_another_program_shows_no_progress(folder: Path) -> None:
    shown, piped = _scan(str(folder), stdout_on_terminal=False, stderr_on_terminal=True)
    assert BAR not in shown and BAR not in piped and b"\r" not in shown
    assert all(text.name.encode() in piped for text in TEXTS)  # the report itself went down the pipe


def test_a_json_scan_shows_no_progress_even_on_a_terminal(folder: Path) -> None:
    shown, _ = _scan("--json", str(folder), stdout_on_terminal=True, stderr_on_terminal=True)
    assert BAR not in shown and shown.count(b'"source"') == len(TEXTS)
