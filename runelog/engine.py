"""The SQLAlchemy engine of a store: SQLite connection setup, session scopes, upserts, checkpoints.

SQLite connections get foreign keys, a busy timeout and write transactions
that BEGIN IMMEDIATE, so parallel writers queue instead of failing halfway.

After a normal exit the store is one file: closing a tracker, the end of a
run (at most once a second) and interpreter exit checkpoint the WAL into
runelog.db, so copying runelog.db alone copies everything.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import logging
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import URL, Connection, Engine, PoolProxiedConnection, create_engine, event, make_url
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite

from . import sqlite_file

BUSY_TIMEOUT_SECONDS = 60
CHECKPOINT_WAIT_SECONDS = 1.0  # how long a closing checkpoint waits for other processes' readers
RUN_END_CHECKPOINT_EVERY = 1.0  # seconds: a loop of short runs pays for one checkpoint a second, not one a run
READ_ONLY = "runelog_read"  # execution option: BEGIN without taking the write lock

log = logging.getLogger("runelog")


def make_engine(url: str | URL, store_path: Path | None = None) -> Engine:
    """An engine with the connection setup runelog relies on.

    SQLite: every connection gets foreign keys, a busy timeout, and write
    transactions that BEGIN IMMEDIATE, so parallel writers queue for the lock
    instead of failing with "database is locked" halfway through a transaction.
    No connection setting writes to the file: WAL mode (persistent in the
    file) is set once, when runelog creates the store or has checked it.
    SQLite errors that say the store is damaged, read-only or full are raised
    as RunelogExceptions naming `store_path` (default: the URL's file).
    """
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)

    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_SECONDS})
    path = store_path or Path(engine.url.database or "")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Take transaction control away from the sqlite3 module: we emit BEGIN ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    @event.listens_for(engine, "handle_error")
    def _on_error(context):
        mapped = sqlite_file.translate(context.original_exception, path)
        if mapped is not None:
            raise mapped from context.sqlalchemy_exception

    _sqlite_engines.add(engine)
    return engine


# ---------------------------------------------------------------- checkpoints: the store is one file


_sqlite_engines: weakref.WeakSet[Engine] = weakref.WeakSet()
_last_checkpoint: weakref.WeakKeyDictionary[Engine, float] = weakref.WeakKeyDictionary()
_checkpoint_lock = threading.Lock()


def sqlite_driver(connection: PoolProxiedConnection) -> sqlite3.Connection:
    """The sqlite3 connection under a pooled connection of a SQLite engine.

    SQLAlchemy types it as Any | None: None only after the pooled connection was closed.
    """
    driver = connection.driver_connection
    assert driver is not None  # the caller holds the pooled connection open
    return driver


def checkpoint(engine: Engine, mode: str = "TRUNCATE", wait: float = CHECKPOINT_WAIT_SECONDS) -> bool:
    """Copy the WAL into the database file; False if it could not run or readers held part of it back.

    TRUNCATE also empties runelog.db-wal. Readers in other processes can hold
    a checkpoint back; it waits `wait` seconds for them, then copies what it can
    (as PASSIVE would). Never raises: the WAL keeps the data safe either way.
    """
    if engine.dialect.name != "sqlite":
        return True
    try:
        raw = engine.raw_connection()
    except Exception as exc:  # a store that cannot be opened has nothing to checkpoint
        log.debug("no checkpoint: %s", exc)
        return False
    try:
        connection = sqlite_driver(raw)
        connection.execute(f"PRAGMA busy_timeout={int(wait * 1000)}")
        try:
            busy, _, _ = connection.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
        finally:
            connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
        _last_checkpoint[engine] = time.monotonic()
        return busy == 0
    except sqlite3.Error as exc:  # e.g. a read-only store: nothing of ours is waiting in a WAL
        log.debug("no checkpoint: %s", exc)
        return False
    finally:
        raw.close()


def checkpoint_after_run(engine: Engine) -> None:
    """A cheap PASSIVE checkpoint when a run ends, at most once a second per engine."""
    if engine.dialect.name != "sqlite":
        return
    with _checkpoint_lock:
        last = _last_checkpoint.get(engine)
        if last is not None and time.monotonic() - last < RUN_END_CHECKPOINT_EVERY:
            return
        _last_checkpoint[engine] = time.monotonic()
    checkpoint(engine, "PASSIVE", wait=0)


def close_engine(engine: Engine, checkpoint_first: bool = True, forget: bool = False) -> None:
    """Checkpoint (TRUNCATE) and close every pooled connection of `engine`.

    `forget`: no checkpoint for it at exit either (its file is gone, e.g. a new store's temp file).
    """
    if checkpoint_first:
        checkpoint(engine)
    engine.dispose()
    if forget:
        _sqlite_engines.discard(engine)


@atexit.register
def _close_all_engines() -> None:
    # Registered when engine is first imported (db imports it), so before run_writer's exit flush: atexit runs
    # handlers last-in first-out, and this one must come after the last points are written.
    for engine in list(_sqlite_engines):
        with contextlib.suppress(Exception):
            close_engine(engine)


@contextlib.contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """One write transaction: commits on success, rolls back on any exception."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


@contextlib.contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """A read transaction that never takes SQLite's write lock."""
    # Closing (not rolling back) ends the transaction and keeps loaded objects usable.
    with Session(engine.execution_options(**{READ_ONLY: True})) as session:
        yield session


@contextlib.contextmanager
def read_connection(engine: Engine) -> Iterator[Connection]:
    """A bare read-only Core connection, for hot reads that need no ORM objects."""
    with engine.execution_options(**{READ_ONLY: True}).connect() as connection:
        yield connection


def upsert(executor: Session | Connection, table, rows: list[dict], keys: list[str], update: list[str]) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE, for SQLite and PostgreSQL alike."""
    if not rows:
        return
    bind = executor.get_bind() if isinstance(executor, Session) else executor
    executor.execute(_upsert_statement(bind.dialect.name, table, tuple(keys), tuple(update)), rows)


@functools.lru_cache(maxsize=64)
def _upsert_statement(dialect: str, table, keys: tuple[str, ...], update: tuple[str, ...]):
    # Built once per shape: constructing `excluded` costs more than running the statement.
    stmt: postgresql.Insert | sqlite.Insert
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert
        stmt = postgresql_insert(table)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert
        stmt = sqlite_insert(table)
    if update:
        return stmt.on_conflict_do_update(index_elements=list(keys),
                                          set_={col: stmt.excluded[col] for col in update})
    return stmt.on_conflict_do_nothing(index_elements=list(keys))
