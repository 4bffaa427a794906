"""Engines and sessions: one engine per process and URL, SQLite tuned for several writers.

SQLite is the embedded default: WAL so readers do not block the writer, a busy timeout so writers wait
instead of failing, and `BEGIN IMMEDIATE` so a transaction takes the write lock up front (a deferred read
upgraded to a write fails at once with SQLITE_BUSY). Threads of one process (the embedded round stores
articles while another thread sends their alerts) first take turns on a lock of the process's own: SQLite's
busy handler sleeps between its tries (1, 2, 5, 10... ms), so a thread waiting there for another thread of
its process would sleep on past the moment the write lock is free; on a Python lock it wakes then.
Other processes still wait in the busy handler. A transaction that only reads (`session_scope(read_only=True)`)
begins deferred (`BEGIN`): in WAL it takes no write lock, so it neither waits for a writer nor holds one up,
and reads the last commit. PostgreSQL gets `pool_pre_ping` for long-lived workers,
and a connect timeout (libpq otherwise waits as long as the network does for a host that never answers).
`check_database` opens a database once at start, so that a URL newswatch cannot use is one clear error.

Only SQLAlchemy Core is imported here: a command that reads with Core (`connection_scope`, storage.overview)
never loads the ORM, SQLModel and the models, a good part of its start-up; `session_scope` loads them.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import URL, Connection, Engine, Insert, TableClause, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from newswatch.storage.errors import ConfigError, StorageError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session as OrmSession
    from sqlmodel import Session, SQLModel

    Model = type[SQLModel] | TableClause
    """What rows are inserted into: a table model, or a Core table."""

LOGGER = logging.getLogger(__name__)

_ENGINES: dict[tuple[int, str], Engine] = {}
_READ_ONLY = "newswatch_read_only"
"""The execution option that makes a SQLite transaction begin deferred (`session_scope(read_only=True)`)."""
_READERS: dict[Engine, Engine] = {}
_SQLITE_TURNS: dict[Engine, threading.RLock] = {}
"""Per SQLite engine (so per process: a forked child builds its own engine), the lock its threads take
turns on before `BEGIN IMMEDIATE` (see the module docstring)."""
SQLITE_BUSY_TIMEOUT = 30.0  # seconds a SQLite writer waits for another before failing
POSTGRES_CONNECT_TIMEOUT = 10  # seconds, unless the URL sets `connect_timeout`
SUPPORTED_URLS = "sqlite:///PATH or postgresql://USER@HOST/DB"


def get_engine(url: str) -> Engine:
    """The engine for `url` in this process; a forked child builds its own instead of sharing sockets."""
    key = (os.getpid(), url)
    engine = _ENGINES.get(key)
    if engine is None:
        engine = _create_engine(url)
        _ENGINES[key] = engine
    return engine


def dispose_engines(*, close: bool = False) -> None:
    """Forget every engine: after a fork without closing (the connections are the parent's), or with `close`
    when a database is dropped or a test ends, so that no connection is left to be finalised by the garbage
    collector at some later, arbitrary point in another thread's work."""
    for engine in _ENGINES.values():
        engine.dispose(close=close)
    _ENGINES.clear()
    _READERS.clear()
    _SQLITE_TURNS.clear()


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
    timeout = {} if "connect_timeout" in make_url(url).query else {"connect_timeout": POSTGRES_CONNECT_TIMEOUT}
    return create_engine(url, pool_pre_ping=True, connect_args=timeout)


def check_database(url: str, *, setting: str) -> None:
    """Open the database at `url` once, so that a URL newswatch cannot use stops a command in one line.

    `setting` names where the URL came from, for the message. Another kind of database, an unknown or
    missing driver, or an in-memory SQLite database (what a command stores would be lost when it ends) is
    a `ConfigError`; a database that cannot be reached, opened or written is a `StorageError`. Messages
    never carry the password.
    """
    try:
        parsed, shown = make_url(normalise_url(url)), make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        raise ConfigError(f"database: {setting}: not a database URL (expected {SUPPORTED_URLS})") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"database: {setting}: unsupported database {parsed.get_backend_name()!r} in {shown} "
            f"(expected {SUPPORTED_URLS})"
        )
    if parsed.get_backend_name() == "sqlite":
        shown = _check_sqlite_file(parsed, setting)
    try:
        engine = get_engine(url)
    except NoSuchModuleError:
        raise ConfigError(
            f"database: {setting}: unknown driver {parsed.drivername!r} in {shown} (expected {SUPPORTED_URLS})"
        ) from None
    except ImportError as exc:
        raise ConfigError(f"database: {setting}: the driver of {parsed.drivername} is not installed ({exc})") from None
    try:
        with engine.connect():
            pass
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc.orig).__name__
        raise StorageError(f"database: {setting}: cannot open {shown}: {reason}") from None


def _check_sqlite_file(url: URL, setting: str) -> str:
    """The SQLite file's path, checked for what SQLite would only report as "unable to open database file"."""
    database = url.database or ""
    if database in ("", ":memory:") or url.query.get("mode") == "memory":
        raise ConfigError(
            f"database: {setting}: sqlite:///{database} is an in-memory database: everything stored would be lost "
            "when the command ends (use a file, e.g. sqlite:///newswatch.db)"
        )
    if database.startswith("file:"):
        return database  # a URI: SQLite reads its options itself
    path = Path(database)
    folder = path.parent
    if not folder.is_dir():
        problem = "is not a folder" if folder.exists() else "does not exist"
        raise StorageError(f"database: {setting}: {folder} {problem} (for the SQLite file {path})")
    if path.is_dir():
        raise StorageError(f"database: {setting}: {path} is a folder, not a SQLite file")
    # SQLite writes the file and, beside it, its write-ahead log: both need the folder writable.
    for needed in (folder, path) if path.exists() else (folder,):
        if not os.access(needed, os.W_OK):
            raise StorageError(f"database: {setting}: cannot write to {needed} (for the SQLite file {path})")
    return str(path)


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
    reading = connection.get_execution_options().get(_READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


def _reader(engine: Engine) -> Engine:
    """The engine whose SQLite transactions begin deferred (see `_sqlite_on_begin`): the same pool and events."""
    reader = _READERS.get(engine)
    if reader is None:
        reader = _READERS.setdefault(engine, engine.execution_options(**{_READ_ONLY: True}))
    return reader


@contextmanager
def _turn(engine: Engine) -> Iterator[None]:
    """For SQLite, this thread's turn among the process's threads to write (re-entered freely by its holder)."""
    if engine.dialect.name != "sqlite":
        yield
        return
    turn = _SQLITE_TURNS.setdefault(engine, threading.RLock())  # setdefault: one lock even when threads race
    held = turn.acquire(timeout=SQLITE_BUSY_TIMEOUT)  # past that, SQLite's busy timeout decides, as without it
    try:
        yield
    finally:
        if held:
            turn.release()


@contextmanager
def session_scope(url: str, *, read_only: bool = False) -> Iterator[Session]:
    """One short transaction with the ORM (SQLModel's session): committed on success, rolled back on any error.

    `read_only`: the transaction only reads; on SQLite it takes no write lock (see the module docstring).
    """
    from sqlmodel import Session

    engine = get_engine(url)
    if read_only and engine.dialect.name == "sqlite":
        with Session(_reader(engine), expire_on_commit=False) as session:
            try:
                yield session
            finally:
                session.rollback()  # nothing to commit: a read-only transaction
        return
    with _turn(engine), Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def connection_scope(url: str) -> Iterator[Connection]:
    """One short transaction in SQLAlchemy Core, the ORM not loaded: committed on success, rolled back on any error."""
    engine = get_engine(url)
    with _turn(engine), engine.begin() as connection:
        yield connection


def insert_ignore(session: OrmSession | Connection, model: Model, values: Mapping[str, Any]) -> int | None:
    """Insert a row unless a unique constraint says it exists; the new id, or None when it existed.

    The database decides, not a check-then-insert, so two workers inserting the same row at once end
    with one row and exactly one of them told "new". `values` are plain values (no SQL expressions).
    """
    statement = insert_ignoring(session, model, returning=("id",))
    return session.execute(statement, _known_columns(model, values)).scalar_one_or_none()


def insert_ignoring(session: OrmSession | Connection, model: Model, *, returning: tuple[str, ...]) -> Insert:
    """`INSERT ... ON CONFLICT DO NOTHING RETURNING <returning>` into the model's table, values bound at
    execution (one mapping, or a list of them for one multi-row statement); built once per dialect."""
    dialect = session.dialect if isinstance(session, Connection) else session.get_bind().dialect
    return _insert_ignoring(dialect.name, _table(model), returning)


@lru_cache(maxsize=64)
def _insert_ignoring(dialect: str, table: TableClause, returning: tuple[str, ...]) -> Insert:
    # Built per call, the statement cost more than running it (SQLAlchemy's construction is Python work).
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    return insert(table).on_conflict_do_nothing().returning(*(table.c[name] for name in returning))


def _known_columns(model: Model, values: Mapping[str, Any]) -> Mapping[str, Any]:
    """`values`, checked to name columns only: bound at execution, an unknown name would be dropped silently."""
    table = _table(model)
    unknown = values.keys() - table.c.keys()
    if unknown:
        raise ValueError(f"storage: no such column in {table.name}: {', '.join(sorted(unknown))}")
    return values


def _table(model: Model) -> TableClause:
    """A table model's table, or a Core table (storage.overview's) as it is."""
    return model if isinstance(model, TableClause) else model.__table__  # type: ignore[attr-defined]
