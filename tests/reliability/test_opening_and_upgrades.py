"""Opening stores: creation under a lock, SQLite settings, refusing bad files, upgrades with backups."""

import hashlib
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from runelog import db, exceptions, get_tracker

from ..test_migrations import differences



def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def db_file(root: Path) -> Path:
    return root / ".runelog" / "runelog.db"


def test_new_store_is_wal_with_head_revision_and_default_experiment(tmp_path):
    get_tracker(str(tmp_path)).close()
    conn = sqlite3.connect(db_file(tmp_path))
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(db.HEAD_REVISION,)]
    assert conn.execute("SELECT id, name FROM experiments").fetchall() == [(0, "default-experiment")]
    conn.close()


def test_writers_wait_for_a_held_lock_instead_of_failing(tracker):
    blocker = sqlite3.connect(tracker.location.sqlite_path, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    blocker.execute("INSERT INTO experiments (name, created_at) VALUES ('held', '2026-01-01')")
    release = threading.Timer(0.5, lambda: blocker.execute("COMMIT"))
    release.start()
    started = time.monotonic()
    with tracker.start_run(experiment_name="waiting") as run_id:
        tracker.log_param("p", 1)
    assert time.monotonic() - started >= 0.4
    assert tracker.get_run(run_id)["param_p"] == 1
    release.join()
    blocker.close()


def test_foreign_keys_are_enforced(tracker):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        with db.write_session(tracker._engine) as s:
            from runelog import runs

            runs.write_params(s, "0" * 32, {"a": "1"})


def test_a_file_that_is_not_sqlite_is_refused_and_left_alone(tmp_path):
    path = db_file(tmp_path)
    path.parent.mkdir()
    path.write_bytes(b"these are not the bytes you are looking for" * 100)
    before = digest(path)
    with pytest.raises(exceptions.StoreUnreadable, match="not a SQLite database"):
        get_tracker(str(tmp_path))
    assert digest(path) == before


def test_a_truncated_database_is_refused_and_left_alone(tmp_path):
    source = tmp_path / "good"
    t = get_tracker(str(source))
    with t.start_run():
        t.log_param("p", 1)
    t.close()
    path = db_file(tmp_path / "cut")
    path.parent.mkdir(parents=True)
    with sqlite3.connect(db_file(source)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    path.write_bytes(db_file(source).read_bytes()[:6000])
    before = digest(path)
    with pytest.raises(exceptions.StoreUnreadable, match=str(path)):
        get_tracker(str(tmp_path / "cut"))
    assert digest(path) == before


def test_a_sqlite_file_of_another_application_is_refused(tmp_path):
    path = db_file(tmp_path)
    path.parent.mkdir()
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER)")
    with pytest.raises(exceptions.StoreUnreadable, match="customers"):
        get_tracker(str(tmp_path))


def test_a_store_from_a_newer_runelog_is_refused(tmp_path):
    get_tracker(str(tmp_path)).close()
    with sqlite3.connect(db_file(tmp_path)) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'ffff9999'")
    before = digest(db_file(tmp_path))
    with pytest.raises(exceptions.SchemaTooNew, match="ffff9999") as info:
        get_tracker(str(tmp_path))
    assert db.HEAD_REVISION in str(info.value)
    assert digest(db_file(tmp_path)) == before


# ------------------------------------------------------------ upgrades, with a second revision made for the test

PROBE_REVISION = '''
"""test revision"""
import sqlalchemy as sa
from alembic import op

revision = "9002"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("upgrade_probe", sa.Column("id", sa.Integer, primary_key=True))
    {extra}


def downgrade():
    op.drop_table("upgrade_probe")
'''


@pytest.fixture
def newer_runelog(tmp_path, monkeypatch):
    """Make this runelog one revision newer than the stores created before the switch."""

    def switch(fail: bool = False):
        scripts = tmp_path / "migrations"
        shutil.copytree(db.migrations_dir(), scripts, ignore=shutil.ignore_patterns("__pycache__"))
        extra = 'raise RuntimeError("simulated failure")' if fail else "pass"
        (scripts / "versions" / "9002_probe.py").write_text(
            PROBE_REVISION.format(down=db.HEAD_REVISION, extra=extra))
        monkeypatch.setattr(db, "migrations_dir", lambda: scripts)
        monkeypatch.setattr(db, "HEAD_REVISION", "9002")

    return switch


def make_old_store(root: Path) -> str:
    t = get_tracker(str(root))
    with t.start_run(experiment_name="old", log_code=False) as run_id:
        t.log_param("p", [1, 2])
        t.log_metric("m", 0.5)
    t.close()
    return run_id


def test_opening_an_older_store_backs_it_up_and_upgrades(tmp_path, newer_runelog):
    run_id = make_old_store(tmp_path / "s")
    newer_runelog()
    t = get_tracker(str(tmp_path / "s"))
    assert t.get_run(run_id)["param_p"] == [1, 2]
    (backup,) = (tmp_path / "s" / ".runelog" / "backups").iterdir()
    with sqlite3.connect(backup) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] != "9002"
        assert conn.execute("SELECT count(*) FROM metrics").fetchone() == (1,)
    with sqlite3.connect(db_file(tmp_path / "s")) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("9002",)
        assert conn.execute("SELECT count(*) FROM upgrade_probe").fetchone() == (0,)
        assert conn.execute("PRAGMA foreign_keys").fetchone() == (0,)  # a plain connection's default
    # Foreign keys are back on for runelog's own connections after the migration.
    t.delete_experiment("old")
    with sqlite3.connect(db_file(tmp_path / "s")) as conn:
        assert conn.execute("SELECT count(*) FROM metrics").fetchone() == (0,)


def test_a_failed_upgrade_leaves_the_store_untouched_and_names_the_backup(tmp_path, newer_runelog):
    run_id = make_old_store(tmp_path / "s")
    old_head = db.HEAD_REVISION
    newer_runelog(fail=True)
    with pytest.raises(exceptions.MigrationFailed, match="backups") as info:
        get_tracker(str(tmp_path / "s"))
    assert info.value.backup and Path(info.value.backup).is_file()
    with sqlite3.connect(db_file(tmp_path / "s")) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (old_head,)
        assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'upgrade_probe'").fetchall() == []
        assert conn.execute("SELECT id FROM runs").fetchall() == [(run_id,)]


def test_runelog_db_upgrade_command_path(tmp_path, newer_runelog):
    make_old_store(tmp_path / "s")
    newer_runelog()
    location = db.locate(str(tmp_path / "s"))
    assert db.schema_status(location)[0] != "9002"
    before, after = db.upgrade_store(location)
    assert after == "9002" and before != after
    assert db.schema_status(location) == ("9002", "9002")



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
