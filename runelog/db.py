"""Engine, SQLite connection setup, session scopes, and open-and-migrate.

Opening a store is cheap on the common path: one query compares the stored
Alembic revision with `HEAD_REVISION`, and Alembic itself is imported only
when a schema has to be changed. A brand-new SQLite store gets the schema
from the models (`create_all`) plus the head stamp, under a file lock so
that processes opening it at the same moment do not race.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from . import exceptions
from .models import Base

# The newest revision in migrations/versions/. A test checks it against Alembic's head.
HEAD_REVISION = "0004"

DEFAULT_EXPERIMENT_ID = 0
DEFAULT_EXPERIMENT_NAME = "default-experiment"

BUSY_TIMEOUT_SECONDS = 60
_READ = "runelog_read"


def migrations_dir() -> Path:
    """The Alembic script folder: `migrations/` in a checkout, `runelog/migrations` in a wheel."""
    from . import migrations

    return Path(migrations.__file__).parent


def make_engine(url: str) -> Engine:
    """An engine with the connection setup runelog relies on.

    SQLite: every connection gets WAL (persistent; a no-op once set), foreign
    keys, a busy timeout, and write transactions that BEGIN IMMEDIATE,
    so parallel writers queue for the lock instead of failing with
    "database is locked" halfway through a transaction.
    """
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)

    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_SECONDS})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Take transaction control away from the sqlite3 module: we emit BEGIN ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        read_only = connection.get_execution_options().get(_READ, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


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
    StoreNotFound and an outdated one SchemaOutdated.
    """
    sqlite_path = location.sqlite_path
    if sqlite_path is not None:
        if read_only and not sqlite_path.is_file():
            raise exceptions.StoreNotFound(str(sqlite_path))
        sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        if sqlite_path.exists():
            _check_sqlite_file(sqlite_path)
    engine = make_engine(location.database_url)
    try:
        revision = current_revision(engine)
        if revision == HEAD_REVISION:
            return engine
        if sqlite_path is None or read_only:
            _refuse_server_database(engine, revision)
        with _file_lock(sqlite_path.with_name(sqlite_path.name + ".lock")):
            _bring_sqlite_to_head(engine, sqlite_path)
        return engine
    except BaseException:
        engine.dispose()
        raise


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision stamped in the database, or None for an empty one."""
    try:
        with engine.execution_options(**{_READ: True}).connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DatabaseError as exc:
        raise exceptions.StoreUnreadable(str(engine.url.database or engine.url), str(exc.orig)) from None


def _check_sqlite_file(path: Path) -> None:
    """Refuse a file that is not a SQLite database before anything writes to it."""
    size = path.stat().st_size
    if size == 0:
        return
    with open(path, "rb") as fh:
        header = fh.read(16)
    if header != b"SQLite format 3\x00":
        raise exceptions.StoreUnreadable(str(path), "it is not a SQLite database")
    if size < 512:
        raise exceptions.StoreUnreadable(str(path), "the file is truncated")


def _refuse_server_database(engine: Engine, revision: str | None) -> None:
    if revision is not None and revision not in known_revisions():
        raise exceptions.SchemaTooNew(revision, HEAD_REVISION)
    raise exceptions.SchemaOutdated(revision, HEAD_REVISION)


def _bring_sqlite_to_head(engine: Engine, sqlite_path: Path) -> None:
    # Another process may have done the work while we waited for the lock.
    revision = current_revision(engine)
    if revision == HEAD_REVISION:
        return
    if revision is None:
        with engine.execution_options(**{_READ: True}).connect() as conn:
            tables = inspect(conn).get_table_names()
        if tables:
            raise exceptions.StoreUnreadable(
                str(sqlite_path), f"it holds tables ({', '.join(tables[:5])}) but no runelog schema"
            )
        _create_schema(engine)
        return
    if revision not in known_revisions():
        raise exceptions.SchemaTooNew(revision, HEAD_REVISION)
    backup = backup_sqlite(sqlite_path, revision)
    try:
        upgrade(engine, HEAD_REVISION)
    except Exception as exc:  # the migration's transaction rolled back; say where the copy is
        raise exceptions.MigrationFailed(exc, str(backup)) from exc


def _create_schema(engine: Engine) -> None:
    """A new store: the schema from the models, stamped at head, in one transaction."""
    with engine.begin() as conn:
        Base.metadata.create_all(conn)
        _create_defaults(conn)
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
                          "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"))
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": HEAD_REVISION})


def _create_defaults(conn) -> None:
    """Rows a new store starts with: none. As in 0.2.0, experiment 0 ("default-experiment")
    is created by the first run that needs it (runs.ensure_default_experiment), so a new
    store lists no experiments. Migration 0004 does the same for stores made by migrations."""


def backup_sqlite(sqlite_path: Path, revision: str) -> Path:
    """Copy the database (consistently, WAL included) into backups/ before an upgrade."""
    backups = sqlite_path.parent / "backups"
    backups.mkdir(exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    target = backups / f"{sqlite_path.stem}-{revision}-{stamp}.db"
    source = sqlite3.connect(sqlite_path)
    try:
        dest = sqlite3.connect(target)
        with dest:
            source.backup(dest)
        dest.close()
    finally:
        source.close()
    return target


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    import fcntl

    with open(path, "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


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
        if not sqlite_path.exists():
            return None, HEAD_REVISION
        _check_sqlite_file(sqlite_path)
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
        sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        before, _ = schema_status(location)
        open_database(location).dispose()
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
