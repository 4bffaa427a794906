"""Rules files: the schema is generated from the models and agrees with the loader; every mistake is located."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from newswatch.worker.durations import parse_duration
from newswatch.worker.errors import RuleError, RulesFileError
from newswatch.worker.rules import load_rules, located, parse_rules
from newswatch.worker.rules.loader import DURATION_PATTERN, check_rules
from newswatch.worker.rules.located import Located, LocatedList, read_located
from newswatch.worker.rules.schema import rules_schema

ROOT = Path(__file__).resolve().parents[3]


def test_the_committed_schema_is_the_generated_one() -> None:
    committed = json.loads((ROOT / "worker" / "rules" / "schema.json").read_text())
    assert committed == rules_schema(), (
        "worker/rules/schema.json is out of date: run `newswatch rules schema > worker/rules/schema.json`"
    )
    jsonschema.Draft202012Validator.check_schema(committed)


def test_the_example_rules_load_and_match_the_schema() -> None:
    rule_set = load_rules(ROOT / "seeds" / "rules.yaml")
    assert [rule.name for rule in rule_set.rules] == ["border-crossings", "commanders", "airstrikes"]
    jsonschema.validate(yaml.safe_load((ROOT / "seeds" / "rules.yaml").read_text()), rules_schema())


@pytest.mark.parametrize(
    "document",
    [
        "rules:\n  - name: a\n    query: airstrike\n    severty: high\n",
        "rules:\n  - name: a\n    query: x\n    severity: urgent\n",
        "rules:\n  - name: a\n",
        "rules: []\n",
        "rules:\n  - {name: a, query: x}\nentitles: {}\n",
        "rules:\n  - {name: -a, query: x}\n",
        "rules:\n  - {name: a, query: ''}\n",
        "rules:\n  - {name: a, query: x, min_mentions: 0}\n",
        "rules:\n  - {name: a, query: x, fields: [body]}\n",
        "rules:\n  - {name: a, query: x, sources: {only: [bbc.co.uk]}}\n",
        "rules:\n  - {name: a, query: x, realert: soon}\n",
        "rules:\n  - {name: a, query: x, realert: PT6H}\n",
        "rules:\n  - {name: a, query: x, realert: 0h}\n",
        "entities:\n  l: {kind: city, members: [Mosul]}\nrules:\n  - {name: a, query: '@l'}\n",
        "entities:\n  l: {members: []}\nrules:\n  - {name: a, query: '@l'}\n",
        "entities:\n  l: {members: [{name: Mosul, alias: [Mawsil]}]}\nrules:\n  - {name: a, query: '@l'}\n",
    ],
)
def test_what_the_loader_refuses_the_schema_refuses(document: str) -> None:
    with pytest.raises(RuleError):
        parse_rules(document, file="r.yaml")
    assert not jsonschema.Draft202012Validator(rules_schema()).is_valid(yaml.safe_load(document))


@pytest.mark.parametrize(
    "document",
    [
        "rules:\n  - {name: a.b_c-1, query: x, description: null, enabled: false}\n",
        "rules:\n  - {name: a, query: x, realert: 6h}\n",
        "rules:\n  - {name: a, query: x, realert: 1.5 H}\n",
        "rules:\n  - {name: a, query: x, realert: 90}\n",
        "entities:\n  l: {kind: person, members: ['A | B', {name: C}]}\nrules:\n  - {name: a, query: '@l'}\n",
    ],
)
def test_what_the_loader_accepts_the_schema_accepts(document: str) -> None:
    parse_rules(document, file="r.yaml")
    jsonschema.validate(yaml.safe_load(document), rules_schema())


@pytest.mark.parametrize("text", ["90", "90s", " 15 m ", "2H", "1.5h", "7d", "1w", "0", "0.0h", "-1h", "1.h", "6x", ""])
def test_the_schemas_duration_pattern_is_what_parse_duration_reads(text: str) -> None:
    try:
        parse_duration(text)
        accepted = True
    except ValueError:
        accepted = False
    assert (re.fullmatch(DURATION_PATTERN, text) is not None) == accepted


def test_the_version_is_the_content_hash() -> None:
    first = parse_rules("rules:\n  - {name: a, query: airstrike}\n", file="r.yaml")
    same = parse_rules("rules:\n  - {name: a, query: airstrike}\n", file="other.yaml")
    edited = parse_rules("rules:\n  - {name: a, query: airstrikes}\n", file="r.yaml")
    assert first.version == same.version != edited.version
    assert len(first.version) == 12


@pytest.mark.parametrize(
    ("document", "location", "message"),
    [
        ("rules:\n  - name: a\n    query: 'airstrike\n", "r.yaml:4:", "quoted scalar that starts at line 3"),
        ("rules:\n  - name: a\n    query: airstrike\n    severty: high\n", "r.yaml:4:", "unknown key 'severty'"),
        ("rules:\n  - name: a\n", "r.yaml:2:", "a: a rule needs a `query` or weighted `terms`"),
        ("rules:\n  - name: a\n    query: x\n    severity: urgent\n", "r.yaml:4:15", "severity"),
        ("rules:\n  - {name: a, query: x}\n  - {name: a, query: y}\n", "r.yaml:3:", "duplicate rule name 'a'"),
        ("rules:\n  - name: a\n    query: drone AND (strike\n", "r.yaml:3:", "is not closed"),
        ("rules:\n  - name: a\n    query: '@generals'\n", "r.yaml:3:13", "unknown entity list @generals"),
        ("rules:\n  - name: a\n    query: x\n    min_mentions: 0\n", "r.yaml:4:19", "min_mentions"),
        ("rules:\n  - name: a\n    query: x\n    realert: soon\n", "r.yaml:4:", "not a duration"),
        ("rules: []\n", "r.yaml:1:", "rules"),
        ("- just a list\n", "r.yaml:1:1", "expected a mapping"),
        ("rules:\n  - name: a\n    query: x\n    query: y\n", "r.yaml:4:5", "duplicate key 'query'"),
    ],
)
def test_mistakes_name_file_line_and_column(document: str, location: str, message: str) -> None:
    with pytest.raises(RuleError) as caught:
        parse_rules(document, file="r.yaml")
    assert str(caught.value).startswith(location)
    assert message in str(caught.value)


def test_a_query_mistake_points_at_its_column() -> None:
    with pytest.raises(RuleError) as caught:
        parse_rules("rules:\n  - name: a\n    query: drone OR OR jet\n", file="r.yaml")
    # "query: " starts the value at column 12; the second OR is 9 characters into it.
    assert str(caught.value).startswith("r.yaml:3:21: query: unexpected 'OR'")


def test_a_missing_file_is_a_rule_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="cannot read rules file"):
        load_rules(tmp_path / "missing.yaml")


EVERY_MISTAKE = """\
entities:
  generals:
    kind: person
    members:
      - {name: Qasem Soleimani, alias: [Qassem Soleimani]}
rules:
  - name: a
    query: drone AND (jet
    languages: [en, eng]
  - name: b
    query: NOT satire
  - name: a
    query: '@generals OR @colonels'
    severity: urgent
  - name: c
    query: strike lang:english
"""


def test_every_mistake_of_a_file_is_reported_in_file_order() -> None:
    with pytest.raises(RulesFileError) as caught:
        parse_rules(EVERY_MISTAKE, file="r.yaml")
    assert [str(mistake).split(": ", 1)[0] for mistake in caught.value.mistakes] == [
        "r.yaml:5:40",  # the unknown key of the entity member
        "r.yaml:8:26",  # the query's unclosed '('
        "r.yaml:9:21",  # the second language code
        "r.yaml:11:12",  # a query that can never match
        "r.yaml:12:11",  # the second rule named a
        "r.yaml:13:26",  # the undefined @colonels
        "r.yaml:14:15",  # the severity
        "r.yaml:16:24",  # the lang: code
    ]
    assert str(caught.value).splitlines() == [str(mistake) for mistake in caught.value.mistakes]


@pytest.mark.parametrize(
    ("query", "column"),
    [
        ("NOT satire", 12),
        ("NOT satire AND NOT parody", 12),
        ("NOT (satire OR parody) source:example.org", 12),
        ("lang:en", 12),
        ("(NOT satire) NEAR/3 strike", 12),
        ("strike AND ((NOT satire) NEAR/3 jet)", 12),
    ],
)
def test_a_query_that_can_never_match_is_a_mistake(query: str, column: int) -> None:
    with pytest.raises(RuleError, match="can never match") as caught:
        parse_rules(f"rules:\n  - name: a\n    query: {query}\n", file="r.yaml")
    assert str(caught.value).startswith(f"r.yaml:3:{column}: query: can never match")


@pytest.mark.parametrize(
    "rule",
    [
        "{name: a, query: strike AND NOT satire}",
        "{name: a, query: strike OR NOT satire}",
        "{name: a, query: '(strike OR jet) NEAR/3 (drone OR NOT satire)'}",
        "{name: a, query: 'NOT satire', threshold: 2, terms: [{query: strike, weight: 2}]}",
        "{name: a, query: 'strike lang:en-GB', languages: [EN, pt-BR, zh_Hant]}",
    ],
)
def test_queries_that_can_match_and_real_language_codes_are_accepted(rule: str) -> None:
    parse_rules(f"rules:\n  - {rule}\n", file="r.yaml")


def test_a_weighted_term_that_can_never_count_is_a_mistake() -> None:
    document = "rules:\n  - name: a\n    threshold: 1\n    terms:\n      - {query: 'NOT satire', weight: -1}\n"
    with pytest.raises(RuleError, match=r"^r.yaml:5:18: query: can never match"):
        parse_rules(document, file="r.yaml")


def test_alert_channels_must_be_configured_when_the_channels_are_known() -> None:
    document = "rules:\n  - name: a\n    query: strike\n    alert: [console, desk-mail, ops]\n"
    checked = check_rules(document, file="r.yaml", channels=["console", "ops"])
    assert [str(m) for m in checked.mistakes] == [
        "r.yaml:4:22: alert: no channel named 'desk-mail' (configured: console, ops)"
    ]
    assert checked.rules == []
    assert check_rules(document, file="r.yaml").mistakes == []  # channels not given: not checked


def test_the_rules_without_mistakes_are_kept_for_their_examples_to_run() -> None:
    checked = check_rules(EVERY_MISTAKE, file="r.yaml")
    assert checked.rules == []  # a: unclosed and a duplicate; b: never matches; c: bad lang code
    fine = check_rules(EVERY_MISTAKE + "  - {name: d, query: strike}\n", file="r.yaml")
    assert [rule.spec.name for rule in fine.rules] == ["d"]


def _layout(value: object) -> object:
    """A document as read, with the position of every mapping, value and item."""
    if isinstance(value, Located):
        return (value.where, {key: (value.value_at[key], _layout(item)) for key, item in value.items()})
    if isinstance(value, LocatedList):
        return (value.item_at, [_layout(item) for item in value])
    return value


WITHOUT_LIBYAML = (located.LineLoader,)
"""`read_located`'s loaders on a PyYAML built without libyaml."""

NON_ASCII = """\
entities:
  places: {kind: place, members: ["Tal Abyaḍ | Tell Abiad", "Ceuta"]}
rules:
  - {name: é, query: "Ḥaḍramawt AND @places", severity: high}
  - name: b
    description: >
      Folded text
      over two lines.
    query: |
      drone
    terms: [{query: 'jet', weight: 1.5}, {query: 'x', weight: -1}]
    threshold: 2
"""


@pytest.mark.skipif(len(located.LOADERS) < 2, reason="PyYAML was built without libyaml")
@pytest.mark.parametrize(
    "document",
    [
        (ROOT / "seeds" / "rules.yaml").read_text(),
        (ROOT / "tests" / "fixtures" / "rules" / "engine-rules.yaml").read_text(),
        NON_ASCII,
        EVERY_MISTAKE,
    ],
)
def test_libyaml_reads_every_position_as_pyyaml_does(document: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, fast_mistakes = read_located(document, file="r.yaml")
    monkeypatch.setattr(located, "LOADERS", WITHOUT_LIBYAML)
    slow, slow_mistakes = read_located(document, file="r.yaml")
    assert _layout(fast) == _layout(slow)
    assert [str(m) for m in fast_mistakes] == [str(m) for m in slow_mistakes]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("rules: [broken\n", "r.yaml:2:1: invalid YAML: expected ',' or ']', but got '<stream end>'"),
        ("rules:\n  - name: a\n    query: 'airstrike\n", "r.yaml:4:1: invalid YAML: found unexpected end of stream"),
        ("rules:\n\t- name: a\n", "r.yaml:2:1: invalid YAML: found character '\\t' that cannot start any token"),
    ],
)
def test_a_yaml_mistake_is_worded_the_same_with_or_without_libyaml(
    document: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(RuleError) as caught:
        parse_rules(document, file="r.yaml")
    monkeypatch.setattr(located, "LOADERS", WITHOUT_LIBYAML)
    with pytest.raises(RuleError) as without:
        parse_rules(document, file="r.yaml")
    assert str(caught.value) == str(without.value)
    assert str(caught.value).startswith(message)


def test_a_file_only_pyyaml_reads_still_loads() -> None:
    # libyaml refuses an escaped UTF-16 surrogate pair, which PyYAML has always read.
    document = 'rules:\n  - name: a\n    query: drone\n    description: "smile \\ud83d\\ude00"\n'
    assert parse_rules(document, file="r.yaml").rules[0].description == "smile \ud83d\ude00"
