"""Benchmark: watch-rule matching cost per article as rule sets grow, against a bare scan and a per-rule regex loop.

    python bench/match.py [--article seeds/000_dcd6abdc8038f5e6.txt] [--runs 30]

Generates 100, 1,000, 10,000 and 100,000 rules (phrases, prefixes, NEAR and AND/NOT queries over a vocabulary
that mostly does not occur, plus the seed's three example rules), compiles each set once (printing how long
it took), and prints the median milliseconds to match one article, and to match it and build every hit's
evidence as the pipeline stores it (`stored`: a hit's snippets are made when first read, not by matching);
the same for the bare floor of any matcher (measured in this run): folding the article as the matcher does
(`scan.scan_text`) and one Aho-Corasick pass (pyahocorasick, as the engine) over the phrases of the set; and
for a loop running one compiled regex per rule (not at 100,000 rules: about 20 s a pass). Targets: 10,000
rules at most 1 ms per article; 10 times the rules at most 2 times the time; at 10,000 and 100,000 rules the
matcher at most 2 times the bare fold-and-scan.
"""

from __future__ import annotations

import argparse
import itertools
import random
import re
import resource
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import ahocorasick

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newswatch.worker.article import Article  # noqa: E402
from newswatch.worker.config import Settings  # noqa: E402
from newswatch.worker.ingest.extract import extract_file  # noqa: E402
from newswatch.worker.rules import RuleSet, parse_rules  # noqa: E402
from newswatch.worker.rules.scan import scan_text  # noqa: E402

SIZES = (100, 1_000, 10_000, 100_000)
REGEX_LOOP_MAX = 10_000
"""The regex loop is not run beyond this many rules: at 100,000 one pass takes about 20 s."""
NEWS_WORDS = [
    "border",
    "crossing",
    "militia",
    "convoy",
    "drone",
    "strike",
    "rocket",
    "artillery",
    "garrison",
    "desert",
    "brigade",
    "commander",
    "ceasefire",
    "shelling",
    "checkpoint",
    "frontier",
    "raid",
    "airport",
    "refinery",
    "pipeline",
    "tribal",
    "province",
    "capital",
    "minister",
    "envoy",
]


def _name(rng: random.Random) -> str:
    consonants, vowels = "bdfghjklmnprstvz", "aeiou"
    return "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(rng.randint(2, 4))).capitalize()


def generated_rules(count: int, seed: int = 7) -> tuple[str, list[list[str]]]:
    """A rules file of `count` rules (plus the example ones) and, per rule, the phrases a regex loop checks."""
    rng = random.Random(seed)
    lines = ["rules:"]
    phrases: list[list[str]] = []
    for index in range(count):
        kind = index % 4
        name_a, name_b = _name(rng), _name(rng)
        word = rng.choice(NEWS_WORDS)
        if kind == 0:
            query, terms = f'"{name_a} {name_b}"', [f"{name_a} {name_b}"]
        elif kind == 1:
            query, terms = f'"{name_a} {word}" OR {name_b.lower()}*', [f"{name_a} {word}", name_b.lower()]
        elif kind == 2:
            query, terms = f"{name_a} NEAR/5 {word}", [name_a, word]
        else:
            query, terms = f'{name_a} AND {word} AND NOT "{name_b}"', [name_a, word]
        lines += [f"  - name: generated-{index}", f"    query: '{query}'"]
        phrases.append(terms)
    example = (ROOT / "seeds" / "rules.yaml").read_text()
    entities = example[example.index("entities:") : example.index("rules:")]
    rules = example[example.index("rules:") + len("rules:") :]
    return entities + "\n".join(lines) + rules, phrases


def regex_loop(phrases: list[list[str]]) -> Callable[[str], int]:
    """The naive alternative: one compiled, case-insensitive, word-bounded regex per rule, run in turn."""
    patterns = [re.compile("|".join(r"\b" + re.escape(p) for p in terms), re.IGNORECASE) for terms in phrases]

    def run(text: str) -> int:
        return sum(1 for pattern in patterns if pattern.search(text))

    return run


def bare_scan(phrases: list[list[str]]) -> Callable[[tuple[str, ...]], int]:
    """The floor of any matcher: fold each field as the matcher does and run one Aho-Corasick pass over every
    phrase of the rule set (stored between spaces, as the engine stores its terms: whole words only)."""
    automaton = ahocorasick.Automaton()
    for terms in phrases:
        for phrase in terms:
            key = " " + " ".join(scan_text(phrase).split()) + " "
            automaton.add_word(key, len(key))
    automaton.make_automaton()

    def run(fields: tuple[str, ...]) -> int:
        return sum(1 for text in fields for _ in automaton.iter(scan_text(text)))

    return run


def _stored(rule_set: RuleSet, article: Article) -> list[dict[str, object]]:
    """Match an article and build every hit's evidence, as the pipeline stores it."""
    return [hit.to_dict() for hit in rule_set.match(article)]


def median_ms(action: Callable[[], object], runs: int) -> float:
    action()  # warm caches (lemmas, compiled patterns) as a long-running worker would have them
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--article", type=Path, default=ROOT / "seeds" / "000_dcd6abdc8038f5e6.txt")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    article = extract_file(args.article, max_bytes=Settings().max_page_bytes)
    text = f"{article.title}\n{article.text}"
    print(f"article: {args.article} ({len(text)} characters), median of {args.runs} runs")
    header = (
        "rules",
        "compile s",
        "newswatch ms",
        "stored ms",
        "bare ms",
        "newswatch/bare",
        "regex loop ms",
        "regex/newswatch",
    )
    widths = (7, 10, 13, 10, 8, 15, 14, 16)
    print(" ".join(f"{h:>{w}}" for h, w in zip(header, widths, strict=True)) + "  hits")
    results: dict[int, float] = {}
    stored: dict[int, float] = {}
    bare: dict[int, float] = {}
    for size in SIZES:
        document, phrases = generated_rules(size)
        started = time.perf_counter()
        rule_set: RuleSet = parse_rules(document, file=f"<generated {size}>")
        compile_s = time.perf_counter() - started
        del document
        ours = results[size] = median_ms(partial(rule_set.match, article), args.runs)
        stored[size] = median_ms(partial(_stored, rule_set, article), args.runs)
        floor = bare[size] = median_ms(partial(bare_scan(phrases), (article.title, article.text)), args.runs * 3)
        hits = len(rule_set.match(article))
        del rule_set  # one compiled set in memory at a time
        if size <= REGEX_LOOP_MAX:
            theirs = median_ms(partial(regex_loop(phrases), text), max(3, args.runs // 5))
            loop = f"{theirs:>14.2f} {theirs / ours:>15.0f}x"
        else:
            loop = f"{'-':>14} {'-':>16}"
        print(
            f"{size:>7} {compile_s:>10.2f} {ours:>13.3f} {stored[size]:>10.3f} {floor:>8.3f} {ours / floor:>14.1f}x"
            f" {loop} {hits:>5}"
        )
    for small, large in itertools.pairwise(SIZES[-3:]):
        growth = results[large] / results[small]
        print(f"10x rules ({small:,} -> {large:,}) costs {growth:.2f}x the time (target <= 2x)")
    print(f"{SIZES[-2]:,} rules: {results[SIZES[-2]]:.3f} ms per article (target <= 1 ms)")
    for small, large in itertools.pairwise(SIZES[-2:]):
        print(
            f"with every hit's evidence built (as stored): {small:,} rules {stored[small]:.3f} ms, {large:,} rules "
            f"{stored[large]:.3f} ms ({stored[large] / stored[small]:.2f}x)"
        )
    for size in SIZES[-2:]:
        print(
            f"{size:,} rules: newswatch {results[size]:.3f} ms, bare fold-and-scan {bare[size]:.3f} ms: "
            f"{results[size] / bare[size]:.1f}x (target <= 2x)"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak:,.0f} MB")


if __name__ == "__main__":
    main()
