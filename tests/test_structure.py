"""The layout keeps its promises: layers import downwards only, modules stay small and say what they are for."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("worker", "storage", "alerts")
MAX_LINES = 300
LOWER = {"storage": set(), "alerts": {"storage"}, "worker": {"storage", "alerts"}}
"""Which of newswatch's own packages each package may import."""


def _modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py") if "versions" not in p.parts)


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_a_package_imports_only_the_layers_below_it(path: Path) -> None:
    package = path.relative_to(ROOT).parts[0]
    ours = {name.split(".")[1] for name in _imported(path) if name.startswith("newswatch.")}
    assert ours <= LOWER[package] | {package}, f"{path.relative_to(ROOT)} imports {sorted(ours - {package})}"
    flat = {name.split(".")[0] for name in _imported(path)} & set(PACKAGES)
    assert not flat, f"{path.relative_to(ROOT)} imports {flat} by its folder name, not as newswatch.*"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_module_says_what_it_is_for_and_stays_small(path: Path) -> None:
    tree = ast.parse(path.read_text())
    assert ast.get_docstring(tree), f"{path.relative_to(ROOT)} has no module docstring"
    lines = len(path.read_text().splitlines())
    reason = "one module on purpose" in (ast.get_docstring(tree) or "").lower()
    assert lines <= MAX_LINES or reason, f"{path.relative_to(ROOT)} has {lines} lines and says not why"


def test_the_installed_names_are_one_namespace() -> None:
    code = "import importlib.util as u; print([u.find_spec(n) is None for n in ('worker', 'storage', 'alerts')])"
    out = subprocess.run([sys.executable, "-c", code], cwd="/", capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[True, True, True]"  # nothing installed under the bare folder names


def test_importing_the_storage_layer_loads_no_rule_engine_and_no_celery() -> None:
    code = (
        "import sys, newswatch.storage.hits, newswatch.alerts.delivery; "
        "print(sorted(m for m in ('simplemma', 'ahocorasick', 'celery', 'newswatch.worker') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd="/", capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
