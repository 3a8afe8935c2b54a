"""Open a store: create a new one, upgrade an older local one, refuse what cannot be opened.

Opening a store is cheap on the common path: one read-only look at the file
(sqlite_file.inspect) compares the stored Alembic revision with
`HEAD_REVISION`, and Alembic itself is imported only when a schema has to be
changed. Nothing writes to a file before it is known to be a runelog store.
A brand-new SQLite store gets the schema from the models (`create_all`) plus
the head stamp, built aside and linked into place under a file lock, so that
processes opening it at the same moment do not race.

The engine and sessions live in `engine`, the URL and folders in `location`;
their names are re-exported here, where the services have always found them.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import URL, Engine, inspect, text
from sqlalchemy.exc import DatabaseError

from . import exceptions, sqlite_file
from .engine import (BUSY_TIMEOUT_SECONDS, CHECKPOINT_WAIT_SECONDS, READ_ONLY,  # noqa: F401  (re-exported)
                     RUN_END_CHECKPOINT_EVERY, checkpoint, checkpoint_after_run, close_engine, make_engine,
                     read_connection, read_session, sqlite_driver, upsert, write_session)
from .location import StoreLocation, check_database_url, locate  # noqa: F401  (re-exported)
from .models import Base

# The newest revision in migrations/versions/. A test checks it against Alembic's head.
HEAD_REVISION = "0005"

DEFAULT_EXPERIMENT_ID = 0
DEFAULT_EXPERIMENT_NAME = "default-experiment"

log = logging.getLogger("runelog")


def migrations_dir() -> Path:
    """The Alembic script folder: `migrations/` in a checkout, `runelog/migrations` in a wheel."""
    from . import migrations

    return Path(migrations.__file__).parent


# ---------------------------------------------------------------- open-and-migrate


def open_database(location: StoreLocation, read_only: bool = False) -> Engine:
    """Return an engine for a database at HEAD_REVISION, creating or upgrading a local store.

    `read_only` never creates or migrates anything: a missing store raises
    StoreNotFound and an outdated one SchemaOutdated. A local file is checked
    read-only before anything writes to it (see sqlite_file).
    """
    if location.sqlite_path is not None:
        return _open_sqlite(location.sqlite_path, read_only)
    engine = make_engine(location.database_url)
    try:
        revision = current_revision(engine)
        if revision != HEAD_REVISION:
            _refuse_server_database(engine, revision)
        return engine
    except BaseException:
        engine.dispose()
        raise


def _open_sqlite(path: Path, read_only: bool) -> Engine:
    state = sqlite_file.inspect(path)
    if state is None:
        if read_only:
            raise exceptions.StoreNotFound(str(path))
        sqlite_file.create(path, functools.partial(_build_store, store_path=path))
        state = sqlite_file.inspect(path)  # ours, or the one another process made first
        if state is None:
            raise exceptions.StoreUnreadable(str(path), "it was deleted while being opened")
    revision = _check_runelog_schema(path, state)
    if revision != HEAD_REVISION:
        if revision not in known_revisions():
            raise exceptions.SchemaTooNew(revision, HEAD_REVISION)
        if read_only:
            raise exceptions.SchemaOutdated(revision, HEAD_REVISION)
        if not state.writable:
            raise exceptions.StoreNotWritable(
                str(path), f"its schema must be upgraded from revision {revision} to {HEAD_REVISION}, "
                           "which writes to it, and it is read-only")
    # A URL object: a path with '?', '#' or '%' must reach SQLite as it is, not parsed as a URL.
    url = URL.create("sqlite", database=sqlite_file.engine_uri(path, state, read_only), query={"uri": "true"})
    engine = make_engine(url, path)
    try:
        if revision != HEAD_REVISION:
            _upgrade_sqlite(engine, path)
        if state.writable and not state.wal and not read_only:
            _set_wal(engine, path, required=False)  # e.g. made by `alembic upgrade head`, or switched back
        return engine
    except BaseException:
        close_engine(engine, checkpoint_first=False)
        raise


def _check_runelog_schema(path: Path, state: sqlite_file.FileState) -> str:
    """Refuse a SQLite file without a runelog schema (it is never initialised); else its revision."""
    if state.revision is not None:
        return state.revision
    if state.tables:
        shown = ", ".join(state.tables[:5]) + (", ..." if len(state.tables) > 5 else "")
        raise exceptions.StoreUnreadable(
            str(path), f"it is a SQLite database of another application: it holds tables ({shown}) "
                       "but no runelog schema", "Point runelog at another folder.")
    raise exceptions.StoreUnreadable(
        str(path), "it is a SQLite database with no tables, so no runelog schema",
        "If it was created by mistake, delete it and runelog will make a new store; otherwise "
        + sqlite_file.lower_first(sqlite_file.restore_advice(path)))


def _build_store(temp: Path, store_path: Path) -> None:
    """A whole new store in `temp`: WAL mode, the schema at head, every connection closed."""
    engine = make_engine(URL.create("sqlite", database=str(temp)), store_path)
    try:
        _set_wal(engine, store_path)
        _create_schema(engine)
        if not checkpoint(engine):
            raise exceptions.StorageError("create the store", str(store_path))
    finally:
        close_engine(engine, checkpoint_first=False, forget=True)


def _set_wal(engine: Engine, path: Path, required: bool = True) -> None:
    """Switch to WAL (persistent in the file). Not `required` on an existing store: switching needs
    the file to itself, and a store in rollback mode still works if another process has it open."""
    raw = engine.raw_connection()
    try:
        connection = sqlite_driver(raw)
        if not required:
            connection.execute("PRAGMA busy_timeout=1000")
        try:
            with sqlite_file.guard(path, "switch the store to WAL mode"):
                connection.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as exc:  # busy or locked: left for a later open
            if required:
                raise
            log.debug("store left in its journal mode for now: %s", exc)
        finally:
            connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
    finally:
        raw.close()


def _upgrade_sqlite(engine: Engine, path: Path) -> None:
    """Back the store up into backups/ and migrate it to head, under the store's lock."""
    with sqlite_file.guard(path, "upgrade the store"), sqlite_file.file_lock(sqlite_file.lock_path(path)):
        revision = current_revision(engine)  # another process may have done it while we waited
        if revision == HEAD_REVISION:
            return
        if revision is None:  # another process emptied it while we waited for the lock
            raise exceptions.StoreUnreadable(str(path), "its runelog schema vanished while it was being opened")
        backup = backup_sqlite(path, revision)
        try:
            upgrade(engine, HEAD_REVISION)
        except Exception as exc:  # the migration's transaction rolled back; say where the copy is
            raise exceptions.MigrationFailed(exc, str(backup)) from exc


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision stamped in the database, or None for an empty one."""
    try:
        with engine.execution_options(**{READ_ONLY: True}).connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DatabaseError as exc:
        where = engine.url.render_as_string(hide_password=True)
        raise exceptions.StoreUnreadable(
            where, str(exc.orig).strip(), "Check the database URL, that the server is running and that "
                                          "you may connect to it.") from None


def _refuse_server_database(engine: Engine, revision: str | None) -> None:
    if revision is not None and revision not in known_revisions():
        raise exceptions.SchemaTooNew(revision, HEAD_REVISION)
    raise exceptions.SchemaOutdated(revision, HEAD_REVISION)


def _create_schema(engine: Engine) -> None:
    """A new store: the schema from the models, stamped at head, in one transaction."""
    with engine.begin() as conn:
        # No rows: as in 0.2.0, experiment 0 ("default-experiment") is created by the first run
        # that needs it (runs.ensure_default_experiment); revision 0004 does the same for migrated stores.
        Base.metadata.create_all(conn)
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
                          "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"))
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": HEAD_REVISION})


def backup_sqlite(sqlite_path: Path, revision: str) -> Path:
    """Copy the database (consistently, WAL included) into backups/ before an upgrade."""
    backups = sqlite_path.parent / "backups"
    backups.mkdir(exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    target = backups / f"{sqlite_path.stem}-{revision}-{stamp}.db"
    copy_sqlite(sqlite_path, target)
    return target


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database, by SQLite's online backup API.

    One step (`pages=-1`): the copy is one read transaction's snapshot, taken
    while writers in other processes go on (WAL readers do not block them).
    The target is a whole database file with no -wal beside it.
    """
    src = sqlite3.connect(sqlite_file.reader_uri(source), uri=True, timeout=BUSY_TIMEOUT_SECONDS)
    try:
        dest = sqlite3.connect(target)
        try:
            src.backup(dest)
            dest.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            dest.close()
    finally:
        src.close()



# ---------------------------------------------------------------- Alembic, imported lazily


def alembic_config(engine: Engine | None = None, url: str | None = None):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return {rev.revision for rev in script.walk_revisions()}


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(engine), revision)


def history() -> list[tuple[str, str | None, str]]:
    """(revision, down_revision, message) from oldest to newest."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return [(r.revision, _one_text(r.down_revision), r.doc) for r in reversed(list(script.walk_revisions()))]


def _one_text(down_revision: str | Sequence[str] | None) -> str | None:
    # A merge revision has several down revisions (runelog has none so far).
    if down_revision is None or isinstance(down_revision, str):
        return down_revision
    return ", ".join(down_revision)


# ---------------------------------------------------------------- explicit schema commands


def schema_status(location: StoreLocation) -> tuple[str | None, str]:
    """(revision in the database, revision this runelog needs), changing nothing."""
    sqlite_path = location.sqlite_path
    if sqlite_path is not None:
        state = sqlite_file.inspect(sqlite_path)
        if state is None:
            return None, HEAD_REVISION
        _check_runelog_schema(sqlite_path, state)
        return state.revision, HEAD_REVISION
    engine = make_engine(location.database_url)
    try:
        return current_revision(engine), HEAD_REVISION
    finally:
        engine.dispose()


def upgrade_store(location: StoreLocation) -> tuple[str | None, str]:
    """Bring any store (SQLite or a server database) to head; returns (before, after).

    The explicit path, used by `runelog db upgrade`: a server database is only
    ever migrated here. An empty server database gets every migration run.
    """
    sqlite_path = location.sqlite_path
    if sqlite_path is not None:
        before, _ = schema_status(location)
        close_engine(open_database(location))
        return before, HEAD_REVISION
    engine = make_engine(location.database_url)
    try:
        before = current_revision(engine)
        if before is not None and before not in known_revisions():
            raise exceptions.SchemaTooNew(before, HEAD_REVISION)
        if before != HEAD_REVISION:
            upgrade(engine, HEAD_REVISION)
        return before, HEAD_REVISION
    finally:
        engine.dispose()
