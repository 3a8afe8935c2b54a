"""Alembic environment for runelog.

Used three ways: by runelog itself (the engine is passed in
`config.attributes["engine"]`), by `alembic` from the repository root, and
by tests. SQLite needs batch mode for ALTERs, and foreign keys off while
batch mode rebuilds a table (otherwise dropping the old copy would cascade
deletes into child tables); they are checked and switched back on after.
"""

from __future__ import annotations

import logging.config

from alembic import context

from runelog import db
from runelog.models import Base

config = context.config
if config.config_file_name is not None:
    logging.config.fileConfig(config.config_file_name, disable_existing_loggers=False)


def _engine():
    engine = config.attributes.get("engine")
    if engine is not None:
        return engine, False
    url = config.get_main_option("sqlalchemy.url") or db.locate().database_url
    location = db.locate(database_url=url)
    if location.sqlite_path is not None:
        location.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    return db.make_engine(url), True


def _render_item(type_, obj, autogen_context):
    """Write runelog's UTCDateTime into new revisions as a plain DateTime (revisions stay frozen)."""
    if type_ == "type" and type(obj).__name__ == "UTCDateTime":
        return "sa.DateTime()"
    return False


def _set_sqlite_foreign_keys(connection, on: bool) -> None:
    # Must run outside a transaction, so straight on the driver connection.
    connection.connection.driver_connection.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def run_migrations_online() -> None:
    engine, owned = _engine()
    sqlite = engine.dialect.name == "sqlite"
    try:
        with engine.connect() as connection:
            if sqlite:
                _set_sqlite_foreign_keys(connection, False)
            try:
                context.configure(
                    connection=connection,
                    target_metadata=Base.metadata,
                    render_as_batch=sqlite,
                    # runelog's SQLite connections emit BEGIN themselves, so DDL is
                    # transactional there too: a failing upgrade rolls back whole.
                    transactional_ddl=True,
                    compare_type=True,
                    render_item=_render_item,
                )
                with context.begin_transaction():
                    context.run_migrations()
                    if sqlite:
                        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                        if broken:
                            raise RuntimeError(f"migration left broken foreign keys: {broken[:5]}")
            finally:
                if sqlite:
                    _set_sqlite_foreign_keys(connection, True)
    finally:
        if owned:
            engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=Base.metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
