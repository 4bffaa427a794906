"""Shared fixtures: real databases (a SQLite file and a fresh PostgreSQL database), a private Redis database,
settings pointed at them, and a real Celery worker process.

The PostgreSQL server and Redis are the machine's (`NEWSWATCH_TEST_POSTGRES_URL`,
`NEWSWATCH_TEST_REDIS_URL`); each test gets its own PostgreSQL database, created and dropped here, and the
Redis database number is flushed before and after use.
"""

from __future__ import annotations

import gc
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
from aiosmtpd.controller import Controller
from kombu.exceptions import OperationalError
from pytest_httpserver import HTTPServer
from sqlalchemy import create_engine, text

from newswatch.storage.db import dispose_engines, normalise_url, session_scope
from newswatch.worker.runtime import reset_runtime

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_dcd6abdc8038f5e6.txt"
SEED_RULES = ROOT / "seeds" / "rules.yaml"
PIPELINE_PAGES = ROOT / "tests" / "fixtures" / "pipeline"
RUSSIAN = (
    "Авиаудары у гарнизона Танф\n\nВоенные сообщили во вторник, что американские самолёты нанесли удары по "
    "колонне у гарнизона Танф на сирийско-иорданской границе."
)
"""A short Russian news text: stored as read whatever its encoding (KOI8-R, UTF-16)."""
POSTGRES_URL = os.environ.get("NEWSWATCH_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("NEWSWATCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
LOOPBACK_HOSTS = "127.0.0.1,localhost,::1"
"""The tests serve feeds, pages and webhooks on loopback, which newswatch refuses unless listed."""


if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    # Started in the background by a shell without job control, pytest ignores Ctrl-C, and so would every
    # command a test starts (an ignored signal stays ignored across exec): the tests that press Ctrl-C need
    # it to reach those commands as it does from a terminal.
    signal.signal(signal.SIGINT, signal.default_int_handler)

_ENV_KEYS = [key for key in os.environ if key.startswith("NEWSWATCH_") and not key.startswith("NEWSWATCH_TEST_")]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Each test starts from defaults: no user NEWSWATCH_* settings, the seed rules, a private cwd, and the
    loopback hosts allowed for outbound HTTP."""
    for key in _ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("NEWSWATCH_ALLOW_HOSTS", LOOPBACK_HOSTS)
    monkeypatch.setenv("NEWSWATCH_RULES", str(SEED_RULES))
    monkeypatch.setenv("NEWSWATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'default.db'}")
    monkeypatch.setenv("NEWSWATCH_RETRY_BASE", "0.05")  # retries of failing feeds and pages, quickly
    reset_runtime()
    yield
    reset_runtime()
    dispose_engines(close=True)
    # What the test left unreachable (a stopped SMTP server's event loop and its pending tasks, closed
    # sockets, pools, finished threads' objects) is collected now, in the main thread with the test's servers
    # and threads stopped, not by a collection that some later test's thread happens to trigger mid-work; what
    # is still alive is then frozen (module state, caches, session fixtures), so that later collections walk
    # only what later tests make: over a long run the heap otherwise grows to where each full collection is
    # a long pause inside whatever thread triggers it.
    gc.collect()
    gc.freeze()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file database."""
    return f"sqlite:///{tmp_path / 'newswatch.db'}"


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """A new PostgreSQL database on the machine's server, dropped on exit."""
    name = f"newswatch_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    base, _, _ = POSTGRES_URL.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        dispose_engines(close=True)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database on the machine's server, dropped afterwards."""
    with fresh_postgres() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each storage test runs on both backends; the settings point at the database under test."""
    url: str = request.getfixturevalue(f"{request.param.replace('postgresql', 'postgres')}_url")
    monkeypatch.setenv("NEWSWATCH_DATABASE_URL", url)
    reset_runtime()
    return url


@pytest.fixture
def redis_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The tests' own Redis database number, flushed before and after; set as the broker."""
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    monkeypatch.setenv("NEWSWATCH_BROKER_URL", REDIS_URL)
    reset_runtime()
    yield REDIS_URL
    client.flushdb()
    client.close()


@dataclass
class WorkerStack:
    """A real `newswatch worker` process (prefork, two children) on its own database and the test Redis."""

    database_url: str
    redis_url: str
    process: subprocess.Popen[bytes]
    log: Path

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a `newswatch` command run against this stack."""
        return {
            **os.environ,
            "NEWSWATCH_DATABASE_URL": self.database_url,
            "NEWSWATCH_BROKER_URL": self.redis_url,
            **extra,
        }

    def children(self) -> list[int]:
        """The worker's prefork children (processes this test session started, through the worker)."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]


@contextmanager
def worker_stack(
    database_url: str,
    log_dir: Path,
    *,
    redis_url: str = REDIS_URL,
    concurrency: int = 2,
    env: dict[str, str] | None = None,
) -> Iterator[WorkerStack]:
    """Start a worker on `database_url` and `redis_url` (flushed first); stop it (by its pid) on exit.

    `env` adds settings for the worker (e.g. a short NEWSWATCH_VISIBILITY_TIMEOUT for fault tests).
    """
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    log_path = log_dir / "worker.log"
    log = log_path.open("ab")
    worker_env = {
        **os.environ,
        "NEWSWATCH_DATABASE_URL": database_url,
        "NEWSWATCH_BROKER_URL": redis_url,
        "NEWSWATCH_RULES": str(SEED_RULES),
        "NEWSWATCH_ALLOW_HOSTS": LOOPBACK_HOSTS,
        "NEWSWATCH_LOG_FORMAT": "text",  # tests read the worker's log lines; test_logs.py covers JSON
        **(env or {}),
    }
    command = [
        sys.executable,
        "-m",
        "newswatch.worker",
        "worker",
        "-c",
        str(concurrency),
        "--without-mingle",
        "--without-gossip",
        "-n",
        f"test-{uuid.uuid4().hex[:8]}@%h",
    ]
    process = subprocess.Popen(command, env=worker_env, stdout=log, stderr=subprocess.STDOUT, cwd=log_dir)
    try:
        _wait_for_worker(redis_url, process, log_path)
        yield WorkerStack(database_url, redis_url, process, log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        with suppress(redis.RedisError):  # a fault test may have stopped its own Redis
            client.flushdb()
        client.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerStack]:
    """One worker per backend for a whole test module (starting one costs seconds); see `stack`."""
    folder = tmp_path_factory.mktemp(f"stack-{request.param}")
    with ExitStack() as stack:
        url = (
            f"sqlite:///{folder / 'newswatch.db'}"
            if request.param == "sqlite"
            else stack.enter_context(fresh_postgres())
        )
        from newswatch.storage.schema import upgrade

        upgrade(url)
        yield stack.enter_context(worker_stack(url, folder))


@pytest.fixture
def stack(shared_stack: WorkerStack, monkeypatch: pytest.MonkeyPatch) -> WorkerStack:
    """The module's worker stack with every table emptied: each test starts from an empty database."""
    from newswatch.storage.models import metadata

    with session_scope(shared_stack.database_url) as session:
        for table in reversed(metadata.sorted_tables):
            session.execute(table.delete())
    monkeypatch.setenv("NEWSWATCH_DATABASE_URL", shared_stack.database_url)
    monkeypatch.setenv("NEWSWATCH_BROKER_URL", shared_stack.redis_url)
    reset_runtime()
    return shared_stack


def _wait_for_worker(redis_url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 30.0) -> None:
    from newswatch.worker.celery_app import create_app
    from newswatch.worker.config import Settings

    app = create_app(Settings(broker_url=redis_url))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"worker exited with {process.returncode}:\n{log.read_text()}")
        try:
            if app.control.ping(timeout=0.5):
                return
        except (redis.ConnectionError, OperationalError):  # a connection broken by a Redis restart: a new app
            app = create_app(Settings(broker_url=redis_url))
            time.sleep(0.1)
    raise RuntimeError(f"worker did not answer a ping within {timeout}s:\n{log.read_text()}")


class _LoopbackSMTP(Controller):
    """aiosmtpd on the port the OS gave it when binding (port 0), read back from its socket."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@dataclass
class Mailbox:
    """What the SMTP server received; recipients in `refuse` are rejected with 550."""

    messages: list[bytes] = field(default_factory=list)
    envelopes: list[Any] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content)
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[tuple[str, Mailbox]]:
    """A real SMTP server on 127.0.0.1; yields its smtp:// URL and its mailbox."""
    mailbox = Mailbox()
    controller = _LoopbackSMTP(mailbox, hostname="127.0.0.1", port=0)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{controller.port}", mailbox
    finally:
        controller.stop()


@contextmanager
def loopback_server(**options: Any) -> Iterator[HTTPServer]:
    """A pytest-httpserver server of its own on 127.0.0.1 (the `httpserver` fixture is one per session);
    `options` as HTTPServer takes them (`threaded`, `ssl_context`)."""
    server = HTTPServer(host="127.0.0.1", **options)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        server.stop()


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port bound by this test and not listening: connections to it are refused."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield int(holder.getsockname()[1])


def left_in_session(session: int) -> list[int]:
    """The processes of that session still there, once they had 30 seconds to end."""
    deadline = time.monotonic() + 30
    while True:
        left = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[3]) == session:  # the fields after the name: state, ppid, pgrp, sid
                left.append(int(pid))
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)
