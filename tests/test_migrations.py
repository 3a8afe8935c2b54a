"""Alembic owns the schema: migrations and models must agree, both ways of creating a store too."""

import os
import sqlite3
import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from runelog import db, get_tracker
from runelog.models import Base

from .conftest import REPO


def differences(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def migrated_engine(tmp_path, name="m.db"):
    engine = db.make_engine(f"sqlite:///{tmp_path / name}")
    db.upgrade(engine, "head")
    return engine


def schema(path):
    conn = sqlite3.connect(path)
    rows = conn.execute(
        "SELECT type, name, tbl_name, CASE type WHEN 'view' THEN sql END FROM sqlite_master "
        "WHERE name NOT LIKE 'sqlite_%' ORDER BY name").fetchall()
    rows = [(t, n, tbl, " ".join(sql.split()) if sql else None) for t, n, tbl, sql in rows]
    columns = {n: conn.execute(f"PRAGMA table_info({n})").fetchall() for t, n, *_ in rows if t == "table"}
    conn.close()
    return rows, columns


def test_head_revision_constant_matches_the_scripts():
    script = ScriptDirectory.from_config(db.alembic_config())
    assert script.get_current_head() == db.HEAD_REVISION


def test_every_migration_from_empty_matches_the_models(tmp_path):
    engine = migrated_engine(tmp_path)
    assert differences(engine) == []
    assert db.current_revision(engine) == db.HEAD_REVISION
    with engine.connect() as conn:
        # As in runelog 0.2.0, the default experiment appears with the first run that needs it (revision 0004).
        assert conn.exec_driver_sql("SELECT id, name FROM experiments").fetchall() == []
    engine.dispose()


def test_a_new_store_has_exactly_the_migrated_schema(tmp_path):
    migrated_engine(tmp_path).dispose()
    get_tracker(str(tmp_path / "new")).close()
    created = tmp_path / "new" / ".runelog" / "runelog.db"
    assert schema(created) == schema(tmp_path / "m.db")
    assert differences(db.make_engine(f"sqlite:///{created}")) == []


def test_downgrade_to_base_and_upgrade_again(tmp_path):
    engine = migrated_engine(tmp_path)
    db.downgrade(engine, "base")
    with engine.connect() as conn:
        tables = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"alembic_version"}
    db.upgrade(engine, "head")
    assert differences(engine) == []
    engine.dispose()


def test_alembic_command_line_works_from_the_repository_root(tmp_path):
    env = dict(os.environ, RUNELOG_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}")
    alembic = [sys.executable, "-m", "alembic"]
    up = subprocess.run([*alembic, "upgrade", "head"], cwd=REPO, env=env, capture_output=True, text=True)
    assert up.returncode == 0, up.stderr
    check = subprocess.run([*alembic, "check"], cwd=REPO, env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    assert "No new upgrade operations detected" in check.stdout + check.stderr
    with sqlite3.connect(tmp_path / "cli.db") as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (db.HEAD_REVISION,)

