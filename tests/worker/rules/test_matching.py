"""Matching, table-driven: variants, inflections, transliterations and near misses, as each rule intends."""

from __future__ import annotations

from pathlib import Path

import pytest

from newswatch.worker.article import Article
from newswatch.worker.rules import load_rules, parse_rules

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = load_rules(ROOT / "tests" / "fixtures" / "rules" / "engine-rules.yaml")


def _article(text: str, title: str = "Report", **meta: str) -> Article:
    return Article(source="test", title=title, text=text, **meta)  # type: ignore[arg-type]


def _hits(text: str, title: str = "Report") -> dict[str, list[str]]:
    return {hit.rule: [m.text for m in hit.matches] for hit in EXAMPLE.match(_article(text, title))}


@pytest.mark.parametrize(
    ("text", "rule", "matched"),
    [
        # spellings and inflections of air strikes
        ("Jets carried out an air-strike on the depot.", "airstrikes", "air-strike"),
        ("Air strikes continued overnight.", "airstrikes", "Air strikes"),
        ("The AIRSTRIKES killed four fighters.", "airstrikes", "AIRSTRIKES"),
        ("Warplanes struck positions near the town.", "airstrikes", "Warplanes"),
        ("A drone strike hit a car on the highway.", "airstrikes", "drone strike"),
        ("Residents reported an air raid before dawn.", "airstrikes", "air raid"),
        # commanders, with transliterations, particles and diacritics
        ("Qassem Suleimani visited Baghdad.", "commanders", "Qassem Suleimani"),
        ("Ghasem Soleimani was seen at the front.", "commanders", "Ghasem Soleimani"),
        ("General Qāsem Soleimānī arrived.", "commanders", "Qāsem Soleimānī"),
        ("Abu Mahdi al-Mohandes spoke to reporters.", "commanders", "Abu Mahdi al-Mohandes"),
        ("Abu Mahdi Al Muhandis spoke to reporters.", "commanders", "Abu Mahdi Al Muhandis"),
        ("Jamal Jaafar Ibrahim was named in the report.", "commanders", "Jamal Jaafar Ibrahim"),
        # border crossings: places with their spellings, and the generic phrases
        ("Fighting was reported near Albu Kamal on Monday.", "border-crossings", "Albu Kamal"),
        ("Trucks queued at al-Yarubiyah for a week.", "border-crossings", "al-Yarubiyah"),
        ("The Faysh Khabur bridge reopened.", "border-crossings", "Faysh Khabur"),
        ("Traffic resumed at the Nasib crossing.", "border-crossings", "Nasib"),
        ("Militias took the border points overnight.", "border-crossings", "border points"),
        ("Forces reached the Iraqi-Syrian border crossing.", "border-crossings", "Iraqi-Syrian border crossing"),
    ],
)
def test_variants_match(text: str, rule: str, matched: str) -> None:
    assert matched in _hits(text).get(rule, [])


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("Dock workers went on strike over pay; the strike ended when managers met the unions.", "airstrikes"),
        ("Air France cancelled flights as pilots went on strike.", "airstrikes"),
        ("The striker, still jet-lagged, scored twice.", "airstrikes"),
        ("Salmon prices rose sharply at the market.", "commanders"),
        ("Soleimani is a common surname in the province.", "commanders"),
        ("He came to the town after the harvest.", "border-crossings"),
        ("Senator Marco Rubio questioned the nominee.", "border-crossings"),  # not Rabia: too few sounds to guess
        ("Customs officers crossed the street to the border of the park.", "border-crossings"),
    ],
)
def test_near_misses_do_not_match(text: str, rule: str) -> None:
    assert rule not in _hits(text)


def test_a_surname_counts_only_after_the_full_name() -> None:
    text = "Soleimani was not mentioned by name. Later Qasem Soleimani arrived, and Soleimani spoke; SOLEIMANI left."
    (commanders,) = [hit for hit in EXAMPLE.match(_article(text)) if hit.rule == "commanders"]
    assert [m.text for m in commanders.matches] == ["Qasem Soleimani", "Soleimani", "SOLEIMANI"]
    assert commanders.matches[1].start > text.index("Qasem")


def test_hits_explain_themselves_with_offsets_clauses_snippets_and_score() -> None:
    article = _article("Officials said a US airstrike hit the convoy. Nobody was hurt.", title="Airstrike near Tanf")
    hits = {hit.rule: hit for hit in EXAMPLE.match(article)}
    airstrikes = hits["airstrikes"]
    title_match, text_match = airstrikes.matches
    assert (title_match.field, article.title[title_match.start : title_match.end]) == ("title", "Airstrike")
    assert article.text[text_match.start : text_match.end] == "airstrike"
    assert text_match.clause == "airstrike"  # the innermost clause it satisfied
    assert airstrikes.score == 4.0  # a title mention counts three times
    assert [s.marked() for s in airstrikes.snippets] == [
        "**Airstrike** near Tanf",
        "Officials said a US **airstrike** hit the convoy.",
    ]
    assert hits["border-crossings"].matches[0].text == "Tanf"


@pytest.mark.parametrize(
    ("query", "extra", "article", "expected"),
    [
        ("drone NEAR/2 strike", "", _article("A drone launched a strike."), True),
        ("drone NEAR/2 strike", "", _article("A drone was seen, and hours later a strike."), False),
        ("strike NOT (labour OR union)", "", _article("The union called a strike."), False),
        ("strike NOT (labour OR union)", "", _article("A strike hit the depot."), True),
        ("title:Tanf", "", _article("Near Tanf.", title="Report"), False),
        ("title:Tanf", "", _article("Report.", title="Strike near Tanf"), True),
        ("Tanf", "    fields: [title]\n", _article("Near Tanf.", title="Report"), False),
        ("Tanf source:example.org", "", _article("Tanf.", domain="news.example.org"), True),
        ("Tanf", "    sources: {exclude: [example.org]}\n", _article("Tanf.", domain="news.example.org"), False),
        ("Tanf", "    sources: {include: [wire.example]}\n", _article("Tanf.", domain="news.example.org"), False),
        ("Tanf", "    languages: [ar]\n", _article("Tanf.", language="en"), False),
        ("Tanf lang:en", "", _article("Tanf.", language="en"), True),
        ("Tanf", "    min_mentions: 2\n", _article("Tanf. Nothing else."), False),
        ("Tanf", "    min_mentions: 2\n", _article("Tanf. And Tanf again."), True),
        ("Tanf", "    enabled: false\n", _article("Tanf."), False),
        ("conflict*", "", _article("Conflicting reports emerged."), True),
    ],
)
def test_rule_options_and_operators(query: str, extra: str, article: Article, expected: bool) -> None:
    rule_set = parse_rules(f"rules:\n  - name: r\n    query: '{query}'\n{extra}", file="r.yaml")
    assert bool(rule_set.match(article)) is expected


def test_explain_names_the_first_clause_that_failed() -> None:
    rule_set = parse_rules("rules:\n  - {name: r, query: 'drone AND (jet OR warplane) AND Tanf'}\n", file="r.yaml")
    (explanation,) = rule_set.explain(_article("A drone crossed near Tanf."))
    assert explanation.hit is None
    assert explanation.failed == "jet OR warplane"


def test_a_long_sentence_is_cut_around_the_mention_and_says_so() -> None:
    text = (
        "Officials said "
        + "that the talks went on " * 30
        + "until a US airstrike hit the convoy "
        + "and the talks went on " * 30
        + "until dawn."
    )
    (hit,) = [h for h in EXAMPLE.match(_article(text)) if h.rule == "airstrikes"]
    (snippet,) = hit.snippets
    assert snippet.text.startswith("… ") and snippet.text.endswith("…")
    assert len(snippet.text) <= 320
    ((start, end),) = snippet.marks
    assert snippet.text[start:end] == "airstrike"


def test_rules_sharing_a_term_each_show_all_its_mentions_and_a_failed_or_names_itself() -> None:
    rules = (
        "rules:\n"
        "  - {name: alone, query: 'conflict*'}\n"
        "  - {name: either, query: '\"border gate\" OR conflict*'}\n"
        "  - {name: in-title, query: '\"border gate\" OR conflict*', fields: [title]}\n"
        "  - {name: absent, query: '\"border gate\" OR tanf*'}\n"
    )
    article = _article("Conflicting reports emerged. The conflict went on.", title="Conflict")
    explained = {e.rule: e for e in parse_rules(rules, file="r.yaml").explain(article)}
    alone, either, in_title = (explained[name].hit for name in ("alone", "either", "in-title"))
    assert alone is not None and either is not None and in_title is not None
    assert [m.text for m in either.matches] == ["Conflict", "Conflicting", "conflict"]
    assert (either.matches, either.snippets, either.score) == (alone.matches, alone.snippets, alone.score)
    assert [m.field for m in in_title.matches] == ["title"]
    assert explained["absent"].failed == '"border gate" OR tanf*'
