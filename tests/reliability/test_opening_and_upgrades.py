"""Opening stores: creation under a lock, SQLite settings, refusing bad files, upgrades with backups."""

import contextlib
import gc
import hashlib
import shutil
import sqlite3
import subprocess
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


def test_new_store_is_wal_with_head_revision_and_no_experiment_yet(tmp_path):
    get_tracker(str(tmp_path)).close()
    assert sorted(p.name for p in db_file(tmp_path).parent.iterdir()) == ["runelog.db", "runelog.db.lock"]
    conn = sqlite3.connect(db_file(tmp_path))
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(db.HEAD_REVISION,)]
    assert conn.execute("SELECT id, name FROM experiments").fetchall() == []  # the default comes with its first run
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


# ------------------------------------------------------------ files that are not runelog stores are never changed

from typer.testing import CliRunner  # noqa: E402

from runelog.cli import app  # noqa: E402

FOLDER_FILES = ("runelog.db", "runelog.db-wal", "runelog.db-shm", "runelog.db-journal")


def snapshot(folder: Path) -> dict:
    """Every file in the folder with its digest: what opening a store must not change."""
    return {p.name: digest(p) for p in sorted(folder.iterdir()) if p.is_file()}


def cli(root: Path, *args) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--store", str(root), *map(str, args)])
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, " ".join(result.output.split())


# Every command that opens the store, reading or writing.
COMMANDS = [("runs", "list", "exp"), ("experiments", "list"), ("db", "current"), ("db", "upgrade"), ("verify",),
            ("runs", "delete", "abcdef12", "--yes"), ("gc", "--yes"), ("backup", "{tmp}/backup"),
            ("registry", "list")]


def refused_everywhere(root: Path, tmp_path: Path, error: type, *phrases: str, cli_says: bool = True) -> None:
    """get_tracker (read-write and read-only) and every CLI command refuse the store and change nothing."""
    folder = db_file(root).parent
    before = snapshot(folder)
    for read_only in (False, True):
        with pytest.raises(error) as info:
            get_tracker(str(root), read_only=read_only)
        for phrase in phrases:
            assert phrase in str(info.value), str(info.value)
        assert "Nothing was changed" in str(info.value)
        assert snapshot(folder) == before
    for command in COMMANDS:
        code, output = cli(root, *(part.format(tmp=tmp_path) for part in command))
        assert code == 1, (command, output)
        for phrase in phrases if cli_says else ():
            assert phrase in output, (command, output)
        assert snapshot(folder) == before, command
    assert not (tmp_path / "backup").exists()


def test_a_foreign_sqlite_file_is_not_switched_to_wal_or_changed_in_any_way(tmp_path):
    path = db_file(tmp_path)
    path.parent.mkdir()
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER, name TEXT)")
        conn.executemany("INSERT INTO customers VALUES (?, ?)", [(i, f"c{i}") for i in range(100)])
    conn.close()
    assert path.read_bytes()[18:20] == b"\x01\x01"  # a rollback journal, as most applications keep it
    refused_everywhere(tmp_path, tmp_path, exceptions.StoreUnreadable, "customers", "another application")
    assert path.read_bytes()[18:20] == b"\x01\x01"
    assert sorted(p.name for p in path.parent.iterdir()) == ["runelog.db"]


def test_an_empty_runelog_db_is_refused_not_taken_for_a_new_store(tmp_path):
    path = db_file(tmp_path)
    path.parent.mkdir()
    path.touch()
    refused_everywhere(tmp_path, tmp_path, exceptions.StoreEmpty, "empty (0 bytes)", "delete it")
    assert path.stat().st_size == 0
    path.unlink()  # what the message says to do when it was a mistake
    get_tracker(str(tmp_path)).close()


def test_a_sqlite_file_with_no_tables_is_refused_not_initialised(tmp_path):
    path = db_file(tmp_path)
    path.parent.mkdir()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 7")  # a valid database file with a header and no tables
    conn.close()
    before = path.read_bytes()
    refused_everywhere(tmp_path, tmp_path, exceptions.StoreUnreadable, "no tables")
    assert path.read_bytes() == before  # not initialised: no schema, no WAL switch
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)
        assert conn.execute("PRAGMA user_version").fetchone() == (7,)
    conn.close()
    assert sorted(p.name for p in path.parent.iterdir()) == ["runelog.db"]


def test_runelog_db_that_is_a_folder_is_refused(tmp_path):
    db_file(tmp_path).mkdir(parents=True)
    # The CLI may say there is no store file there before it tries to open it; either way, no traceback.
    refused_everywhere(tmp_path, tmp_path, exceptions.StoreUnreadable, "a folder, not a file", cli_says=False)
    folder = db_file(tmp_path)
    assert folder.is_dir() and list(folder.iterdir()) == []  # nothing was created inside it
    assert sorted(p.name for p in folder.parent.iterdir()) == ["runelog.db"]  # nor beside it


def test_a_new_store_built_by_a_process_that_died_leaves_nothing_in_the_way(tmp_path):
    folder = db_file(tmp_path).parent
    folder.mkdir()
    (folder / ".runelog.db.4242-deadbeef.new").write_bytes(b"half a store")  # its temp file, never linked
    (folder / ".runelog.db.4242-deadbeef.new-wal").write_bytes(b"")
    get_tracker(str(tmp_path)).close()
    assert sorted(p.name for p in folder.iterdir()) == ["runelog.db", "runelog.db.lock"]


def test_restoring_from_backups_is_advised_only_when_a_backup_is_there(tmp_path):
    path = db_file(tmp_path / "s")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a database" * 100)
    with pytest.raises(exceptions.StoreUnreadable) as info:
        get_tracker(str(tmp_path / "s"))
    assert ".runelog/backups" not in str(info.value) and "taken before schema upgrades" not in str(info.value)
    (path.parent / "backups").mkdir()
    (path.parent / "backups" / "runelog-0002-20260101T000000000000Z.db").write_bytes(b"a copy")
    with pytest.raises(exceptions.StoreUnreadable) as info:
        get_tracker(str(tmp_path / "s"))
    assert "backups/runelog-0002-20260101T000000000000Z.db" in str(info.value)


def test_a_damaged_page_is_a_clear_error_everywhere(tmp_path):
    t = get_tracker(str(tmp_path))
    for i in range(150):
        with t.start_run(experiment_name="exp", log_code=False):
            t.log_params({f"p{k}": "x" * 40 for k in range(8)})
            t.log_metric("m", i)
    t.close()
    path = db_file(tmp_path)
    size = path.stat().st_size
    with open(path, "r+b") as fh:  # scribble over a stretch of pages in the middle
        fh.seek(size // 3)
        fh.write(bytes(range(256)) * (size // 3 // 256))
    conn = sqlite3.connect(path)
    try:  # really damaged: SQLite's own check fails or raises
        assert conn.execute("PRAGMA integrity_check").fetchone() != ("ok",)
    except sqlite3.DatabaseError:
        pass
    conn.close()
    errors = []
    try:
        t = get_tracker(str(tmp_path))
        for read in (lambda: t.list_runs("exp"), lambda: t.load_results("exp"), t.list_experiments,
                     lambda: t.delete_experiment("exp")):
            try:
                read()
            except exceptions.RunelogException as exc:
                errors.append(exc)
        t.close()
    except exceptions.RunelogException as exc:
        errors.append(exc)
    assert any(isinstance(e, exceptions.StoreDamaged) and "damaged" in str(e) for e in errors), errors
    outputs = [cli(tmp_path, *command) for command in
               [("runs", "list", "exp"), ("experiments", "list"), ("verify",), ("runs", "delete", "abcdef", "--yes")]]
    assert any(code == 1 and "damaged" in text for code, text in outputs), outputs
    assert all(code in (0, 1) for code, _ in outputs), outputs


# ------------------------------------------------------------ read-only and full filesystems (real tmpfs mounts)


@pytest.fixture
def small_fs(tmpfs):
    """A real 2 MiB tmpfs (see conftest.tmpfs)."""
    return tmpfs("2m", "mnt")


def store_with_a_run(root: Path) -> str:
    t = get_tracker(str(root))
    with t.start_run(experiment_name="exp", log_code=False) as run_id:
        t.log_param("p", 1)
        t.log_metric("m", 0.5)
    t.close()
    del t
    gc.collect()
    return run_id


def remount(mount: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(mount)], check=True)


def test_a_store_on_a_read_only_filesystem_reads_and_refuses_writes_clearly(small_fs):
    run_id = store_with_a_run(small_fs / "project")
    folder = db_file(small_fs / "project").parent
    before = snapshot(folder)
    remount(small_fs, "ro")
    try:
        t = get_tracker(str(small_fs / "project"))
        assert [r["run_id"] for r in t.list_runs("exp")] == [run_id]  # reading works on read-only media
        assert t.backup(small_fs.parent / "copy").runs == 1  # and so does copying it off
        with pytest.raises(exceptions.StoreNotWritable, match="read-only filesystem") as info:
            t.delete_run(run_id)
        assert ".runelog/backups" not in str(info.value)
        with pytest.raises(exceptions.StoreNotWritable):
            with t.start_run(experiment_name="exp", log_code=False):
                pass
        t.close()
        code, output = cli(small_fs / "project", "runs", "list", "exp")
        assert code == 0 and run_id[:8] in output, output
        code, output = cli(small_fs / "project", "runs", "delete", run_id, "--yes")
        assert code == 1 and "read-only filesystem" in output and "Nothing was written" in output, output
        with pytest.raises(exceptions.StoreNotWritable) as info:  # a new store there
            get_tracker(str(small_fs / "elsewhere"))
        assert ".runelog/backups" not in str(info.value)
        assert snapshot(folder) == before
    finally:
        gc.collect()
        remount(small_fs, "rw")
    t = get_tracker(str(small_fs / "project"))
    assert t.get_run(run_id)["status"] == "FINISHED"
    t.close()


def fill(mount: Path) -> Path:
    filler = mount / "filler"
    with open(filler, "wb", buffering=0) as fh, contextlib.suppress(OSError):
        while True:
            fh.write(b"\0" * 4096)
    return filler


def test_a_full_disk_is_a_clear_error_and_loses_nothing(small_fs):
    run_id = store_with_a_run(small_fs / "project")
    reserve = small_fs / "reserve"
    reserve.write_bytes(b"\0" * 96 * 1024)
    filler = fill(small_fs)
    # Full to the last byte: even reading needs room for runelog.db-shm.
    with pytest.raises(exceptions.StoreDiskFull, match="is full") as info:
        get_tracker(str(small_fs / "project")).delete_run(run_id)
    assert ".runelog/backups" not in str(info.value)
    code, output = cli(small_fs / "project", "runs", "delete", run_id, "--yes")
    assert code == 1 and "is full" in output and ".runelog/backups" not in output, output
    with pytest.raises(exceptions.StoreDiskFull) as info:  # a brand-new store on the full disk
        get_tracker(str(small_fs / "new"))
    assert "No store was created" in str(info.value) and ".runelog/backups" not in str(info.value)
    assert sorted(p.name for p in (small_fs / "new" / ".runelog").iterdir()) == ["runelog.db.lock"]
    # Room to open, none to write: the write fails clearly and is rolled back.
    reserve.unlink()
    t = get_tracker(str(small_fs / "project"))
    with pytest.raises(exceptions.StoreDiskFull, match="rolled back"):
        _log_a_run(t)
    code, output = cli(small_fs / "project", "runs", "list", "exp")
    assert code == 0 and run_id[:8] in output
    t.close()
    filler.unlink()
    t = get_tracker(str(small_fs / "project"))  # everything stored before is intact and usable
    assert run_id in [r["run_id"] for r in t.list_runs("exp")]
    _log_a_run(t)
    t.close()
    get_tracker(str(small_fs / "new")).close()  # the refused new store can now be made


def _log_a_run(t) -> None:
    with t.start_run(experiment_name="exp", log_code=False):
        t.log_params({f"k{i}": "v" * 500 for i in range(200)})
