"""`newswatch worker`, `run` and `config` as an operator starts them: mistakes stop them at once, clearly, and
`run` says what each round did and when the next poll is."""

from __future__ import annotations

import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer

from newswatch.storage.db import session_scope
from newswatch.storage.feeds import add_feed, list_feeds, record_poll
from newswatch.storage.schema import upgrade
from tests.conftest import REDIS_URL, Mailbox, left_in_session

ROOT = Path(__file__).resolve().parents[3]


def _newswatch(*args: str) -> Result:
    from newswatch.worker.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_worker_without_a_broker_says_which_variable_to_set() -> None:
    result = _newswatch("worker")
    assert result.exit_code == 1
    assert "NEWSWATCH_BROKER_URL is not set" in result.stderr


def test_a_misconfigured_channel_stops_the_worker_before_it_takes_any_task(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSWATCH_BROKER_URL", REDIS_URL)
    monkeypatch.setenv("NEWSWATCH_SMTP_URL", "smtp://desk:s3cret@127.0.0.1:2525")
    monkeypatch.setenv("NEWSWATCH_EMAIL_FROM", "newswatch@example.org")
    for command in (["worker"], ["run", "--once"], ["scan", str(ROOT / "seeds")]):
        result = _newswatch(*command)
        assert result.exit_code == 1, command
        assert result.stderr.strip() == "error: channels: email in the environment: NEWSWATCH_EMAIL_TO is not set"


def test_channels_set_up_in_the_environment_get_alerts_without_naming_them(
    smtp_server: tuple[str, Mailbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, mailbox = smtp_server
    monkeypatch.setenv("NEWSWATCH_SMTP_URL", url)
    monkeypatch.setenv("NEWSWATCH_EMAIL_FROM", "newswatch@example.org")
    monkeypatch.setenv("NEWSWATCH_EMAIL_TO", "desk@example.org")
    result = _newswatch("scan", str(ROOT / "seeds"))
    assert result.exit_code == 0, result.output
    assert len(mailbox.messages) == 3  # one email per rule that matched the seed, no NEWSWATCH_DEFAULT_CHANNELS


def test_config_shows_the_effective_settings_with_secrets_masked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEWSWATCH_DATABASE_URL")
    monkeypatch.setenv("NEWSWATCH_BROKER_URL", "redis://:brokerpass@127.0.0.1:6379/0")
    monkeypatch.setenv("NEWSWATCH_SLACK_WEBHOOK_URL", "http://127.0.0.1:9/services/T0/B0/SECRET")
    result = _newswatch("config", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["settings"]["NEWSWATCH_DATABASE_URL"] == f"sqlite:///{tmp_path / 'newswatch.db'}"
    assert shown["settings"]["NEWSWATCH_BROKER_URL"] == "redis://:**********@127.0.0.1:6379/0"
    assert shown["settings"]["NEWSWATCH_SLACK_WEBHOOK_URL"] == "**********"
    assert shown["channels"] == ["console", "slack"] and shown["default_channels"] == ["console", "slack"]
    assert "brokerpass" not in result.stdout and "SECRET" not in result.stdout
    text = _newswatch("config").stdout
    assert "NEWSWATCH_RULES" in text and "SECRET" not in text


def _run_until(env: dict[str, str], cwd: Path, wanted: str, timeout: float = 60.0) -> list[str]:
    """Start `newswatch run` (the scheduled loop), collect its output lines until one starts with `wanted`,
    then stop it."""
    command = [sys.executable, "-m", "newswatch.worker", "run"]
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line.rstrip("\n")) for line in process.stdout or ()])
    reader.start()
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    try:
        while not any(line.startswith(wanted) for line in seen):
            seen.append(lines.get(timeout=max(0.1, deadline - time.monotonic())))
    finally:
        process.terminate()
        process.wait(timeout=20)
        reader.join(timeout=20)
    return seen


def _local(when: datetime | None) -> str:
    """The time as `run` shows it: local, with the date when it is not today (a poll due after midnight)."""
    assert when is not None
    local = when.astimezone()
    today = datetime.now().astimezone().date()
    return f"{local:%H:%M:%S}" if local.date() == today else f"{local:%Y-%m-%d %H:%M:%S}"


def test_run_shows_each_rounds_summary_and_when_the_next_poll_is(
    httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSWATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'run.db'}")
    httpserver.expect_request("/live.xml").respond_with_data(
        (ROOT / "tests" / "fixtures" / "feeds" / "live-blog.xml").read_text().replace("{base}", "http://127.0.0.1"),
        content_type="application/rss+xml",
    )
    assert _newswatch("feeds", "add", httpserver.url_for("/live.xml")).exit_code == 0

    lines = _run_until(dict(os.environ), tmp_path, "next poll at")

    assert f"{httpserver.url_for('/live.xml')}: fetched, 9 new entries" in lines
    (summary,) = [n for n, line in enumerate(lines) if line.startswith("feeds polled: 1, articles: 9 (9 new), ")]
    with session_scope(os.environ["NEWSWATCH_DATABASE_URL"]) as session:
        (feed,) = list_feeds(session)
    assert lines[summary + 1] == f"next poll at {_local(feed.next_poll_at)} (in 15m)"


def test_run_says_when_no_feed_is_due_and_when_the_next_one_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database_url = f"sqlite:///{tmp_path / 'run.db'}"
    monkeypatch.setenv("NEWSWATCH_DATABASE_URL", database_url)
    upgrade(database_url)
    with session_scope(database_url) as session:
        feed, _ = add_feed(session, "https://news.example/rss.xml", interval_seconds=600)
        assert feed.id is not None
        feed = record_poll(session, feed.id, status=200, error=None)  # polled just now: due in ten minutes

    lines = _run_until(dict(os.environ), tmp_path, "no feed due")

    assert lines == [f"no feed due; next poll at {_local(feed.next_poll_at)} (in 10m)"]


@pytest.mark.parametrize(
    ("wait", "shown"),
    [
        (timedelta(minutes=4, seconds=10), "in 4m"),
        (timedelta(seconds=45), "in 45s"),
        (timedelta(hours=2, minutes=5), "in 2h 5m"),
        (timedelta(hours=3), "in 3h"),
        (timedelta(seconds=-5), "due now"),
    ],
)
def test_the_next_poll_line_says_when_and_how_long_until(wait: timedelta, shown: str) -> None:
    from newswatch.worker.cli.output import next_poll_line

    now = datetime(2025, 6, 10, 10, 0).astimezone()  # mid-morning local time: every wait here ends that day
    assert next_poll_line(now + wait, now) == f"next poll at {now + wait:%H:%M:%S} ({shown})"


def test_the_next_poll_line_gives_the_date_when_it_is_not_today_and_says_when_there_is_no_feed() -> None:
    from newswatch.worker.cli.output import next_poll_line

    now = datetime(2025, 6, 10, 10, 0).astimezone()
    tomorrow = now + timedelta(days=1)
    assert next_poll_line(tomorrow, now) == f"next poll at {tomorrow:%Y-%m-%d %H:%M:%S} (in 1d)"
    assert next_poll_line(None, now) == "no feeds to poll; add one with `newswatch feeds add URL`"


def test_ctrl_c_stops_run_with_its_extraction_processes_and_no_page_reported_lost(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    menu = "".join(f'<li><a href="/section/{n}">Section {n}</a></li>' for n in range(3000))
    page = (ROOT / "tests" / "fixtures" / "pipeline" / "article-border.html").read_text()
    page = page.replace("<body>", f"<body><nav><ul>{menu}</ul></nav>", 1)
    items = []
    for number in range(120):  # pages as large as a news site's: the round is still extracting when Ctrl-C comes
        httpserver.expect_request(f"/a/{number}").respond_with_data(
            page.replace("Militias", f"Militias ({number})"), content_type="text/html"
        )
        items.append(f"<item><title>Item {number}</title><link>{httpserver.url_for(f'/a/{number}')}</link></item>")
    feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{"".join(items)}</channel></rss>'
    httpserver.expect_request("/feed.xml").respond_with_data(feed, content_type="application/rss+xml")
    database_url = f"sqlite:///{tmp_path / 'run.db'}"
    upgrade(database_url)
    with session_scope(database_url) as session:
        add_feed(session, httpserver.url_for("/feed.xml"), interval_seconds=900)
    env = {**os.environ, "NEWSWATCH_DATABASE_URL": database_url, "NEWSWATCH_EXTRACT_PROCESSES": "2"}
    env.pop("NEWSWATCH_BROKER_URL", None)
    running = subprocess.Popen(
        [sys.executable, "-m", "newswatch.worker", "run"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own session: what it leaves behind can be found
    )
    deadline = time.monotonic() + 60
    while _stored_articles(database_url) < 2 and time.monotonic() < deadline and running.poll() is None:
        time.sleep(0.05)
    assert running.poll() is None, running.communicate()
    stored = _stored_articles(database_url)

    os.kill(running.pid, signal.SIGINT)  # Ctrl-C (its extraction processes ignore SIGINT: the command stops them)
    _, errors = running.communicate(timeout=120)

    assert 2 <= stored < 120, "Ctrl-C came after the round"
    assert "extraction process died" not in errors.decode(), errors.decode()[-3000:]
    assert left_in_session(running.pid) == []


def _stored_articles(database_url: str) -> int:
    with sqlite3.connect(database_url.removeprefix("sqlite:///")) as connection:
        try:
            return int(connection.execute("SELECT count(*) FROM articles").fetchone()[0])
        except sqlite3.OperationalError:  # busy or not created yet
            return 0
