"""Faults on PostgreSQL, on the real stack: a worker process, `newswatch run --once`, Redis and PostgreSQL.

PostgreSQL stopped in the middle of a round loses nothing and doubles nothing: every feed entry ends as
exactly one article, every hit alerts exactly once, and the worker lives through it. The test that stops
PostgreSQL starts its own server (a unix socket in a temporary folder, run as the `postgres` user) and stops
only that one, by `pg_ctl` on its own data directory; the machine's server is never touched.

An alert the channel accepted just as PostgreSQL went away is recorded as sent once it is back, and not
sent again.

Copies of one story stored at the same moment by four processes join one story: the band locks of
`lock_story_bands` make the second copy wait for the first and find it.

Each test runs its own redis-server too: other test sessions on the machine share the Redis test database.
"""

from __future__ import annotations

import contextlib
import glob
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from pytest_httpserver import HTTPServer
from sqlmodel import select
from werkzeug import Request, Response

from newswatch.storage.db import dispose_engines, session_scope
from newswatch.storage.feeds import add_feed
from newswatch.storage.models import Alert, Entry, Hit, StoredArticle
from newswatch.storage.schema import upgrade
from newswatch.worker.celery_app import create_app
from newswatch.worker.config import Settings
from tests.conftest import WorkerStack, fresh_postgres, worker_stack

FAULT_SETTINGS = {
    "NEWSWATCH_ENTRY_RETRY_AFTER": "3",
    "NEWSWATCH_VISIBILITY_TIMEOUT": "20",
    "NEWSWATCH_TASK_TIME_LIMIT": "15",
    "NEWSWATCH_TASK_SOFT_TIME_LIMIT": "10",
    "NEWSWATCH_RETRY_BASE": "0.2",
}
"""Short timings for the worker and for `run --once`: the sweep hands an entry on 3 s after its poll."""

FIRST_ROUND_TIMEOUT = 25
"""The round PostgreSQL fails under waits this long (s). Its tasks retry with backoff (5 s doubling, with jitter),
so some wait a minute after the database is back; the next rounds' sweeps hand those entries on instead."""

# Neutral words for article text: none of them is, or is part of, a term of the seed rules (no strikes,
# aircraft, crossings, places or commanders). Random sentences of them make texts that share no story.
_NEUTRAL = """
council market river farmers harvest school bridge library museum garden orchard festival teacher students
village committee budget water supply road repair railway station timetable bakery bread wheat barley
cattle sheep wool weaving pottery painter concert choir theatre stage audience lecture historian archive
records census tourism hotel guests season weather rain drought irrigation canal pumps engineers clinic
nurses doctors vaccine campaign children parents playground football league referee stadium tickets
merchants spices carpets copper lamps tailors fabric cotton silk dates olives lemons figs honey beekeepers
fishermen boats nets harbour lighthouse ferry passengers island coastline beach dunes desert oasis
caravan camels herders pasture wells spring valley hills terraces vineyard grapes wine cheese yoghurt
butter milk dairy cooperative loans bank savings credit shop owners rent tenants landlord housing
apartments builders bricks cement windows roofs tiles plumbers electricity grid solar panels wind
turbines batteries factory workers shifts wages union contract talks ministry officials mayor election
ballots volunteers survey poll opinion newspaper editor columnist radio podcast television studio
broadcast presenter guests interview author novel poetry translation language grammar dictionary
software startup investors laptop phones network cables antenna signal satellite dish repairman
garage mechanic tyres engine fuel prices taxi drivers bus routes commuters traffic lights crossroads
pedestrians pavement trees parks benches fountain statue square clock tower bells church mosque
temple pilgrims shrine candles prayer calendar holiday feast lanterns fireworks parade costumes
"""
WORDS = _NEUTRAL.split()
AIRSTRIKE = "Residents said a US airstrike near the town shook the windows."
"""The one sentence that makes an article an `airstrikes` hit (and no other rule's)."""


# --- a PostgreSQL server of the test's own -------------------------------------------------------------


def _postgres_bin() -> Path:
    """The folder of initdb, pg_ctl, pg_isready and createdb."""
    found = [shutil.which("pg_ctl"), *sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)]
    for candidate in found:
        if candidate and (Path(candidate).resolve().parent / "initdb").exists():
            return Path(candidate).resolve().parent
    raise RuntimeError("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")


@dataclass
class OwnPostgres:
    """A PostgreSQL server this test started: its own data directory, listening on a unix socket only."""

    root: Path
    bin: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@/newswatch?host={self.socket_dir}"

    def as_postgres(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run one of the server's tools as the `postgres` user (the server refuses to run as root)."""
        done = subprocess.run(
            ["runuser", "-u", "postgres", "--", str(self.bin / tool), *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        return done

    def start(self, timeout: float = 30.0) -> None:
        options = f"-c listen_addresses='' -k {self.socket_dir} -c max_connections=200"
        self.as_postgres(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-W", "-o", options, "start"
        )
        deadline = time.monotonic() + timeout
        while self.as_postgres("pg_isready", "-q", "-h", str(self.socket_dir), check=False).returncode != 0:
            if time.monotonic() > deadline:
                raise RuntimeError(f"own PostgreSQL not ready in {timeout}s:\n{self.log()}")
            time.sleep(0.1)

    def stop_immediately(self) -> None:
        """What a crash or a pulled plug does: every connection cut, no clean shutdown (recovery on start)."""
        self.as_postgres("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def running(self) -> bool:
        return self.as_postgres("pg_ctl", "-D", str(self.data), "status", check=False).returncode == 0

    def log(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""


@contextlib.contextmanager
def own_postgres() -> Iterator[OwnPostgres]:
    """initdb, start and create the `newswatch` database; on exit stop this server and remove its folder."""
    root = Path(tempfile.mkdtemp(prefix="newswatch-pg-"))  # not under pytest's tmp: postgres must reach it
    server = OwnPostgres(root, _postgres_bin())
    try:
        server.socket_dir.mkdir()
        shutil.chown(root, "postgres")
        shutil.chown(server.socket_dir, "postgres")
        server.as_postgres("initdb", "-D", str(server.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        server.start()
        server.as_postgres("createdb", "-h", str(server.socket_dir), "-U", "postgres", "newswatch")
        yield server
    finally:
        dispose_engines(close=True)
        if server.data.exists() and server.running():
            server.as_postgres("pg_ctl", "-D", str(server.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(root, ignore_errors=True)


# --- a Redis server of the test's own -------------------------------------------------------------------


@contextlib.contextmanager
def own_redis(folder: Path, timeout: float = 10.0) -> Iterator[str]:
    """A redis-server this test started on 127.0.0.1 (no persistence), stopped by its pid on exit.

    Other test sessions on this machine use the shared Redis's test database (and flush it); a worker of
    theirs would take this test's tasks, so exact counts need a broker nobody else knows.
    """
    for _ in range(5):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        command = ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
        log = (folder / f"redis-{port}.log").open("wb")
        server = subprocess.Popen(command, cwd=folder, stdout=log, stderr=subprocess.STDOUT)
        client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)
        try:
            deadline = time.monotonic() + timeout
            while server.poll() is None and time.monotonic() < deadline:
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    time.sleep(0.05)
            else:
                continue  # the port was taken meanwhile (the server exited), or it never answered: another port
            yield f"redis://127.0.0.1:{port}/0"
            return
        finally:
            client.close()
            if server.poll() is None:
                server.terminate()
                try:
                    server.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
            log.close()
    raise RuntimeError(f"no own redis-server answered; see {folder}")


# --- feeds and pages of known content --------------------------------------------------------------------


def _sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(9, 15))).capitalize() + "."


def _paragraphs(rng: random.Random, count: int = 4) -> list[str]:
    return [" ".join(_sentence(rng) for _ in range(3)) for _ in range(count)]


def _html(title: str, site: str, paragraphs: list[str]) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title} | {site}</title>'
        f'<meta property="og:site_name" content="{site}"></head><body><header><nav><a href="/">Home</a></nav>'
        f"</header><main><article><h1>{title}</h1>{body}</article></main>"
        f"<footer><p>Copyright {site}.</p></footer></body></html>"
    )


def _rss(items: list[tuple[str, str]]) -> str:
    """A feed listing (title, link) items in this order."""
    listed = "".join(
        f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid><description>{title}</description></item>"
        for title, link in items
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title><link>http://127.0.0.1/</link>'
        f"<description>News</description>{listed}</channel></rss>"
    )


def _serve(
    server: HTTPServer, path: str, body: str, content_type: str, before: Callable[[], None] | None = None
) -> None:
    def handler(_: Request) -> Response:
        if before is not None:
            before()
        return Response(body, content_type=content_type)

    server.expect_request(path).respond_with_handler(handler)


def _headline(seed: str) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(4)).capitalize()


def report_title(i: int) -> str:
    return f"Report {i}: {_headline(f'report-title-{i}')}"


def report_page(i: int) -> str:
    """Page i of the 200-item feed: its own text; every fourth one reports an airstrike."""
    paragraphs = _paragraphs(random.Random(f"report-{i}"))
    if i % 4 == 0:
        paragraphs[1] = f"{AIRSTRIKE} {paragraphs[1]}"
    return _html(report_title(i), "Valley Courier", paragraphs)


COPY_SITES = (("Northern Herald", "Amal Haddad"), ("Southern Courier", "Jonas Berg"))


def story_title(k: int) -> str:
    return f"Story {k}: {_headline(f'story-title-{k}')}"


def story_copy(k: int, copy: int) -> str:
    """Copy A (0) or B (1) of story k: the same headline and ~150 words, another site and byline line.

    Copies of one story score about 0.8 (estimated Jaccard of word 3-shingles), different stories below
    0.2; the threshold for one story is 0.5. Every fifth story reports an airstrike.
    """
    site, author = COPY_SITES[copy]
    paragraphs = _paragraphs(random.Random(f"story-{k}"))
    if k % 5 == 0:
        paragraphs[1] = f"{AIRSTRIKE} {paragraphs[1]}"
    return _html(story_title(k), site, [f"Filed by {author} for the {site} news desk this morning.", *paragraphs])


# --- running rounds and reading the outcome --------------------------------------------------------------


def _run_once_command(timeout: float) -> list[str]:
    return [sys.executable, "-m", "newswatch.worker", "run", "--once", "--timeout", str(timeout)]


def _run_once(stack: WorkerStack, cwd: Path, *, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _run_once_command(timeout),
        env=stack.env(**FAULT_SETTINGS),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout + 60,
    )


def _warm_up(stack: WorkerStack, concurrency: int, batches: int = 3) -> Callable[[], None]:
    """Have every worker child compile the rules before the work under test; returns the wait for it.

    A child compiles them on its first task, within that task's soft time limit (10 s here): about 2 s
    alone, over 10 s when four children compile at once on a busy two-CPU machine. A soft time limit that
    fires inside trafilatura is swallowed there and the page reads as "no main text", so the feed entry's
    text would stand in for it (another text, other hits, another story). These no-op tasks (an entry id
    that does not exist; the rules are compiled before the row is read), `batches` per child, are queued
    ahead of the work under test, so each child's first task is one of them.
    """
    app = create_app(Settings(broker_url=stack.redis_url))
    results = [app.send_task("newswatch.ingest_entry", args=(0,)) for _ in range(concurrency * batches)]

    def wait() -> None:
        for result in results:
            result.get(timeout=60, propagate=False)
            result.forget()

    return wait


def _article_count(url: str) -> int:
    with session_scope(url) as session:
        return len(session.exec(select(StoredArticle.id)).all())


def _settled(url: str) -> bool:
    """Every entry done and every alert sent: nothing left for a sweep."""
    with session_scope(url) as session:
        entries = {entry.status for entry in session.exec(select(Entry))}
        alerts = {alert.status for alert in session.exec(select(Alert))}
    return entries == {"done"} and alerts <= {"sent"}


@pytest.mark.timeout(300)  # a first round, a ten-second outage and the rounds that settle it, on a loaded machine
def test_postgresql_down_mid_round_loses_nothing(httpserver: HTTPServer, tmp_path: Path) -> None:
    """A 200-item feed; PostgreSQL stopped (immediate mode) for 10 s once the round has stored some articles.
    Tasks retry the database errors; entries still pending when the round ends are handed on by the next
    rounds' sweeps. In the end: each entry one article, each hit one alert, sent once; the worker alive."""
    pages = {i: httpserver.url_for(f"/news/{i}") for i in range(200)}
    for i in pages:
        # A little time per page, so the round is still under way when PostgreSQL goes.
        _serve(httpserver, f"/news/{i}", report_page(i), "text/html; charset=utf-8", before=lambda: time.sleep(0.01))
    _serve(httpserver, "/feed.xml", _rss([(report_title(i), link) for i, link in pages.items()]), "application/rss+xml")
    expected_hits = sorted((pages[i], "airstrikes") for i in pages if i % 4 == 0)

    with own_redis(tmp_path) as broker, own_postgres() as postgres:
        url = postgres.url
        upgrade(url)
        with session_scope(url) as session:
            add_feed(session, httpserver.url_for("/feed.xml"), interval_seconds=900)

        with worker_stack(url, tmp_path, redis_url=broker, env=FAULT_SETTINGS) as stack:
            warmed_up = _warm_up(stack, concurrency=2)  # while `run --once` starts
            first_out = (tmp_path / "first-round.out").open("w")
            first = subprocess.Popen(
                _run_once_command(FIRST_ROUND_TIMEOUT),
                env=stack.env(**FAULT_SETTINGS),
                cwd=tmp_path,
                stdout=first_out,
                stderr=subprocess.STDOUT,
                text=True,
            )
            try:
                warmed_up()
                deadline = time.monotonic() + 60
                while (stored_before := _article_count(url)) < 10:
                    assert first.poll() is None and time.monotonic() < deadline, "the round stored no articles"
                    time.sleep(0.05)
                postgres.stop_immediately()
                down_at = time.monotonic()
                while time.monotonic() - down_at < 10:  # the outage: ten seconds without a database
                    assert stack.process.poll() is None, f"the worker died with PostgreSQL:\n{stack.log.read_text()}"
                    time.sleep(0.5)
                postgres.start()
                first.wait(timeout=150)
            finally:
                if first.poll() is None:
                    first.kill()
                    first.wait()
                first_out.close()
            assert stored_before < 200, "the round was over before PostgreSQL stopped"

            # Later rounds: each one's sweep hands on the entries the outage left pending.
            rounds = [_run_once(stack, tmp_path)]
            deadline = time.monotonic() + 120  # on a loaded machine, entries a killed task held wait for redelivery
            while not (_settled(url) and rounds[-1].returncode == 0):
                assert time.monotonic() < deadline, f"not settled; last round:\n{rounds[-1].stdout}{rounds[-1].stderr}"
                rounds.append(_run_once(stack, tmp_path))
            assert stack.process.poll() is None, f"the worker died:\n{stack.log.read_text()}"
            log = stack.log.read_text()
            assert re.search(r"Retry in \d+s: OperationalError", log), "no task met the outage"
            printed = Counter(re.findall(r"\[newswatch\] airstrikes \(high\): (.*)", log))

        with session_scope(url) as session:
            articles = {a.id: a for a in session.exec(select(StoredArticle))}
            hits = list(session.exec(select(Hit)))
            alerts = list(session.exec(select(Alert)))
            entries = list(session.exec(select(Entry)))

    assert sorted(a.url_key or "" for a in articles.values()) == sorted(pages.values())
    assert sorted((articles[h.article_id].url_key, h.rule) for h in hits) == expected_hits
    assert sorted((a.hit_id, a.channel, a.status) for a in alerts) == sorted((h.id, "console", "sent") for h in hits)
    assert printed == Counter({report_title(i): 1 for i in pages if i % 4 == 0})  # each alert went out once
    assert len(entries) == 200 and {e.status for e in entries} == {"done"}
    assert sorted(e.article_id for e in entries) == sorted(articles)  # each entry is its own article


@pytest.mark.timeout(300)  # 400 pages, each held up to 2 s for its twin: slow on a loaded machine, not wrong
def test_copies_of_one_story_arriving_together_on_four_processes_join_one_story(tmp_path: Path) -> None:
    """400 entries: copy A and copy B of 200 stories, side by side in the feed. The server holds each copy's
    page until the other copy is asked for (at most 2 s), so two worker processes store the two copies of a
    story at the same moment; the band locks make one wait for the other, which then joins its story."""
    pairs = range(200)
    arrived = {k: threading.Barrier(2) for k in pairs}

    def together(k: int) -> Callable[[], None]:
        def wait_for_the_other_copy() -> None:
            # Broken: the other copy was not asked for in time (or was asked for before): go on alone.
            with contextlib.suppress(threading.BrokenBarrierError):
                arrived[k].wait(timeout=2)

        return wait_for_the_other_copy

    with (
        HTTPServer(host="127.0.0.1", port=0, threaded=True) as server,
        own_redis(tmp_path) as broker,
        fresh_postgres() as url,
    ):
        links = {}
        for k in pairs:
            for copy in (0, 1):
                path = f"/{'ab'[copy]}/story-{k}"
                _serve(server, path, story_copy(k, copy), "text/html; charset=utf-8", before=together(k))
                links[k, copy] = server.url_for(path)
        feed = _rss([(story_title(k), links[k, copy]) for k in pairs for copy in (0, 1)])
        _serve(server, "/feed.xml", feed, "application/rss+xml")
        upgrade(url)
        with session_scope(url) as session:
            add_feed(session, server.url_for("/feed.xml"), interval_seconds=900)

        with worker_stack(url, tmp_path, redis_url=broker, concurrency=4, env=FAULT_SETTINGS) as stack:
            _warm_up(stack, concurrency=4)()
            done = _run_once(stack, tmp_path, timeout=180)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]

        with session_scope(url) as session:
            articles = {a.url_key: a for a in session.exec(select(StoredArticle))}
            hits = list(session.exec(select(Hit)))
            alerts = list(session.exec(select(Alert)))

    assert sorted(articles) == sorted(links.values())
    ids = {(k, copy): articles[links[k, copy]].id for k in pairs for copy in (0, 1)}
    stories = {(k, copy): articles[links[k, copy]].story_id for k in pairs for copy in (0, 1)}
    split = [k for k in pairs if stories[k, 0] != stories[k, 1]]
    assert split == [], f"{len(split)} of 200 stories split in two: stories {split}"
    assert all(stories[k, 0] in (ids[k, 0], ids[k, 1]) for k in pairs)  # the story is its first copy's id
    assert len({stories[k, 0] for k in pairs}) == 200  # no two stories share one
    airstrike_stories = [k for k in pairs if k % 5 == 0]
    by_id = {a.id: url_key for url_key, a in articles.items()}
    assert sorted((by_id[h.article_id], h.rule) for h in hits) == sorted(
        (links[k, copy], "airstrikes") for k in airstrike_stories for copy in (0, 1)
    )
    # One alert per story and rule: the second copy's hit finds its story's alert queued already.
    assert sorted((a.rule, a.story_key, a.channel, a.status) for a in alerts) == sorted(
        ("airstrikes", str(stories[k, 0]), "console", "sent") for k in airstrike_stories
    )


def test_an_alert_sent_as_postgresql_goes_away_is_recorded_when_it_is_back_and_not_sent_again(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    """The webhook receiver stops PostgreSQL while it accepts the alert: after the send, before the row says
    `sent`. The sender records `sent` once the database is back. (Trying the whole delivery again instead
    found the row claimed and skipped it: claimed, it would have gone out a second time when its lease ran
    out, five minutes later.)"""
    received: list[str | None] = []
    stopped = threading.Event()
    webhook = {"NEWSWATCH_WEBHOOK_URL": httpserver.url_for("/hook"), "NEWSWATCH_WEBHOOK_SECRET": "s3cret"}

    with own_redis(tmp_path) as broker, own_postgres() as postgres:

        def receiver(request: Request) -> Response:
            received.append(request.headers.get("X-Newswatch-Key"))
            if not stopped.is_set():
                postgres.stop_immediately()
                stopped.set()
            return Response("accepted")

        httpserver.expect_request("/hook", method="POST").respond_with_handler(receiver)
        _serve(httpserver, "/news/0", report_page(0), "text/html; charset=utf-8")
        _serve(httpserver, "/feed.xml", _rss([(report_title(0), httpserver.url_for("/news/0"))]), "application/rss+xml")
        url = postgres.url
        upgrade(url)
        with session_scope(url) as session:
            add_feed(session, httpserver.url_for("/feed.xml"), interval_seconds=900)

        settings = {**FAULT_SETTINGS, **webhook}
        with worker_stack(url, tmp_path, redis_url=broker, env=settings) as stack:
            _warm_up(stack, concurrency=2)()
            round_out = (tmp_path / "round.out").open("w")
            command = _run_once_command(60)
            run = subprocess.Popen(command, env=stack.env(**settings), cwd=tmp_path, stdout=round_out, stderr=round_out)
            try:
                assert stopped.wait(timeout=60), "the webhook was never called"
                time.sleep(5)  # the outage
                postgres.start()
                run.wait(timeout=90)
            finally:
                if run.poll() is None:
                    run.kill()
                    run.wait()
                round_out.close()
            assert stack.process.poll() is None, f"the worker died:\n{stack.log.read_text()}"
            # A send caught by the outage is recorded by its task's retries, which may outlast the round's wait
            # on a loaded machine: the worker keeps running until each row is final (or a minute has passed).
            deadline = time.monotonic() + 60
            while True:
                with session_scope(url) as session:
                    alerts = sorted((a.channel, a.status) for a in session.exec(select(Alert)))
                if all(status == "sent" for _, status in alerts) or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            printed = re.findall(r"\[newswatch\] airstrikes \(high\): (.*)", stack.log.read_text())

    assert (tmp_path / "round.out").read_text().endswith("errors: 0\n"), (tmp_path / "round.out").read_text()
    assert alerts == [("console", "sent"), ("webhook", "sent")]
    assert len(received) == 1 and printed == [report_title(0)]  # each alert went out once
