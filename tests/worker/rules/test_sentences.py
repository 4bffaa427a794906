"""A sentence ends at its final punctuation, not at the period of a real abbreviation (a title or rank, a month,
an initial): a short place name before a full stop ("Gaza.", "Iraq.") ends its sentence, so that NEAR and the
snippets keep to it. Table-driven."""

from __future__ import annotations

import pytest

from newswatch.worker.article import Article
from newswatch.worker.rules import parse_rules
from newswatch.worker.rules.text import sentence_bounds


def _sentences(text: str) -> list[str]:
    starts, stops = sentence_bounds(text)
    spans = zip(starts, [*stops, len(text)], strict=False)
    return [text[start:stop].strip() for start, stop in spans if text[start:stop].strip()]


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        # short capitalised words are not abbreviations
        ("Shelling went on in Gaza. Jets struck the camp.", ["Shelling went on in Gaza.", "Jets struck the camp."]),
        ("Troops left Iraq. Iran said nothing.", ["Troops left Iraq.", "Iran said nothing."]),
        ("Settlers entered the West Bank. Police followed.", ["Settlers entered the West Bank.", "Police followed."]),
        ("He flew to Oman. Talks began.", ["He flew to Oman.", "Talks began."]),
        ("Protests spread to Lima. None were hurt.", ["Protests spread to Lima.", "None were hurt."]),
        # titles, ranks, months, numbers, initials and a few lower-case abbreviations are
        ("Maj. Gen. Soleimani arrived. He spoke.", ["Maj. Gen. Soleimani arrived.", "He spoke."]),
        ("Mr. Smith met Dr. Jones. They spoke.", ["Mr. Smith met Dr. Jones.", "They spoke."]),
        (
            "Lt. Col. Ali and Sgt. Omar left. Capt. Reza stayed.",
            ["Lt. Col. Ali and Sgt. Omar left.", "Capt. Reza stayed."],
        ),
        (
            "Gov. Abbott and Sen. Cruz spoke. Rep. Ortiz did not.",
            ["Gov. Abbott and Sen. Cruz spoke.", "Rep. Ortiz did not."],
        ),
        ("The talks began on Sept. 12 in Doha. They ended.", ["The talks began on Sept. 12 in Doha.", "They ended."]),
        ("It happened on Jan. 3 and Dec. 9. Nobody knew.", ["It happened on Jan. 3 and Dec. 9.", "Nobody knew."]),
        ("U.S. forces left. The base closed.", ["U.S. forces left.", "The base closed."]),
        (
            "The U.N. envoy and J. Smith met. Nothing came of it.",
            ["The U.N. envoy and J. Smith met.", "Nothing came of it."],
        ),
        ("No. 10 said so. The talks ended.", ["No. 10 said so.", "The talks ended."]),
        (
            "Exports, e.g. oil, fell approx. 5 percent. Imports rose.",
            ["Exports, e.g. oil, fell approx. 5 percent.", "Imports rose."],
        ),
        (
            "Mt. Hermon and St. Catherine were shut. Ft. Hood was not.",
            ["Mt. Hermon and St. Catherine were shut.", "Ft. Hood was not."],
        ),
        # other ends as before: ! ? and line breaks
        ("Why? Nobody knows!\nA new line.", ["Why?", "Nobody knows!", "A new line."]),
        ("A heading\n\nThe body.", ["A heading", "The body."]),
    ],
)
def test_sentences_end_at_a_full_stop_unless_it_closes_a_real_abbreviation(text: str, sentences: list[str]) -> None:
    assert _sentences(text) == sentences


NEAR = parse_rules("rules:\n  - {name: near, query: 'jets NEAR/8 strike'}\n", file="near.yaml")


@pytest.mark.parametrize(
    ("text", "matched"),
    [
        ("Israeli jets flew over Gaza. A strike then hit the port.", False),
        ("Jets circled Iraq. A strike was not reported.", False),
        ("Jets flew over the West Bank. A strike followed.", False),
        ("Maj. Gen. Ali said jets carried out the strike.", True),
        ("U.S. jets carried out a strike.", True),
    ],
)
def test_near_does_not_cross_a_sentence_ending_in_a_short_name(text: str, matched: bool) -> None:
    assert bool(NEAR.match(Article(source="t", title="", text=text))) is matched
