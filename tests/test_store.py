"""Opening stores: creation under a lock, SQLite settings, refusing bad files, upgrades with backups."""

import hashlib
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from runelog import db, exceptions, get_tracker



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


OPEN_SCRIPT = textwrap.dedent("""
    import sys, time
    from runelog import get_tracker
    start = float(sys.argv[2])
    while time.time() < start:
        time.sleep(0.001)
    tracker = get_tracker(sys.argv[1])
    with tracker.start_run(experiment_name="shared", log_code=False):
        for i in range(50):
            tracker.log_metric("m", float(i))
""")


def test_four_processes_opening_a_new_store_at_once_get_one_schema(tmp_path):
    script = tmp_path / "open.py"
    script.write_text(OPEN_SCRIPT)
    start = time.time() + 2.0
    procs = [subprocess.Popen([sys.executable, str(script), str(tmp_path / "s"), str(start)],
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    conn = sqlite3.connect(db_file(tmp_path / "s"))
    assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(db.HEAD_REVISION,)]
    assert conn.execute("SELECT count(*) FROM experiments WHERE name = 'shared'").fetchone() == (1,)
    assert conn.execute("SELECT count(*), count(DISTINCT run_id) FROM metrics").fetchone() == (200, 4)
    assert conn.execute("SELECT DISTINCT status FROM runs").fetchall() == [("FINISHED",)]
    conn.close()


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
