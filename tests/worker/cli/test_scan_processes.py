"""`newswatch scan` with extraction processes (NEWSWATCH_EXTRACT_PROCESSES above 1) prints, stores and exits as
with one: the same articles, hits, errors and exit status, in the order given; Ctrl-C stops it cleanly."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer
from sqlmodel import col, select

from newswatch.storage.db import session_scope
from newswatch.storage.models import Hit, StoredArticle
from newswatch.worker.runtime import reset_runtime
from tests.conftest import PIPELINE_PAGES as PAGES
from tests.conftest import RUSSIAN, SEED, left_in_session


def _inbox(folder: Path) -> Path:
    """Good, bad, empty and gzipped documents, one over the size cap, one in a legacy charset, and a folder
    with nothing to read."""
    folder.mkdir()
    shutil.copy(SEED, folder / "a-seed.txt")
    (folder / "b-binary.txt").write_bytes(b"\x00\x01binary\x00junk")
    (folder / "c-empty.txt").write_text("")
    (folder / "d-furniture.txt").write_text("Skip to main content\nSubscribe now\n")
    for name in ("article-tanf.html", "article-border.html"):
        (folder / f"e-{name}.gz").write_bytes(gzip.compress((PAGES / name).read_bytes()))
    shutil.copy(PAGES / "article-football.html", folder / "f-football.html")
    (folder / "g-huge.txt.gz").write_bytes(gzip.compress(b"Airstrikes hit the depot.\n" * 2000))
    (folder / "h-koi8.txt").write_bytes(RUSSIAN.encode("koi8_r"))
    (folder / "i-not-a-page.html").write_text("<html><body><nav>Home | World</nav></body></html>")
    (folder / "exports").mkdir()
    (folder / "exports" / "report.pdf").write_bytes(b"%PDF-1.7")
    return folder


def _scan(monkeypatch: pytest.MonkeyPatch, database_url: str, processes: int, *inputs: str) -> Result:
    from newswatch.worker.cli import main

    monkeypatch.setenv("NEWSWATCH_DATABASE_URL", database_url)
    monkeypatch.setenv("NEWSWATCH_EXTRACT_PROCESSES", str(processes))
    monkeypatch.setenv("NEWSWATCH_MAX_PAGE_BYTES", "20000")
    reset_runtime()
    return CliRunner().invoke(main, ["scan", "--json", *inputs], catch_exceptions=False)


def _stored(database_url: str) -> dict[str, Any]:
    """The articles and hits stored, without what depends on when they were stored."""
    with session_scope(database_url) as session:
        articles = session.exec(select(StoredArticle).order_by(col(StoredArticle.id))).all()
        hits = session.exec(select(Hit).order_by(col(Hit.id))).all()
        return {
            "articles": [
                a.model_dump(exclude={"fetched_at", "published_at"}) | {"fingerprint": bytes(a.fingerprint or b"")}
                for a in articles
            ],
            "hits": [h.model_dump(exclude={"created_at", "article_date"}) for h in hits],
        }


def test_a_scan_prints_stores_and_exits_the_same_with_one_and_with_two_extraction_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, httpserver: HTTPServer
) -> None:
    inbox = _inbox(tmp_path / "inbox")
    httpserver.expect_request("/news/tanf").respond_with_data(
        (PAGES / "article-tanf.html").read_bytes(), content_type="text/html"
    )
    inputs = [
        str(inbox),
        str(tmp_path / "missing.txt"),
        str(inbox / "exports"),
        httpserver.url_for("/news/tanf"),
        httpserver.url_for("/gone"),
    ]
    one, two = f"sqlite:///{tmp_path / 'one.db'}", f"sqlite:///{tmp_path / 'two.db'}"

    alone = _scan(monkeypatch, one, 1, *inputs)
    beside = _scan(monkeypatch, two, 2, *inputs)

    assert (beside.exit_code, beside.stdout, _errors(beside)) == (alone.exit_code, alone.stdout, _errors(alone))
    assert alone.exit_code == 1
    printed = [Path(line["source"]).name for line in map(json.loads, alone.stdout.splitlines())]
    assert printed == [
        "a-seed.txt",
        "e-article-border.html.gz",
        "e-article-tanf.html.gz",
        "f-football.html",
        "h-koi8.txt",
        "tanf",  # the page at the URL: the same text as the gzipped copy, stored once
    ]
    assert _errors(alone) == [
        f"error: extract: binary content (NUL bytes): {inbox / 'b-binary.txt'}",
        f"error: extract: nothing to read in {inbox / 'c-empty.txt'} (empty, or only site furniture)",
        f"error: extract: nothing to read in {inbox / 'd-furniture.txt'} (empty, or only site furniture)",
        "error: extract: file over the cap of 20000 bytes once decompressed (NEWSWATCH_MAX_PAGE_BYTES): "
        f"{inbox / 'g-huge.txt.gz'}",
        f"error: extract: no main text: {(inbox / 'i-not-a-page.html').as_uri()}",
        f"error: scan: no such file or folder: {tmp_path / 'missing.txt'}",
        f"error: scan: no readable document in {inbox / 'exports'} (looked for text and HTML files, .txt .md "
        ".html..., gzipped too; found 1 other file)",
        f"error: fetch: status 500: {httpserver.url_for('/gone')}",
    ]
    stored = _stored(one)
    assert _stored(two) == stored
    lines = [json.loads(line) for line in alone.stdout.splitlines()]
    assert [a["id"] for a in stored["articles"]] == list(dict.fromkeys(line["article_id"] for line in lines))
    assert [line["new"] for line in lines] == [True] * 5 + [False]
    assert any(a["text"].startswith("Военные сообщили") for a in stored["articles"])
    assert stored["hits"]


def _errors(result: Result) -> list[str]:
    """The lines the scan printed on stderr (not the test server's log)."""
    return [line for line in result.stderr.splitlines() if line.startswith("error: ")]


def test_ctrl_c_stops_a_scan_at_once_leaving_what_it_printed_stored_and_no_process_behind(
    tmp_path: Path, sqlite_url: str
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    menu = "".join(f'<li><a href="/section/{n}">Section {n}</a></li>' for n in range(3000))
    page = (PAGES / "article-border.html").read_text().replace("<body>", f"<body><nav><ul>{menu}</ul></nav>", 1)
    for number in range(200):  # a page as large as a news site's, each a tenth of a second's work or more:
        # the scan is still going when Ctrl-C comes, with pages being extracted
        (inbox / f"{number:03}.html").write_text(page.replace("Militias", f"Militias ({number})"))
    env = {**os.environ, "NEWSWATCH_DATABASE_URL": sqlite_url, "NEWSWATCH_EXTRACT_PROCESSES": "2"}
    newswatch = str(Path(sys.executable).with_name("newswatch"))
    scanning = subprocess.Popen(
        [newswatch, "scan", "--json", str(inbox)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own session: what it leaves behind can be found
    )
    first = [scanning.stdout.readline() for _ in range(2)]  # type: ignore[union-attr]

    os.kill(scanning.pid, signal.SIGINT)  # Ctrl-C (its extraction processes ignore SIGINT: the command stops them)
    rest, errors = scanning.communicate(timeout=120)

    assert scanning.returncode == 1
    assert errors.decode().split() == ["Aborted!"]  # no traceback, no extraction reported lost
    printed = [json.loads(line) for line in [*first, *rest.splitlines()]]
    assert 2 <= len(printed) < 200
    stored = {a["id"] for a in _stored(sqlite_url)["articles"]}
    assert {line["article_id"] for line in printed} <= stored
    assert len(stored) <= len(printed) + 1  # at most the article stored as Ctrl-C came, not yet printed
    assert left_in_session(scanning.pid) == []
