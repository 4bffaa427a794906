"""Entity names as written in a list: names of six letters or fewer only as spelt, longer ones in other spellings
but not as the adjective of nationality made from them ("Israeli", "Ukrainian", "Pakistani"), and an entry in
capitals (an acronym) only in capitals ("US" is not "us"). Table-driven."""

from __future__ import annotations

import unicodedata

import pytest

from newswatch.worker.article import Article
from newswatch.worker.rules import parse_rules

PLACES = parse_rules(
    "entities:\n  places:\n    kind: place\n    members: [Israel, Ukraine, Pakistan, Azerbaijan, Semalka]\n"
    "rules:\n  - {name: places, query: '@places'}\n",
    file="places.yaml",
)
HASHTAGS = parse_rules(
    "entities:\n  crossings:\n    kind: place\n    members: [Bab al-Hawa, Kerem Shalom, Tanf]\n"
    "rules:\n  - {name: crossings, query: '@crossings'}\n",
    file="hashtags.yaml",
)


def _found(rule_set: object, text: str) -> list[str]:
    hits = rule_set.match(Article(source="t", title="", text=text))  # type: ignore[attr-defined]
    return [m.text for hit in hits for m in hit.matches]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Troops entered Israel on Monday.", ["Israel"]),
        ("Israeli troops entered the town.", []),  # an adjective, not the place
        ("Israelis queued at the gate.", []),
        ("Troops entered Israil on Monday.", []),  # six letters: only as spelt
        ("Drones struck Ukraine overnight.", ["Ukraine"]),
        ("Drones struck Ukraina overnight.", ["Ukraina"]),  # another spelling of a longer name
        ("Ukrainian drones struck overnight.", []),
        ("Ukrainians fled west.", []),
        ("Pakistan closed the crossing.", ["Pakistan"]),
        ("Pakistani officials closed the crossing.", []),
        ("Azerbaijani troops advanced.", []),
        ("Aid crossed at Simalka.", ["Simalka"]),
    ],
)
def test_a_place_matches_in_other_spellings_but_not_as_its_adjective(text: str, found: list[str]) -> None:
    assert _found(PLACES, text) == found


ACRONYMS = parse_rules(
    "entities:\n  countries:\n    kind: place\n    members: [United States | US | U.S., Britain | UK]\n"
    "rules:\n  - {name: countries, query: '@countries'}\n",
    file="acronyms.yaml",
)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("The US withdrew its troops.", ["US"]),
        ("U.S. forces withdrew.", ["U.S"]),  # a name's span ends with its last letter
        ("The UK closed its embassy.", ["UK"]),
        ("They told us to leave.", []),  # the pronoun
        ("Us and them, he said.", []),
        ("The United States withdrew.", ["United States"]),
        ("A uk-based group said so.", []),
    ],
)
def test_an_entry_in_capitals_matches_only_in_capitals(text: str, found: list[str]) -> None:
    assert _found(ACRONYMS, text) == found


AFFILIATIONS = parse_rules(
    "entities:\n"
    "  countries:\n    kind: place\n    members: [iran, united states | us | u.s., Rwanda]\n"
    "  people:\n    kind: person\n    members: [{name: Qasem Soleimani}]\n"
    "rules:\n  - {name: countries, query: '@countries'}\n  - {name: people, query: '@people'}\n",
    file="affiliations.yaml",
)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Fighters crossed into Iran overnight.", ["Iran"]),
        ("Iran-backed militias crossed the river.", []),  # an actor's patron, not the place
        ("U.S.-led forces withdrew.", []),
        ("US-made jets flew over the town.", []),
        ("Rwanda-backed rebels seized the town.", []),  # a name in a list of places: the same
        ("Refugees fled to Rwanda, backed by aid groups.", ["Rwanda"]),  # a comma, not a compound
        ("Iran - backed by Russia - refused.", ["Iran"]),  # spaced dashes are punctuation
        ("The Iran - backed militias crossed the river .", []),  # a tokenizer's text: the compound spaced out
        ("Qasem Soleimani-led units advanced.", ["Qasem Soleimani"]),  # a person stays mentioned
    ],
)
def test_a_place_as_an_actors_affiliation_is_no_mention_of_it(text: str, found: list[str]) -> None:
    assert _found(AFFILIATIONS, text) == found


@pytest.mark.parametrize(
    "written",
    [
        "Refugees crossed at Öncüpınar on Monday.",
        unicodedata.normalize("NFD", "Refugees crossed at Öncüpınar on Monday."),  # accents as characters of their own
        "Refugees crossed at Öncü\u00adpınar on Monday.",  # a soft hyphen, a hint where to break the line
        "Refugees crossed at Öncü\u200bpınar on Monday.",  # a zero-width space, the same
    ],
)
def test_a_name_is_found_however_its_letters_are_encoded(written: str) -> None:
    """Decomposed accents and invisible break hints inside a word (as some pages and exports have them) do not
    split a name; the mention shows the name as the text reads."""
    crossings = parse_rules(
        "entities:\n  crossings:\n    kind: place\n    members: [Öncüpınar]\n"
        "rules:\n  - {name: c, query: '@crossings'}\n",
        file="crossings.yaml",
    )
    assert _found(crossings, written) == ["Öncüpınar"]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Trucks roll through #BabAlHawa into Syria.", ["BabAlHawa"]),
        ("Aid waits at #KeremShalom again.", ["KeremShalom"]),
        ("Trucks roll through Bab al-Hawa into Syria.", ["Bab al-Hawa"]),
        ("Babalhawas are a kind of pastry.", []),  # only the whole name, as a word of its own
        ("Kerem and Shalom met in Haifa.", []),
    ],
)
def test_a_name_of_several_words_matches_written_as_one_hashtag(text: str, found: list[str]) -> None:
    """Posts write a name as one hashtag word; the name is matched there as it is spelt apart."""
    assert _found(HASHTAGS, text) == found
