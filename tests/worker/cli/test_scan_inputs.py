"""What `newswatch scan` and `run` read from real-world input: gzipped pages, text and feeds in any charset,
files over the size cap, folders with nothing to read, and the language of plain text for `languages:`."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer
from sqlmodel import select

from newswatch.storage.db import session_scope
from newswatch.storage.models import StoredArticle
from tests.conftest import PIPELINE_PAGES as PAGES
from tests.conftest import RUSSIAN, SEED

CHINESE = "空襲擊中坦夫邊境口岸\n\n官員週二表示，無人機襲擊了阿爾布卡邁勒附近的武器庫，邊境口岸暫時關閉。"
ENGLISH = (
    "US jets strike a convoy near Tanf\n\nOfficials said on Tuesday that US aircraft struck a convoy near the "
    "Tanf garrison on the Syrian-Jordanian border."
)


def _newswatch(*args: str) -> Result:
    from newswatch.worker.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _stored(database_url: str) -> dict[str, StoredArticle]:
    with session_scope(database_url) as session:
        return {row.title: row for row in session.exec(select(StoredArticle))}


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("NEWSWATCH_DATABASE_URL", url)
    return url


def test_a_folder_of_gzipped_pages_is_read(db: str, tmp_path: Path) -> None:
    folder = tmp_path / "html"
    folder.mkdir()
    for name in ("article-tanf.html", "article-border.html"):
        (folder / f"{name}.gz").write_bytes(gzip.compress((PAGES / name).read_bytes()))
    (folder / "ground-truth.json").write_text("{}")
    result = _newswatch("scan", "--json", str(tmp_path))
    assert result.exit_code == 0, result.output
    titles = sorted(json.loads(line)["title"] for line in result.stdout.splitlines())
    assert titles == ["Militias reach the Syrian-Iraqi border crossing", "US jets strike convoy near Tanf garrison"]


def test_a_folder_with_nothing_to_read_is_named_and_the_other_inputs_still_run(db: str, tmp_path: Path) -> None:
    empty = tmp_path / "exports"
    empty.mkdir()
    (empty / "report.pdf").write_bytes(b"%PDF-1.7")
    (empty / "data.json").write_text("{}")
    result = _newswatch("scan", str(empty), str(tmp_path / "missing"), str(SEED))
    assert result.exit_code == 1
    assert f"no readable document in {empty}" in result.stderr and "found 2 other files" in result.stderr
    assert f"no such file or folder: {tmp_path / 'missing'}" in result.stderr
    assert "Traceback" not in result.output
    assert list(_stored(db)) == ["Recapture of Iraq-Syria border point heralds new regional reality"]


def test_a_file_over_the_size_cap_is_refused_by_name_and_the_scan_goes_on(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSWATCH_MAX_PAGE_BYTES", "20000")
    from newswatch.worker.runtime import reset_runtime

    reset_runtime()
    shutil.copy(SEED, tmp_path / "seed.txt")  # 7 KB
    (tmp_path / "huge.txt").write_text("Airstrikes hit the depot.\n" * 2000)  # 52 KB
    (tmp_path / "huge-packed.txt.gz").write_bytes(gzip.compress(b"Airstrikes hit the depot.\n" * 2000))
    result = _newswatch("scan", str(tmp_path))
    assert result.exit_code == 1
    for name in ("huge.txt", "huge-packed.txt.gz"):
        assert f"(NEWSWATCH_MAX_PAGE_BYTES): {tmp_path / name}" in result.stderr
    assert "over the cap of 20000 bytes once decompressed" in result.stderr
    assert len(_stored(db)) == 1


@pytest.mark.parametrize(("text", "encoding"), [(RUSSIAN, "koi8_r"), (CHINESE, "big5"), (RUSSIAN, "utf-16")])
def test_a_text_file_is_stored_as_written_whatever_its_charset(
    db: str, tmp_path: Path, text: str, encoding: str
) -> None:
    (tmp_path / "wire.txt").write_bytes(text.encode(encoding))
    assert _newswatch("scan", str(tmp_path)).exit_code == 0
    title, _, body = text.partition("\n\n")
    assert _stored(db)[title].text == body


def test_a_languages_rule_matches_text_in_its_language_only(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n"
        "  - {name: tanf-english, query: 'Tanf OR Танф', languages: [en]}\n"
        "  - {name: tanf-any, query: 'Tanf OR Танф'}\n"
    )
    monkeypatch.setenv("NEWSWATCH_RULES", str(rules))
    from newswatch.worker.runtime import reset_runtime

    reset_runtime()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "en.txt").write_text(ENGLISH)
    (inbox / "ru.txt").write_text(RUSSIAN)
    result = _newswatch("scan", "--json", str(inbox))
    assert result.exit_code == 0, result.output
    hits = {Path(a["source"]).name: {h["rule"] for h in a["hits"]} for a in map(json.loads, result.stdout.splitlines())}
    assert hits == {"en.txt": {"tanf-english", "tanf-any"}, "ru.txt": {"tanf-any"}}


def _rss(slug: str, text: str, declaration: str = "") -> str:
    title, summary = text.split("\n\n")
    return (
        f'<?xml version="1.0"{declaration}?>\n<rss version="2.0"><channel><title>Desk</title>'
        f"<item><title>{title}</title><link>http://127.0.0.1:9/{slug}</link>"
        f"<description>{summary}</description></item></channel></rss>"
    )


def test_feeds_in_legacy_charsets_and_utf16_are_stored_as_written(
    db: str, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSWATCH_FETCH_PAGES", "false")  # the entries are the articles
    from newswatch.worker.runtime import reset_runtime

    reset_runtime()
    feeds = {
        "/koi8.xml": _rss("ru", RUSSIAN).encode("koi8_r"),  # declares nothing
        "/big5.xml": _rss("zh", CHINESE).encode("big5"),
        "/utf16.xml": _rss("en", ENGLISH, ' encoding="utf-16"').encode("utf-16"),
    }
    for path, body in feeds.items():
        httpserver.expect_request(path).respond_with_data(body, content_type="application/rss+xml")
        assert _newswatch("feeds", "add", httpserver.url_for(path)).exit_code == 0
    result = _newswatch("run", "--once")
    assert result.exit_code == 0, result.output
    stored = _stored(db)
    for text in (RUSSIAN, CHINESE, ENGLISH):
        title, body = text.split("\n\n")
        assert stored[title].text == body
