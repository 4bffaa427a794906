"""Evaluation on real third-party pages: extraction quality and rules firing only on article text.

    python bench/evaluate.py --corpus ../shared/corpus

1. Extraction: `newswatch.worker.ingest.extract.extract_page` over `html/scrapinghub-aeb` (181 news and blog pages with
   human-checked article bodies): mean and median token F1, and pages per second.
2. Boilerplate traps: pages from `html/traps` whose conflict words stand only in sidebars and teasers must not
   hit the example `airstrikes` rule; the one with air strikes in its body must.
The corpus is read by path and never copied into the project.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newswatch.worker.errors import ExtractionError  # noqa: E402
from newswatch.worker.ingest.extract import extract_page  # noqa: E402
from newswatch.worker.rules import load_rules  # noqa: E402

TRAPS = {  # page -> whether its article text is about air or drone strikes
    "kulu-media.com.meta-outage.html": False,
    "kxan.com-Voters.html": False,
    "yahoo-3.html": False,
    "theintercept.com-Gaza.html": True,
}
_TOKEN = re.compile(r"\w+")


def token_f1(predicted: str, truth: str) -> float:
    """Bag-of-tokens F1, the article-extraction-benchmark's measure."""
    got, want = Counter(_TOKEN.findall(predicted.lower())), Counter(_TOKEN.findall(truth.lower()))
    common = sum((got & want).values())
    if not common:
        return 0.0
    precision, recall = common / sum(got.values()), common / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def extraction(corpus: Path) -> None:
    folder = corpus / "html" / "scrapinghub-aeb"
    truth = json.loads((folder / "ground-truth.json").read_text())
    scores, failures, started = [], 0, time.perf_counter()
    for page_id, expected in truth.items():
        body = gzip.decompress((folder / "html" / f"{page_id}.html.gz").read_bytes())
        try:
            article = extract_page(body, url=expected["url"], content_type="text/html")
        except ExtractionError:
            failures += 1
            scores.append(0.0)
            continue
        scores.append(token_f1(article.text, expected["articleBody"]))
    elapsed = time.perf_counter() - started
    print(
        f"extraction: {len(scores)} pages, token F1 mean {statistics.mean(scores):.3f} "
        f"median {statistics.median(scores):.3f}, {failures} without main text, "
        f"{len(scores) / elapsed:.1f} pages/s"
    )


def traps(corpus: Path) -> None:
    rules = load_rules(ROOT / "seeds" / "rules.yaml")
    right = 0
    for name, about_strikes in TRAPS.items():
        html = (corpus / "html" / "traps" / name).read_bytes()
        article = extract_page(html, url=f"https://example.org/{name}", content_type="text/html")
        hit = any(h.rule == "airstrikes" for h in rules.match(article))
        right += hit == about_strikes
        verdict = "ok" if hit == about_strikes else "WRONG"
        print(
            f"trap {name}: airstrikes {'hit' if hit else 'no hit'} (expected {'hit' if about_strikes else 'none'}) "
            f"{verdict}"
        )
    print(f"traps: {right}/{len(TRAPS)} as expected")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="the shared corpus folder")
    args = parser.parse_args()
    extraction(args.corpus)
    traps(args.corpus)


if __name__ == "__main__":
    main()
