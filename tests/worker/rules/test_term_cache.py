"""The term cache: a start with it compiles the same rules as one without, a broken or foreign file is rebuilt,
and it never grows past what the rules need."""

from __future__ import annotations

import json
import marshal
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from newswatch.worker.rules import term_cache
from newswatch.worker.rules.term_cache import TermCache

ROOT = Path(__file__).resolve().parents[3]
TEXTS = [ROOT / "seeds" / "000_dcd6abdc8038f5e6.txt", *sorted((ROOT / "tests" / "fixtures" / "rules").glob("*.txt"))]

PROBE = """
import json, sys
from pathlib import Path
from newswatch.worker.article import Article
from newswatch.worker.rules import load_rules, lexicon
from newswatch.worker.rules.term_cache import cache_path

rules = load_rules(Path(sys.argv[1]))
dictionary = lexicon._lexicon.cache_info().currsize > 0  # read by the compilation, before any matching
texts = [Path(name).read_text() for name in sys.argv[2:]]
for rule in rules.rules:
    texts += rule.examples.match + rule.examples.no_match
hits = [
    [[hit.rule, [[m.term, m.clause, m.field, m.start, m.end] for m in hit.matches], hit.snippet] for hit in hits]
    for hits in (rules.match(Article(source="test", title="Report", text=text)) for text in texts)
]
print(json.dumps({"hits": hits, "dictionary": dictionary, "path": str(cache_path())}))
"""


@pytest.fixture(scope="module")
def dictionary_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder holding the dictionary cache only (built once for the module: seconds of CPU)."""
    folder = tmp_path_factory.mktemp("dictionary")
    code = "from newswatch.worker.rules.lexicon import inflections; inflections()"
    subprocess.run([sys.executable, "-c", code], env={**os.environ, "NEWSWATCH_CACHE_DIR": str(folder)}, check=True)
    return folder


@pytest.fixture
def cache(tmp_path: Path, dictionary_cache: Path) -> Path:
    """A cache folder of this test's own, with the dictionary cache and no term cache."""
    folder = tmp_path / "cache"
    shutil.copytree(dictionary_cache, folder)
    return folder


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    """The example rules as they are now (others may edit the seed while the test runs)."""
    copy = tmp_path / "rules.yaml"
    shutil.copyfile(ROOT / "seeds" / "rules.yaml", copy)
    return copy


def _probe(cache: Path, rules: Path) -> dict[str, object]:
    """A start compiling `rules` (a compiled set kept by an earlier start is removed first: it would be read instead,
    see `compiled_cache`)."""
    shutil.rmtree(cache / "rules", ignore_errors=True)
    env = {**os.environ, "NEWSWATCH_CACHE_DIR": str(cache)}
    args = [sys.executable, "-c", PROBE, str(rules), *map(str, TEXTS)]
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(done.stdout)
    result["stderr"] = done.stderr
    return result


def test_a_start_with_the_cache_compiles_the_same_rules_without_reading_the_dictionary(
    cache: Path, rules: Path
) -> None:
    first = _probe(cache, rules)
    cached = Path(str(first["path"]))
    assert first["dictionary"] and cached.exists()
    written = cached.stat().st_mtime_ns
    second = _probe(cache, rules)
    assert second["hits"] == first["hits"]
    assert any(hits for hits in second["hits"])  # type: ignore[union-attr]
    assert not second["dictionary"]  # every answer came from the cache
    assert cached.stat().st_mtime_ns == written  # nothing new learnt, nothing written
    assert sorted(path.name for path in cache.iterdir() if path.name.startswith("terms-")) == [cached.name]


def test_it_rebuilds_a_corrupt_cache(cache: Path, rules: Path) -> None:
    good = _probe(cache, rules)
    cached = Path(str(good["path"]))
    cached.write_bytes(b"\x00not marshal")
    again = _probe(cache, rules)
    assert again["hits"] == good["hits"]
    assert "unreadable term cache" in str(again["stderr"])
    rebuilt = _probe(cache, rules)
    assert rebuilt["hits"] == good["hits"] and not rebuilt["dictionary"]


def test_it_ignores_a_cache_from_another_version_or_code(cache: Path, rules: Path) -> None:
    good = _probe(cache, rules)
    cached = Path(str(good["path"]))
    header, tables = marshal.loads(cached.read_bytes())
    tables["keys"] = dict.fromkeys(tables["keys"], ())  # answers another version might give
    tables["key"] = dict.fromkeys(tables["key"], "")
    for other in [(*header[:-1], "0" * 16), (header[0], header[1], "0.0.1", *header[3:])]:
        cached.write_bytes(marshal.dumps((other, tables)))
        again = _probe(cache, rules)
        assert again["hits"] == good["hits"]
        assert again["dictionary"]  # rebuilt from the dictionary
    assert marshal.loads(cached.read_bytes())[0] == header


def test_it_compiles_without_a_writable_cache(tmp_path: Path, cache: Path, rules: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    reference = _probe(cache, rules)
    result = _probe(blocker, rules)
    assert result["hits"] == reference["hits"]
    assert "unable to write the term cache" in str(result["stderr"])


def test_past_its_limit_the_cache_keeps_only_what_the_process_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(term_cache, "LIMIT", 4)
    path = tmp_path / "terms.marshal"
    words = ["alpha", "bravo", "charlie", "delta"]
    generated = TermCache(path)
    for word in words:
        generated.recall("lemma", word, str.upper)
    generated.save()
    assert marshal.loads(path.read_bytes())[1]["lemma"] == {word: word.upper() for word in words}

    later = TermCache(path)  # the next start: reads the file, uses two of its answers, learns one
    assert later.recall("lemma", "bravo", str.lower) == "BRAVO"  # remembered, not computed again
    later.recall("lemma", "delta", str.upper)
    later.recall("lemma", "echo", str.upper)
    later.save()
    assert marshal.loads(path.read_bytes())[1]["lemma"] == {"bravo": "BRAVO", "delta": "DELTA", "echo": "ECHO"}
