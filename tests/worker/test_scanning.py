"""A scan with extraction processes: a document whose extraction process dies, or overruns
NEWSWATCH_EXTRACT_TIMEOUT, is one error naming it, and the documents after it are stored.

The document that never ends is a named pipe nobody writes to (reading it blocks, as trafilatura stuck on a
page would); the crash is that process killed by SIGKILL, as the out-of-memory killer would."""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest

from newswatch.worker.runtime import Runtime, migrated_runtime, reset_runtime
from newswatch.worker.scanning import Scanned, scan

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "seeds" / "000_dcd6abdc8038f5e6.txt"
BORDER = ROOT / "tests" / "fixtures" / "pipeline" / "article-border.html"


@pytest.fixture
def documents(tmp_path: Path) -> list[Path]:
    """A good document, one that never ends, and another good one."""
    shutil.copy(SEED, tmp_path / "seed.txt")
    shutil.copy(BORDER, tmp_path / "border.html")
    os.mkfifo(tmp_path / "stuck.txt")
    return [tmp_path / "seed.txt", tmp_path / "stuck.txt", tmp_path / "border.html"]


def _runtime(monkeypatch: pytest.MonkeyPatch, sqlite_url: str, timeout: str) -> Runtime:
    """A runtime with two extraction processes (stopped by the autouse fixture's `reset_runtime`)."""
    monkeypatch.setenv("NEWSWATCH_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("NEWSWATCH_EXTRACT_PROCESSES", "2")
    monkeypatch.setenv("NEWSWATCH_EXTRACT_TIMEOUT", timeout)
    reset_runtime()
    return migrated_runtime()


def _kill_its_reader(fifo: Path) -> None:
    """Wait for a process to open `fifo` (opening it for writing waits for a reader), then kill that process
    (its descriptor may show a moment after the open returns here)."""
    with fifo.open("wb"):
        deadline = time.monotonic() + 60
        while (reader := _reader_of(fifo)) is None and time.monotonic() < deadline:
            time.sleep(0.01)
        if reader is not None:
            os.kill(reader, signal.SIGKILL)


def _reader_of(fifo: Path) -> int | None:
    """The process other than this one that has `fifo` open, if any."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        if int(pid) == os.getpid():
            continue
        try:
            held = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
        except OSError:  # gone, or not ours to read
            continue
        if str(fifo) in held:
            return int(pid)
    return None


def _outcomes(scanned: list[Scanned]) -> list[tuple[str, str | None]]:
    return [(Path(s.source).name, s.error if s.result is None else s.result.article.title) for s in scanned]


def test_a_document_whose_extraction_process_dies_is_named_and_the_scan_goes_on(
    documents: list[Path], sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = _runtime(monkeypatch, sqlite_url, timeout="600")
    killer = threading.Thread(target=_kill_its_reader, args=(documents[1],), daemon=True)
    killer.start()

    scanned = list(scan(runtime, map(str, documents)))
    killer.join()

    assert _outcomes(scanned) == [
        ("seed.txt", "Recapture of Iraq-Syria border point heralds new regional reality"),
        ("stuck.txt", f"extract: the extraction process died (killed by signal SIGKILL): {documents[1]}"),
        ("border.html", "Militias reach the Syrian-Iraqi border crossing"),
    ]
    assert all(s.result.new for s in scanned if s.result is not None)


def test_a_document_whose_extraction_overruns_the_timeout_is_named_and_the_scan_goes_on(
    documents: list[Path], sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = _runtime(monkeypatch, sqlite_url, timeout="5")

    scanned = list(scan(runtime, map(str, documents)))

    assert _outcomes(scanned) == [
        ("seed.txt", "Recapture of Iraq-Syria border point heralds new regional reality"),
        ("stuck.txt", f"extract: no article after 5s, extraction stopped: {documents[1]}"),
        ("border.html", "Militias reach the Syrian-Iraqi border crossing"),
    ]
