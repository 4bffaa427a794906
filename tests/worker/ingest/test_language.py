"""The language of texts that do not name their own, for rules' `languages` filter."""

from __future__ import annotations

import pytest

from newswatch.worker.ingest.extract import article_from_entry, extract_page
from newswatch.worker.ingest.feeds import parse_feed
from newswatch.worker.ingest.language import declared_language, detect_language, preload_detector


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("US jets strike convoy near Tanf garrison", "en"),
        ("Militias reach the Syrian-Iraqi border crossing, officials said on Tuesday.", "en"),
        ("Авиаудары по пограничному переходу у Альбу-Кемаля", "ru"),
        ("غارات جوية على المعبر الحدودي يوم الثلاثاء", "ar"),
        ("Les frappes aériennes ont touché le poste-frontière mardi.", "fr"),
        ("Luftangriffe auf den Grenzübergang am Dienstag", "de"),
    ],
)
def test_the_language_of_a_text_is_detected(text: str, language: str) -> None:
    assert detect_language(text) == language


@pytest.mark.parametrize("text", ["", "OK", "12:45 — 3/4", "Skip"])
def test_too_few_letters_say_no_language(text: str) -> None:
    assert detect_language(text) is None


RSS_FR = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title><language>fr-FR</language>
<item><title>Strikes near the border</title><link>http://127.0.0.1/1</link>
<description>Drones struck a depot near the crossing on Tuesday.</description></item></channel></rss>"""
ATOM_DE = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" xml:lang="de"><title>Wire</title>
<entry><title>Strikes near the border</title><link href="http://127.0.0.1/1"/>
<summary xml:lang="ar">Drones struck a depot near the crossing on Tuesday.</summary></entry>
<entry><title>Another strike</title><link href="http://127.0.0.1/2"/><summary>Drones again.</summary></entry></feed>"""
JSON_FEED = b"""{"version": "https://jsonfeed.org/version/1.1", "title": "Wire", "language": "ru",
"items": [{"id": "1", "url": "http://127.0.0.1/1", "title": "Strikes", "content_text": "Drones struck a depot."}]}"""
PAGE = b"""<html><head><title>Strikes near the border</title></head><body><article><p>Drones struck a depot
near the crossing on Tuesday, officials said, and the convoy turned back before reaching the garrison.</p>
</article></body></html>"""


@pytest.mark.parametrize(
    ("body", "languages"),
    [(RSS_FR, ["fr-fr"]), (ATOM_DE, ["ar", "de"]), (JSON_FEED, ["ru"])],
)
def test_a_feed_declared_language_is_the_entry_language_not_a_guess(body: bytes, languages: list[str]) -> None:
    entries = parse_feed(body, url="http://127.0.0.1/feed").entries
    articles = [article_from_entry(entry, feed_url="http://127.0.0.1/feed") for entry in entries]
    assert [article.language for article in articles] == languages  # the English text is not re-detected


def test_a_page_without_its_own_language_takes_the_feed_one() -> None:
    assert extract_page(PAGE, url="http://127.0.0.1/1", content_type="text/html", language="fr").language == "fr"
    assert extract_page(PAGE, url="http://127.0.0.1/1", content_type="text/html").language == "en"
    with_lang = PAGE.replace(b"<html>", b'<html lang="de">')
    assert extract_page(with_lang, url="http://127.0.0.1/1", content_type="text/html", language="fr").language == "de"


@pytest.mark.parametrize(
    ("tag", "language"),
    [
        ("en-GB", "en-gb"),
        ("FR", "fr"),
        (" de ", "de"),
        ("zh_Hant", "zh-hant"),
        ("english", None),
        ("", None),
        (None, None),
    ],
)
def test_a_declared_tag_is_read_or_ignored(tag: object, language: str | None) -> None:
    assert declared_language(tag) == language


def test_the_detector_model_is_loaded_once_before_forking() -> None:
    import py3langid.langid

    preload_detector()
    loaded = py3langid.langid.IDENTIFIER
    assert loaded is not None
    assert detect_language("Drones struck a depot near the crossing on Tuesday.") == "en"
    assert py3langid.langid.IDENTIFIER is loaded
