"""The `newswatch` command as a user runs it, on the embedded default (SQLite, no broker)."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer
from sqlmodel import select
from werkzeug import Request, Response

from newswatch.storage.db import session_scope
from newswatch.storage.models import StoredArticle

ROOT = Path(__file__).resolve().parents[3]
PAGES = ROOT / "tests" / "fixtures" / "pipeline"
FURNITURE = [
    "Skip to main content",
    "Start your PRO membership today",
    "access exclusive PRO insights",
    "1-week free trial",
]


def _newswatch(*args: str) -> Result:
    from newswatch.worker.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _stored(database_url: str) -> list[StoredArticle]:
    with session_scope(database_url) as session:
        return list(session.exec(select(StoredArticle)))


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("NEWSWATCH_DATABASE_URL", url)
    return url


def test_scan_seeds_finds_all_three_rules_with_their_evidence(db: str) -> None:
    result = _newswatch("scan", "--json", str(ROOT / "seeds"))
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 1  # rules.yaml and feeds.opml beside the seed are not articles
    (article,) = lines
    assert article["title"] == "Recapture of Iraq-Syria border point heralds new regional reality"
    hits = {hit["rule"]: hit for hit in article["hits"]}
    assert set(hits) == {"border-crossings", "commanders", "airstrikes"}
    assert any("Syrian-Iraqi border crossing" in m for m in hits["border-crossings"]["matches"])
    assert {"Qasem Soleimani", "Abu Mahdi al-Muhandis"} <= set(hits["commanders"]["matches"])
    assert "airstrike" in {m.lower() for m in hits["airstrikes"]["matches"]}
    assert any("Tanf" in s["text"] for s in hits["airstrikes"]["evidence"]["snippets"])
    for hit in hits.values():
        assert hit["snippet"]


def test_scan_stores_the_title_and_text_without_site_furniture(db: str) -> None:
    assert _newswatch("scan", str(ROOT / "seeds")).exit_code == 0
    (row,) = _stored(db)
    assert row.title == "Recapture of Iraq-Syria border point heralds new regional reality"
    for line in FURNITURE:
        assert line not in row.text
    assert "Abu Mahdi al-Muhandis" in row.text


def test_scanning_the_same_folder_twice_stores_nothing_twice(db: str) -> None:
    first = _newswatch("scan", "--json", str(ROOT / "seeds"))
    second = _newswatch("scan", "--json", str(ROOT / "seeds"))
    assert json.loads(first.stdout)["new"] is True
    again = json.loads(second.stdout)
    assert again["new"] is False
    assert all(hit["new"] is False for hit in again["hits"])
    assert len(_stored(db)) == 1


def test_a_bad_file_is_named_and_the_rest_of_the_scan_goes_on(db: str, tmp_path: Path) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    shutil.copy(ROOT / "seeds" / "000_dcd6abdc8038f5e6.txt", folder / "seed.txt")
    (folder / "broken.txt").write_bytes(b"\x00\x01binary\x00junk")
    result = _newswatch("scan", str(folder))
    assert result.exit_code == 1
    assert "broken.txt" in result.stderr
    assert len(_stored(db)) == 1


def test_a_rules_file_with_a_mistake_names_file_and_line(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - name: broken\n    query: '(airstrike OR'\n")
    monkeypatch.setenv("NEWSWATCH_RULES", str(rules))
    from newswatch.worker.runtime import reset_runtime

    reset_runtime()
    result = _newswatch("scan", str(ROOT / "seeds"))
    assert result.exit_code == 1
    assert f"{rules}:3" in result.stderr
    assert "Traceback" not in result.output


def _rss(server: HTTPServer, paths: list[str]) -> str:
    items = "".join(
        f"<item><title>Entry {p}</title><link>{server.url_for(p)}</link>"
        f"<description>Feed summary: a US airstrike near Tanf ({p}).</description></item>"
        for p in paths
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Test</title>{items}</channel></rss>'


def test_feeds_add_list_and_run_once_polls_and_stores(db: str, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(
        _rss(httpserver, ["/news/border", "/news/tanf"]), content_type="application/rss+xml"
    )
    for name in ("border", "tanf"):
        httpserver.expect_request(f"/news/{name}").respond_with_data(
            (PAGES / f"article-{name}.html").read_text(), content_type="text/html"
        )
    assert _newswatch("feeds", "add", httpserver.url_for("/feed.xml"), "--interval", "30m").exit_code == 0
    listing = _newswatch("feeds", "list")
    assert httpserver.url_for("/feed.xml") in listing.stdout and "every 30 min" in listing.stdout
    result = _newswatch("run", "--once")
    assert result.exit_code == 0, result.output
    titles = sorted(a.title for a in _stored(db))
    assert titles == ["Militias reach the Syrian-Iraqi border crossing", "US jets strike convoy near Tanf garrison"]


def test_bad_feeds_and_pages_are_named_and_the_round_goes_on(
    db: str, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSWATCH_FETCH_DEADLINE", "1")
    monkeypatch.setenv("NEWSWATCH_MAX_PAGE_BYTES", "20000")
    # The test server answers one request at a time: polled at once, the slow feed would hold up the others.
    monkeypatch.setenv("NEWSWATCH_POLL_PER_HOST", "1")
    from newswatch.worker.runtime import reset_runtime

    reset_runtime()

    def too_slow(_: Request) -> Response:
        time.sleep(2)
        return Response("<rss/>", content_type="application/rss+xml")

    httpserver.expect_request("/not-a-feed").respond_with_data(
        "<html><body>Hello</body></html>", content_type="text/html"
    )
    httpserver.expect_request("/slow-feed").respond_with_handler(too_slow)
    httpserver.expect_request("/good-feed").respond_with_data(
        _rss(httpserver, ["/binary", "/huge", "/news/tanf"]), content_type="application/rss+xml"
    )
    httpserver.expect_request("/binary").respond_with_data(b"\x89PNG\r\n\x1a\n\x00\x00" * 50, content_type="image/png")
    httpserver.expect_request("/huge").respond_with_data("<p>" + "word " * 10000 + "</p>", content_type="text/html")
    httpserver.expect_request("/news/tanf").respond_with_data(
        (PAGES / "article-tanf.html").read_text(), content_type="text/html"
    )
    refused = _newswatch("feeds", "add", httpserver.url_for("/not-a-feed"))
    assert refused.exit_code == 1 and "not a feed" in refused.stderr and "feed not added" in refused.stderr
    assert _newswatch("feeds", "list").exit_code == 0  # the database, migrated
    from newswatch.storage.feeds import add_feed

    with session_scope(db) as session:  # a feed that turned into a page after it was added
        add_feed(session, httpserver.url_for("/not-a-feed"), interval_seconds=900)
    for path in ("/slow-feed", "/good-feed"):
        assert _newswatch("feeds", "add", httpserver.url_for(path)).exit_code == 0

    result = _newswatch("run", "--once")

    assert result.exit_code == 1
    assert httpserver.url_for("/not-a-feed") in result.stderr
    assert httpserver.url_for("/slow-feed") in result.stderr
    stored = {a.url: a for a in _stored(db)}
    # The good page is extracted; the binary and oversized pages fall back to the feed entry's summary.
    assert stored[httpserver.url_for("/news/tanf")].title == "US jets strike convoy near Tanf garrison"
    assert stored[httpserver.url_for("/binary")].text.startswith("Feed summary")
    assert stored[httpserver.url_for("/huge")].text.startswith("Feed summary")
    listing = _newswatch("feeds", "list").stdout
    assert "not a feed" in listing


def test_feeds_import_export_and_remove(db: str, tmp_path: Path) -> None:
    imported = _newswatch("feeds", "import", str(ROOT / "seeds" / "feeds.opml"), "--interval", "1h")
    assert imported.exit_code == 0 and "imported 5 feeds" in imported.stdout and "(5 new)" in imported.stdout
    again = _newswatch("feeds", "import", str(ROOT / "seeds" / "feeds.opml"))
    assert "(0 new)" in again.stdout
    exported = tmp_path / "out.opml"
    exported.write_text(_newswatch("feeds", "export").stdout)
    from newswatch.worker.ingest.opml import read_opml

    assert {f.url for f in read_opml(exported)} == {f.url for f in read_opml(ROOT / "seeds" / "feeds.opml")}
    assert _newswatch("feeds", "remove", "https://www.al-monitor.com/rss").exit_code == 0
    assert "al-monitor" not in _newswatch("feeds", "list").stdout
    assert _newswatch("feeds", "remove", "https://nowhere.example/rss").exit_code != 0


def test_a_broken_opml_file_is_named_with_its_line(db: str, tmp_path: Path) -> None:
    path = tmp_path / "feeds.opml"
    path.write_text('<opml version="2.0"><body>\n<outline xmlUrl="http://127.0.0.1/a"\n</body></opml>')
    result = _newswatch("feeds", "import", str(path))
    assert result.exit_code == 1
    assert f"{path}" in result.stderr and "line" in result.stderr


def test_every_readable_text_file_is_accepted_and_empty_ones_are_named(db: str, tmp_path: Path) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "a-one-line.txt").write_text(
        "Qassem Soleimani and Abu Mahdi al-Muhandis were killed in a US drone strike at Baghdad airport.\n"
    )
    (folder / "b-empty.txt").write_text("")
    (folder / "c-furniture.txt").write_text("Skip to main content\nSubscribe now\n")
    (folder / "d-seed.txt").write_text((ROOT / "seeds" / "000_dcd6abdc8038f5e6.txt").read_text())
    result = _newswatch("scan", "--json", str(folder))
    assert result.exit_code == 1
    assert f"nothing to read in {folder / 'b-empty.txt'}" in result.stderr
    assert f"nothing to read in {folder / 'c-furniture.txt'}" in result.stderr
    scanned = {Path(line["source"]).name: line for line in map(json.loads, result.stdout.splitlines())}
    assert set(scanned) == {"a-one-line.txt", "d-seed.txt"}
    assert {hit["rule"] for hit in scanned["a-one-line.txt"]["hits"]} == {"commanders", "airstrikes"}


def test_small_things_a_user_meets_say_what_they_mean(db: str, httpserver: HTTPServer) -> None:
    too_often = _newswatch("feeds", "add", "https://news.example/feed.xml", "--interval", "5s")
    assert too_often.exit_code == 2 and "5s is too often" in too_often.output
    httpserver.expect_request("/feed.xml").respond_with_data(_rss(httpserver, []), content_type="application/rss+xml")
    capitals = _newswatch(
        "feeds", "add", httpserver.url_for("/feed.xml").replace("http://localhost", "HTTP://LOCALHOST")
    )
    assert capitals.exit_code == 0, capitals.output
    assert _newswatch("alerts", "retry", "999").exit_code == 1
    assert "no alerts due" in _newswatch("alerts", "send").stdout

    _newswatch("scan", str(ROOT / "seeds"))
    limited = _newswatch("hits", "--limit", "2")
    assert "2 shown, 1 more: add --cursor " in limited.stderr


def test_a_malformed_feed_is_described_in_words_in_feeds_list(db: str, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/broken.xml").respond_with_data(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>A</title>'
        f"<link>{httpserver.url_for('/a')}</link><description>An item.</description></item></channel>",
        content_type="application/rss+xml",
    )
    httpserver.expect_request("/a").respond_with_data("<html><body>no article here</body></html>")
    assert _newswatch("feeds", "add", httpserver.url_for("/broken.xml")).exit_code == 0
    _newswatch("run", "--once")
    listing = _newswatch("feeds", "list").stdout
    assert "last error: malformed XML: " in listing and "SAXParseException" not in listing
