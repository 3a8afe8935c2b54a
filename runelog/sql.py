"""Ad-hoc SQL on a store, on a connection the database itself keeps read-only.

A write is refused by SQLite (`mode=ro`) or PostgreSQL (a READ ONLY
transaction), never by matching the statement's text.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from . import db, exceptions


def run_readonly(location: db.StoreLocation, statement: str,
                 params: dict[str, Any] | None = None) -> tuple[list[str], list[tuple]]:
    """Run one statement read-only; return (column names, rows)."""
    sqlite_path = location.sqlite_path
    if sqlite_path is not None:
        if not sqlite_path.is_file():
            raise exceptions.StoreUnreadable(str(sqlite_path), "there is no store here yet")
        engine = create_engine(f"sqlite:///file:{sqlite_path}?mode=ro&uri=true")
    else:
        engine = create_engine(location.database_url,
                               connect_args={"options": "-c default_transaction_read_only=on"})
    try:
        with engine.connect() as conn:
            result = conn.execute(text(statement), params or {})
            if not result.returns_rows:
                return [], []
            return list(result.keys()), [tuple(row) for row in result]
    except DBAPIError as exc:
        raise exceptions.QueryFailed(statement, str(exc.orig).strip()) from None
    finally:
        engine.dispose()
