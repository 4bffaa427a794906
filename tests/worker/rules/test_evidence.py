"""The evidence of a hit leads with the sentence that carries the rule's meaning: where its query holds on its
own (a NEAR or AND pair together), the highest weighted score, or the most distinct terms; ties to the earliest,
title included. Table-driven on small rule sets."""

from __future__ import annotations

import pytest

from newswatch.worker.article import Article
from newswatch.worker.rules import parse_rules

RULES = parse_rules(
    """
rules:
  - {name: pair, query: '(aircraft OR jet) AND (bomb OR strike)'}
  - {name: near, query: 'aircraft OR (jet NEAR/4 bomb)'}
  - {name: near-any, query: 'aircraft NEAR/20/any bomb'}
  - {name: terms, query: 'depot OR jet OR dawn'}
  - name: weighted
    threshold: 3
    terms:
      - {query: '"air raid"', weight: 3}
      - {query: depot, weight: 1}
      - {query: siren, weight: -3}
""",
    file="evidence.yaml",
)
AIRCRAFT = "All aircraft returned to base safely. Jets bombed the depot at dawn."


@pytest.mark.parametrize(
    ("rule", "title", "text", "lead"),
    [
        ("pair", "Report", AIRCRAFT, "Jets bombed the depot at dawn."),
        ("near", "Report", AIRCRAFT, "Jets bombed the depot at dawn."),
        ("near-any", "Report", AIRCRAFT, "All aircraft returned to base safely."),  # no sentence holds the pair
        ("terms", "Report", "The depot burned. Jets hit the depot at dawn.", "Jets hit the depot at dawn."),
        ("terms", "Report", "The depot burned. The depot was rebuilt.", "The depot burned."),  # a tie
        ("terms", "Depot fire", "The depot burned on Monday.", "Depot fire"),  # a tie, the title first
        ("pair", "Jets bomb a depot", "An aircraft was seen. A strike followed.", "Jets bomb a depot"),
        (
            "weighted",
            "Report",
            "An air raid siren sounded. Then an air raid hit the depot. The depot burned.",
            "Then an air raid hit the depot.",
        ),
        ("weighted", "Report", "The depot burned. An air raid hit the town.", "An air raid hit the town."),
    ],
)
def test_the_first_snippet_is_the_sentence_that_carries_the_rule(rule: str, title: str, text: str, lead: str) -> None:
    (hit,) = [hit for hit in RULES.match(Article(source="t", title=title, text=text)) if hit.rule == rule]
    assert hit.snippet == lead
    assert hit.snippets[0].text == lead


def test_the_other_snippets_and_all_matches_stay_in_article_order() -> None:
    (hit,) = [h for h in RULES.match(Article(source="t", title="Report", text=AIRCRAFT)) if h.rule == "pair"]
    assert [s.marked() for s in hit.snippets] == [
        "**Jets** **bombed** the depot at dawn.",
        "All **aircraft** returned to base safely.",
    ]
    assert [(m.text, m.start) for m in hit.matches] == [("aircraft", 4), ("Jets", 38), ("bombed", 43)]
