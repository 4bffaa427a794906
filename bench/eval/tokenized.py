"""Score the rules on the labelled set as written and as an NLP tokenizer gives it, and list where they differ.

    python bench/eval/tokenized.py [--rules FILE] [--labelled bench/eval/labelled.jsonl]

Datasets built for NLP hand texts over as tokens joined by spaces: punctuation and possessives split off, hyphens
spaced ("the cross - border raid , Soleimani 's convoy ."). The rules should read such a text as they read the
original. This script tokenizes every labelled text the way spaCy's English tokenizer does for these cases (a
simplification of it: quotes, brackets and clause punctuation split off, "'s" and "n't" split off, a hyphen between
letters spaced, a final full stop split off unless it ends an initial or abbreviation), scores both versions with
`newswatch rules eval` and prints each rule's counts for both and every text whose outcome differs.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

LABELLED = Path(__file__).resolve().with_name("labelled.jsonl")


def tokenized(text: str) -> str:
    """`text` as a tokenizer would hand it over, paragraph by paragraph."""
    paragraphs = []
    for paragraph in text.split("\n"):
        paragraph = re.sub(r"([“”\"(\[\]){}])", r" \1 ", paragraph)
        paragraph = re.sub(r"(\w)(['’]s)\b", r"\1 \2", paragraph)
        paragraph = re.sub(r"(\w)(n['’]t)\b", r"\1 \2", paragraph)
        paragraph = re.sub(r"(?<=[A-Za-z])-(?=[A-Za-z])", " - ", paragraph)
        paragraph = re.sub(r"([,;:!?])(\s|$)", r" \1\2", paragraph)
        paragraph = re.sub(r"(?<![A-Z])(?<!\b[A-Z][a-z])\.(\s|$)", r" .\1", paragraph)
        paragraphs.append(re.sub(r"\s+", " ", paragraph).strip())
    return "\n".join(paragraphs)


def scores(labelled: Path, rules: list[str]) -> dict:
    command = [sys.executable, "-m", "newswatch.worker", "rules", "eval", str(labelled), "--json", *rules]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labelled", type=Path, default=LABELLED)
    parser.add_argument("--rules", default=None, help="The rules file (default: NEWSWATCH_RULES).")
    args = parser.parse_args()
    rules = ["--rules", args.rules] if args.rules else []
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "tokenized.jsonl"
        with copy.open("w", encoding="utf-8") as out:
            for line in args.labelled.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    item = json.loads(line)
                    for field in ("text", "title"):
                        if isinstance(item.get(field), str):
                            item[field] = tokenized(item[field])
                    out.write(json.dumps(item) + "\n")
        results = {"as written": scores(args.labelled, rules), "tokenized": scores(copy, rules)}
    missed = {}
    for name, result in results.items():
        for rule in result["rules"]:
            print(f"{name:<11} {rule['rule']:<18} tp {rule['tp']:>4}  fp {rule['fp']:>4}  fn {rule['fn']:>4}")
            missed[name, rule["rule"]] = {(m["id"], m["kind"]) for m in rule["misses"]}
    differing = 0
    for rule in {rule for _, rule in missed}:
        for text_id, kind in sorted(missed["as written", rule] ^ missed["tokenized", rule]):
            which = "tokenized" if (text_id, kind) in missed["tokenized", rule] else "as written"
            print(f"differs: {rule} {text_id}: a {kind} only {which}")
            differing += 1
    print(f"{differing} outcome(s) differ")


if __name__ == "__main__":
    main()
