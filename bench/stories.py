"""Benchmark: story grouping stays near-linear when a feed carries many near-identical items of one story.

    python bench/stories.py [--sizes 100,1000,10000]

For each size, writes an RSS feed of that many items (the seed article's text, each copy with its own
title, link and one changed sentence: one story, every copy near-identical), parses it with the feed
parser, and stores each entry through the pipeline's `ingest` (match, fingerprint, story lookup, hits,
alerts) into a fresh SQLite database in a temporary folder. Prints the milliseconds per item (wall clock,
and this process's CPU time, which other work on the machine does not inflate) and how many stories the
items formed (1 expected). Target: 10,000 items under 10 ms an item.

Every item says the same words, so the fingerprint's per-word hashes are all found in its cache after the
first item: a text of fresh words costs about 1 ms more to fingerprint (7,000 characters on a 2-core machine).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func  # noqa: E402
from sqlmodel import select  # noqa: E402

from newswatch.storage.db import dispose_engines, session_scope  # noqa: E402
from newswatch.storage.models import StoredArticle  # noqa: E402
from newswatch.storage.schema import upgrade  # noqa: E402
from newswatch.worker.config import Settings  # noqa: E402
from newswatch.worker.ingest.extract import article_from_entry, extract_file  # noqa: E402
from newswatch.worker.ingest.feeds import parse_feed  # noqa: E402
from newswatch.worker.pipeline import ingest  # noqa: E402
from newswatch.worker.rules import load_rules  # noqa: E402

SEED = ROOT / "seeds" / "000_dcd6abdc8038f5e6.txt"
FEED_URL = "http://127.0.0.1/feed.xml"


def feed(count: int, text: str) -> bytes:
    """An RSS feed of `count` copies of `text`, each with its own title, link and one changed sentence."""
    items = []
    for index in range(count):
        copy = f"Update {index}: the count of crossings stood at {index * 7 % 997} by noon. {text}"
        items.append(
            f"<item><title>Border point retaken, update {index}</title>"
            f"<link>http://127.0.0.1/news/{index}</link><guid>copy-{index}</guid>"
            f"<description>{escape(copy)}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Wire</title>'
        f"<link>http://127.0.0.1/</link>{''.join(items)}</channel></rss>"
    ).encode()


def run(count: int, text: str, folder: Path) -> tuple[float, float, int]:
    """Ingest `count` near-identical items into a fresh database; (ms per item, CPU ms per item, stories)."""
    settings = Settings(database_url=f"sqlite:///{folder / f'stories-{count}.db'}", rules=ROOT / "seeds" / "rules.yaml")
    upgrade(settings.database_url)
    rules = load_rules(settings.rules)
    entries = parse_feed(feed(count, text), url=FEED_URL, content_type="application/rss+xml").entries
    assert len(entries) == count, f"parsed {len(entries)} of {count} items"
    started, cpu = time.perf_counter(), time.process_time()
    for entry in entries:
        article = article_from_entry(entry, feed_url=FEED_URL)
        ingest(article, rules=rules, settings=settings, default_channels=["console"])
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    with session_scope(settings.database_url) as session:
        stories = session.exec(select(func.count(func.distinct(StoredArticle.story_id)))).one()
    dispose_engines()
    return elapsed * 1000 / count, cpu * 1000 / count, stories


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000", help="comma-separated item counts")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    text = extract_file(SEED, max_bytes=Settings().max_page_bytes).text
    print(f"text: {SEED.name} ({len(text)} characters); one story, near-identical items")
    print(f"{'items':>7} {'ms/item':>9} {'cpu ms/item':>12} {'stories':>8}")
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            per_item, cpu, stories = run(size, text, Path(folder))
            results[size] = per_item
            print(f"{size:>7} {per_item:>9.2f} {cpu:>12.2f} {stories:>8}", flush=True)
    last = sizes[-1]
    verdict = "ok" if results[last] < 10 else "over"
    print(f"{last:,} items: {results[last]:.2f} ms per item (target < 10 ms): {verdict}")


if __name__ == "__main__":
    main()
