"""Benchmark: the common hit queries on a large archive, on SQLite and PostgreSQL.

    python bench/query.py [--hits 1000000] [--articles 200000] [--backend sqlite|postgresql|both] [--runs 40]

Fills a fresh database (a SQLite file in a temporary folder; a PostgreSQL database it creates on
NEWSWATCH_TEST_POSTGRES_URL's server, 127.0.0.1 by default, and drops at the end) through the real migrations,
with bulk inserts: articles whose words are drawn with the frequencies of the 500 news texts in
bench/eval/labelled.jsonl, over 300 sites of very different sizes and a year of dates (a tenth without a
publish date), and hits of 40 rules (a few rules frequent, most rare) with evidence of the stored shape. Then
it times, through storage.hit_queries as every front end calls it, a page of 50 for each of: a rule and a
week; a source and a month; a full-text search (rare, middling and common words, and two words together); a
hit by id; the first page and the 50th page of everything; and, for reference, counting a rule's week.
Each query runs `--runs` times with different values and prints p50 and p95 in milliseconds.
Target: p95 at most 50 ms for each (the count excepted), on both backends.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from newswatch.storage.db import dispose_engines, get_engine, normalise_url, session_scope  # noqa: E402
from newswatch.storage.hit_queries import HitFilters, count_hits, find_hits, get_hit  # noqa: E402
from newswatch.storage.schema import upgrade  # noqa: E402

POSTGRES_URL = os.environ.get("NEWSWATCH_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
NOW = datetime(2026, 11, 1, tzinfo=UTC)
SITES, RULES, BATCH = 300, 40, 5000
SEVERITIES = ["low", "medium", "medium", "high", "critical"]
NAMES, NAMES_PER_TEXT, WORDS_PER_TEXT = 20_000, 3, 255
STOPWORDS = {"the", "and", "of", "to", "in", "a", "on", "for", "is", "was", "with", "by", "at", "as", "that"}


class Corpus:
    """Words with their frequencies in real news texts, names (people, places) from a long tail of rare ones,
    and everything else drawn at random from a seed."""

    def __init__(self, seed: int = 7) -> None:
        counts: collections.Counter[str] = collections.Counter()
        for line in (ROOT / "bench" / "eval" / "labelled.jsonl").read_text().splitlines():
            counts.update(re.findall(r"[A-Za-z][a-z]+|[A-Z]{2,}", json.loads(line)["text"]))
        self.words, weights = zip(*counts.most_common(), strict=True)
        self.word_share = [w / sum(weights) for w in weights]
        self.cumulative = list(_accumulate(weights))
        self.random = random.Random(seed)
        syllables = ["ka", "ri", "mo", "ta", "lu", "ba", "ne", "si", "do", "ra", "vi", "zu", "he", "qa", "mi"]
        self.names = sorted({"".join(self.random.choices(syllables, k=4)).capitalize() for _ in range(NAMES)})
        self.random.shuffle(self.names)
        name_weights = [1 / (n + 1) for n in range(len(self.names))]
        self.name_share = [w / sum(name_weights) for w in name_weights]
        self.name_cumulative = list(_accumulate(name_weights))
        self.domains = [f"site{n}.example" for n in range(SITES)]
        self.site_weights = [1 / (n + 1) for n in range(SITES)]  # Zipf: the largest site has 16% of articles
        self.rules = [f"rule-{n:02d}" for n in range(RULES)]
        self.rule_weights = [1 / (n + 1) ** 0.8 for n in range(RULES)]

    def text(self, low: int, high: int, names: int = 0) -> str:
        words = self.random.choices(self.words, cum_weights=self.cumulative, k=self.random.randint(low, high))
        for name in self.random.choices(self.names, cum_weights=self.name_cumulative, k=names):
            words.insert(self.random.randrange(len(words) + 1), name)
        return " ".join(words)

    def by_frequency(self, share: float) -> list[str]:
        """Words or names expected in about `share` of the articles (for searches of a given selectivity)."""
        pools = ((self.words, self.word_share, WORDS_PER_TEXT), (self.names, self.name_share, NAMES_PER_TEXT))
        found = [
            word
            for words, shares, per_text in pools
            for word, p in zip(words, shares, strict=True)
            if 0.5 * share <= 1 - (1 - p) ** per_text <= 2 * share and word.lower() not in STOPWORDS
        ]
        return self.random.sample(found, min(30, len(found)))


def _accumulate(values: tuple[int, ...]) -> Iterator[int]:
    total = 0
    for value in values:
        total += value
        yield total


def article_rows(corpus: Corpus, count: int) -> Iterator[dict[str, object]]:
    rnd = corpus.random
    for n in range(1, count + 1):
        site = rnd.choices(range(SITES), weights=corpus.site_weights)[0]
        fetched = NOW - timedelta(seconds=rnd.randint(0, 365 * 86400))
        published = None if rnd.random() < 0.1 else fetched - timedelta(minutes=rnd.randint(0, 600))
        yield {
            "id": n,
            "content_hash": f"h{n}",
            "url_key": f"https://{corpus.domains[site]}/a/{n}",
            "url": f"https://{corpus.domains[site]}/a/{n}",
            "source": f"https://{corpus.domains[site]}/a/{n}",
            "title": corpus.text(6, 14).capitalize(),
            "text": corpus.text(60, 450, names=NAMES_PER_TEXT),
            "published_at": published,
            "fetched_at": fetched,
            "domain": corpus.domains[site],
            "site_name": f"Site {site}",
            "feed_id": site + 1,
            "story_id": n,
        }


def hit_rows(corpus: Corpus, hits: int, articles: int, copied: dict[int, tuple]) -> Iterator[dict[str, object]]:
    rnd, made = corpus.random, 0
    for article in range(1, articles + 1):
        mean = (hits - made) / (articles - article + 1)
        wanted = min(RULES, hits - made, max(1, round(rnd.expovariate(1 / mean))) if mean > 0 else 0)
        rules: set[str] = set()
        while len(rules) < wanted:
            rules.add(rnd.choices(corpus.rules, weights=corpus.rule_weights)[0])
        for rule in rules:
            made += 1
            snippet = corpus.text(18, 30)
            evidence = {
                "rule": rule,
                "matches": [{"term": "w", "text": snippet[:8], "field": "text", "start": 10, "end": 18, "clause": "w"}],
                "snippets": [{"text": snippet, "marks": [[0, 8]]}],
                "score": 1.0,
            }
            yield {
                "id": made,
                "article_id": article,
                "rule": rule,
                "severity": SEVERITIES[int(rule[-2:]) % len(SEVERITIES)],
                "rules_version": "bench",
                "score": 1.0,
                "snippet": snippet,
                "evidence": json.dumps(evidence),
                "created_at": copied[article][0],
                "article_date": copied[article][0],
                "domain": copied[article][1],
                "feed_id": copied[article][2],
            }


def fill(url: str, corpus: Corpus, hits: int, articles: int) -> None:
    upgrade(url)
    engine = get_engine(url)
    copied: dict[int, tuple] = {}  # what a hit copies from its article: date, domain, feed
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO feeds (id, url, title, interval_seconds, enabled, error_count) "
                "VALUES (:id, :url, :t, 900, true, 0)"
            ),
            [{"id": n + 1, "url": f"https://{d}/feed.xml", "t": f"Feed {n}"} for n, d in enumerate(corpus.domains)],
        )
    for table, rows in (("articles", article_rows(corpus, articles)), ("hits", None)):
        if rows is None:
            rows = hit_rows(corpus, hits, articles, copied)
        started = time.monotonic()
        _bulk_insert(engine, table, rows, copied)
        print(f"  {table}: {time.monotonic() - started:.0f} s", flush=True)
    if engine.dialect.name == "postgresql":  # what autovacuum does soon after a load like this
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))


def _bulk_insert(engine: object, table: str, rows: Iterator[dict[str, object]], copied: dict[int, tuple]) -> None:
    raw = engine.raw_connection()  # type: ignore[attr-defined]
    postgres = engine.dialect.name == "postgresql"  # type: ignore[attr-defined]
    try:
        cursor = raw.cursor()
        batch: list[dict[str, object]] = []
        for row in rows:
            if table == "articles":
                copied[int(row["id"])] = (row["published_at"] or row["fetched_at"], row["domain"], row["feed_id"])  # type: ignore[arg-type]
            batch.append(row)
            if len(batch) == BATCH:
                _write(cursor, table, batch, postgres)
                batch = []
        if batch:
            _write(cursor, table, batch, postgres)
        raw.commit()
    finally:
        raw.close()


def _write(cursor: object, table: str, batch: list[dict[str, object]], postgres: bool) -> None:
    columns = list(batch[0])
    if postgres:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for row in batch:
                copy.write_row([row[c] for c in columns])
        return
    values = [
        [v.replace(tzinfo=None).isoformat(" ") if isinstance(v, datetime) else v for v in row.values()] for row in batch
    ]
    placeholders = ", ".join("?" for _ in columns)
    cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", values)  # type: ignore[attr-defined]


def timings(url: str, corpus: Corpus, hits: int, articles: int, runs: int) -> dict[str, list[float]]:
    rnd = random.Random(11)
    rare, middling, common = (corpus.by_frequency(share) for share in (0.0005, 0.01, 0.2))
    searches = rare + middling + common
    print(f"  search words: rare {rare[:3]}, middling {middling[:3]}, common {common[:3]}", flush=True)
    with session_scope(url) as session:
        page = find_hits(session, HitFilters(), limit=50)
        for _ in range(48):
            assert page.next_cursor is not None
            page = find_hits(session, HitFilters(), limit=50, cursor=page.next_cursor)
        fiftieth = page.next_cursor

    def week() -> HitFilters:
        start = NOW - timedelta(days=rnd.randint(7, 365))
        return HitFilters(rule=rnd.choice(corpus.rules).upper(), since=start, until=start + timedelta(days=7))

    def month() -> HitFilters:
        start = NOW - timedelta(days=rnd.randint(30, 365))
        site = rnd.choices(range(SITES), weights=[w**0.5 for w in corpus.site_weights])[0]
        return HitFilters(source=corpus.domains[site], since=start, until=start + timedelta(days=30))

    def search() -> HitFilters:
        words = [rnd.choice(searches)] if rnd.random() < 0.75 else [rnd.choice(middling), rnd.choice(common)]
        return HitFilters(search=" ".join(words))

    def page_of(filters: Callable[[], HitFilters], cursor: str | None = None) -> Callable[[], object]:
        def run() -> object:
            with session_scope(url) as session:
                return find_hits(session, filters(), limit=50, cursor=cursor)

        return run

    def by_id() -> object:
        with session_scope(url) as session:
            return get_hit(session, rnd.randint(1, hits))

    def count_week() -> object:
        with session_scope(url) as session:
            return count_hits(session, week())

    cases: dict[str, Callable[[], object]] = {
        "rule and week": page_of(week),
        "source and month": page_of(month),
        "full-text search": page_of(search),
        "hit by id": by_id,
        "first page": page_of(HitFilters),
        "50th page": page_of(HitFilters, fiftieth),
        "count: rule and week (reference)": count_week,
    }
    results: dict[str, list[float]] = {}
    for name, case in cases.items():
        for _ in range(3):
            case()
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            case()
            samples.append((time.perf_counter() - started) * 1000)
        results[name] = samples
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hits", type=int, default=1_000_000)
    parser.add_argument("--articles", type=int, default=200_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    table: dict[str, dict[str, list[float]]] = {}
    for backend in ("sqlite", "postgresql") if args.backend == "both" else (args.backend,):
        print(f"{backend}: filling {args.articles:,} articles and {args.hits:,} hits", flush=True)
        with tempfile.TemporaryDirectory() as folder, _database(backend, Path(folder)) as url:
            corpus = Corpus()
            fill(url, corpus, args.hits, args.articles)
            table[backend] = timings(url, corpus, args.hits, args.articles, args.runs)
    print(f"\n{args.hits:,} hits over {args.articles:,} articles; ms per query, {args.runs} runs each\n")
    backends = list(table)
    print("| query | " + " | ".join(f"{b} p50 | {b} p95" for b in backends) + " |")
    print("|---|" + "---|---|" * len(backends))
    for name in next(iter(table.values())):
        cells = []
        for backend in backends:
            samples = sorted(table[backend][name])
            cells += [f"{statistics.median(samples):.1f}", f"{samples[int(0.95 * (len(samples) - 1))]:.1f}"]
        print(f"| {name} | " + " | ".join(cells) + " |")


class _database:
    """A fresh database for one backend, removed afterwards."""

    def __init__(self, backend: str, folder: Path) -> None:
        self.backend, self.folder = backend, folder
        self.name = f"newswatch_bench_{uuid.uuid4().hex[:10]}"
        self.admin = create_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")

    def __enter__(self) -> str:
        if self.backend == "sqlite":
            return f"sqlite:///{self.folder / 'bench.db'}"
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{self.name}"'))
        return f"{POSTGRES_URL.rpartition('/')[0]}/{self.name}"

    def __exit__(self, *exc: object) -> None:
        dispose_engines()
        if self.backend == "postgresql":
            with self.admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


if __name__ == "__main__":
    main()
