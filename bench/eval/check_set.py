"""Validate the hand-labelled evaluation set and print its counts: reads ``labelled.jsonl`` beside this script (or
the path given as the only argument) and checks that every line is a JSON object with the required fields
(``id``, ``split``, ``source``, ``text``, ``labels``) of the right types, that ``split`` is ``dev`` or
``heldout``, that ``labels`` holds exactly the three rules (``airstrikes``, ``border-crossings``,
``commanders``) with boolean values, that optional ``title`` and ``note`` are non-empty strings, that ids are
unique, that no text is repeated and that no two texts are near-duplicates (word 5-gram Jaccard similarity of
0.6 or more, within or across splits), and that each split holds positives and negatives of every rule. It then
prints a table of positives and negatives per rule and split, plus text-length buckets, and exits non-zero if
any check failed. Standard library only: ``python3 bench/eval/check_set.py``.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from itertools import combinations
from pathlib import Path

RULES = ("airstrikes", "border-crossings", "commanders")
SPLITS = ("dev", "heldout")
REQUIRED = {"id": str, "split": str, "source": str, "text": str, "labels": dict}
OPTIONAL = {"title": str, "note": str}
NEAR_DUPLICATE = 0.6


def shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    if len(words) < n:
        return {tuple(words)}
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def main(path: Path) -> int:
    errors: list[str] = []
    rows: list[dict] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            errors.append(f"line {number}: empty line")
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            errors.append(f"line {number}: not JSON ({error})")
            continue
        where = f"line {number} ({row.get('id', '?')})"
        for field, kind in REQUIRED.items():
            if not isinstance(row.get(field), kind) or (kind is str and not row[field].strip()):
                errors.append(f"{where}: field {field!r} missing, empty or not {kind.__name__}")
        for field, kind in OPTIONAL.items():
            if field in row and (not isinstance(row[field], kind) or not row[field].strip()):
                errors.append(f"{where}: optional field {field!r} empty or not {kind.__name__}")
        unknown = set(row) - set(REQUIRED) - set(OPTIONAL)
        if unknown:
            errors.append(f"{where}: unknown fields {sorted(unknown)}")
        if row.get("split") not in SPLITS:
            errors.append(f"{where}: split {row.get('split')!r} is not one of {SPLITS}")
        labels = row.get("labels")
        if isinstance(labels, dict):
            if set(labels) != set(RULES):
                errors.append(f"{where}: labels must be exactly {RULES}, got {sorted(labels)}")
            if not all(isinstance(value, bool) for value in labels.values()):
                errors.append(f"{where}: label values must be true or false")
        rows.append(row)

    for identifier, count in Counter(row.get("id") for row in rows).items():
        if count > 1:
            errors.append(f"id {identifier!r} appears {count} times")
    for text, count in Counter(" ".join(row.get("text", "").split()).lower() for row in rows).items():
        if count > 1:
            errors.append(f"the text starting {text[:60]!r} appears {count} times")
    grams = [(row.get("id"), row.get("split"), shingles(row.get("text", ""))) for row in rows]
    for (id_a, split_a, a), (id_b, split_b, b) in combinations(grams, 2):
        if a and b and len(a & b) / len(a | b) >= NEAR_DUPLICATE:
            errors.append(f"near-duplicates: {id_a} ({split_a}) and {id_b} ({split_b})")

    table = Counter()
    for row in rows:
        if isinstance(row.get("labels"), dict) and row.get("split") in SPLITS:
            for rule in RULES:
                table[(rule, row["split"], bool(row["labels"].get(rule)))] += 1
    for rule in RULES:
        for split in SPLITS:
            if not table[(rule, split, True)] or not table[(rule, split, False)]:
                errors.append(f"split {split!r} lacks positives or negatives of {rule!r}")

    splits = Counter(row.get("split") for row in rows)
    print(f"{len(rows)} texts: " + ", ".join(f"{split} {splits[split]}" for split in SPLITS))
    print()
    header = ("dev +", "dev -", "heldout +", "heldout -", "all +", "all -")
    print(f"| {'rule':<16} | " + " | ".join(f"{name:>{max(5, len(name))}}" for name in header) + " |")
    print(f"|{'-' * 18}|{'-' * 7}|{'-' * 7}|{'-' * 11}|{'-' * 11}|{'-' * 7}|{'-' * 7}|")
    for rule in RULES:
        dp, dn = table[(rule, "dev", True)], table[(rule, "dev", False)]
        hp, hn = table[(rule, "heldout", True)], table[(rule, "heldout", False)]
        print(f"| {rule:<16} | {dp:>5} | {dn:>5} | {hp:>9} | {hn:>9} | {dp + hp:>5} | {dn + hn:>5} |")
    none = sum(1 for row in rows if isinstance(row.get("labels"), dict) and not any(row["labels"].values()))
    print(f"\ntexts negative for every rule: {none}")
    lengths = Counter()
    for row in rows:
        words = len(row.get("text", "").split())
        lengths["short (<= 40 words)" if words <= 40 else "medium (41-150)" if words <= 150 else "long (> 150)"] += 1
    print("lengths: " + ", ".join(f"{name} {count}" for name, count in sorted(lengths.items())))

    if errors:
        print(f"\n{len(errors)} problem(s):", file=sys.stderr)
        for error in errors:
            print(f"  {error}", file=sys.stderr)
        return 1
    print("\nall checks passed")
    return 0


if __name__ == "__main__":
    default = Path(__file__).resolve().parent / "labelled.jsonl"
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else default))
