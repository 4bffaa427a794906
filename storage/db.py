"""Engines and sessions: one engine per process and URL, SQLite tuned for several writers.

SQLite is the embedded default: WAL so readers do not block the writer, a busy timeout so writers wait
instead of failing, and `BEGIN IMMEDIATE` so a transaction takes the write lock up front (a deferred read
upgraded to a write fails at once with SQLITE_BUSY). PostgreSQL gets `pool_pre_ping` for long-lived workers.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, SQLModel

LOGGER = logging.getLogger(__name__)

_ENGINES: dict[tuple[int, str], Engine] = {}
SQLITE_BUSY_TIMEOUT = 30.0  # seconds a SQLite writer waits for another before failing


def get_engine(url: str) -> Engine:
    """The engine for `url` in this process; a forked child builds its own instead of sharing sockets."""
    key = (os.getpid(), url)
    engine = _ENGINES.get(key)
    if engine is None:
        engine = _create_engine(url)
        _ENGINES[key] = engine
    return engine


def dispose_engines() -> None:
    """Forget every engine (after a fork, or when tests drop their database)."""
    for engine in _ENGINES.values():
        engine.dispose(close=False)
    _ENGINES.clear()


def normalise_url(url: str) -> str:
    """Accept the URLs users write (`postgresql://`, `postgres://`) and use the psycopg 3 driver for them."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _create_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT})
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (see _sqlite_on_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT * 1000)}")
    _switch_to_wal(cursor)
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _switch_to_wal(cursor: Any) -> None:
    # WAL is a lasting property of the file, but the first switch writes the file's header after reading it:
    # a read upgraded to a write, which SQLite refuses at once with SQLITE_BUSY, without waiting out the busy
    # timeout, while another connection writes. Processes opening a fresh database together (three upgrades
    # at once) hit that. SQLite's advice for such a refusal is to retry; BEGIN IMMEDIATE waits (with the busy
    # timeout) until the writer is done, then the switch is tried again.
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
        cursor.execute("BEGIN IMMEDIATE")
        cursor.execute("ROLLBACK")


def _sqlite_on_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """One short transaction: committed on success, rolled back on any error."""
    with Session(get_engine(url), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def insert_ignore(session: Session, model: type[SQLModel], values: Mapping[str, Any]) -> int | None:
    """Insert a row unless a unique constraint says it exists; the new id, or None when it existed.

    The database decides, not a check-then-insert, so two workers inserting the same row at once end
    with one row and exactly one of them told "new".
    """
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = model.__table__  # type: ignore[attr-defined]
    statement = insert(table).values(**values).on_conflict_do_nothing().returning(table.c.id)
    return session.execute(statement).scalar_one_or_none()
