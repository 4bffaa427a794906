"""`newswatch rules check | test | backtest | schema` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from sqlmodel import select

from newswatch.storage.db import session_scope
from newswatch.storage.models import StoredArticle

ROOT = Path(__file__).resolve().parents[3]
SEED = ROOT / "seeds" / "000_dcd6abdc8038f5e6.txt"
RULES = ROOT / "seeds" / "rules.yaml"


def _newswatch(*args: str) -> Result:
    from newswatch.worker.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_check_accepts_the_example_rules() -> None:
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))["rules"]
    examples = sum(len(cases) for rule in rules for cases in rule.get("examples", {}).values())
    result = _newswatch("rules", "check", str(RULES))
    assert result.exit_code == 0
    assert f"3 rules (3 enabled), 6 entity lists, {examples} examples hold" in result.stdout


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


def test_check_names_the_example_that_broke(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        "rules:\n  - name: airstrikes\n    query: airstrike\n    examples:\n"
        "      match: [A US airstrike hit the depot., Jets bombed the depot.]\n"
        "      no_match: [Dock workers went on strike.]\n"
    )
    result = _newswatch("rules", "check", str(path))
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"{path}:5: airstrikes: examples.match[1] did not match (failed at airstrike): 'Jets bombed the depot.'"
    )


def test_eval_scores_each_rule_lists_its_misses_and_gates_on_a_minimum(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - {name: airstrikes, query: airstrike}\n  - {name: other, query: zebra}\n")
    labelled = tmp_path / "labelled.jsonl"
    lines = [
        {"id": "hit", "text": "A US airstrike hit the depot near the border.", "labels": {"airstrikes": True}},
        {"id": "missed", "title": "Raid", "text": "Jets bombed the depot.", "labels": {"airstrikes": True}},
        {"id": "wrong", "text": "Talks on an airstrike ban stalled.", "labels": {"airstrikes": False}},
        {"id": "right", "text": "Dock workers went on strike.", "labels": {"airstrikes": False}},
        {"id": "held", "text": "Nothing here.", "labels": {"airstrikes": False}, "split": "heldout"},
    ]
    labelled.write_text("\n".join(json.dumps(line) for line in lines) + "\n")

    result = _newswatch("rules", "eval", str(labelled), "--rules", str(rules), "--split", "dev", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["texts"] == 4
    (score,) = report["rules"]  # `other` labels no text: not scored
    assert (score["tp"], score["fp"], score["fn"], score["tn"]) == (1, 1, 1, 1)
    assert (score["precision"], score["recall"], score["f1"]) == (0.5, 0.5, 0.5)
    misses = {miss["id"]: miss for miss in score["misses"]}
    assert misses["missed"]["why"] == "failed at airstrike; found: none of its terms"
    assert "**airstrike**" in misses["wrong"]["why"]

    gated = _newswatch("rules", "eval", str(labelled), "--rules", str(rules), "--min-recall", "0.9")
    assert gated.exit_code == 1 and "below the minimum: airstrikes" in gated.stderr
    text = _newswatch("rules", "eval", str(labelled), "--rules", str(rules)).stdout
    assert "airstrikes" in text and "false negative: missed 'Raid'" in text


def test_eval_names_the_line_of_a_broken_labelled_file(tmp_path: Path) -> None:
    labelled = tmp_path / "labelled.jsonl"
    labelled.write_text('{"id": 1, "text": "x", "labels": {"airstrikes": true}}\n{"id": 2, "text": "y"}\n')
    result = _newswatch("rules", "eval", str(labelled), "--rules", str(RULES))
    assert result.exit_code == 1 and f"{labelled}:2: expected an object with `labels`" in result.stderr


MISTAKES = """\
rules:
  - name: airstrikes
    query: airstrike AND (jet
    languages: [en, eng]
  - name: satire
    query: NOT satire
    alert: [console, desk-mail, ops-slack]
  - name: raids
    query: raid lang:english
"""


def test_check_reports_every_mistake_with_its_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    channels = tmp_path / "channels.yaml"
    channels.write_text("channels:\n  ops-slack: {kind: console}\n")
    monkeypatch.setenv("NEWSWATCH_CHANNELS_FILE", str(channels))
    path = tmp_path / "rules.yaml"
    path.write_text(MISTAKES)
    result = _newswatch("rules", "check", str(path))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{path}:3:30: query: '(' at column 15 is not closed: expected ')'",
        f"{path}:4:21: languages: unknown language code 'eng': expected an ISO 639-1 code such as en, ar, fr or en-GB",
        f"{path}:6:12: query: can never match: a hit needs a word, phrase or @list found outside NOT, source: and "
        "lang: (and on both sides of a NEAR)",
        f"{path}:7:22: alert: no channel named 'desk-mail' (configured: console, ops-slack)",
        f"{path}:9:22: query: unknown language code 'english': expected an ISO 639-1 code such as en, ar, fr or en-GB",
    ]
    assert "Traceback" not in result.output


def test_a_run_refuses_a_rules_file_with_mistakes_and_lists_them_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSWATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    path = tmp_path / "rules.yaml"
    path.write_text(MISTAKES)
    monkeypatch.setenv("NEWSWATCH_RULES", str(path))
    result = _newswatch("scan", str(SEED))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert [line.split(": ", 2)[1] for line in lines] == [
        f"{path}:{n}" for n in ("3:30", "4:21", "6:12", "7:22", "7:33", "9:22")
    ]
    assert all(line.startswith("error: ") for line in lines)
    with session_scope(f"sqlite:///{tmp_path / 'db.sqlite'}") as session:
        assert session.exec(select(StoredArticle)).all() == []  # nothing stored under rules with mistakes
