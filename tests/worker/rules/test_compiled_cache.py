"""Compiled rule sets kept between starts: a second start reads the same rules without compiling them, and an
edited file, other channel names or a broken cache file are compiled again."""

from __future__ import annotations

import gc
import logging
import os
import shutil
import threading
from pathlib import Path

import pytest

from newswatch.worker.article import Article
from newswatch.worker.errors import RuleError
from newswatch.worker.rules import RuleCache, compiled_cache, engine, load_rules

ROOT = Path(__file__).resolve().parents[3]
SEED = ROOT / "seeds" / "000_dcd6abdc8038f5e6.txt"
SMALL = """
rules:
  - name: strikes
    query: airstrike OR "air raid"
    alert: [email]
"""


@pytest.fixture
def compilations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A cache folder of this test's own; each compilation of a rule set is counted in the list."""
    monkeypatch.setenv("NEWSWATCH_CACHE_DIR", str(tmp_path / "cache"))
    counted: list[int] = []
    original = engine.CompiledRules.__init__

    def counting(self: engine.CompiledRules, *args: object, **kwargs: object) -> None:
        counted.append(1)
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine.CompiledRules, "__init__", counting)
    return counted


def _hits(rules: object, text: str) -> list[tuple[str, list[tuple[str, int, int]]]]:
    found = rules.match(Article(source="t", title="Report", text=text))  # type: ignore[attr-defined]
    return [(hit.rule, [(m.term, m.start, m.end) for m in hit.matches]) for hit in found]


def test_a_second_start_reads_the_example_rules_it_compiled_and_matches_alike(
    tmp_path: Path, compilations: list[int]
) -> None:
    rules = tmp_path / "rules.yaml"
    shutil.copyfile(ROOT / "seeds" / "rules.yaml", rules)
    first = load_rules(rules)
    second = load_rules(rules)
    assert compilations == [1]
    assert second is not first and second.version == first.version and second.source == str(rules)
    text = SEED.read_text()
    assert _hits(second, text) == _hits(first, text)
    assert {rule for rule, _ in _hits(second, text)} == {"airstrikes", "border-crossings", "commanders"}


def test_an_edited_file_is_compiled_again(tmp_path: Path, compilations: list[int]) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(SMALL)
    assert _hits(load_rules(rules), "An air raid hit the port.")
    rules.write_text(SMALL.replace('OR "air raid"', ""))
    assert not _hits(load_rules(rules), "An air raid hit the port.")
    assert compilations == [1, 1]


def test_a_rule_set_kept_for_other_channels_is_checked_again(tmp_path: Path, compilations: list[int]) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(SMALL)
    load_rules(rules, channels=["email"])
    with pytest.raises(RuleError, match="email"):
        load_rules(rules, channels=["slack"])
    load_rules(rules, channels=["email"])
    assert compilations == [1]


def test_the_reloading_cache_reads_a_kept_rule_set(tmp_path: Path, compilations: list[int]) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(SMALL)
    load_rules(rules)
    assert _hits(RuleCache(rules).get(), "An airstrike hit the port.")
    assert compilations == [1]


def test_a_broken_cache_file_is_compiled_again_with_a_warning(
    tmp_path: Path, compilations: list[int], caplog: pytest.LogCaptureFixture
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(SMALL)
    load_rules(rules)
    compiled_cache.wait()  # kept by a thread of its own
    (kept,) = compiled_cache.folder().glob("*.pickle")
    kept.write_bytes(kept.read_bytes()[:100])
    with caplog.at_level(logging.WARNING):
        assert _hits(load_rules(rules), "An air raid hit the port.")
    assert "unreadable compiled rules" in caplog.text
    assert compilations == [1, 1]
    assert _hits(load_rules(rules), "An air raid hit the port.")  # written whole again
    assert compilations == [1, 1]


def test_only_the_newest_rule_sets_are_kept(
    tmp_path: Path, compilations: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compiled_cache, "KEEP", 2)
    rules = tmp_path / "rules.yaml"
    for word in ("airstrike", "drone", "warplane"):
        rules.write_text(SMALL.replace("airstrike", word))
        load_rules(rules)
    compiled_cache.wait()
    assert len(list(compiled_cache.folder().glob("*.pickle"))) == 2
    load_rules(rules)  # the newest is still there
    assert compilations == [1, 1, 1]


def test_rules_compile_where_the_cache_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("NEWSWATCH_CACHE_DIR", str(blocker))
    rules = tmp_path / "rules.yaml"
    rules.write_text(SMALL)
    with caplog.at_level(logging.WARNING):
        assert _hits(load_rules(rules), "An airstrike hit the port.")
        compiled_cache.wait()
    assert "unable to write the compiled rules" in caplog.text


def test_a_start_does_not_wait_for_its_rule_set_to_be_kept_yet_a_fork_does(
    tmp_path: Path, compilations: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(SMALL)
    release = threading.Event()
    original = compiled_cache._write

    def slow_write(*args: object) -> None:
        release.wait(10)
        original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(compiled_cache, "_write", slow_write)
    assert _hits(load_rules(rules), "An airstrike hit the port.")  # back while the set is still being kept
    assert not list(compiled_cache.folder().glob("*.pickle"))
    threading.Timer(0.2, release.set).start()
    child = os.fork()  # the writing ends before the fork, so the child sees the kept set
    if child == 0:
        code = 1
        try:
            code = 0 if len(list(compiled_cache.folder().glob("*.pickle"))) == 1 else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    load_rules(rules)
    assert compilations == [1]


@pytest.mark.parametrize("enabled", [True, False])
def test_compiling_or_reading_rules_leaves_the_cycle_collector_as_it_was(
    tmp_path: Path, compilations: list[int], monkeypatch: pytest.MonkeyPatch, enabled: bool
) -> None:
    """The collector is paused while a rule set is built (it would walk every new object again and again),
    and left as it was found: on after a compile, a read of a kept set and a file with a mistake."""
    collecting: list[bool] = []
    original = engine.CompiledRules.__init__

    def recording(self: engine.CompiledRules, *args: object, **kwargs: object) -> None:
        collecting.append(gc.isenabled())
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine.CompiledRules, "__init__", recording)
    rules, broken = tmp_path / "rules.yaml", tmp_path / "broken.yaml"
    rules.write_text(SMALL)
    broken.write_text(SMALL.replace('query: airstrike OR "air raid"', "query: (airstrike"))
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        load_rules(rules)
        assert gc.isenabled() is enabled
        load_rules(rules)
        assert compilations == [1] and collecting == [False]
        assert gc.isenabled() is enabled
        with pytest.raises(RuleError):
            load_rules(broken)
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()
