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
        # sqlite_sequence (SQLite's own, made by revision 0005's AUTOINCREMENT) cannot be dropped.
        tables = {r[0] for r in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")}
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



# ---------------------------------------------------------------- experiment ids are never reused (revision 0005)


def experiments_sql(path):
    with sqlite3.connect(path) as conn:
        (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'experiments'").fetchone()
    return " ".join(sql.replace('"', "").split())


def test_a_new_store_and_a_migrated_one_both_number_experiments_with_autoincrement(tmp_path):
    migrated_engine(tmp_path).dispose()
    get_tracker(str(tmp_path / "new")).close()
    created = experiments_sql(tmp_path / "new" / ".runelog" / "runelog.db")
    assert "PRIMARY KEY AUTOINCREMENT" in created
    assert created == experiments_sql(tmp_path / "m.db")


def test_a_deleted_experiments_id_is_never_given_to_a_new_one(tracker):
    a = tracker.get_or_create_experiment("a")
    b = tracker.get_or_create_experiment("b")
    assert (a, b) == ("1", "2")  # named experiments still start at 1
    tracker.delete_experiment("b")
    c = tracker.get_or_create_experiment("c")
    assert c not in (a, b)
    tracker.delete_experiment("c")
    with tracker.start_run() as run_id:  # the default experiment, id 0, inserted explicitly
        pass
    assert tracker.get_run(run_id)["experiment_id"] == "0"
    d = tracker.get_or_create_experiment("d")
    assert int(d) > int(c)
    assert {e["name"]: e["experiment_id"] for e in tracker.list_experiments()} == {
        "default-experiment": "0", "a": a, "d": d}


RUN_A, RUN_B, RUN_C = "a" * 32, "b" * 32, "c" * 32
POPULATED_0004 = [
    "INSERT INTO experiments (id, name, created_at) VALUES (0, 'default-experiment', '2026-01-01 00:00:00'), "
    "(1, 'one', '2026-01-01 00:00:00'), (2, 'two', '2026-01-01 00:00:00'), (5, 'five', '2026-01-01 00:00:00')",
    f"INSERT INTO runs (id, experiment_id, name, status, start_time) VALUES ('{RUN_A}', 1, 'ra', 'FINISHED', "
    f"'2026-01-01 00:00:00'), ('{RUN_B}', 2, 'rb', 'FINISHED', '2026-01-02 00:00:00'), "
    f"('{RUN_C}', 5, 'rc', 'RUNNING', '2026-01-03 00:00:00')",
    f"INSERT INTO params (run_id, key, value) VALUES ('{RUN_A}', 'lr', '0.5'), ('{RUN_C}', 'lr', '0.1')",
    f"INSERT INTO tags (run_id, key, value) VALUES ('{RUN_A}', 'latest_feature_set', 'true')",
    f"INSERT INTO metrics (run_id, key, value, step, timestamp) VALUES ('{RUN_A}', 'acc', 0.5, 0, 1.0), "
    f"('{RUN_C}', 'acc', 0.7, 1, 2.0)",
    f"INSERT INTO artifacts (run_id, name, sha256, size, created_at) VALUES "
    f"('{RUN_A}', 'f.parquet', '{'ab' * 32}', 10, '2026-01-01 00:00:00'), "
    f"('{RUN_C}', 'model.joblib', '{'cd' * 32}', 20, '2026-01-03 00:00:00')",
    f"INSERT INTO dataset_fingerprints (run_id, name, kind, filename, path, size, sha256, created_at) VALUES "
    f"('{RUN_A}', 'features', 'file', 'f.parquet', '/x/f.parquet', 10, '{'ab' * 32}', '2026-01-01 00:00:00')",
    f"INSERT INTO input_links (run_id, name, source_run_id, artifact_name, sha256, created_at) VALUES "
    f"('{RUN_B}', 'feature_set', '{RUN_A}', 'f.parquet', '{'ab' * 32}', '2026-01-02 00:00:00'), "
    f"('{RUN_C}', 'feature_set', '{RUN_A}', 'f.parquet', '{'ab' * 32}', '2026-01-03 00:00:00')",
    "INSERT INTO registered_models (id, name, created_at) VALUES (1, 'm', '2026-01-02 00:00:00')",
    f"INSERT INTO model_versions (model_id, version, run_id, artifact_name, sha256, tags, created_at) VALUES "
    f"(1, 1, '{RUN_C}', 'model.joblib', '{'cd' * 32}', '{{}}', '2026-01-03 00:00:00')",
]


def populated_0004_store(root):
    path = root / ".runelog" / "runelog.db"
    path.parent.mkdir(parents=True)
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine, "0004")
    engine.dispose()
    with sqlite3.connect(path) as conn:
        for statement in POPULATED_0004:
            conn.execute(statement)
    conn.close()
    return path


def every_row(path):
    """Every table's and view's rows, sqlite_sequence and alembic_version aside."""
    conn = sqlite3.connect(path)
    names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
                                        "AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version'")]
    rows = {n: sorted(conn.execute(f"SELECT * FROM {n}").fetchall(), key=repr) for n in names}
    conn.close()
    return rows


def test_upgrading_a_populated_store_keeps_every_row_and_stops_id_reuse(tmp_path):
    path = populated_0004_store(tmp_path)
    before = every_row(path)
    assert len(before["run_summary"]) == 3 and len(before["lineage_edges"]) == 2

    t = get_tracker(str(tmp_path))  # opening it upgrades it, as a user's would be
    assert every_row(path) == before
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'experiments'").fetchall() == [(5,)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    conn.close()
    assert t.get_run(RUN_C)["param_lr"] == 0.1
    t.delete_experiment("five")
    assert t.get_run(RUN_C) is None  # foreign keys cascade again after the rebuild
    assert t.get_or_create_experiment("six") == "6"  # past the highest id the upgrade saw, not 3
    t.delete_experiment("six")
    assert t.get_or_create_experiment("seven") == "7"
    t.close()

    # The backup is the store as 0004 left it: there the highest id is handed out again.
    (backup,) = (tmp_path / ".runelog" / "backups").iterdir()
    with sqlite3.connect(backup) as conn:
        conn.execute("INSERT INTO experiments (name, created_at) VALUES ('six', '2026-01-04 00:00:00')")
        conn.execute("DELETE FROM experiments WHERE name = 'six'")
        conn.execute("INSERT INTO experiments (name, created_at) VALUES ('seven', '2026-01-04 00:00:00')")
        assert conn.execute("SELECT id FROM experiments WHERE name = 'seven'").fetchone() == (6,)
    conn.close()


def test_downgrading_to_0004_and_upgrading_again_keeps_every_row(tmp_path):
    path = populated_0004_store(tmp_path)
    before = every_row(path)
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine, "head")
    db.downgrade(engine, "0004")
    assert db.current_revision(engine) == "0004"
    assert "AUTOINCREMENT" not in experiments_sql(path)
    assert every_row(path) == before
    db.upgrade(engine, "head")
    assert differences(engine) == []
    engine.dispose()
    assert "PRIMARY KEY AUTOINCREMENT" in experiments_sql(path)
    assert every_row(path) == before
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'experiments'").fetchall() == [(5,)]
    conn.close()
