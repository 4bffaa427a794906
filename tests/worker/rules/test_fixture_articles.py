"""Whole articles written as fixtures: each example rule matches exactly the articles it is meant to."""

from __future__ import annotations

from pathlib import Path

import pytest

from newswatch.worker.ingest.extract import extract_file
from newswatch.worker.rules import load_rules

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "rules"
RULES = load_rules(ROOT / "tests" / "fixtures" / "rules" / "engine-rules.yaml")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("labour-dispute.txt", {}),
        (
            "commander-profile.txt",
            {"commanders": ["Qassem Suleimani", "Qassem Suleimani", "Suleimani", "Abu Mahdi al-Mohandes", "SULEIMANI"]},
        ),
        (
            "border-report.txt",
            {
                "border-crossings": ["Qaim", "al-Qaim", "Albu Kamal", "Rabia", "Faysh Khabur"],
                "airstrikes": ["drones", "struck", "air\nstrikes"],
            },
        ),
    ],
)
def test_each_article_hits_exactly_the_rules_meant_for_it(name: str, expected: dict[str, list[str]]) -> None:
    article = extract_file(FIXTURES / name, max_bytes=1_000_000)
    hits = {hit.rule: [m.text for m in hit.matches] for hit in RULES.match(article)}
    assert hits == expected
