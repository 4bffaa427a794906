"""The language of texts that do not name their own, for rules' `languages` filter."""

from __future__ import annotations

import pytest

from newswatch.worker.ingest.language import detect_language


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
