"""After a normal exit runelog.db alone is the whole store, and `backup` copies a live store safely.

Real processes: a script logs runs and exits (normally, by sys.exit, by an
uncaught exception); then only runelog.db is copied to a new folder and opened.
A writer process logs while backups are taken; each backup must pass SQLite's
integrity check and hold a consistent prefix of the writer's runs.
"""

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from runelog import exceptions, get_tracker
from runelog.cli import app

from .helpers import script, spawn

RUNS, POINTS = 6, 40

LOGGER = f"""
import sys
from runelog import get_tracker

t = get_tracker(sys.argv[1])
for i in range({RUNS}):
    with t.start_run(experiment_name="copied", log_code=False):
        t.log_param("i", i)
        for step in range({POINTS}):
            t.log_metric("loss", 1.0 / (step + 1), step=step)
ending = sys.argv[2]
if ending == "sys.exit":
    sys.exit(3)
if ending == "exception":
    raise RuntimeError("the script fails after its runs")
"""


def copy_db_only(root: Path, dest: Path) -> Path:
    (dest / ".runelog").mkdir(parents=True)
    shutil.copy2(root / ".runelog" / "runelog.db", dest / ".runelog" / "runelog.db")
    return dest


def runs_and_points(root: Path) -> tuple[list, int]:
    t = get_tracker(str(root), read_only=True)
    try:
        rows = t.list_runs("copied")
        points = sum(len(t.get_metric_history(r["run_id"], "loss")) for r in rows)
        return sorted(r["params"]["i"] for r in rows), points
    finally:
        t.close()


def test_after_the_process_exits_runelog_db_alone_holds_every_run(tmp_path):
    endings = {"normal": 0, "sys.exit": 3, "exception": 1}  # the exit status each ending gives
    logger = script(tmp_path, "logger.py", LOGGER)
    procs = {ending: spawn(logger, tmp_path / ending, ending) for ending in endings}  # side by side
    for ending, proc in procs.items():
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == endings[ending], err
        root = tmp_path / ending
        wal = root / ".runelog" / "runelog.db-wal"
        assert not wal.exists() or wal.stat().st_size == 0, ending
        copy = copy_db_only(root, tmp_path / f"copy-{ending}")
        assert runs_and_points(copy) == (list(range(RUNS)), RUNS * POINTS), ending


def test_close_and_the_end_of_a_run_leave_everything_in_runelog_db(tmp_path):
    t = get_tracker(str(tmp_path / "store"))
    with t.start_run(experiment_name="copied", log_code=False):
        t.log_param("i", 0)
        for step in range(POINTS):
            t.log_metric("loss", 0.5, step=step)
    # The tracker is still open: the run's end has checkpointed the WAL already.
    first = copy_db_only(tmp_path / "store", tmp_path / "after-run")
    assert runs_and_points(first) == ([0], POINTS)
    time.sleep(1.1)  # run-end checkpoints come at most once a second
    with t.start_run(experiment_name="copied", log_code=False):
        t.log_param("i", 1)
    assert runs_and_points(copy_db_only(tmp_path / "store", tmp_path / "second"))[0] == [0, 1]
    with t.start_run(experiment_name="copied", log_code=False):  # within the second: may wait in the WAL
        t.log_param("i", 2)
    t.close()
    assert runs_and_points(copy_db_only(tmp_path / "store", tmp_path / "after-close"))[0] == [0, 1, 2]


# ------------------------------------------------------------ backup of a live store

WRITER = """
import sys, time
from pathlib import Path
from runelog import get_tracker

t = get_tracker(sys.argv[1])
payload = Path(sys.argv[2])
i = 0
deadline = time.time() + float(sys.argv[3])
while time.time() < deadline:
    with t.start_run(experiment_name="live", log_code=False):
        t.log_param("i", i)
        for step in range(50):
            t.log_metric("m", step, step=step)
        payload.write_text(f"payload {i}")
        t.log_artifact(str(payload), name=f"p{i}.txt")
    i += 1
    print(i, flush=True)
"""


def check_backup(folder: Path) -> int:
    """The backup passes SQLite's integrity check and holds a prefix of the writer's runs, each whole."""
    db = folder / ".runelog" / "runelog.db"
    assert not (folder / ".runelog" / "runelog.db-wal").exists()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        rows = conn.execute(
            "SELECT CAST(p.value AS INTEGER), r.status, "
            "(SELECT count(*) FROM metrics m WHERE m.run_id = r.id), "
            "(SELECT count(*) FROM artifacts a WHERE a.run_id = r.id) "
            "FROM runs r JOIN params p ON p.run_id = r.id AND p.key = 'i' ORDER BY 1").fetchall()
    conn.close()
    assert [r[0] for r in rows] == list(range(len(rows)))  # no run missing before the newest one
    for i, status, points, artifacts in rows[:-1]:
        assert (status, points, artifacts) == ("FINISHED", 50, 1), i
    t = get_tracker(str(folder), read_only=True)  # the backup is a store that opens and verifies
    try:
        report = t.verify()
        assert report.ok, report.problems
        assert report.checked == sum(r[3] for r in rows)
    finally:
        t.close()
    return len(rows)


def test_backups_taken_while_another_process_writes_are_whole_and_consistent(tmp_path):
    root = tmp_path / "store"
    get_tracker(str(root)).close()
    writer = spawn(script(tmp_path, "writer.py", WRITER), root, tmp_path / "payload.txt", 4)
    try:
        assert writer.stdout.readline().strip() == "1"  # it is writing
        t = get_tracker(str(root))
        counts = []
        for n in range(3):
            report = t.backup(tmp_path / f"backup-{n}")
            assert report.ok and report.blobs in (report.runs, report.runs - 1)  # the newest may be mid-run
            counts.append(check_backup(tmp_path / f"backup-{n}"))
        result = CliRunner().invoke(app, ["--store", str(root), "backup", str(tmp_path / "backup-cli")])
        assert result.exit_code == 0, result.output
        assert "Traceback" not in result.output
        counts.append(check_backup(tmp_path / "backup-cli"))
        t.close()
    finally:
        writer.communicate(timeout=60)
    assert writer.returncode == 0
    assert counts == sorted(counts) and counts[-1] >= 1


def test_backup_never_overwrites_a_store_and_can_leave_the_blobs(tmp_path):
    t = get_tracker(str(tmp_path / "store"))
    (tmp_path / "f.txt").write_text("bytes")
    with t.start_run(log_code=False):
        t.log_artifact(str(tmp_path / "f.txt"))
    report = t.backup(tmp_path / "copy", blobs=False)
    assert (report.runs, report.blobs, report.blobs_skipped) == (1, 0, True)
    assert not (tmp_path / "copy" / ".runelog" / "blobs").exists()
    before = (tmp_path / "copy" / ".runelog" / "runelog.db").read_bytes()
    with pytest.raises(exceptions.BackupTargetExists, match="never overwrites"):
        t.backup(tmp_path / "copy")
    with pytest.raises(exceptions.BackupTargetExists):
        t.backup(tmp_path / "store")  # the store itself
    assert (tmp_path / "copy" / ".runelog" / "runelog.db").read_bytes() == before
    result = CliRunner().invoke(app, ["--store", str(tmp_path / "store"), "backup", str(tmp_path / "copy")])
    assert result.exit_code == 1 and "never overwrites" in result.output and "Traceback" not in result.output
    t.close()


def test_backup_of_a_postgresql_store_says_to_use_pg_dump(postgres, tmp_path):
    name = f"backup_{os.getpid()}"
    url = postgres.create(name)
    try:
        t = get_tracker(database_url=url, artifact_root=str(tmp_path / "blobs"))
        with pytest.raises(exceptions.BackupNotSupported, match="pg_dump"):
            t.backup(tmp_path / "copy")
        assert not (tmp_path / "copy").exists()
        t.close()
    finally:
        postgres.drop(name)
