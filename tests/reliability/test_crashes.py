"""Whatever happens to a process, the store stays consistent and acknowledged data stays."""

import hashlib
import os
import random
import signal
import sqlite3
import time

import pytest

from runelog import exceptions, get_tracker
from runelog.blobs import DIGEST

from .helpers import script, spawn

SIGTERM_CHILD = """
import sys, time
from runelog import get_tracker
tracker = get_tracker(sys.argv[1])
with tracker.start_run(experiment_name="term", log_code=False) as run_id:
    tracker.log_param("p", 1)
    for i in range(10):
        tracker.log_metric("m", float(i))
    print(run_id, flush=True)
    time.sleep(60)
"""


def test_sigterm_marks_the_run_killed_and_keeps_its_data(tmp_path):
    proc = spawn(script(tmp_path, "term.py", SIGTERM_CHILD), tmp_path / "s")
    run_id = proc.stdout.readline().strip()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM, err
    tracker = get_tracker(str(tmp_path / "s"))
    details = tracker.get_run_details(run_id)
    assert details["meta"]["status"] == "KILLED" and details["meta"]["error"] == "SIGTERM"
    assert details["params"] == {"p": 1}
    assert len(tracker.get_metric_history(run_id, "m")) == 10


def test_sigterm_handler_is_installed_only_while_a_run_is_open(tracker):
    seen = []
    previous = signal.signal(signal.SIGTERM, lambda *a: seen.append("mine"))
    try:
        with pytest.raises(SystemExit) as exit_info:
            with tracker.start_run(log_code=False) as run_id:
                assert signal.getsignal(signal.SIGTERM) is not previous
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)  # interrupted by the handler
        assert exit_info.value.code == 128 + signal.SIGTERM
        assert tracker.get_run(run_id)["status"] == "KILLED"
        os.kill(os.getpid(), signal.SIGTERM)  # the previous handler is back
        assert seen == ["mine"]
    finally:
        signal.signal(signal.SIGTERM, previous)


KILL_CHILD = """
import os, random, sys
from runelog import get_tracker
store, seed = sys.argv[1], int(sys.argv[2])
rng = random.Random(seed)
tracker = get_tracker(store, flush_interval=0.05)
with tracker.start_run(experiment_name="crash", log_code=False, log_git_meta=False) as run_id:
    i = 0
    while True:
        tracker.log_metric("m", float(i), step=i)
        i += 1
        if i % 50 == 0:
            tracker.flush()
            print(f"FLUSHED {run_id} {i}", flush=True)
        if i % 150 == 0:
            path = f"artifact-{seed}-{i}.bin"
            with open(path, "wb") as fh:
                fh.write(os.urandom(rng.randint(1, 3 * 1024 * 1024)))
            tracker.log_artifact(path)
            os.remove(path)
"""


@pytest.mark.slow  # over 12 s: run by `make test-slow` (and CI)
def test_sigkill_in_a_logging_loop_twenty_times(tmp_path):
    store = tmp_path / "s"
    child = script(tmp_path, "kill.py", KILL_CHILD)
    rng = random.Random(20261127)
    acknowledged = {}
    for attempt in range(20):
        proc = spawn(child, store, attempt)
        first = proc.stdout.readline()  # the run exists and has flushed once
        assert first.startswith("FLUSHED"), proc.stderr.read()
        time.sleep(rng.uniform(0.0, 0.6))
        proc.kill()
        out, _ = proc.communicate(timeout=30)
        for line in [first, *out.splitlines()]:
            if line.startswith("FLUSHED"):
                _, run_id, count = line.split()
                acknowledged[run_id] = int(count)
    assert len(acknowledged) == 20

    db_path = store / ".runelog" / "runelog.db"
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    for run_id, count in acknowledged.items():
        stored = conn.execute("SELECT count(*), min(step), max(step) FROM metrics WHERE run_id = ?", (run_id,)).fetchone()
        assert stored[0] >= count and stored[0] == stored[2] + 1, (run_id, count, stored)  # no gaps, nothing lost
    conn.close()

    tracker = get_tracker(str(store))
    assert tracker.verify().ok  # every artifact row's blob exists and hashes to its name
    blob_root = store / ".runelog" / "blobs"
    for blob in blob_root.rglob("*"):
        if blob.is_file():  # nothing half-written is visible under a digest's name
            assert DIGEST.match(blob.name) and hashlib.sha256(blob.read_bytes()).hexdigest() == blob.name
    tracker.gc(grace_seconds=0)
    tmp = store / ".runelog" / "tmp"
    assert not tmp.exists() or list(tmp.iterdir()) == []
    assert tracker.verify().ok

    assert sorted(tracker.reap_runs()) == sorted(acknowledged)  # the processes are gone: all stale
    assert {r["status"] for r in tracker.list_runs("crash")} == {"KILLED"}


STALE_CHILD = """
import sys, time
from runelog import get_tracker
tracker = get_tracker(sys.argv[1])
with tracker.start_run(experiment_name="stale", log_code=False) as run_id:
    print(run_id, flush=True)
    time.sleep(60)
"""


def test_runs_of_dead_processes_are_stale_and_reaped(tmp_path):
    from typer.testing import CliRunner

    from runelog.cli import app

    store = tmp_path / "s"
    proc = spawn(script(tmp_path, "stale.py", STALE_CHILD), store)
    dead_run = proc.stdout.readline().strip()
    tracker = get_tracker(str(store))
    assert tracker.list_runs("stale")[0]["stale"] is False  # alive: not stale
    proc.kill()
    proc.communicate(timeout=30)
    with tracker.start_run(experiment_name="stale", log_code=False) as live_run:
        rows = {r["run_id"]: r for r in tracker.list_runs("stale")}
        assert rows[dead_run]["stale"] and rows[dead_run]["status"] == "RUNNING"
        assert not rows[live_run]["stale"]
        listed = CliRunner().invoke(app, ["--store", str(store), "runs", "list", "stale"])
        assert "(stale)" in listed.output
        assert tracker.reap_runs(dry_run=True) == [dead_run]
        result = CliRunner().invoke(app, ["--store", str(store), "runs", "reap", "--yes", "--json"])
        assert result.exit_code == 0, result.output
    details = tracker.get_run_details(dead_run)["meta"]
    assert details["status"] == "KILLED" and "reaped" in details["error"]
    assert tracker.get_run(live_run)["status"] == "FINISHED"


def test_an_old_heartbeat_makes_a_run_stale_even_on_another_host(tracker):
    with tracker.start_run(log_code=False) as run_id:
        pass
    with sqlite3.connect(tracker.location.sqlite_path) as conn:
        conn.execute("UPDATE runs SET status = 'RUNNING', host = 'elsewhere', end_time = NULL, "
                     "heartbeat_at = '2026-01-01 00:00:00' WHERE id = ?", (run_id,))
    assert tracker.reap_runs(stale_after=3600) == [run_id]
    assert tracker.get_run(run_id)["status"] == "KILLED"


def test_the_heartbeat_advances_while_a_run_is_open(tmp_path):
    tracker = get_tracker(str(tmp_path / "s"), heartbeat_interval=0.1)
    with tracker.start_run(log_code=False) as run_id:
        first = tracker.get_run(run_id)["heartbeat_at"]
        time.sleep(0.5)
        assert tracker.get_run(run_id)["heartbeat_at"] > first


def test_exception_inside_run_keeps_data_and_marks_failed(tracker):
    with pytest.raises(ValueError):
        with tracker.start_run(log_code=False) as run_id:
            tracker.log_metric("m", 1.0)
            raise ValueError("bad batch")
    meta = tracker.get_run_details(run_id)["meta"]
    assert (meta["status"], meta["error"]) == ("FAILED", "ValueError: bad batch")
    assert tracker.get_run(run_id)["m"] == 1.0
    with pytest.raises(exceptions.NoActiveRun):
        tracker.log_metric("m", 2.0)
