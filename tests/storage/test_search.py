"""What a search text means and where its words are marked: pure functions, table-driven."""

from __future__ import annotations

import pytest

from newswatch.storage.errors import QueryError
from newswatch.storage.search import excerpt, mark_spans, parse_search


@pytest.mark.parametrize(
    ("search", "phrases", "fts5"),
    [
        ("Soleimani", (("soleimani",),), '"soleimani"'),
        ('border "Rafah crossing"', (("border",), ("rafah", "crossing")), '"border" "rafah crossing"'),
        ("air-strike", (("air", "strike"),), '"air strike"'),
        ('NOT "unclosed OR *', (("not",), ("unclosed", "or")), '"not" "unclosed or"'),
        ("Mosul mosul MOSUL", (("mosul",),), '"mosul"'),
    ],
)
def test_a_search_text_is_words_and_phrases_and_nothing_else(
    search: str, phrases: tuple[tuple[str, ...], ...], fts5: str
) -> None:
    query = parse_search(search)
    assert query.phrases == phrases
    assert query.fts5() == fts5


@pytest.mark.parametrize("search", ["", "   ", '"" * -', "___"])
def test_a_search_without_words_is_refused(search: str) -> None:
    with pytest.raises(QueryError, match="no words"):
        parse_search(search)


@pytest.mark.parametrize(
    ("text", "search", "marked"),
    [
        ("An airstrike near Mosul.", "mosul airstrike", ["airstrike", "Mosul"]),
        ("An air-strike, then air strikes.", '"air strike"', ["air-strike"]),
        ("Hamas and Ḥamās and HAMAS.", "hamas", ["Hamas", "Ḥamās", "HAMAS"]),
        ("Ḥamās said “no” — twice.", "Ḥamās no", ["Ḥamās", "no"]),
        ("Strikes, not a strike.", "strike", ["strike"]),
        ("Rafah crossing; the Rafah gate.", 'rafah "rafah crossing"', ["Rafah crossing", "Rafah"]),
    ],
)
def test_marks_cover_whole_words_in_any_case_and_with_any_diacritics(text: str, search: str, marked: list[str]) -> None:
    assert [text[start:end] for start, end in mark_spans(text, parse_search(search))] == marked


def test_an_excerpt_is_one_line_around_the_first_mention_with_its_marks() -> None:
    text = "Opening words. " * 20 + "The convoy reached\nMosul at dawn, and Mosul was quiet. " + "Closing words. " * 20
    found = excerpt(text, parse_search("mosul"), width=80)
    assert found is not None
    assert found.text.startswith("… ") and found.text.endswith(" …") and "\n" not in found.text
    assert [found.text[start:end] for start, end in found.marks] == ["Mosul", "Mosul"]
    assert excerpt(text, parse_search("baghdad")) is None
