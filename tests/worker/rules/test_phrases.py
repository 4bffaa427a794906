"""A quoted phrase matches every inflection of each of its words ("pushed back" finds "pushing back"), and a
phrase with a possessive inside ("no man's land") matches the text that spells it so. Table-driven, one rule set
per phrase."""

from __future__ import annotations

import pytest

from newswatch.worker.article import Article
from newswatch.worker.rules import Match, parse_rules


def _matches(query: str, article: Article) -> list[Match]:
    rule_set = parse_rules(f"rules:\n  - name: r\n    query: '{query}'\n", file="phrase.yaml")
    return [m for hit in rule_set.match(article) for m in hit.matches]


def _found(query: str, text: str) -> list[str]:
    return [m.text for m in _matches(query, Article(source="t", title="", text=text))]


@pytest.mark.parametrize(
    ("query", "text", "found"),
    [
        ('"pushed back"', "Guards were pushing back migrants.", ["pushing back"]),
        ('"fled abroad"', "Thousands are fleeing abroad.", ["fleeing abroad"]),
        ('"sought refuge"', "Families seek refuge in Chad.", ["seek refuge"]),
        ('"stormed the"', "Crowds were storming the gate.", ["storming the"]),
        ('"took refuge"', "Thousands have taken refuge in Chad.", ["taken refuge"]),
        ('"crossed the"', "Migrants cross the river each night.", ["cross the"]),  # the lemma, as before
        ('"air strike"', "Air strikes continued.", ["Air strikes"]),  # the last word, as before
        ('"pushed back"', "The line was pushed far back.", []),  # another word between
    ],
)
def test_every_word_of_a_phrase_matches_its_inflections(query: str, text: str, found: list[str]) -> None:
    assert _found(query, text) == found


@pytest.mark.parametrize(
    ("query", "text", "found"),
    [
        ("\"no man''s land\"", "Hundreds are stranded in no man's land.", ["no man's land"]),
        ("\"no man''s land\"", "Hundreds are stranded in no man’s land.", ["no man’s land"]),
        ("\"no man''s land\"", "Hundreds are stranded in no-man's-land.", ["no-man's-land"]),
        ("\"Iran''s border\"", "Guards closed Iran’s border.", ["Iran’s border"]),
        ("Soleimani", "Soleimani's convoy was hit.", ["Soleimani"]),  # a possessive after a word, as before
    ],
)
def test_a_phrase_with_a_possessive_matches_as_spelt(query: str, text: str, found: list[str]) -> None:
    assert _found(query, text) == found


@pytest.mark.parametrize(
    ("query", "text", "found"),
    [
        ("driven", "They were driven back over the river.", ["driven"]),
        ("driven", "Dr. Strange star houses a family.", []),  # the dictionary's "dr" is no form of drive
        ("stationed", "Troops stationed at the post left.", ["stationed"]),
        ("stationed", "The STA said it would appeal.", []),  # nor "sta" a form of station
        ('"be reopened"', "The crossing will be reopened on Monday.", ["be reopened"]),
        ("were", "Aid trucks were stopped.", ["were"]),
        ("were", "They're stopped.", []),  # "'re" is spelt as a word of its own, not a form of "be"
    ],
)
def test_a_word_matches_its_inflections_not_the_dictionarys_abbreviations(
    query: str, text: str, found: list[str]
) -> None:
    assert _found(query, text) == found


@pytest.mark.parametrize(
    ("query", "text", "found"),
    [
        ("=crossed NEAR/1 border", "Fighters crossed border and attacked posts.", ["crossed", "border"]),
        ("=crossed NEAR/1 border", "A cross-border raid killed two.", []),  # "cross" is not "crossed" as written
        ("crossed NEAR/1 border", "A cross-border raid killed two.", ["cross", "border"]),  # inflected: it is
        ('="crossed border"', "They crossed-border overnight.", ["crossed-border"]),  # hyphen or space alike
        ("=held", "Leaders hold talks on the border.", []),
        ("=held", "Migrants were held at the border.", ["held"]),
        ("=Held", "HELD AT THE BORDER", ["HELD"]),  # case and diacritics still do not matter
        ("=\"no man''s land\"", "stranded in no man's land", ["no man's land"]),
    ],
)
def test_a_term_written_with_equals_matches_only_as_written(query: str, text: str, found: list[str]) -> None:
    assert _found(query, text) == found


@pytest.mark.parametrize(
    ("text", "rules"),
    [
        ("Migrants tried to break through the fence.", ["fence"]),
        ("Talks ended without a breakthrough.", ["talks"]),
    ],
)
def test_an_exact_phrase_and_an_exact_word_of_the_same_letters_stay_apart(text: str, rules: list[str]) -> None:
    """`="break through"` and `=breakthrough` in one rule set: each finds only its own spelling."""
    rule_set = parse_rules(
        "rules:\n  - name: talks\n    query: '=breakthrough'\n  - name: fence\n    query: '=\"break through\"'\n",
        file="exact.yaml",
    )
    assert [hit.rule for hit in rule_set.match(Article(source="t", title="", text=text))] == rules


@pytest.mark.parametrize(
    ("query", "text", "found"),
    [
        ('"air strike"', "An air  strike hit the town.", ["air  strike"]),  # two spaces
        ('"air strike"', "An air\n   strike hit the town.", ["air\n   strike"]),  # a wrapped line, indented
        ("airstrike", "Turkish jets carried out air - strikes .", ["air - strikes"]),  # a tokenizer's hyphen
        ('"cross-border"', "He condemned the cross - border raid .", ["cross - border"]),
        ('"Bab al-Hawa"', "Trucks crossed at Bab al - Hawa .", ["Bab al - Hawa"]),
        ("airstrike", "Rebels shot at air\u00a0 strike planes.", ["air\u00a0 strike"]),  # a no-break space too
        ('"air strike"', "They fled by air, strike or not.", []),  # a comma still parts the words
        ('"air strike"', "They came by air\n\nStrike action followed.", []),  # and so does a blank line
        ('"air strike"', "An air -- strike hit.", []),  # two hyphens are a dash, not a hyphen
        # a plural possessive's apostrophe and the space after it
        ("\"novices'' chase\"", "Air Strike wins the novices\u2019 chase.", ["novices\u2019 chase"]),
        ("\"pilots'' base\"", "Rockets hit the pilots' base.", ["pilots' base"]),
        ('"pilots base"', "Rockets hit the pilots' base.", ["pilots' base"]),  # as the term's words stand
        ('"pilot base"', "The pilot's base was hit.", []),  # "pilot's" is "pilot s": another word between
    ],
)
def test_a_phrase_is_found_across_a_wide_gap_and_shown_as_written(query: str, text: str, found: list[str]) -> None:
    """Tokenized text ("air - strikes") and careless copies ("air  strike") still say the phrase; the mention
    shows the text as it is."""
    assert _found(query, text) == found


@pytest.mark.parametrize(
    ("query", "title", "text", "found"),
    [
        ('"from the"', "Aid from the north", "Trucks came from  the\nnorth.", ["title:4-12", "text:12-21"]),
        ("is", "", "The crossing is shut; it was open.", ["text:13-15", "text:25-28"]),
        ("fled PRE/1 (to OR into)", "", "Some fled. To Chad. They fled into it.", ["text:25-29", "text:30-34"]),
        ('"on the" NEAR/1 border', "", "Talks on the economy. Fighting on the border.", ["text:31-37", "text:38-44"]),
        ("to", "", "Nothing here goes anywhere.", []),
    ],
)
def test_a_term_of_function_words_alone_is_found_where_it_is_written(
    query: str, title: str, text: str, found: list[str]
) -> None:
    article = Article(source="t", title=title, text=text)
    matches = _matches(query, article)
    assert [f"{m.field}:{m.start}-{m.end}" for m in matches] == found
    assert all(getattr(article, m.field)[m.start : m.end] == m.text for m in matches)
