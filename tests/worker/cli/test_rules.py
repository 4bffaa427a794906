"""`newswatch rules check | test | backtest | schema` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

ROOT = Path(__file__).resolve().parents[3]
SEED = ROOT / "seeds" / "000_dcd6abdc8038f5e6.txt"
RULES = ROOT / "seeds" / "rules.yaml"


def _newswatch(*args: str) -> Result:
    from newswatch.worker.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_check_accepts_the_example_rules() -> None:
    result = _newswatch("rules", "check", str(RULES))
    assert result.exit_code == 0
    assert "3 rules (3 enabled), 2 entity lists" in result.stdout


def test_check_reports_file_line_column_and_exits_non_zero(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  - name: broken\n    query: drone AND (jet\n")
    result = _newswatch("rules", "check", str(path))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{path}:3:")
    assert "is not closed: expected ')'" in result.stderr
    assert "Traceback" not in result.output


def test_schema_prints_the_generated_json_schema() -> None:
    from newswatch.worker.rules.schema import rules_schema

    result = _newswatch("rules", "schema")
    assert result.exit_code == 0
    assert result.stdout.endswith("}\n")
    assert json.loads(result.stdout) == rules_schema()


def test_test_explains_matches_and_the_first_failed_clause(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES.read_text() + "  - name: labour\n    query: strike AND (union OR wages)\n")
    result = _newswatch("rules", "test", str(path), str(SEED))
    assert result.exit_code == 0
    assert "MATCH     commanders" in result.stdout
    assert "'Qasem Soleimani' <- @commanders" in result.stdout
    assert "no match  labour: failed at union OR wages" in result.stdout


def test_backtest_reports_what_a_rules_file_would_have_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSWATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    assert _newswatch("scan", str(SEED)).exit_code == 0
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  - {name: tehran, query: Tehran}\n  - {name: mosul, query: 'title:Mosul'}\n")
    result = _newswatch("rules", "backtest", str(path), "--since", "30d")
    assert result.exit_code == 0
    assert "  tehran: 1" in result.stdout and "  mosul: 0" in result.stdout
    alerts = _newswatch("alerts", "list").stdout
    assert "tehran" not in alerts  # a backtest never alerts


def test_backtest_alerts_only_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSWATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    assert _newswatch("scan", str(SEED)).exit_code == 0
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  - {name: tehran, query: Tehran}\n")
    result = _newswatch("rules", "backtest", str(path), "--alert")
    assert result.exit_code == 0
    assert "alerts: 1 sent" in result.stdout
    assert "[tehran]" in _newswatch("alerts", "list").stdout
    assert "tehran" in _newswatch("hits", "--rule", "tehran").stdout
    again = _newswatch("rules", "backtest", str(path), "--alert")
    assert "alerts: 0 sent" in again.stdout  # the same hit never alerts twice
