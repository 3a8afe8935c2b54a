"""Engine, SQLite connection setup, session scopes, open-and-migrate, and checkpoints.

Opening a store is cheap on the common path: one read-only look at the file
(sqlite_file.inspect) compares the stored Alembic revision with
`HEAD_REVISION`, and Alembic itself is imported only when a schema has to be
changed. Nothing writes to a file before it is known to be a runelog store.
A brand-new SQLite store gets the schema from the models (`create_all`) plus
the head stamp, built aside and linked into place under a file lock, so that
processes opening it at the same moment do not race.

After a normal exit the store is one file: closing a tracker, the end of a
run (at most once a second) and interpreter exit checkpoint the WAL into
runelog.db, so copying runelog.db alone copies everything.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import logging
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import URL, Connection, Engine, create_engine, event, inspect, make_url, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from . import exceptions, sqlite_file
from .models import Base

# The newest revision in migrations/versions/. A test checks it against Alembic's head.
HEAD_REVISION = "0005"

DEFAULT_EXPERIMENT_ID = 0
DEFAULT_EXPERIMENT_NAME = "default-experiment"

BUSY_TIMEOUT_SECONDS = 60
CHECKPOINT_WAIT_SECONDS = 1.0  # how long a closing checkpoint waits for other processes' readers
RUN_END_CHECKPOINT_EVERY = 1.0  # seconds: a loop of short runs pays for one checkpoint a second, not one a run
_READ = "runelog_read"

log = logging.getLogger("runelog")


def migrations_dir() -> Path:
    """The Alembic script folder: `migrations/` in a checkout, `runelog/migrations` in a wheel."""
    from . import migrations

    return Path(migrations.__file__).parent


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
        read_only = connection.get_execution_options().get(_READ, False)
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
        connection = raw.driver_connection
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
    # Registered when db is first imported, so before run_writer's exit flush: atexit runs
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
    with Session(engine.execution_options(**{_READ: True})) as session:
        yield session


@contextlib.contextmanager
def read_connection(engine: Engine) -> Iterator[Connection]:
    """A bare read-only Core connection, for hot reads that need no ORM objects."""
    with engine.execution_options(**{_READ: True}).connect() as connection:
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
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table)
    if update:
        return stmt.on_conflict_do_update(index_elements=list(keys),
                                          set_={col: stmt.excluded[col] for col in update})
    return stmt.on_conflict_do_nothing(index_elements=list(keys))


# ---------------------------------------------------------------- open-and-migrate


@dataclass(frozen=True)
class StoreLocation:
    """Where a store's metadata and blobs live."""

    database_url: str
    blob_dir: Path
    tmp_dir: Path
    home: Path | None  # the .runelog folder of a local store; None for a server database

    @property
    def sqlite_path(self) -> Path | None:
        if self.database_url.startswith("sqlite:///"):
            return Path(self.database_url[len("sqlite:///"):])
        return None


def locate(path: str | os.PathLike | None = None, database_url: str | None = None,
           artifact_root: str | os.PathLike | None = None) -> StoreLocation:
    """Resolve arguments and environment variables into a StoreLocation.

    `path` (or $RUNELOG_HOME, default ".") holds `.runelog/`; `database_url`
    (or $RUNELOG_DATABASE_URL) puts the metadata elsewhere; `artifact_root`
    (or $RUNELOG_ARTIFACT_ROOT) puts the blobs elsewhere.
    """
    root = Path(path if path is not None else os.environ.get("RUNELOG_HOME", ".")).resolve()
    home = root / ".runelog"
    url = database_url or os.environ.get("RUNELOG_DATABASE_URL")
    blob_root = artifact_root or os.environ.get("RUNELOG_ARTIFACT_ROOT")
    if url is None:
        url = f"sqlite:///{home / 'runelog.db'}"
    if blob_root is not None:
        blob_dir = Path(blob_root).resolve()
        tmp_dir = blob_dir / "tmp"
        blob_dir = blob_dir / "blobs"
    else:
        blob_dir, tmp_dir = home / "blobs", home / "tmp"
    local_home = home if url.startswith("sqlite:///") or blob_root is None else None
    return StoreLocation(url, blob_dir, tmp_dir, local_home)


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
    _check_runelog_schema(path, state)
    if state.revision != HEAD_REVISION:
        if state.revision not in known_revisions():
            raise exceptions.SchemaTooNew(state.revision, HEAD_REVISION)
        if read_only:
            raise exceptions.SchemaOutdated(state.revision, HEAD_REVISION)
        if not state.writable:
            raise exceptions.StoreNotWritable(
                str(path), f"its schema must be upgraded from revision {state.revision} to {HEAD_REVISION}, "
                           "which writes to it, and it is read-only")
    # A URL object: a path with '?', '#' or '%' must reach SQLite as it is, not parsed as a URL.
    url = URL.create("sqlite", database=sqlite_file.engine_uri(path, state), query={"uri": "true"})
    engine = make_engine(url, path)
    try:
        if state.revision != HEAD_REVISION:
            _upgrade_sqlite(engine, path)
        if state.writable and not state.wal and not read_only:
            _set_wal(engine, path, required=False)  # e.g. made by `alembic upgrade head`, or switched back
        return engine
    except BaseException:
        close_engine(engine, checkpoint_first=False)
        raise


def _check_runelog_schema(path: Path, state: sqlite_file.FileState) -> None:
    """Refuse a SQLite file without a runelog schema: it is never initialised."""
    if state.revision is not None:
        return
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
        connection = raw.driver_connection
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
        backup = backup_sqlite(path, revision)
        try:
            upgrade(engine, HEAD_REVISION)
        except Exception as exc:  # the migration's transaction rolled back; say where the copy is
            raise exceptions.MigrationFailed(exc, str(backup)) from exc


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision stamped in the database, or None for an empty one."""
    try:
        with engine.execution_options(**{_READ: True}).connect() as conn:
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
    return [(r.revision, r.down_revision, r.doc) for r in reversed(list(script.walk_revisions()))]


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
