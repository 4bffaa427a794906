"""`newswatch hits`, `hits show` and `stats` as a user runs them, on SQLite and PostgreSQL: filters, pages that
say how many more there are, marked search words, the script formats, and exports in constant memory."""

from __future__ import annotations

import csv
import io
import json
import sys
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import insert, update
from sqlmodel import col

from newswatch.storage.db import session_scope
from newswatch.storage.hit_queries import HitFilters, iter_hits
from newswatch.storage.models import Hit, StoredArticle
from newswatch.storage.schema import upgrade
from newswatch.worker.cli.hit_output import CSV_COLUMNS, write_csv
from newswatch.worker.cli.params import TimeBound
from newswatch.worker.runtime import reset_runtime

ARTICLES = {
    "a.txt": "Airstrike hits convoy near Mosul\n\nA US airstrike hit a convoy near Mosul on Tuesday, officials said. "
    "The strike killed four fighters, the coalition said in a statement.\n",
    "b.txt": "Soleimani visits the front\n\nQasem Soleimani, the commander of the Quds Force, visited the front "
    "lines near Mosul on Sunday, Iranian media reported.\n",
    "c.txt": "Rafah crossing reopens for aid\n\nThe Rafah crossing reopened on Monday and forty aid trucks entered "
    "Gaza, Egyptian officials said.\n",
}


def _newswatch(*args: str, env: dict[str, str] | None = None) -> Result:
    from newswatch.worker.cli import main

    reset_runtime()
    return CliRunner().invoke(main, list(args), catch_exceptions=False, env=env)


def _lines(result: Result) -> list[dict[str, object]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.fixture
def scanned(database_url: str, tmp_path: Path) -> str:
    """The three articles scanned, dated a day apart (a.txt newest), as their publish dates."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    for name, body in ARTICLES.items():
        (folder / name).write_text(body)
    assert _newswatch("scan", str(folder)).exit_code == 0
    with session_scope(database_url) as session:
        for days, rule in enumerate(["airstrikes", "commanders", "border-crossings"]):
            session.execute(
                update(Hit).where(col(Hit.rule) == rule).values(article_date=datetime(2026, 3, 10 - days, tzinfo=UTC))
            )
    return database_url


def test_hits_are_listed_newest_first_and_filtered_by_rule_in_any_case(scanned: str) -> None:
    everything = _lines(_newswatch("hits", "--jsonl"))
    assert [hit["rule"] for hit in everything] == ["airstrikes", "commanders", "border-crossings"]
    commanders = _lines(_newswatch("hits", "--rule", "Commanders", "--jsonl"))
    assert [hit["rule"] for hit in commanders] == ["commanders"]
    assert commanders[0]["matches"] == ["Soleimani", "Qasem Soleimani"]


def test_an_unknown_rule_is_named_with_the_known_ones(scanned: str) -> None:
    result = _newswatch("hits", "--rule", "air-strikes")
    assert result.exit_code == 1
    assert "unknown rule 'air-strikes'" in result.stderr
    assert "airstrikes, border-crossings, commanders" in result.stderr


def test_a_rule_of_the_rules_file_without_hits_yet_is_no_mistake(database_url: str, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - {name: tehran, query: Tehran}\n")
    result = _newswatch("hits", "--rule", "Tehran", env={"NEWSWATCH_RULES": str(rules)})
    assert result.exit_code == 0
    assert "no hits stored for rule 'Tehran' yet" in result.stderr


def test_since_and_until_take_durations_and_dates(scanned: str) -> None:
    def rules(*args: str) -> list[object]:
        return [hit["rule"] for hit in _lines(_newswatch("hits", "--jsonl", *args))]

    assert rules("--since", "2026-03-09") == ["airstrikes", "commanders"]
    assert rules("--until", "2026-03-09") == ["commanders", "border-crossings"]  # the whole of the 9th
    assert rules("--since", "2026-03-09", "--until", "2026-03-09T12:00") == ["commanders"]
    assert rules("--since", "1d") == []


def test_a_page_says_how_many_more_there_are_and_the_cursor_shows_them(scanned: str) -> None:
    first = _newswatch("hits", "--limit", "2", "--jsonl")
    assert [hit["rule"] for hit in _lines(first)] == ["airstrikes", "commanders"]
    assert "2 shown, 1 more: add --cursor " in first.stderr
    cursor = first.stderr.split("--cursor ")[1].split()[0]
    second = _newswatch("hits", "--limit", "2", "--jsonl", "--cursor", cursor)
    assert [hit["rule"] for hit in _lines(second)] == ["border-crossings"]
    assert second.stderr == ""


def test_limit_zero_shows_every_hit_and_nothing_is_called_empty_that_is_not(scanned: str) -> None:
    every = _newswatch("hits", "--limit", "0")
    assert every.exit_code == 0
    assert all(body.splitlines()[0] in every.stdout for body in ARTICLES.values())
    assert every.stderr == ""
    assert "no hits match these filters" in _newswatch("hits", "--source", "elsewhere.example").stderr


def test_an_empty_database_says_no_hits_stored(database_url: str) -> None:
    result = _newswatch("hits")
    assert result.exit_code == 0
    assert result.stderr.strip() == "no hits stored"


def test_search_marks_the_words_it_found(scanned: str) -> None:
    result = _newswatch("hits", "--search", "quds mosul")
    assert result.exit_code == 0
    assert "**Quds** Force, visited the front lines near **Mosul**" in result.stdout
    assert "Airstrike" not in result.stdout
    (found,) = _lines(_newswatch("hits", "--search", "Quds", "--jsonl"))
    text = found["found"]["text"]  # type: ignore[index]
    start, end = found["found"]["marks"][0]  # type: ignore[index]
    assert text[start:end] == "Quds"


def test_the_table_is_drawn_by_rich_on_a_terminal(scanned: str) -> None:
    result = _newswatch("hits", "--rule", "airstrikes", env={"FORCE_COLOR": "1", "COLUMNS": "200"})
    drawn = click.unstyle(result.stdout)
    assert "┃ date" in drawn and "┃ rule" in drawn and "│ Airstrike hits convoy near Mosul" in drawn


def test_without_rich_the_table_is_plain_lines(scanned: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rich.console", None)
    result = _newswatch("hits", "--rule", "airstrikes", env={"FORCE_COLOR": "1"})
    assert result.stdout.splitlines()[0].endswith("airstrikes  high  Airstrike hits convoy near Mosul")
    assert "a.txt  matches: **Airstrike**, **airstrike**\n" in result.stdout


def test_scripts_get_json_jsonl_and_csv(scanned: str) -> None:
    document = json.loads(_newswatch("hits", "--json", "--limit", "1").stdout)
    assert [hit["rule"] for hit in document["hits"]] == ["airstrikes"]
    assert document["more"] == 2 and document["next_cursor"]
    rows = list(csv.DictReader(io.StringIO(_newswatch("hits", "--csv").stdout)))
    assert list(rows[0]) == CSV_COLUMNS
    assert [row["rule"] for row in rows] == ["airstrikes", "commanders", "border-crossings"]
    assert rows[1]["matches"] == "Soleimani; Qasem Soleimani" and rows[1]["date"].startswith("2026-03-09")


def test_show_prints_a_hit_with_each_match_marked_in_its_sentence(scanned: str) -> None:
    (hit,) = _lines(_newswatch("hits", "--rule", "commanders", "--jsonl"))
    result = _newswatch("hits", "show", str(hit["id"]))
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "Soleimani visits the front"
    assert any(line.startswith("  published:  not given (stored ") for line in lines)
    assert any(line.startswith("  link:       ") and line.endswith("b.txt") for line in lines)
    assert any(line.startswith("  rule:       commanders (severity high") for line in lines)
    assert "  - **Qasem Soleimani**, the commander of the Quds Force" in result.stdout
    missing = _newswatch("hits", "show", "999999")
    assert missing.exit_code == 1 and "no hit with id 999999" in missing.stderr


def test_stats_draws_hits_per_rule_per_day(scanned: str) -> None:
    result = _newswatch("stats", "--since", "2026-03-08", "--until", "2026-03-10")
    assert result.stdout.splitlines()[0].startswith("hits per day, 2026-03-08 to 2026-03-10")
    assert "airstrikes        ··█  1 hit, at most 1 a day" in result.stdout
    assert "border-crossings  █··  1 hit" in result.stdout
    counts = json.loads(_newswatch("stats", "--since", "2026-03-08", "--json").stdout)
    assert counts == {
        "rules": {
            "airstrikes": {"2026-03-10": 1},
            "border-crossings": {"2026-03-08": 1},
            "commanders": {"2026-03-09": 1},
        }
    }


@pytest.mark.parametrize(
    ("written", "end_of_day", "expected"),
    [
        ("2026-03-01", False, datetime(2026, 3, 1, tzinfo=UTC)),
        ("2026-03-01", True, datetime(2026, 3, 2, tzinfo=UTC)),
        ("2026-03-01T08:30", True, datetime(2026, 3, 1, 8, 30, tzinfo=UTC)),
        ("2026-03-01T08:30+02:00", False, datetime(2026, 3, 1, 6, 30, tzinfo=UTC)),
    ],
)
def test_a_time_bound_reads_dates_as_utc(written: str, end_of_day: bool, expected: datetime) -> None:
    assert TimeBound(end_of_day=end_of_day).convert(written, None, None) == expected


def test_a_time_bound_reads_a_duration_back_from_now() -> None:
    before = datetime.now(UTC)
    when = TimeBound().convert("7d", None, None)
    assert before - timedelta(days=7) <= when <= datetime.now(UTC) - timedelta(days=7)
    with pytest.raises(click.BadParameter, match="not a duration or a date"):
        TimeBound().convert("last week", None, None)


class _Sink(io.TextIOBase):
    """Counts what is written and keeps none of it."""

    written = 0

    def write(self, text: str) -> int:
        self.written += len(text)
        return len(text)


def _export_peak(url: str, filters: HitFilters) -> tuple[int, int]:
    sink = _Sink()
    tracemalloc.start()
    try:
        rows = write_csv(iter_hits(url, filters), sink)
        return rows, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_csv_export_streams_in_constant_memory(database_url: str) -> None:
    upgrade(database_url)
    day = datetime(2026, 3, 1, tzinfo=UTC)
    evidence = {"matches": [{"text": "airstrike"}], "snippets": [{"text": "An airstrike. " * 8, "marks": [[3, 12]]}]}
    with session_scope(database_url) as session:
        session.execute(
            insert(StoredArticle),
            [
                {"id": n, "content_hash": f"h{n}", "source": "s", "title": f"Title {n}", "text": "Body. " * 200}
                for n in range(1, 5001)
            ],
        )
        for start in range(0, 25_000, 5000):
            session.execute(
                insert(Hit),
                [
                    {
                        "article_id": n % 5000 + 1,
                        "rule": "small" if n < 5000 else f"big-{n // 5000}",
                        "severity": "high",
                        "rules_version": "v1",
                        "snippet": "An airstrike.",
                        "evidence": evidence,
                        "article_date": day - timedelta(minutes=n),
                    }
                    for n in range(start, start + 5000)
                ],
            )
    _export_peak(database_url, HitFilters(rule="small", since=day - timedelta(minutes=1500)))  # caches filled
    small_rows, small_peak = _export_peak(database_url, HitFilters(rule="small"))
    all_rows, all_peak = _export_peak(database_url, HitFilters())
    assert (small_rows, all_rows) == (5000, 25_000)
    assert all_peak < small_peak * 1.3, (small_peak, all_peak)
