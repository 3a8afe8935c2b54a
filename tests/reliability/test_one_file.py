"""After a normal exit runelog.db alone is the whole store, and `backup` copies a live store safely.

Real processes: a script logs runs and exits (normally, by sys.exit, by an
uncaught exception); then only runelog.db is copied to a new folder and opened.
A writer process logs while backups are taken; each backup must pass SQLite's
integrity check and hold a consistent prefix of the writer's runs.
"""

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from runelog import exceptions, get_tracker
from runelog.cli import app

from .helpers import ctrl_c_as_a_terminal_gives_it, script, spawn

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


# ------------------------------------------------------------ a backup is all or nothing

def _store_with_blobs(root: Path, count: int, size: int) -> None:
    """A store holding `count` random artifacts of `size` bytes (random: nothing deduplicates)."""
    t = get_tracker(str(root))
    with t.start_run(experiment_name="big", log_code=False):
        for i in range(count):
            path = root / f"a{i}.bin"
            path.write_bytes(os.urandom(size))
            t.log_artifact(str(path), name=f"a{i}.bin")
            path.unlink()
    t.close()


def _cli(root: Path, *args: str, **kwargs) -> subprocess.Popen:
    """A real `runelog --store ROOT ...` process."""
    exe = shutil.which("runelog", path=os.path.dirname(sys.executable))
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNELOG_")}
    return subprocess.Popen([exe, "--store", str(root), *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=ctrl_c_as_a_terminal_gives_it,
                            **kwargs)


def _whole_or_absent(dest: Path, blobs: int) -> bool:
    """DEST does not exist, or it is a whole store whose every blob verifies; True if it exists."""
    if not dest.exists():
        return False
    t = get_tracker(str(dest), read_only=True)
    try:
        report = t.verify()
        assert report.ok and report.checked == blobs, report.problems
    finally:
        t.close()
    return True


def _leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.endswith(".partial")] if folder.is_dir() else []


@pytest.fixture
def small_disk(tmpfs):
    """A real 4 MiB tmpfs (see conftest.tmpfs)."""
    return tmpfs("4m", "disk")


def test_a_backup_that_runs_out_of_disk_leaves_nothing_and_can_be_retried(tmp_path, small_disk):
    root = tmp_path / "store"
    _store_with_blobs(root, 40, 200_000)  # 8 MB of blobs for a 4 MiB disk
    for dest in (small_disk / "backup", small_disk):  # a new folder, and an existing (empty) one
        proc = _cli(root, "backup", str(dest))  # a real process
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 1, out + err
        for attempt in range(2):  # the first failure does not block the next attempt
            if attempt:
                result = CliRunner().invoke(app, ["--store", str(root), "backup", str(dest)])
                assert result.exit_code == 1, result.output
                err = result.output
            assert "disk is full" in err and "partial copy was removed" in err, err
            assert "rolled back" not in err and "already holds" not in err and "Traceback" not in err, err
            assert list(small_disk.iterdir()) == [] if dest == small_disk else not dest.exists(), attempt
    t = get_tracker(str(root))
    with pytest.raises(exceptions.StoreDiskFull, match="partial copy was removed"):  # the library says the same
        t.backup(small_disk / "backup")
    assert list(small_disk.iterdir()) == []
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)  # now there is room
    report = t.backup(small_disk / "backup")
    assert (report.runs, report.blobs, report.ok) == (1, 40, True)
    t.close()
    assert _whole_or_absent(small_disk / "backup", 40)
    result = CliRunner().invoke(app, ["--store", str(root), "backup", str(small_disk)])
    assert result.exit_code == 0, result.output
    assert _whole_or_absent(small_disk, 40)
    assert sorted(p.name for p in small_disk.iterdir()) == [".runelog", "backup"]


def _copy_started(proc: subprocess.Popen, folder: Path) -> float:
    """Wait until this backup process's temp folder appears in `folder` (its copy has begun)."""
    deadline = time.monotonic() + 30
    while proc.poll() is None and time.monotonic() < deadline:
        if any(f"-{proc.pid}-" in p.name for p in _leftovers(folder)):
            break
        time.sleep(0.002)
    return time.monotonic()


@pytest.mark.slow
def test_a_backup_stopped_by_a_signal_at_any_moment_is_whole_or_absent(tmp_path):
    """SIGINT, SIGTERM and SIGKILL at random moments of a real `runelog backup`; then a retry succeeds."""
    import random

    root, blobs = tmp_path / "store", 40
    _store_with_blobs(root, blobs, 250_000)
    proc = _cli(root, "backup", str(tmp_path / "timed"))
    started = _copy_started(proc, tmp_path)
    assert proc.communicate(timeout=60) and proc.returncode == 0
    duration = time.monotonic() - started  # how long the copy takes
    seed = random.randrange(10**6)
    rng = random.Random(seed)
    dest = tmp_path / "backup"
    stopped = 0
    for attempt, signum in enumerate((signal.SIGINT, signal.SIGTERM, signal.SIGKILL) * 2):
        proc = _cli(root, "backup", str(dest))
        _copy_started(proc, tmp_path)
        # A random moment of the copy: in its first half for the first three signals (a later copy
        # may run faster than the timed one, from the page cache), anywhere or just after it for the rest.
        time.sleep(rng.uniform(0.0, 0.5 if attempt < 3 else 1.1) * duration)
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
        where = f"seed {seed}, signal {signum}, exit {proc.returncode}: {err}"
        assert "Traceback" not in err, where
        if _whole_or_absent(dest, blobs):  # renamed into place before the signal: a whole store
            assert proc.returncode in (0, 130, 128 + signum, -signum), where
            shutil.rmtree(dest)
        else:
            stopped += 1
            if signum != signal.SIGKILL:  # caught: the temp folder is gone too, and the message says so
                assert proc.returncode in (130, 128 + signum), where
                assert "partial copy was removed" in err and _leftovers(tmp_path) == [], where
        for partial in _leftovers(tmp_path):  # a killed backup's temp folder never opens as a store
            assert not (partial / ".runelog").exists(), where
    assert stopped, f"seed {seed}: every signal came after the copy was done"
    proc = _cli(root, "backup", str(dest))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert _whole_or_absent(dest, blobs)
    assert _leftovers(tmp_path) == []  # the killed backups' temp folders were cleaned up


def test_a_backup_inside_the_store_it_copies_is_refused(tmp_path):
    root = tmp_path / "store"
    _store_with_blobs(root, 1, 10)
    for dest in (".runelog", ".runelog/blobs", ".runelog/tmp/x"):
        result = CliRunner().invoke(app, ["--store", str(root), "backup", str(root / dest)])
        assert result.exit_code == 1 and "inside the folder of the store" in result.output, result.output
        assert "Traceback" not in result.output
    proc = _cli(root, "backup", ".runelog/blobs", cwd=root)  # as typed in the store's folder
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "inside the folder of the store" in err and "Traceback" not in err, out + err
    assert not (root / ".runelog" / ".runelog").exists() and not (root / ".runelog" / "blobs" / ".runelog").exists()
    assert not (root / ".runelog" / "tmp" / "x").exists()
    t = get_tracker(str(tmp_path / "meta"), artifact_root=str(tmp_path / "artifacts"))
    with pytest.raises(exceptions.BackupTargetInsideStore, match="artifacts"):
        t.backup(tmp_path / "artifacts" / "copy")
    with pytest.raises(exceptions.InvalidInput):
        t.backup(tmp_path / "meta" / ".runelog")
    t.close()
    assert not (tmp_path / "artifacts" / "copy").exists()


def test_a_backup_to_a_path_with_uri_characters_lands_there(tmp_path):
    """'?' and '#' in DEST are part of the path, not SQLite URI settings."""
    root = tmp_path / "store"
    _store_with_blobs(root, 2, 100)
    dest = tmp_path / "odd?name#1"
    result = CliRunner().invoke(app, ["--store", str(root), "backup", str(dest)])
    assert result.exit_code == 0, result.output
    assert _whole_or_absent(dest, 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["odd?name#1", "store"]  # no stray '.odd' file
