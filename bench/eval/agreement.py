"""How far a second labeller, given only the guide and the texts, agrees with the labels of the set.

    python bench/eval/agreement.py [--labelled bench/eval/labelled.jsonl] [--second bench/eval/agreement-labels.jsonl]

The rules' target (precision and recall of 0.95) means something only if people following the guide agree with
each other well above it. `agreement-labels.jsonl` holds a second, blind labelling of 300 `dev` texts: the
labeller read the guide (README.md, "The labelling guide") and each text's title and text, and saw neither the
set's labels, its notes nor any rule. The texts were drawn from four strata of the set's own labels, each in the
order of sha1("agree" + id): 110 border crossings, 60 air strikes that are no border crossing, 10 commander
mentions that are neither, and 120 texts negative for every rule. Counts are weighted by each stratum's size in
`dev` over its sample size, so that precision and recall estimate those of the whole `dev` split.

Printed per rule: the second labeller's precision and recall against the set's labels (weighted), Cohen's kappa
(weighted), the raw counts in the sample, and the texts where the two differ with both notes. Dev texts only: the
held-out split stays unread.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
RULES = ("airstrikes", "border-crossings", "commanders")


def stratum(labels: dict[str, bool]) -> str:
    """The stratum a text was drawn from, by the set's labels."""
    if labels.get("border-crossings"):
        return "border-crossings"
    if labels.get("airstrikes"):
        return "airstrikes"
    if labels.get("commanders"):
        return "commanders"
    return "negative" if not any(labels.values()) else "other"


def read_jsonl(path: Path) -> list[dict]:
    """Every record of a JSON-lines file; a line that is not JSON stops with its place."""
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise SystemExit(f"{path}:{number}: not JSON: {exc.msg}") from None
    return records


def agreement(first: dict[str, dict], second: list[dict]) -> dict[str, dict[str, float]]:
    """Per rule: the second labelling's weighted precision, recall and kappa against the first, and raw counts."""
    population = Counter(stratum(r["labels"]) for r in first.values() if r["split"] == "dev")
    sampled = Counter(stratum(first[r["id"]]["labels"]) for r in second)
    results = {}
    for rule in RULES:
        cells: Counter[tuple[bool, bool]] = Counter()
        raw: Counter[tuple[bool, bool]] = Counter()
        for record in second:
            labels = first[record["id"]]["labels"]
            pair = (bool(labels[rule]), bool(record["labels"][rule]))
            cells[pair] += population[stratum(labels)] / sampled[stratum(labels)]
            raw[pair] += 1
        both, only_second, only_first = cells[(True, True)], cells[(False, True)], cells[(True, False)]
        total = sum(cells.values())
        observed = (both + cells[(False, False)]) / total
        first_yes, second_yes = (both + only_first) / total, (both + only_second) / total
        chance = first_yes * second_yes + (1 - first_yes) * (1 - second_yes)
        results[rule] = {
            "precision": both / (both + only_second) if both + only_second else 1.0,
            "recall": both / (both + only_first) if both + only_first else 1.0,
            "kappa": (observed - chance) / (1 - chance) if chance < 1 else 1.0,
            "both": raw[(True, True)],
            "first only": raw[(True, False)],
            "second only": raw[(False, True)],
            "neither": raw[(False, False)],
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labelled", type=Path, default=HERE / "labelled.jsonl")
    parser.add_argument("--second", type=Path, default=HERE / "agreement-labels.jsonl")
    args = parser.parse_args()
    first = {r["id"]: r for r in read_jsonl(args.labelled)}
    second = read_jsonl(args.second)
    for record in second:
        if record["id"] not in first:
            raise SystemExit(f"{args.second}: {record['id']} is not in {args.labelled}")
        if first[record["id"]]["split"] != "dev":
            raise SystemExit(f"{args.second}: {record['id']} is a held-out text")
    print(f"{len(second)} dev texts labelled again; the second labelling's precision and recall against the set")
    print(f"{'rule':<17} {'precision':>9} {'recall':>7} {'kappa':>6}  both  set only  second only  neither")
    for rule, found in agreement(first, second).items():
        print(
            f"{rule:<17} {found['precision']:>9.3f} {found['recall']:>7.3f} {found['kappa']:>6.3f}  {found['both']:>4}"
            f"  {found['first only']:>8}  {found['second only']:>11}  {found['neither']:>7}"
        )
    print("\ndifferences (set's note | second labeller's note):")
    for record in second:
        labels = first[record["id"]]["labels"]
        for rule in RULES:
            if bool(labels[rule]) != bool(record["labels"][rule]):
                print(f"- {record['id']} {rule}: set {labels[rule]}, second {record['labels'][rule]}")
                print(f"    set: {first[record['id']].get('note', '')}")
                print(f"    second: {record.get('note', '')}")


if __name__ == "__main__":
    main()
