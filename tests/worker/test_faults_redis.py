"""Faults on the real distributed stack, counted exactly: a Redis restarted mid-round, a worker killed
mid-round, and a round sent to no worker at all.

Each test runs its own redis-server on a unix socket in a private folder (no TCP port at all, so none can be
taken by another process between a check and a bind), without persistence: a restart loses every queued
message, as a Redis without AOF does. The workers are real `newswatch worker` processes on a SQLite file.
A loopback feed lists 200 generated article pages whose rule hits are known in advance; after the fault and
the rounds that follow it, every article is stored once, every hit once, every hit's alert is sent once (one
`sent` outbox row per hit, one console block per hit in the workers' log) and every entry row is done.

Settings are short so faults resolve in seconds: entries are handed on again 3 s after they were written,
and Redis gives a dead worker's unacknowledged tasks to another after 20 s (above the 15 s hard time limit;
kombu looks for such tasks only every 100 s or so, so here the entries' sweep is what recovers them).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, suppress
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
from pytest_httpserver import HTTPServer
from sqlmodel import func, select

from newswatch.storage.db import session_scope
from newswatch.storage.feeds import add_feed
from newswatch.storage.models import Alert, Entry, Hit, StoredArticle
from newswatch.storage.schema import upgrade
from tests.conftest import SEED_RULES, WorkerStack, _wait_for_worker

ITEMS = 200
FAULT_ENV = {
    "NEWSWATCH_ENTRY_RETRY_AFTER": "3",
    "NEWSWATCH_VISIBILITY_TIMEOUT": "20",
    "NEWSWATCH_TASK_TIME_LIMIT": "15",
    "NEWSWATCH_TASK_SOFT_TIME_LIMIT": "10",
}
RETRY_AFTER = float(FAULT_ENV["NEWSWATCH_ENTRY_RETRY_AFTER"])
CONCURRENCY = 2
"""Prefork children per worker: each compiles the rules on its first task, within the 10 s soft time limit."""
FIRST_ROUND_TIMEOUT = 30.0
"""`--timeout` of the round the fault interrupts: the results it waits for are lost (a Redis restart) or
late (a killed worker's tasks), so it waits out all of it; kept short."""
START_UP = 20.0
"""What a `newswatch` command may take beyond its `--timeout`: its own start (imports and migrations, about
5 s on an idle machine, more while a worker is busy) and its report."""
CONSOLE_BLOCK = "[newswatch] "
"""How each console alert starts (alerts.console): a worker prints one per alert it sends."""
TEST_BUDGET = 100.0
"""Seconds each fault test gives itself, under pytest-timeout's 120."""


# --- the feed: 200 short articles, each its own story, whose hits are known in advance ---------------------

_PLACES = "Harbor Valley Ridge Meadow Summit Lakeside Orchard Quarry Canyon Prairie Willow Cedar Maple Granite"
_NOUNS = (
    "council library market festival school hospital railway bakery museum stadium garden bridge theatre clinic "
    "harbour factory orchestra newspaper farm ferry tram vineyard laboratory observatory zoo pool cinema gallery"
)
_VERBS = "opened closed renovated celebrated expanded reviewed praised funded inspected visited painted"
_ADJECTIVES = "quiet busy historic modern crowded sunny famous small ancient colourful wooden narrow cheerful"
_PEOPLE = "Marta Jonas Priya Tomasz Elena Kofi Ingrid Rafael Yuki Hamid Olga Pedro Leila Anders Chloe"


def _rules_of(i: int) -> set[str]:
    """The seed rules (seeds/rules.yaml) page `i` matches: an airstrike, a border crossing, a commander."""
    rules = set()
    if i % 4 == 0:
        rules.add("airstrikes")
    if i % 10 == 5 or i % 8 == 0:
        rules.add("border-crossings")
    if i % 25 == 3:
        rules.add("commanders")
    return rules


def _text(i: int) -> str:
    """Six sentences of words drawn for `i` (no two pages share enough word triples to be one story), and
    one sentence per rule of `_rules_of(i)`; nothing else in them matches any rule."""
    rng = random.Random(i)

    def pick(words: str) -> str:
        return rng.choice(words.split())

    sentences = [
        f"The {pick(_ADJECTIVES)} {pick(_NOUNS)} in {pick(_PLACES)} {pick(_VERBS)} its {pick(_ADJECTIVES)} "
        f"{pick(_NOUNS)} while {pick(_PEOPLE)} {pick(_VERBS)} the {pick(_NOUNS)} of {pick(_PLACES)}."
        for _ in range(6)
    ]
    rules = _rules_of(i)
    if "airstrikes" in rules:
        sentences.insert(2, f"Residents reported a US airstrike near the town of {pick(_PLACES)} on day {i}.")
    if "border-crossings" in rules:
        sentences.insert(1, f"Traffic at the Tanf border crossing slowed on day {i}.")
    if "commanders" in rules:
        sentences.append(f"Qasem Soleimani was named in report {i}.")
    return " ".join(sentences)


def _page(i: int) -> str:
    return (
        f"<html><head><title>Report {i}</title></head><body><article><h1>Report {i}</h1>"
        f"<p>{_text(i)}</p></article></body></html>"
    )


def _serve_feed(server: HTTPServer) -> str:
    """The feed and its pages on the test's HTTP server; the feed's URL. Entry summaries match no rule, so an
    article stored from its feed entry instead of its page would miss its hits."""
    items = "".join(
        f"<item><title>Report {i}</title><link>{server.url_for(f'/news/{i}')}</link>"
        f"<guid>{server.url_for(f'/news/{i}')}</guid><description>Summary {i}</description></item>"
        for i in range(ITEMS)
    )
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Generated Gazette</title>'
        f"<link>{server.url_for('/')}</link><description>News</description>{items}</channel></rss>"
    )
    server.expect_request("/feed.xml").respond_with_data(feed, content_type="application/rss+xml")
    for i in range(ITEMS):
        server.expect_request(f"/news/{i}").respond_with_data(_page(i), content_type="text/html; charset=utf-8")
    return server.url_for("/feed.xml")


# --- the test's own Redis ----------------------------------------------------------------------------------


@dataclass
class OwnRedis:
    """A redis-server this test started, on a unix socket in a private folder, without persistence."""

    folder: Path
    process: subprocess.Popen[bytes] | None = None
    args: tuple[str, ...] = ()
    """More redis-server options (a server of a different make)."""

    @property
    def socket(self) -> Path:
        return self.folder / "redis.sock"

    @property
    def url(self) -> str:
        """The broker URL: kombu's scheme for a unix socket (worker.runtime gives redis-py `unix://`)."""
        return f"redis+socket://{self.socket}"

    def client(self) -> redis.Redis:
        return redis.Redis(unix_socket_path=str(self.socket), socket_timeout=2)

    def start(self, timeout: float = 10.0) -> None:
        """Start the server (on the same socket as before, if any) and wait until it answers PING."""
        with (self.folder / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(
                [
                    "redis-server",
                    *("--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700"),
                    *("--save", "", "--appendonly", "no", "--dir", str(self.folder), "--daemonize", "no"),
                    *self.args,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        with self.client() as client:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"redis-server exited with {self.process.returncode}:\n{self.log()}")
                try:
                    if client.ping():
                        return
                except (redis.ConnectionError, redis.TimeoutError):
                    if time.monotonic() > deadline:
                        raise
                time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL the server (by the pid this test started) and reap it: every queued message is gone."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        return (self.folder / "redis.log").read_text(errors="replace")


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    # A folder of its own under the temporary directory: a unix socket's path must stay under ~100 bytes.
    folder = Path(tempfile.mkdtemp(prefix="nw-redis-"))
    server = OwnRedis(folder)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


# --- workers and rounds on it ------------------------------------------------------------------------------


@dataclass
class Round:
    """A `newswatch run --once` subprocess; its output goes to files (no pipe to fill up)."""

    process: subprocess.Popen[bytes]
    out: Path
    err: Path
    timeout: float
    started: float = field(default_factory=time.monotonic)
    elapsed: float | None = None

    def wait(self) -> int:
        """Its exit code, once it has ended (it must, within its --timeout and its start-up)."""
        self.process.wait(timeout=self.timeout + START_UP + 30)
        self.elapsed = time.monotonic() - self.started
        return self.process.returncode

    def describe(self) -> str:
        return (
            f"{' '.join(map(str, self.process.args))}: exit {self.process.returncode}\n"
            f"{self.out.read_text(errors='replace')}\n{self.err.read_text(errors='replace')}"
        )


@dataclass
class FaultStack:
    """The test's Redis, its SQLite database with the feed added, and the processes the test started."""

    redis: OwnRedis
    database_url: str
    folder: Path
    feed_url: str
    workers: list[WorkerStack] = field(default_factory=list)
    rounds: list[Round] = field(default_factory=list)

    def start_worker(self, *, queues: str = "poll,extract,alerts", rules: Path = SEED_RULES) -> WorkerStack:
        """A `newswatch worker`, its log appended to `worker.log`. Unlike tests.conftest.worker_stack it
        leaves Redis as it is: a worker started after another was killed must find that one's tasks."""
        log_path = self.folder / "worker.log"
        env = {**self.env(), "NEWSWATCH_RULES": str(rules)}
        command = [sys.executable, "-m", "newswatch.worker", "worker", "-c", str(CONCURRENCY), "-Q", queues]
        command += ["--without-mingle", "--without-gossip", "-n", f"fault-{uuid.uuid4().hex[:8]}@%h"]
        with log_path.open("ab") as log:
            process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.folder)
        worker = WorkerStack(self.database_url, self.redis.url, process, log_path)
        self.workers.append(worker)
        _wait_for_worker(self.redis.url, process, log_path)
        return worker

    def start_round(self, *, timeout: float) -> Round:
        name = f"round-{len(self.rounds)}"
        out, err = self.folder / f"{name}.out", self.folder / f"{name}.err"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "newswatch.worker", "run", "--once", "--timeout", str(timeout)],
                env=self.env(),
                cwd=self.folder,
                stdout=stdout,
                stderr=stderr,
            )
        self.rounds.append(Round(process, out, err, timeout))
        return self.rounds[-1]

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            **FAULT_ENV,
            "NEWSWATCH_DATABASE_URL": self.database_url,
            "NEWSWATCH_BROKER_URL": self.redis.url,
        }

    def settle(self, *, deadline: float) -> None:
        """Rounds after the fault, once the entries it left are due again, until one ends clean (exit 0)
        with every entry done and every alert sent."""
        while True:
            time.sleep(RETRY_AFTER + 0.5)
            remaining = deadline - time.monotonic() - START_UP
            assert remaining > 5, f"not settled in time: {_stored(self.database_url).summary()}\n" + "\n".join(
                r.describe() for r in self.rounds
            )
            after = self.start_round(timeout=min(30.0, remaining))
            if after.wait() == 0 and _stored(self.database_url).settled:
                return

    def close(self) -> None:
        """Stop every process this test started, by its pid (a worker's children with it)."""
        for started in self.rounds:
            if started.process.poll() is None:
                started.process.kill()
                started.process.wait()
        for worker in self.workers:
            if worker.process.poll() is None:
                worker.process.terminate()  # a warm shutdown: the parent stops its children
                try:
                    worker.process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    _kill_worker(worker)


@pytest.fixture
def fault_stack(own_redis: OwnRedis, sqlite_url: str, httpserver: HTTPServer, tmp_path: Path) -> Iterator[FaultStack]:
    upgrade(sqlite_url)
    feed_url = _serve_feed(httpserver)
    with session_scope(sqlite_url) as session:
        add_feed(session, feed_url, interval_seconds=900)
    stack = FaultStack(own_redis, sqlite_url, tmp_path, feed_url)
    try:
        yield stack
    finally:
        stack.close()


def test_a_worker_that_dies_of_an_unrecoverable_error_exits_non_zero(tmp_path: Path) -> None:
    """A supervisor that restarts a worker on failure (systemd's `Restart=on-failure`) restarts only a worker
    that says it failed: Celery's own exit code, which its `worker_main` drops, is the command's."""
    folder = Path(tempfile.mkdtemp(prefix="nw-redis-"))
    broken = OwnRedis(folder, args=("--rename-command", "BRPOP", ""))  # answers every receive with an error
    try:
        broken.start()
        database_url = f"sqlite:///{tmp_path / 'newswatch.db'}"
        env = {**os.environ, "NEWSWATCH_DATABASE_URL": database_url, "NEWSWATCH_BROKER_URL": broken.url}
        command = [sys.executable, "-m", "newswatch.worker", "worker", "-P", "solo", "-n", "broken@%h"]
        finished = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    finally:
        broken.stop()
        shutil.rmtree(folder, ignore_errors=True)
    output = finished.stdout + finished.stderr
    assert "Unrecoverable error" in output, output[-3000:]
    assert finished.returncode != 0, output[-3000:]


KOMBU_RECONNECT_CRASH = "Unrecoverable error: AttributeError(\"'NoneType' object has no attribute 'hostname'\")"


def _crashed_on_reconnect(log: str) -> bool:
    """Whether a worker's log holds kombu's crash, as text or as a JSON line (its quotes escaped)."""
    return KOMBU_RECONNECT_CRASH in log or json.dumps(KOMBU_RECONNECT_CRASH)[1:-1] in log


def _replace_if_crashed_on_reconnect(stack: FaultStack, worker: WorkerStack) -> bool:
    """Start another worker if this one died of kombu's crash on a lost connection (none other is excused)."""
    if not _crashed_on_reconnect(worker.log.read_text(errors="replace")):
        assert worker.process.poll() is None, worker.log.read_text(errors="replace")[-5000:]
        return False
    try:
        worker.process.wait(timeout=30)
    except subprocess.TimeoutExpired:  # stuck in its shutdown: it is this test's process, stop it
        _kill_worker(worker)
    stack.start_worker()
    return True


def _kill_worker(worker: WorkerStack) -> None:
    """SIGKILL a worker this test started and its prefork children (listed while they are still its own)."""
    children = worker.children()
    os.kill(worker.process.pid, signal.SIGKILL)  # the parent first: it cannot start new children
    for pid in children:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    worker.process.wait(timeout=10)


# --- what is stored ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    articles: list[str]
    """URL keys of the stored articles."""
    hits: list[tuple[str, str]]
    """(article URL key, rule) of every hit."""
    alerts: list[tuple[int, str, str]]
    """(hit id, channel, status) of every outbox row."""
    hit_ids: list[int]
    entries: dict[str, int]
    """Entry rows by status."""

    def summary(self) -> str:
        statuses = sorted({status for _, _, status in self.alerts})
        alerts = {status: sum(1 for _, _, s in self.alerts if s == status) for status in statuses}
        return f"{len(self.articles)} articles, {len(self.hits)} hits, alerts {alerts}, entries {self.entries}"

    @property
    def settled(self) -> bool:
        return set(self.entries) == {"done"} and {status for _, _, status in self.alerts} <= {"sent"}


def _stored(database_url: str) -> Stored:
    with session_scope(database_url) as session:
        articles = sorted(a.url_key or "" for a in session.exec(select(StoredArticle)))
        hit_rows = session.exec(select(Hit, StoredArticle.url_key).join(StoredArticle)).all()
        alerts = sorted((a.hit_id, a.channel, a.status) for a in session.exec(select(Alert)))
        entries = dict(session.exec(select(Entry.status, func.count()).group_by(Entry.status)).all())
    return Stored(
        articles=articles,
        hits=sorted((key or "", hit.rule) for hit, key in hit_rows),
        alerts=alerts,
        hit_ids=sorted(hit.id for hit, _ in hit_rows if hit.id is not None),
        entries=entries,
    )


def _articles(database_url: str) -> int:
    with session_scope(database_url) as session:
        return int(session.exec(select(func.count()).select_from(StoredArticle)).one())


def _while_no_alert_is_sending(database_url: str, fault: Callable[[], None]) -> None:
    """Run `fault` while this test holds SQLite's write lock and no alert is between its send and its
    "sent": a process killed there leaves the alert to its lease (5 minutes, by design: the channel may have
    it), longer than a test. Any other moment is fair."""
    with closing(sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=30, isolation_level=None)) as lock:
        while True:
            lock.execute("BEGIN IMMEDIATE")
            if lock.execute("SELECT count(*) FROM alerts WHERE status = 'sending'").fetchone() == (0,):
                fault()
                lock.execute("COMMIT")
                return
            lock.execute("COMMIT")
            time.sleep(0.005)


def _wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        time.sleep(0.05)


def _assert_each_once(stack: FaultStack, server: HTTPServer) -> None:
    stored = _stored(stack.database_url)
    expected_hits = sorted((server.url_for(f"/news/{i}"), rule) for i in range(ITEMS) for rule in _rules_of(i))
    assert len(expected_hits) == 103
    assert stored.articles == sorted(server.url_for(f"/news/{i}") for i in range(ITEMS))
    assert stored.hits == expected_hits
    # One alert per hit, on the default channel (the console), sent: the outbox is unique per (rule, story,
    # channel), and every page is a story of its own.
    assert stored.alerts == [(hit_id, "console", "sent") for hit_id in stored.hit_ids]
    assert stored.entries == {"done": ITEMS}
    # And sent once: the workers printed one console block per alert, no more.
    assert stack.folder.joinpath("worker.log").read_text(errors="replace").count(CONSOLE_BLOCK) == len(expected_hits)


# --- the tests -------------------------------------------------------------------------------------------


def test_the_generated_pages_hit_exactly_the_expected_rules() -> None:
    """The premise of the counts below: each page, extracted, hits the seed rules `_rules_of` says, and no two
    pages are one story (an alert goes out once per rule and story)."""
    from newswatch.worker.ingest.extract import extract_page
    from newswatch.worker.ingest.stories import SAME_STORY, similarity, story_fingerprint
    from newswatch.worker.rules import load_rules

    rules = load_rules(SEED_RULES)
    fingerprints = []
    for i in range(ITEMS):
        article = extract_page(_page(i).encode(), url=f"http://127.0.0.1/news/{i}", content_type="text/html")
        assert {hit.rule for hit in rules.match(article)} == _rules_of(i), article.text
        fingerprints.append(story_fingerprint(article.text))
    assert max(similarity(a, b) for a, b in itertools.combinations(fingerprints, 2)) < SAME_STORY / 2


def test_a_redis_restart_mid_round_loses_nothing(fault_stack: FaultStack, httpserver: HTTPServer) -> None:
    deadline = time.monotonic() + TEST_BUDGET
    stack, database_url = fault_stack, fault_stack.database_url
    worker = stack.start_worker()
    first = stack.start_round(timeout=FIRST_ROUND_TIMEOUT)
    _wait_until(lambda: _articles(database_url) >= 20, 60, "20 articles stored before the fault")
    # Restart Redis while it holds entries' messages and at least one alert's: an article stored, its alert's
    # message queued, lost with the restart (only the outbox row remembers it).
    with stack.redis.client() as client:
        _wait_until(lambda: client.llen("alerts") > 0 and client.llen("extract") > 0, 30, "an alert queued")
    stack.redis.kill()
    stored_at_restart = _articles(database_url)
    stack.redis.start()

    first.wait()  # its tasks' messages and results are gone: it reports them pending or failed
    assert first.elapsed is not None and first.elapsed < first.timeout + START_UP, first.describe()
    assert stored_at_restart < ITEMS, "the fault came too late to lose anything"
    # The worker reconnects and goes on taking tasks (celery#8030 would leave it idle): the rounds after the
    # restart hand on the lost entries and alerts, and only this worker is there to do them. Except that now
    # and then (once in the ~15 restarts made while writing this) the installed kombu/celery crash the worker
    # while it closes the lost connection (KOMBU_RECONNECT_CRASH, from Channel.close -> restore_unacked ->
    # _connparams on a transport already detached; kombu#970, #582 are older forms of it). A supervisor
    # restarts such a worker (docker-compose.yml: `restart: unless-stopped`); so does this test, and only then.
    replaced = _replace_if_crashed_on_reconnect(stack, worker)
    stack.settle(deadline=deadline)
    assert stack.workers[-1].process.poll() is None
    print(f"stored at the restart: {stored_at_restart}; worker {'replaced' if replaced else 'reconnected'}")
    _assert_each_once(stack, httpserver)


def test_a_killed_worker_parent_comes_back_and_loses_nothing(fault_stack: FaultStack, httpserver: HTTPServer) -> None:
    deadline = time.monotonic() + TEST_BUDGET
    stack, database_url = fault_stack, fault_stack.database_url
    killed = stack.start_worker()
    first = stack.start_round(timeout=FIRST_ROUND_TIMEOUT)
    _wait_until(lambda: _articles(database_url) >= 20, 60, "20 articles stored before the fault")

    # SIGKILL the parent and its children while this test holds SQLite's write lock and no alert is being
    # sent: a child killed between claiming an alert and marking it sent leaves it to its lease (5 minutes,
    # by design: the channel may have it), longer than this test. Any other moment is fair: a child waiting
    # for the lock dies with its transaction uncommitted.
    _while_no_alert_is_sending(database_url, lambda: _kill_worker(killed))
    stored_at_kill = _articles(database_url)
    assert stored_at_kill < ITEMS, "the fault came too late to lose anything"
    with stack.redis.client() as client:
        # The dead worker's tasks (running and reserved) were not acknowledged: Redis keeps them for another
        # worker, after the visibility timeout.
        assert client.hlen("unacked") > 0

    stack.start_worker()
    first.wait()
    assert first.elapsed is not None and first.elapsed < first.timeout + START_UP, first.describe()
    stack.settle(deadline=deadline)
    _assert_each_once(stack, httpserver)


def test_run_once_on_workers_honours_its_timeout_and_names_what_is_pending(
    own_redis: OwnRedis, sqlite_url: str, httpserver: HTTPServer, tmp_path: Path
) -> None:
    upgrade(sqlite_url)
    url = httpserver.url_for("/feed.xml")
    with session_scope(sqlite_url) as session:
        add_feed(session, url, interval_seconds=900)
    env = {**os.environ, **FAULT_ENV, "NEWSWATCH_DATABASE_URL": sqlite_url, "NEWSWATCH_BROKER_URL": own_redis.url}

    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "newswatch.worker", "run", "--once", "--timeout", "3"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    elapsed = time.monotonic() - started

    assert result.returncode == 1, result.stderr
    assert 3 <= elapsed < 3 + START_UP  # it waited for its --timeout, then stopped waiting
    pending = [line for line in result.stderr.splitlines() if line.startswith("pending: ")]
    assert len(pending) == 1, result.stderr
    assert pending[0].startswith(f"pending: poll of {url} (task ")
    assert result.stdout.splitlines()[-1].endswith("errors: 0, still pending: 1")
    assert httpserver.log == []  # no worker: nobody polled the feed
    with own_redis.client() as client:
        assert client.llen("poll") == 1  # the poll waits in its queue for a worker


def _entries(database_url: str) -> int:
    with session_scope(database_url) as session:
        return int(session.exec(select(func.count()).select_from(Entry)).one())


def test_entries_whose_messages_never_left_the_poll_are_swept(fault_stack: FaultStack, httpserver: HTTPServer) -> None:
    """A poll that dies while it queues its entries (a killed child, a Redis gone) has committed them with the
    feed's new state first: the feed answers the same next time, and the sweep hands the entries on."""
    deadline = time.monotonic() + TEST_BUDGET
    stack, database_url = fault_stack, fault_stack.database_url
    poller = stack.start_worker(queues="poll")  # polls, but takes no entry
    first = stack.start_round(timeout=5)
    _wait_until(lambda: _entries(database_url) == ITEMS, 60, "the poll's entries committed")
    with stack.redis.client() as client:
        _wait_until(lambda: client.llen("extract") == ITEMS, 30, "every entry's message queued")
        client.delete("extract")  # as if the poll had died before sending them
    first.wait()
    _kill_worker(poller)

    stack.start_worker()
    stack.settle(deadline=deadline)
    _assert_each_once(stack, httpserver)


def test_entries_polled_while_the_rules_file_is_broken_are_stored_once_it_is_fixed(
    fault_stack: FaultStack, httpserver: HTTPServer
) -> None:
    deadline = time.monotonic() + TEST_BUDGET
    stack, database_url = fault_stack, fault_stack.database_url
    rules = stack.folder / "rules.yaml"
    rules.write_text(SEED_RULES.read_text().replace("threshold: 3", "threshold: [3", 1))  # a YAML mistake
    stack.start_worker(rules=rules)
    broken = stack.start_round(timeout=FIRST_ROUND_TIMEOUT)
    assert broken.wait() == 1
    assert f"{rules}:" in broken.err.read_text()  # each entry's error names the rules file and line
    assert _articles(database_url) == 0 and _entries(database_url) == ITEMS

    rules.write_text(SEED_RULES.read_text())  # fixed: the workers read it again without a restart
    stack.settle(deadline=deadline)
    _assert_each_once(stack, httpserver)


def test_a_prefork_child_killed_mid_round_loses_nothing(fault_stack: FaultStack, httpserver: HTTPServer) -> None:
    """SIGKILL one child of a working worker: its task is redelivered (reject_on_worker_lost), the parent starts
    a new child, and the round ends with every article, hit and alert once."""
    deadline = time.monotonic() + TEST_BUDGET
    stack, database_url = fault_stack, fault_stack.database_url
    worker = stack.start_worker()
    first = stack.start_round(timeout=FIRST_ROUND_TIMEOUT)
    _wait_until(lambda: _articles(database_url) >= 20, 60, "20 articles stored before the fault")
    # As in the parent's case: never while an alert is between its send and its "sent" (its lease, 5 minutes,
    # would outlast the test).
    victim = worker.children()[0]
    _while_no_alert_is_sending(database_url, lambda: os.kill(victim, signal.SIGKILL))
    assert _articles(database_url) < ITEMS, "the fault came too late to lose anything"
    first.wait()
    # The parent reaps the killed child and starts another when its pool is next looked after, which may be
    # after a round the other child finished alone.
    _wait_until(lambda: victim not in worker.children() and len(worker.children()) == CONCURRENCY, 30, "a new child")
    assert worker.process.poll() is None
    stack.settle(deadline=deadline)
    _assert_each_once(stack, httpserver)
