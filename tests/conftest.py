"""Shared fixtures: every test gets a real store of its own.

`tracker` runs each API test twice: on a SQLite store in a temp folder, and on
an empty PostgreSQL database at head (a copy of a migrated template, or a used one
emptied) with blobs in a temp folder. The PostgreSQL half needs
RUNELOG_TEST_DATABASE_URL (a URL to an existing database the test user may create
databases from); without it those tests are skipped, and in CI (CI=true) an
unreachable server fails the run.

Also: `pipeline` (feature run -> model run -> registered model, see tests/pipeline.py),
`module_store` (a store that lasts the module, for costly set-up tests only read),
`sql` (plain SQL on the tracker's database), and, for every test, `open_trackers`
(closes each tracker the test opened).
"""

from __future__ import annotations

import functools
import os
import re
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from runelog import db, get_tracker

from .pipeline import Pipeline, build_pipeline

REPO = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("RUNELOG_TEST_DATABASE_URL")
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """Run each test inside its own folder with no runelog environment leaking in."""
    for var in ("RUNELOG_HOME", "RUNELOG_DATABASE_URL", "RUNELOG_ARTIFACT_ROOT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)


class OpenTrackers:
    """The trackers opened while one test runs, held until they are closed."""

    def __init__(self):
        self.trackers = []

    def close_all(self) -> None:
        """Close each one (close() is harmless on a tracker closed already) and forget it;
        the first error, if any, is raised once all are closed."""
        errors = []
        while self.trackers:
            try:
                self.trackers.pop().close()
            except Exception as exc:
                errors.append(exc)
        if errors:
            raise errors[0]


@pytest.fixture(autouse=True)
def open_trackers(monkeypatch) -> OpenTrackers:
    """Close every tracker the test opened, so no connection or WAL outlives the test.

    Trackers are noted as RuneLog.__init__ returns. Trackers made by module- or
    session-scoped fixtures exist before this runs and are left to their fixture.
    A fixture that must see them closed earlier (before an unmount) calls close_all().
    """
    from runelog.tracker import RuneLog

    opened = OpenTrackers()
    original = RuneLog.__init__

    @functools.wraps(original)
    def note_and_init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        opened.trackers.append(self)

    monkeypatch.setattr(RuneLog, "__init__", note_and_init)
    yield opened
    opened.close_all()


# ------------------------------------------------------------ PostgreSQL databases for tests


# Everything about a database's shape that a test could change besides the rows of its tables.
SHAPE = """
SELECT string_agg(x, E'\n' ORDER BY x) FROM (
    SELECT 'rel ' || c.relkind::text || ' ' || n.nspname || '.' || c.relname || ' ' || c.relowner::regrole::text
           || ' ' || coalesce(c.relacl::text, '')
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
    UNION ALL SELECT 'col ' || table_schema || '.' || table_name || '.' || column_name || ' ' || data_type
              || ' ' || coalesce(column_default, '')
    FROM information_schema.columns WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
    UNION ALL SELECT 'fn ' || p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
    UNION ALL SELECT 'nsp ' || nspname || ' ' || coalesce(nspacl::text, '') FROM pg_namespace
    UNION ALL SELECT 'trg ' || tgname FROM pg_trigger WHERE NOT tgisinternal
    UNION ALL SELECT 'ext ' || extname FROM pg_extension
    UNION ALL SELECT 'acl ' || defaclobjtype::text || coalesce(defaclacl::text, '') FROM pg_default_acl
    UNION ALL SELECT 'db ' || coalesce(datacl::text, '') FROM pg_database WHERE datname = current_database()
    UNION ALL SELECT 'set ' || array_to_string(setconfig, ',') FROM pg_db_role_setting s
              JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = current_database()
    UNION ALL SELECT 'version ' || version_num FROM alembic_version
) shape(x)
"""


class PostgresDatabases:
    """Creates throwaway databases on the test server, each a copy of one migrated template.

    Copying the template and dropping the copy cost the server about a second of writes per
    test. So a used database whose shape (SHAPE) still equals the template's has its rows
    deleted and its sequences restarted, and is handed to the next test (`take` / `give_back`);
    any other is dropped. Either way each test starts on an empty store at head.
    """

    def __init__(self, url: str):
        self.url = make_url(url)
        self.admin = create_engine(self.url, isolation_level="AUTOCOMMIT")
        self.template = f"runelog_template_{uuid.uuid4().hex[:8]}"
        self.create(self.template, template=None)
        db.upgrade_store(db.locate(database_url=self.url_for(self.template)))
        self._free: list[str] = []
        engine = create_engine(self.url_for(self.template), poolclass=NullPool)
        try:
            with engine.connect() as conn:
                self._shape = conn.execute(text(SHAPE)).scalar()
                self._tables = [t for t in inspect(conn).get_table_names() if t != "alembic_version"]
                self._sequences = inspect(conn).get_sequence_names()
                empty = all(conn.execute(text(f'SELECT NOT EXISTS (SELECT 1 FROM "{t}")')).scalar()
                            for t in self._tables)
        finally:
            engine.dispose()
        self._reusable = empty  # a template with rows could not be restored by deleting rows

    def url_for(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def create(self, name: str, template: str | None = "default") -> str:
        clause = f" TEMPLATE {self.template}" if template == "default" else ""
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        return self.url_for(name)

    def drop(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def take(self) -> str:
        """The name of an empty database at head: one given back, or a new copy of the template."""
        if self._free:
            return self._free.pop()
        name = f"runelog_test_{uuid.uuid4().hex[:12]}"
        self.create(name)
        return name

    def give_back(self, name: str) -> None:
        """Empty `name` for the next test if its shape is the template's; otherwise drop it."""
        if self._reusable and self._emptied(name):
            self._free.append(name)
        else:
            self.drop(name)

    def _emptied(self, name: str) -> bool:
        with self.admin.connect() as conn:  # no session of the finished test may write afterwards
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
        engine = create_engine(self.url_for(name), poolclass=NullPool)
        try:
            with engine.begin() as conn:
                conn.execute(text("SET LOCAL lock_timeout = '5s'"))
                if conn.execute(text(SHAPE)).scalar() != self._shape:
                    return False
                for table in self._tables:
                    conn.execute(text(f'DELETE FROM "{table}"'))
                for sequence in self._sequences:
                    conn.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))
            return True
        except Exception:  # a lock still held, a row that will not go: a new copy is safer
            return False
        finally:
            engine.dispose()

    def close(self) -> None:
        for name in self._free:
            self.drop(name)
        self.drop(self.template)
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres():
    if not PG_URL:
        pytest.skip("PostgreSQL tests skipped: set RUNELOG_TEST_DATABASE_URL "
                    "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to run them")
    try:
        databases = PostgresDatabases(PG_URL)
    except Exception as exc:  # an unreachable server
        if IN_CI:
            pytest.fail(f"RUNELOG_TEST_DATABASE_URL is set but the server cannot be used: {exc}")
        pytest.skip(f"PostgreSQL tests skipped: cannot use {PG_URL}: {exc}")
    yield databases
    databases.close()


@pytest.fixture
def pg_database(postgres, open_trackers):
    """An empty migrated PostgreSQL database for one test; emptied or dropped afterwards."""
    name = postgres.take()
    yield postgres.url_for(name)
    open_trackers.close_all()  # nothing of this test writes to it once the next test has it
    postgres.give_back(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_options(request, tmp_path):
    """get_tracker() keyword arguments for a fresh store on each backend."""
    if request.param == "sqlite":
        return {"path": str(tmp_path / "store")}
    url = request.getfixturevalue("pg_database")
    return {"database_url": url, "artifact_root": str(tmp_path / "shared-blobs")}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_store(request, tmp_path_factory):
    """`module_store()` opens a tracker on a fresh store (of this param's backend) that lasts the module.

    For costly set-up that several tests only read: a module-scoped fixture builds it once per
    backend. Each call gives a store of its own; all are closed (and dropped) at the module's end.
    """
    postgres = request.getfixturevalue("postgres") if request.param == "postgresql" else None
    trackers, databases = [], []

    def open_store():
        if postgres is None:
            options = {"path": str(tmp_path_factory.mktemp("store"))}
        else:
            databases.append(postgres.take())
            options = {"database_url": postgres.url_for(databases[-1]),
                       "artifact_root": str(tmp_path_factory.mktemp("shared-blobs"))}
        trackers.append(get_tracker(**options))
        return trackers[-1]

    yield open_store
    for tracker in trackers:
        tracker.close()
    for name in databases:
        postgres.give_back(name)


@pytest.fixture
def tracker(store_options):
    t = get_tracker(**store_options)
    yield t
    t.close()


@pytest.fixture
def pipeline(tracker, tmp_path) -> Pipeline:
    """A feature run (dataset artifact + tag), a model run that pinned it, and model `clf` version 1
    with alias `champion`; see tests/pipeline.py."""
    return build_pipeline(tracker, tmp_path / "pipeline-inputs", alias="champion")


@pytest.fixture
def sql(tracker):
    """Plain SQL on the tracker's database, as a user would run it; `?` marks parameters."""
    engine = create_engine(tracker.location.database_url)

    def query(statement: str, params=()):
        names = iter(range(len(params)))
        bound = re.sub(r"\?", lambda _: f":p{next(names)}", statement)
        with engine.begin() as conn:
            result = conn.execute(text(bound), {f"p{i}": v for i, v in enumerate(params)})
            return [tuple(row) for row in result] if result.returns_rows else []

    yield query
    engine.dispose()
