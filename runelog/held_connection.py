"""One database connection held for an active run, and the write transactions on it.

A run's writer keeps one connection for the whole run, so each write is just
BEGIN, statements, COMMIT. The wait for SQLite's write lock is made of short
attempts (`LOCK_ATTEMPT_SECONDS`), and a signal noted between two attempts is
raised there, where nothing is half-done. A transaction that cannot even be
rolled back has its connection closed, which ends it and frees its locks.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, exc as sa_exc

from . import engine as engines, exceptions, interrupts

LOCK_ATTEMPT_SECONDS = 0.1  # one try for SQLite's write lock; a longer wait is many tries, signals between
_BUSY_SQLITE = (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED
_BUSY_POSTGRES = ("55P03", "57014")  # lock_not_available, query_canceled (a lock_timeout)
# Errors that blame the rows written, not the store (an OperationalError, a subclass, blames the store).
ROW_ERRORS = (sa_exc.IntegrityError, sa_exc.DataError, sa_exc.StatementError)


class HeldConnection:
    """A connection taken from `engine` on first use and kept until `release()`."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._connection: Connection | None = None

    def connect(self) -> Connection:
        if self._connection is None:
            connection = self.engine.connect()
            if self.engine.dialect.name == "sqlite":  # short tries; begin() loops for longer waits
                engines.sqlite_driver(connection.connection).execute(
                    f"PRAGMA busy_timeout = {int(LOCK_ATTEMPT_SECONDS * 1000)}")
            self._connection = connection
        return self._connection

    def begin(self, connection: Connection, wait: float, what: str):
        """BEGIN (IMMEDIATE on SQLite), trying for the lock until `wait` seconds have passed.

        Between tries, a signal noted meanwhile is raised: nothing is half-done here.
        StoreBusy names `what` could not be written when the lock never came.
        """
        deadline = time.monotonic() + wait
        while True:
            try:
                transaction = connection.begin()
            except sa_exc.OperationalError as exc:
                if not is_busy(exc):
                    raise
                interrupts.raise_pending()
                if time.monotonic() >= deadline:
                    raise exceptions.StoreBusy(what, round(wait, 2), str(exc.orig)) from None
                continue
            if self.engine.dialect.name == "postgresql" and wait < engines.BUSY_TIMEOUT_SECONDS:
                connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{max(int(wait * 1000), 1)}ms'")
            return transaction

    def abandon(self, connection: Connection, transaction) -> None:
        """Roll back; if even that fails, close the connection (which ends the transaction and its locks)."""
        try:
            transaction.rollback()
        except BaseException:
            self.invalidate(connection)

    def invalidate(self, connection: Connection) -> None:
        with contextlib.suppress(BaseException):
            connection.invalidate()
        self.release()

    def release(self) -> None:
        """Give the connection back to the pool, with the busy timeout every other connection has."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            with contextlib.suppress(Exception):
                if self.engine.dialect.name == "sqlite" and not connection.invalidated:
                    engines.sqlite_driver(connection.connection).execute(
                        f"PRAGMA busy_timeout = {engines.BUSY_TIMEOUT_SECONDS * 1000}")
            with contextlib.suppress(Exception):
                connection.close()


def write_each(connection: Connection, rows: list[dict],
               write: Callable[[Connection, list[dict]], Any]) -> list[tuple[dict, str]]:
    """Write what the database takes, halving the batch around refused rows (each try in a savepoint);
    return the refused rows alone, each with the database's reason."""
    refused: list[tuple[dict, str]] = []
    pending = [rows]
    while pending:
        batch = pending.pop()
        savepoint = connection.begin_nested()
        try:
            write(connection, batch)
            savepoint.commit()
        except ROW_ERRORS as exc:
            savepoint.rollback()
            if isinstance(exc, sa_exc.OperationalError):
                raise
            if len(batch) == 1:
                refused.append((batch[0], str(getattr(exc, "orig", exc)).splitlines()[0]))
            else:
                middle = len(batch) // 2
                pending += [batch[middle:], batch[:middle]]  # the first half is written first
    return refused


def is_busy(exc: sa_exc.OperationalError) -> bool:
    """Whether the database said "locked, try later" (SQLite busy/locked, a PostgreSQL lock timeout)."""
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _BUSY_SQLITE
    return getattr(orig, "sqlstate", None) in _BUSY_POSTGRES


def describe(exc: Any) -> str:
    return f"{type(exc).__name__}: {exc}"
