"""Shared fixtures: every test gets a real store of its own.

`tracker` runs each API test twice: on a SQLite store in a temp folder, and on
a fresh PostgreSQL database (copied from a migrated template) with blobs in a
temp folder. The PostgreSQL half needs RUNELOG_TEST_DATABASE_URL (a URL to an
existing database the test user may create databases from); without it those
tests are skipped, and in CI (CI=true) an unreachable server fails the run.
"""

from __future__ import annotations

import functools
import os
import re
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

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
        """Close each one (close() is harmless on a tracker closed already) and forget it."""
        while self.trackers:
            self.trackers.pop().close()


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


class PostgresDatabases:
    """Creates throwaway databases on the test server, each a copy of one migrated template."""

    def __init__(self, url: str):
        self.url = make_url(url)
        self.admin = create_engine(self.url, isolation_level="AUTOCOMMIT")
        self.template = f"runelog_template_{uuid.uuid4().hex[:8]}"
        self.create(self.template, template=None)
        db.upgrade_store(db.locate(database_url=self.url_for(self.template)))

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

    def close(self) -> None:
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
def pg_database(postgres):
    """A fresh migrated PostgreSQL database for one test; dropped afterwards."""
    name = f"runelog_test_{uuid.uuid4().hex[:12]}"
    url = postgres.create(name)
    yield url
    postgres.drop(name)


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
            databases.append(f"runelog_test_{uuid.uuid4().hex[:12]}")
            options = {"database_url": postgres.create(databases[-1]),
                       "artifact_root": str(tmp_path_factory.mktemp("shared-blobs"))}
        trackers.append(get_tracker(**options))
        return trackers[-1]

    yield open_store
    for tracker in trackers:
        tracker.close()
    for name in databases:
        postgres.drop(name)


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
