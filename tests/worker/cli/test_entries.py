"""`newswatch entries` and `status`: entries that could not be stored are shown, and retried once fixed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer

from newswatch.worker.runtime import reset_runtime


def _newswatch(*args: str) -> Result:
    from newswatch.worker.cli import main

    reset_runtime()
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_entries_that_keep_failing_are_shown_and_retried_once_the_cause_is_fixed(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - name: airstrikes\n    query: airstrike AND (\n")
    for name, value in {
        "NEWSWATCH_RULES": str(rules),
        "NEWSWATCH_FETCH_PAGES": "false",
        "NEWSWATCH_ENTRY_RETRY_AFTER": "0",
        "NEWSWATCH_ENTRY_MAX_ATTEMPTS": "1",
    }.items():
        monkeypatch.setenv(name, value)
    items = "".join(
        f"<item><title>Story {i}</title><link>{httpserver.url_for(f'/s/{i}')}</link>"
        f"<description>A US airstrike hit target number {i}.</description></item>"
        for i in range(3)
    )
    httpserver.expect_request("/feed.xml").respond_with_data(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}</channel></rss>',
        content_type="application/rss+xml",
    )
    assert _newswatch("feeds", "add", httpserver.url_for("/feed.xml")).exit_code == 0

    assert _newswatch("run", "--once").exit_code == 1  # the rules file: each entry names it
    assert _newswatch("run", "--once").exit_code == 0  # the sweep finds them tried too often: failed

    assert "3 entries failed (newswatch entries retry)" in _newswatch("feeds", "list").stdout
    listed = _newswatch("entries", "list").stdout
    assert listed.count("failed") == 3 and f"{rules}:3:" in listed and httpserver.url_for("/s/0") in listed
    status = json.loads(_newswatch("status", "--json").stdout)
    assert status["entries"] == {"pending": 0, "failed": 3, "done": 0}

    rules.write_text("rules:\n  - name: airstrikes\n    query: airstrike\n")
    retried = _newswatch("entries", "retry")
    assert retried.exit_code == 0, retried.output
    assert "requeued 3 entries" in retried.stdout and "articles: 3 (3 new), new hits: 3" in retried.stdout
    assert json.loads(_newswatch("status", "--json").stdout)["entries"] == {"pending": 0, "failed": 0, "done": 3}
    assert _newswatch("entries", "retry", "999").exit_code == 1
