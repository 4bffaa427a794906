"""Property: any text given as a query either compiles or is refused with a located rule error."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from newswatch.worker.errors import RuleError
from newswatch.worker.rules import parse_rules

PIECES = st.sampled_from(
    [
        "airstrike",
        '"border crossing"',
        "AND",
        "OR",
        "NOT",
        "(",
        ")",
        "NEAR/3",
        "NEAR/",
        "strike*",
        "st*",
        "title:",
        "source:",
        "lang:en",
        "@commanders",
        "@nope",
        '"',
        "*",
        "Tanf",
        "al-Qaim",
        "“",
        "”",
        ":",
        "/",
    ]
)
QUERIES = st.one_of(st.text(max_size=60), st.lists(PIECES, max_size=12).map(" ".join))


@given(QUERIES)
@settings(max_examples=300, deadline=None)
def test_any_query_compiles_or_fails_with_a_position(query: str) -> None:
    document = (
        "entities:\n  commanders:\n    kind: person\n    members: [Qasem Soleimani]\n"
        f"rules:\n  - name: generated\n    query: {json.dumps(query)}\n"
    )
    try:
        rule_set = parse_rules(document, file="rules.yaml")
    except RuleError as error:
        assert error.file == "rules.yaml"
        assert error.line == 7
        assert error.column is not None and error.column >= 1
        assert str(error).startswith("rules.yaml:7:")
    else:
        assert [rule.name for rule in rule_set.rules] == ["generated"]
