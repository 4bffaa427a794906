"""Workers pick up an edited rules file without a restart; a broken edit keeps the last good rule set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from newswatch.worker.errors import RuleError
from newswatch.worker.rules import RuleCache
from newswatch.worker.runtime import get_runtime, reset_runtime


def _write(path: Path, text: str, bump: int) -> None:
    path.write_text(text)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + bump * 1_000_000_000))  # a later edit


def test_an_edited_file_is_recompiled_once_and_hits_record_the_new_version(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    _write(path, "rules:\n  - {name: a, query: airstrike}\n", 0)
    cache = RuleCache(path)
    first = cache.get()
    assert cache.get() is first  # unchanged file: no re-read
    _write(path, "rules:\n  - {name: a, query: airstrike}\n  - {name: b, query: drone}\n", 1)
    second = cache.get()
    assert second.version != first.version
    assert [r.name for r in second.rules] == ["a", "b"]


def test_a_broken_edit_raises_and_keeps_the_previous_rule_set(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    _write(path, "rules:\n  - {name: a, query: airstrike}\n", 0)
    cache = RuleCache(path)
    good = cache.get()
    _write(path, "rules:\n  - {name: a, query: '(airstrike'}\n", 1)
    with pytest.raises(RuleError, match=r"rules.yaml:2:"):
        cache.get()
    assert cache.current is good


def test_the_runtime_keeps_matching_with_the_last_good_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "rules.yaml"
    _write(path, "rules:\n  - {name: a, query: airstrike}\n", 0)
    monkeypatch.setenv("NEWSWATCH_RULES", str(path))
    reset_runtime()
    runtime = get_runtime()
    good = runtime.rules()
    _write(path, "rules: [broken\n", 1)
    assert runtime.rules() is good
