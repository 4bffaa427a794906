"""Score the rules on Dstl's re3d documents, labelled by hand here, read from the shared corpus where they are.

    python bench/eval/re3d.py --corpus ../shared/corpus [--rules FILE] [--baseline bench/eval/keyword-baseline.yaml]

re3d (`conflict/re3d/` in the corpus) holds 71 documents on the Syria and Iraq conflict of 2016-17: U.S.
Central Command releases, U.S. State Department and UK government statements. Their labels for the three
example rules, given by the guide in README.md without running any rule, are in `re3d-labels.jsonl` beside
this script (id `<folder>/<_id>`, title, labels, the labeller's note); the texts stay in the corpus. No rule
was tuned on them: like the held-out split, they measure rules on texts the rules never saw. The script joins
labels and texts (title, blank line, text) into a temporary file and runs `newswatch rules eval` on it; other
options go to that command (`--rules`, `--baseline`, `--no-misses`, `--json`).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

LABELS = Path(__file__).resolve().with_name("re3d-labels.jsonl")
FOLDERS = ("centcom", "uk-government", "us-state-department")


def documents(corpus: Path) -> dict[str, dict[str, str]]:
    """Every re3d document of the corpus by `<folder>/<_id>`."""
    found = {}
    for folder in FOLDERS:
        path = corpus / "conflict" / "re3d" / folder / "documents.json"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    document = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise SystemExit(f"{path}:{number}: not JSON: {exc.msg}") from None
                found[f"{folder}/{document['_id']}"] = document
    return found


def labelled_lines(corpus: Path) -> list[str]:
    """The labelled file's lines with each document's text joined in; a label without its document stops."""
    texts = documents(corpus)
    lines = []
    for number, line in enumerate(LABELS.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        label = json.loads(line)
        document = texts.get(label["id"])
        if document is None:
            raise SystemExit(f"{LABELS}:{number}: no document {label['id']} in {corpus / 'conflict' / 're3d'}")
        text = f"{document['title']}\n\n{document['text']}"
        line = {"id": label["id"], "title": document["title"], "text": text, "labels": label["labels"]}
        lines.append(json.dumps(line))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="The shared corpus folder (holds conflict/re3d).")
    args, passed_on = parser.parse_known_args()
    with tempfile.TemporaryDirectory() as folder:
        joined = Path(folder) / "re3d.jsonl"
        joined.write_text("\n".join(labelled_lines(args.corpus)) + "\n", encoding="utf-8")
        command = [sys.executable, "-m", "newswatch.worker", "rules", "eval", str(joined), *passed_on]
        sys.exit(subprocess.run(command, check=False).returncode)


if __name__ == "__main__":
    main()
