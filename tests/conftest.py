"""Shared fixtures: real databases (a SQLite file and a fresh PostgreSQL database), a private Redis database,
settings pointed at them, and a real Celery worker process.

The PostgreSQL server and Redis are the machine's (`NEWSWATCH_TEST_POSTGRES_URL`,
`NEWSWATCH_TEST_REDIS_URL`); each test gets its own PostgreSQL database, created and dropped here, and the
Redis database number is flushed before and after use.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, text

from storage.db import dispose_engines, normalise_url
from worker.runtime import reset_runtime

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_dcd6abdc8038f5e6.txt"
SEED_RULES = ROOT / "seeds" / "rules.yaml"
POSTGRES_URL = os.environ.get("NEWSWATCH_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("NEWSWATCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


_ENV_KEYS = [key for key in os.environ if key.startswith("NEWSWATCH_") and not key.startswith("NEWSWATCH_TEST_")]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Each test starts from defaults: no user NEWSWATCH_* settings, the seed rules, a private cwd."""
    for key in _ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("NEWSWATCH_RULES", str(SEED_RULES))
    monkeypatch.setenv("NEWSWATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'default.db'}")
    reset_runtime()
    yield
    reset_runtime()
    dispose_engines()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file database."""
    return f"sqlite:///{tmp_path / 'newswatch.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database on the machine's server, dropped afterwards."""
    name = f"newswatch_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    base, _, _ = POSTGRES_URL.rpartition("/")
    yield f"{base}/{name}"
    dispose_engines()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


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


@pytest.fixture
def celery_worker_process(database_url: str, redis_url: str, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A real `newswatch worker` process (prefork, two children) on the test broker and database."""
    log = (tmp_path / "worker.log").open("wb")
    env = {**os.environ, "NEWSWATCH_DATABASE_URL": database_url, "NEWSWATCH_BROKER_URL": redis_url}
    process = subprocess.Popen(
        [sys.executable, "-m", "worker", "worker", "-c", "2", "--without-mingle", "--without-gossip",
         "-n", f"test-{uuid.uuid4().hex[:8]}@%h"],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path,
    )
    try:
        _wait_for_worker(redis_url, process, tmp_path / "worker.log")
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _wait_for_worker(redis_url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 30.0) -> None:
    from worker.celery_app import app

    app.conf.broker_url = redis_url
    app.conf.result_backend = redis_url
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"worker exited with {process.returncode}:\n{log.read_text()}")
        if app.control.ping(timeout=0.5):
            return
    raise RuntimeError(f"worker did not answer a ping within {timeout}s:\n{log.read_text()}")
