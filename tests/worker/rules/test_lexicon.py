"""The dictionary cache: built once, read at the next start, and a broken one never stops the rules."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROBE = """
import json, simplemma
from newswatch.worker.rules.lexicon import cache_path
from newswatch.worker.rules.scan import word_variants
print(json.dumps({
    "variants": word_variants("air strike"),
    "lemma": simplemma.lemmatize("struck", lang="en"),
    "known": simplemma.is_known("airstrikes", lang="en"),
    "path": str(cache_path()),
}))
"""


def _probe(cache: Path) -> dict[str, object]:
    env = {**os.environ, "NEWSWATCH_CACHE_DIR": str(cache)}
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(done.stdout)
    result["stderr"] = done.stderr
    return result


def _same(left: dict[str, object], right: dict[str, object]) -> bool:
    return all(left[key] == right[key] for key in ("variants", "lemma", "known"))


def test_it_writes_the_cache_and_reads_it_with_the_same_results(tmp_path: Path) -> None:
    first = _probe(tmp_path)
    cached = Path(str(first["path"]))
    assert cached.parent == tmp_path and cached.stat().st_size > 1_000_000
    assert "struck" in str(first["variants"]) and first["lemma"] == "strike"
    written = cached.stat().st_mtime_ns
    second = _probe(tmp_path)
    assert _same(first, second)
    assert cached.stat().st_mtime_ns == written  # read, not rebuilt
    assert list(tmp_path.iterdir()) == [cached]  # no temporary file left behind


def test_it_rebuilds_a_corrupt_cache(tmp_path: Path) -> None:
    good = _probe(tmp_path)
    cached = Path(str(good["path"]))
    cached.write_bytes(b"\x00not marshal")
    again = _probe(tmp_path)
    assert _same(good, again)
    assert "unreadable dictionary cache" in str(again["stderr"])
    assert _same(good, _probe(tmp_path))  # the rebuilt file is whole
    assert cached.stat().st_size > 1_000_000


def test_it_works_without_a_writable_cache(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    result = _probe(blocker)
    assert result["lemma"] == "strike" and "struck" in str(result["variants"])
    assert "unable to write the dictionary cache" in str(result["stderr"])
