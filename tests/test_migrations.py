"""Alembic owns the schema: migrations and models must agree, both ways of creating a store too."""

import os
import sqlite3
import subprocess
import sys

import pytest

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
        assert conn.exec_driver_sql("SELECT id, name FROM experiments").fetchall() == [(0, "default-experiment")]
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


REPRESENTATIVE_ROWS = [
    "INSERT INTO experiments (id, name, created_at) VALUES (7, 'exp', '2026-01-01 00:00:00')",
    "INSERT INTO runs (id, experiment_id, name, status, start_time, end_time) VALUES "
    "('aaaaaaaa' || hex(zeroblob(12)), 7, 'up', 'FINISHED', '2026-01-01 00:00:00', '2026-01-01 00:01:00')",
    "INSERT INTO runs (id, experiment_id, status, start_time) VALUES ('bbbbbbbb' || hex(zeroblob(12)), 7, 'FINISHED', '2026-01-02 00:00:00')",
    "INSERT INTO params (run_id, key, value) VALUES ('aaaaaaaa' || hex(zeroblob(12)), 'lr', '0.5')",
    "INSERT INTO tags (run_id, key, value) VALUES ('aaaaaaaa' || hex(zeroblob(12)), 'latest_feature_set', 'true')",
    "INSERT INTO metrics (run_id, key, value, step, timestamp) VALUES ('aaaaaaaa' || hex(zeroblob(12)), 'acc', 0.5, 0, 1.0), "
    "('aaaaaaaa' || hex(zeroblob(12)), 'acc', 0.7, 1, 2.0)",
    "INSERT INTO artifacts (run_id, name, sha256, size, created_at) VALUES "
    "('aaaaaaaa' || hex(zeroblob(12)), 'f.parquet', '" + "ab" * 32 + "', 10, '2026-01-01 00:00:00')",
    "INSERT INTO dataset_fingerprints (run_id, name, kind, filename, path, size, sha256, created_at) VALUES "
    "('aaaaaaaa' || hex(zeroblob(12)), 'features', 'file', 'f.parquet', '/x/f.parquet', 10, '" + "ab" * 32 + "', '2026-01-01 00:00:00')",
    "INSERT INTO input_links (run_id, name, source_run_id, artifact_name, sha256, created_at) VALUES "
    "('bbbbbbbb' || hex(zeroblob(12)), 'feature_set', 'aaaaaaaa' || hex(zeroblob(12)), 'f.parquet', '" + "ab" * 32 + "', '2026-01-02 00:00:00')",
    "INSERT INTO registered_models (id, name, created_at) VALUES (1, 'm', '2026-01-02 00:00:00')",
    "INSERT INTO model_versions (model_id, version, run_id, artifact_name, sha256, tags, created_at) VALUES "
    "(1, 1, 'bbbbbbbb' || hex(zeroblob(12)), 'model.joblib', '" + "cd" * 32 + "', '{}', '2026-01-02 00:00:00')",
]

TABLES = ["experiments", "runs", "params", "tags", "metrics", "artifacts", "dataset_fingerprints",
          "input_links", "registered_models", "model_versions"]


@pytest.mark.parametrize("revision", [r for r, *_ in db.history()])
def test_data_survives_upgrading_from_every_revision(tmp_path, revision):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    db.upgrade(engine, revision)
    engine.dispose()
    conn = sqlite3.connect(tmp_path / "old.db")
    with conn:
        for statement in REPRESENTATIVE_ROWS:
            conn.execute(statement)
    before = {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in TABLES}
    conn.close()

    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    db.upgrade(engine, "head")
    assert differences(engine) == []
    engine.dispose()
    conn = sqlite3.connect(tmp_path / "old.db")
    assert {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in TABLES} == before
    assert conn.execute("SELECT tags FROM run_summary WHERE run_name = 'up'").fetchone() == ('{"latest_feature_set":true}',)
    conn.close()
