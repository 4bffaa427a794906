"""Extraction: main text and metadata from pages and files, boilerplate left out, bad input named."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newswatch.worker.errors import ExtractionError
from newswatch.worker.ingest.extract import article_from_entry, extract_file, extract_page, is_document
from newswatch.worker.ingest.feeds import FeedEntry

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ingest"
URL = "http://127.0.0.1:8000/news/depot"
CAP = 1_000_000


def test_a_page_yields_its_article_without_navigation_sidebars_or_footer() -> None:
    body = (FIXTURES / "page-with-boilerplate.html").read_bytes()
    article = extract_page(body, url=URL, content_type="text/html")
    assert article.title == "Drone strike hits depot near Albu Kamal"
    assert "weapons depot used by militias near Albu Kamal" in article.text
    assert "No group claimed responsibility" in article.text
    assert "wedding convoy" not in article.text  # a sidebar headline
    assert "shadow commander" not in article.text
    assert "newsletter" not in article.text


def test_page_metadata_and_charset() -> None:
    body = (FIXTURES / "page-with-boilerplate.html").read_bytes()
    article = extract_page(body, url="http://www.frontier.example/news/depot", content_type="text/html")
    assert (article.author, article.site_name, article.language) == ("Omar Saleh", "Frontier Times", "en")
    assert article.published == datetime(2019, 9, 9, tzinfo=UTC)
    assert article.domain == "frontier.example"
    assert "café" in article.text  # declared windows-1252, decoded as such


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image/png"),
        (b"%PDF-1.7 ...", "application/pdf"),
        (b"GIF89a\x00\x00\x01", None),
    ],
)
def test_binary_content_is_an_error_naming_the_url(body: bytes, content_type: str | None) -> None:
    with pytest.raises(ExtractionError, match="binary content") as caught:
        extract_page(body, url=URL, content_type=content_type)
    assert URL in str(caught.value)


def test_a_page_without_main_text_is_an_error_naming_the_url() -> None:
    with pytest.raises(ExtractionError, match=f"no main text: {URL}"):
        extract_page(b"<html><body><nav><a href='/'>Home</a></nav></body></html>", url=URL)


def test_the_seed_text_file_is_an_article() -> None:
    article = extract_file(Path(__file__).resolve().parents[3] / "seeds" / "000_dcd6abdc8038f5e6.txt", max_bytes=CAP)
    assert article.title == "Recapture of Iraq-Syria border point heralds new regional reality"
    assert article.url is None
    assert article.text.startswith("The move by the Iraqi and Syrian governments")


def test_a_binary_file_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "scan.txt"
    path.write_bytes(b"PK\x03\x04\x00\x00binary")
    with pytest.raises(ExtractionError, match=str(path)):
        extract_file(path, max_bytes=CAP)


def test_a_feed_entry_stands_in_for_its_page() -> None:
    entry = FeedEntry(
        url=URL, title="Depot hit", summary="Drones struck a depot.", published=None, entry_id=None, author="Desk"
    )
    article = article_from_entry(entry, feed_url="http://127.0.0.1:8000/rss")
    assert (article.title, article.text, article.url, article.author) == (
        "Depot hit",
        "Drones struck a depot.",
        URL,
        "Desk",
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("story.txt", True),
        ("page.html", True),
        ("notes.md", True),
        ("rules.yaml", False),
        ("feeds.opml", False),
        ("schema.json", False),
        (".hidden.txt", False),
        ("feed.xml", False),
        ("page.html.gz", True),
        ("wire.txt.gz", True),
        ("backup.tar.gz", False),
    ],
)
def test_which_files_of_a_folder_are_articles(name: str, expected: bool) -> None:
    assert is_document(Path(name)) is expected


def test_a_gzipped_page_is_extracted_like_the_page(tmp_path: Path) -> None:
    page = FIXTURES / "page-with-boilerplate.html"
    path = tmp_path / "depot.html.gz"
    path.write_bytes(gzip.compress(page.read_bytes()))
    article = extract_file(path, max_bytes=CAP)
    assert (article.title, article.text) == (
        extract_file(page, max_bytes=CAP).title,
        extract_file(page, max_bytes=CAP).text,
    )
    assert article.title == "Drone strike hits depot near Albu Kamal"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32", "koi8_r", "cp1251"])
def test_a_text_file_is_read_in_its_charset_with_its_language(tmp_path: Path, encoding: str) -> None:
    text = "Авиаудары по складу оружия\n\nВоенные сообщили во вторник, что удары нанесены по складу у границы."
    path = tmp_path / "wire.txt"
    path.write_bytes(text.encode(encoding))
    article = extract_file(path, max_bytes=CAP)
    assert (article.title, article.language) == ("Авиаудары по складу оружия", "ru")
    assert article.text.startswith("Военные сообщили во вторник")


@pytest.mark.parametrize(
    ("encoding", "content_type"),
    [("utf-16", "text/html"), ("utf-32", None), ("cp1252", "text/html; charset=utf-8")],  # the last declared wrong
)
def test_a_page_is_read_in_its_charset(encoding: str, content_type: str | None) -> None:
    html = (FIXTURES / "page-with-boilerplate.html").read_text(encoding="cp1252").replace("caf&eacute;", "café")
    article = extract_page(html.encode(encoding), url=URL, content_type=content_type)
    assert article.title == "Drone strike hits depot near Albu Kamal" and "the café near the crossing" in article.text


def test_a_page_without_a_language_of_its_own_gets_the_detected_one() -> None:
    body = (FIXTURES / "page-with-boilerplate.html").read_bytes().replace(b' lang="en"', b"")
    assert extract_page(body, url=URL, content_type="text/html").language == "en"


def test_a_feed_entry_standing_in_for_its_page_gets_its_language() -> None:
    entry = FeedEntry(
        url=URL,
        title="Авиаудары у границы",
        summary="Военные сообщили во вторник об ударах.",
        published=None,
        entry_id=None,
        author=None,
    )
    assert article_from_entry(entry, feed_url="http://127.0.0.1:8000/rss").language == "ru"
