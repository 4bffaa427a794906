"""The query language: what parses to what, and where mistakes are reported."""

from __future__ import annotations

import marshal
import re
from pathlib import Path

import pytest
import yaml

from newswatch.worker.rules import query as grammar
from newswatch.worker.rules.query import And, Entity, Meta, Near, Not, Or, QueryError, Words, parse_query


@pytest.mark.parametrize(
    ("query", "tree"),
    [
        ("airstrike", Words("airstrike")),
        ('"border crossing"', Words("border crossing")),
        ("“border crossing”", Words("border crossing")),
        ("strike*", Words("strike", prefix=True)),
        ("drone strike", And((Words("drone"), Words("strike")))),
        ("drone AND strike", And((Words("drone"), Words("strike")))),
        ("drone OR jet", Or((Words("drone"), Words("jet")))),
        ("a OR b c", Or((Words("a"), And((Words("b"), Words("c")))))),
        ("strike NOT labour", And((Words("strike"), Not(Words("labour"))))),
        ("strike* NEAR/5 (jet OR drone)", Near(Words("strike", True), Or((Words("jet"), Words("drone"))), 5)),
        ("title:Tanf", Words("Tanf", field="title")),
        ("text:(Tanf OR Qaim)", Or((Words("Tanf", field="text"), Words("Qaim", field="text")))),
        ("source:reuters.com lang:en", And((Meta("source", "reuters.com"), Meta("lang", "en")))),
        ("@commanders", Entity("commanders")),
        ("and or not", And((Words("and"), Words("or"), Words("not")))),
        ("=crossed border", And((Words("crossed", exact=True), Words("border")))),
        ('="was held" OR a=b', Or((Words("was held", exact=True), Words("a=b")))),
        (
            "title:(=was NEAR/2/any held)",
            Near(Words("was", field="title", exact=True), Words("held", field="title"), 2, True),
        ),
        ("fled PRE/2 Syria", Near(Words("fled"), Words("Syria"), 2, ordered=True)),
        ("a PRE/3/any b", Near(Words("a"), Words("b"), 3, True, ordered=True)),
    ],
)
def test_queries_parse_to_their_clauses(query: str, tree: object) -> None:
    assert parse_query(query) == tree


@pytest.mark.parametrize(
    ("query", "column", "message"),
    [
        ("", 0, "empty query"),
        ("(airstrike OR", 13, "unexpected end of query"),
        ("(airstrike OR drone", 19, "is not closed"),
        ("airstrike)", 9, "unmatched ')'"),
        ('"border crossing', 0, "unterminated phrase"),
        ("strike NEAR/ jet", 7, "NEAR needs a distance"),
        ("fled PRE/0 Syria", 5, "PRE needs a distance"),
        ("st*", 0, "at least 3 letters"),
        ("str*ke", 3, "only allowed at the end"),
        ("author:smith", 0, "unknown field 'author:'"),
        ("airstrike OR OR drone", 13, "unexpected 'OR'"),
        ("source: reuters.com", 7, "expected a value right after 'source:'"),
        ("@", 0, "entity list name"),
        ("=strike*", 0, "'=' and '*' do not go together"),
    ],
)
def test_mistakes_say_where_and_what_was_expected(query: str, column: int, message: str) -> None:
    with pytest.raises(QueryError, match=re.escape(message)) as caught:
        parse_query(query)
    assert caught.value.column == column


@pytest.mark.parametrize(
    "query",
    [
        "airstrike",
        '"air strike" OR drone*',
        "(a OR b) NEAR/3 c",
        "title:x NOT y",
        '="was held" NEAR/2 =crossed',
        "fled PRE/2 (Syria OR Iraq)",
    ],
)
def test_clauses_render_back_to_equivalent_queries(query: str) -> None:
    tree = parse_query(query)
    assert parse_query(str(tree)) == tree


def test_every_example_query_reads_back_from_its_plain_data() -> None:
    """A rules file's query trees are kept across starts as plain data (the term cache): what is read back must
    be the tree the query parses to, for every query of the example rules."""
    document = yaml.safe_load((Path(__file__).resolve().parents[3] / "seeds" / "rules.yaml").read_text())
    queries = [rule["query"] for rule in document["rules"] if rule.get("query")]
    queries += [term["query"] for rule in document["rules"] for term in rule.get("terms", [])]
    queries += ["title:(=was NEAR/2/any held)", "a PRE/3/any b", "source:reuters.com lang:en NOT strike*"]
    assert len(queries) > 400
    for query in queries:
        tree = parse_query(query)
        kept = grammar.tree_from_data(marshal.loads(marshal.dumps(grammar.tree_data(tree))))
        assert kept == tree, query
        assert str(kept) == str(tree)
