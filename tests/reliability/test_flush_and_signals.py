"""Signals, flushing and deleted runs, attacked with real processes, real signals and real locks.

Each child is a real Python process logging into a real store; signals are
sent with os.kill at random moments; locks are held by other real processes.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from runelog import get_tracker

from .helpers import script, spawn

# ------------------------------------------------------------ item 7: a signal inside a flush


TIGHT_LOOP = """
import sys
from runelog import get_tracker
tracker = get_tracker(sys.argv[1], metric_buffer=5, flush_interval=0.02)
with tracker.start_run(experiment_name="sig", log_code=False, log_git_meta=False) as run_id:
    print(run_id, flush=True)
    i = 0
    while True:
        tracker.log_metric("m", float(i), step=i)  # a flush (one executemany) every 5 points
        i += 1
"""


def _can_write_within(db_path: Path, seconds: float) -> bool:
    """Another process (this one) takes the write lock within `seconds`."""
    conn = sqlite3.connect(db_path, timeout=seconds, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE experiments SET name = name WHERE id = -1")
        conn.execute("COMMIT")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        conn.close()


def _signal_one(child: Path, store: Path, signum: int, delay: float) -> subprocess.Popen:
    proc = spawn(child, store)
    run_id = proc.stdout.readline().strip()
    assert run_id, proc.communicate(timeout=30)[1]
    proc.run_id = run_id
    time.sleep(delay)
    proc.sent_at = time.monotonic()
    proc.send_signal(signum)
    return proc


@pytest.mark.slow
def test_thirty_signals_at_random_moments_of_a_tight_logging_loop(tmp_path):
    """Each process exits within 5 s, its run is KILLED with every point it logged (no gap), and
    another process can write to the store within 5 s. Six children at a time keep it short."""
    child = script(tmp_path, "loop.py", TIGHT_LOOP)
    get_tracker(str(tmp_path / "template")).close()
    for n in range(30):  # a store each, copied: cheaper than creating 30
        shutil.copytree(tmp_path / "template", tmp_path / f"s{n}")
    rng = random.Random(20261202)
    plan = [(n, signal.SIGINT if n % 2 else signal.SIGTERM, rng.uniform(0.05, 0.7)) for n in range(30)]
    problems = []
    for wave in range(0, len(plan), 6):
        procs = [(n, signum, _signal_one(child, tmp_path / f"s{n}", signum, delay))
                 for n, signum, delay in plan[wave:wave + 6]]
        for n, signum, proc in procs:
            try:
                _, err = proc.communicate(timeout=max(0.1, 5 - (time.monotonic() - proc.sent_at)))
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
                problems.append(f"child {n} ({signum.name}) still running 5 s after the signal: {err[-2000:]}")
                continue
            took = time.monotonic() - proc.sent_at
            expected = (-signal.SIGINT, 1) if signum == signal.SIGINT else (128 + signal.SIGTERM,)
            if proc.returncode not in expected:
                problems.append(f"child {n} ({signum.name}) exited {proc.returncode} after {took:.1f} s: {err[-2000:]}")
            db_path = tmp_path / f"s{n}" / ".runelog" / "runelog.db"
            if not _can_write_within(db_path, 5):
                problems.append(f"child {n} ({signum.name}): the store stayed locked")
                continue
            conn = sqlite3.connect(db_path)
            status, error = conn.execute("SELECT status, error FROM runs WHERE id = ?", (proc.run_id,)).fetchone()
            count, low, high = conn.execute(
                "SELECT count(*), min(step), max(step) FROM metrics WHERE run_id = ?", (proc.run_id,)).fetchone()
            conn.close()
            reason = "KeyboardInterrupt" if signum == signal.SIGINT else "SIGTERM"
            if (status, error) != ("KILLED", reason):
                problems.append(f"child {n} ({signum.name}): run is {status} ({error})")
            if count and (low, high) != (0, count - 1):
                problems.append(f"child {n}: steps {low}..{high} for {count} points: a gap")
    assert not problems, "\n".join(problems)


def test_the_signal_waits_for_the_write_it_lands_in(tracker, tmp_path):
    """In-process: a SIGTERM sent from inside the flush's executemany is raised after the commit."""
    from sqlalchemy import event

    from runelog.exceptions import RunTerminated

    fired = []

    def during_insert(conn, cursor, statement, parameters, context, executemany):
        if executemany and "INSERT INTO metrics" in statement and not fired:
            fired.append(True)
            os.kill(os.getpid(), signal.SIGTERM)  # lands here, between two bytecodes of the write

    event.listen(tracker._engine, "before_cursor_execute", during_insert)
    with pytest.raises(RunTerminated):
        with tracker.start_run(log_code=False, log_git_meta=False) as run_id:
            for i in range(50):
                tracker.log_metric("m", float(i))
            tracker.flush()
            pytest.fail("the signal was lost")
    assert fired
    assert tracker.get_run(run_id)["status"] == "KILLED"
    assert len(tracker.get_metric_history(run_id, "m")) == 50  # the interrupted flush was committed


# ------------------------------------------------------------ item 9: one handler for every open run


TWO_TRACKERS = """
import sys, time
from runelog import get_tracker
mode = sys.argv[2]
a = get_tracker(sys.argv[1] + "/a")
b = get_tracker(sys.argv[1] + "/b")
first = a.start_run(experiment_name="a", log_code=False, log_git_meta=False)
run_a = first.__enter__()
second = b.start_run(experiment_name="b", log_code=False, log_git_meta=False)
run_b = second.__enter__()
a.log_metric("m", 1.0)
b.log_metric("m", 2.0)
if mode == "out-of-order":
    first.__exit__(None, None, None)  # the first run ends while the second is still open
print(run_a, run_b, flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("mode", ["out-of-order", "both-open"])
def test_sigterm_reaches_every_open_run_of_every_tracker(tmp_path, mode):
    proc = spawn(script(tmp_path, "two.py", TWO_TRACKERS), tmp_path, mode)
    run_a, run_b = proc.stdout.readline().split()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM, err
    a, b = get_tracker(str(tmp_path / "a")), get_tracker(str(tmp_path / "b"))
    expected_a = ("FINISHED", None) if mode == "out-of-order" else ("KILLED", "SIGTERM")
    meta_a, meta_b = a.get_run_details(run_a)["meta"], b.get_run_details(run_b)["meta"]
    assert (meta_a["status"], meta_a["error"]) == expected_a
    assert (meta_b["status"], meta_b["error"]) == ("KILLED", "SIGTERM")
    assert a.get_run(run_a)["m"] == 1.0 and b.get_run(run_b)["m"] == 2.0


THREAD_RUN = """
import sys, threading, time
from runelog import get_tracker
main, worker = get_tracker(sys.argv[1] + "/main"), get_tracker(sys.argv[1] + "/worker")
ready = threading.Event()
ids = {}

def train():
    with worker.start_run(experiment_name="w", log_code=False, log_git_meta=False) as run_id:
        ids["worker"] = run_id
        ready.set()
        i = 0
        while True:
            worker.log_metric("m", float(i))
            i += 1
            time.sleep(0.01)

with main.start_run(experiment_name="m", log_code=False, log_git_meta=False) as run_id:
    threading.Thread(target=train).start()  # not a daemon: the process waits for it
    ready.wait()
    print(run_id, ids["worker"], flush=True)
    time.sleep(60)
"""


def test_sigterm_ends_a_run_logging_from_another_thread(tmp_path):
    proc = spawn(script(tmp_path, "thread.py", THREAD_RUN), tmp_path)
    main_run, worker_run = proc.stdout.readline().split()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert get_tracker(str(tmp_path / "main")).get_run(main_run)["status"] == "KILLED"
    assert get_tracker(str(tmp_path / "worker")).get_run(worker_run)["status"] == "KILLED"


# ------------------------------------------------------------ item 8: the flush bound, per store


HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("LOCKED", flush=True)
time.sleep(120)
"""

TWO_STORES = """
import sys, time
from runelog import get_tracker
a, b = get_tracker(sys.argv[1]), get_tracker(sys.argv[2])
with a.start_run(experiment_name="a", log_code=False, log_git_meta=False), \\
        b.start_run(experiment_name="b", log_code=False, log_git_meta=False) as run_b:
    print(run_b, flush=True)
    sys.stdin.readline()  # the parent locks store A now
    a.log_metric("m", 0.0)  # store A's timer now meets a held lock, again and again
    for i in range(80):
        b.log_metric("m", float(i), step=i)
        time.sleep(0.01)
    print("LOGGED", flush=True)
    time.sleep(60)
"""


def test_a_locked_store_does_not_stall_the_flushes_of_another(tmp_path):
    store_a, store_b = tmp_path / "a", tmp_path / "b"
    for store in (store_a, store_b):
        get_tracker(str(store)).close()
    child = subprocess.Popen([sys.executable, str(script(tmp_path, "two.py", TWO_STORES)), store_a, store_b],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={k: v for k, v in os.environ.items() if not k.startswith("RUNELOG_")})
    run_b = child.stdout.readline().strip()
    holder = spawn(script(tmp_path, "hold.py", HOLD_LOCK), store_a / ".runelog" / "runelog.db")
    try:
        assert holder.stdout.readline().strip() == "LOCKED"
        child.stdin.write("go\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "LOGGED", child.stderr.read()
        time.sleep(1.5)  # more than the 1 s bound
        child.kill()
        child.communicate(timeout=30)
    finally:
        holder.kill()
        holder.communicate(timeout=30)
    conn = sqlite3.connect(store_b / ".runelog" / "runelog.db")
    stored = conn.execute("SELECT count(*) FROM metrics WHERE run_id = ?", (run_b,)).fetchone()[0]
    conn.close()
    assert stored == 80


FULL_DISK = """
import sys, time, warnings
from runelog import get_tracker
tracker = get_tracker(sys.argv[1], flush_interval=0.2)
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    with tracker.start_run(experiment_name="full", log_code=False, log_git_meta=False) as run_id:
        print(run_id, flush=True)
        for i in range(101):
            tracker.log_metric("m", float(i), step=i)
            time.sleep(0.05)  # 101 points over 5 s
        print("LOGGED", len([w for w in seen if "cannot write" in str(w.message)]), flush=True)
        time.sleep(60)
"""


@pytest.fixture
def small_disk(tmpfs):
    """A real 2 MiB tmpfs (see conftest.tmpfs)."""
    return tmpfs("2m", "disk")


def _fill(folder: Path) -> Path:
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as fh:  # unbuffered: close() has nothing left to fail on
        try:
            while True:
                fh.write(b"\0" * 4096)
        except OSError:
            pass
    return filler


def test_points_logged_while_the_disk_is_full_are_written_once_it_has_room(small_disk, tmp_path):
    store = small_disk / "s"
    get_tracker(str(store)).close()
    proc = spawn(script(tmp_path, "full.py", FULL_DISK), store)
    run_id = proc.stdout.readline().strip()
    assert run_id, proc.stderr.read()
    time.sleep(1.0)
    filler = _fill(small_disk)  # a full disk during flushes, for 2 s
    time.sleep(2.0)
    filler.unlink()
    line = proc.stdout.readline().split()
    assert line[0] == "LOGGED", proc.stderr.read()
    assert int(line[1]) == 1  # the full disk did fail flushes, and it was reported once, not every second
    time.sleep(1.5)  # more than the bound after the last point
    proc.kill()
    proc.communicate(timeout=30)
    conn = sqlite3.connect(store / ".runelog" / "runelog.db")
    count, high = conn.execute("SELECT count(*), max(step) FROM metrics WHERE run_id = ?", (run_id,)).fetchone()
    conn.close()
    assert (count, high) == (101, 100)  # nothing lost over the 5 s


def test_the_logging_call_flushes_when_the_background_thread_cannot(tmp_path):
    """The bound does not rest on the timer thread: with the store's thread held up by another job,
    the first logging call after the interval writes the waiting points itself."""
    from runelog import background

    tracker = get_tracker(str(tmp_path / "s"), flush_interval=0.3)
    with tracker.start_run(log_code=False, log_git_meta=False) as run_id:
        scheduler = background.for_store(str(tracker._engine.url))
        scheduler.at("blocker", 0, lambda: time.sleep(3))  # the store's thread is busy for 3 s
        time.sleep(0.1)
        tracker.log_metric("m", 1.0)
        time.sleep(0.5)
        tracker.log_metric("m", 2.0)  # the first point is 0.5 s old: this call writes both
        conn = sqlite3.connect(tracker.location.sqlite_path)
        stored = conn.execute("SELECT count(*) FROM metrics WHERE run_id = ?", (run_id,)).fetchone()[0]
        conn.close()
        assert stored == 2


GIL_HOLDER = """
import os, signal, sys, time
from runelog import get_tracker
tracker = get_tracker(sys.argv[1])
start = time.monotonic()
sum(range(5_000_000))
size = int(5_000_000 * 2.0 / max(time.monotonic() - start, 1e-3))  # about 2 s of summing on this machine
with tracker.start_run(experiment_name="gil", log_code=False, log_git_meta=False) as run_id:
    print(run_id, flush=True)
    for i in range(10):
        tracker.log_metric("m", float(i), step=i)
    start = time.monotonic()
    sum(range(size))  # one C call that never lets go of the GIL (seconds long)
    held = time.monotonic() - start
    tracker.log_metric("m", 10.0, step=10)  # the first logging call after it writes everything due
    print(held, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # at once: only what the logging call wrote is there
"""


def test_points_before_a_long_gil_holding_call_are_written_by_the_next_logging_call(tmp_path):
    """What is achievable: during the C call no thread of the process runs, so nothing can be
    written then (a kill during it loses the points of the call's length); the first logging
    call after it writes the points that are due before it returns. (That the logging call does
    it by itself is shown deterministically by the test above.)"""
    store = tmp_path / "s"
    proc = spawn(script(tmp_path, "gil.py", GIL_HOLDER), store)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL, err
    run_id, held = out.split()
    assert float(held) > 1.0  # longer than the bound, or the test proves nothing
    conn = sqlite3.connect(store / ".runelog" / "runelog.db")
    stored = conn.execute("SELECT count(*) FROM metrics WHERE run_id = ?", (run_id,)).fetchone()[0]
    conn.close()
    # The ten points logged before the call were due when it ended: written before the kill, by the
    # logging call or by the timer thread (whichever got the GIL first). The eleventh was not due yet.
    assert stored >= 10


# ------------------------------------------------------------ item 11: the run is deleted while it logs


LOG_INTO_DELETED = """
import sys, time, warnings
from runelog import get_tracker, exceptions
tracker = get_tracker(sys.argv[1], flush_interval=0.1, heartbeat_interval=0.2)
errors = []
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    try:
        with tracker.start_run(experiment_name="d", log_code=False, log_git_meta=False) as run_id:
            tracker.log_param("p", 1)
            print(run_id, flush=True)
            sys.stdin.readline()  # the parent deletes the run now
            for i in range(300):
                try:
                    tracker.log_metric("m", float(i))
                    if i % 100 == 0:
                        tracker.set_tag("t", i)
                except exceptions.RunDeleted as exc:
                    errors.append(exc)
                    break
                time.sleep(0.01)
            time.sleep(1.0)  # timers and heartbeats meet the deleted run
    except Exception as exc:
        print("END RAISED", type(exc).__name__, exc, flush=True)
    runelog_warnings = [w for w in seen if "runelog" in str(w.message) or "Run '" in str(w.message)]
    print("ERRORS", len(errors), type(errors[0]).__name__ if errors else "-", flush=True)
    print("WARNINGS", len(runelog_warnings), flush=True)
"""


def test_deleting_a_run_from_another_process_gives_the_logger_one_clear_error(tmp_path):
    store = tmp_path / "s"
    proc = subprocess.Popen([sys.executable, str(script(tmp_path, "deleted.py", LOG_INTO_DELETED)), store],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={k: v for k, v in os.environ.items() if not k.startswith("RUNELOG_")})
    run_id = proc.stdout.readline().strip()
    deleter = subprocess.run([sys.executable, "-c", "import sys; from runelog import get_tracker; "
                              "get_tracker(sys.argv[1]).delete_run(sys.argv[2])", store, run_id],
                             capture_output=True, text=True, timeout=60)
    assert deleter.returncode == 0, deleter.stderr
    proc.stdin.write("go\n")
    proc.stdin.flush()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "END RAISED" not in out, out
    assert "ERRORS 1 RunDeleted" in out, out
    assert "WARNINGS 0" in out or "WARNINGS 1" in out, out
    assert "IntegrityError" not in err and "Traceback" not in err, err
    tracker = get_tracker(str(store))
    assert tracker.get_run(run_id) is None
    with tracker.start_run(experiment_name="d", log_code=False, log_git_meta=False) as other:
        tracker.log_metric("m", 1.0)
    assert tracker.get_run(other)["status"] == "FINISHED"


def test_a_run_deleted_meanwhile_raises_run_deleted_on_both_backends(store_options):
    """In one process, on SQLite and PostgreSQL: the logging call that meets the deletion raises
    RunDeleted (a RunNotFound), so do later ones, and the run's end neither raises nor warns."""
    from runelog import exceptions

    logger = get_tracker(**store_options, metric_buffer=0)  # every point is written at once
    deleter = get_tracker(**store_options)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with logger.start_run(log_code=False, log_git_meta=False) as run_id:
            logger.log_metric("m", 1.0)
            deleter.delete_run(run_id)
            with pytest.raises(exceptions.RunDeleted) as raised:
                logger.log_metric("m", 2.0)
            assert isinstance(raised.value, exceptions.RunNotFound) and run_id in str(raised.value)
            with pytest.raises(exceptions.RunDeleted):
                logger.log_param("p", 1)
            Path("note.txt").write_text("written after the run was deleted")
            with pytest.raises(exceptions.RunDeleted):  # writes outside the metric writer say the same
                logger.log_artifact("note.txt")
            with pytest.raises(exceptions.RunDeleted):
                logger.log_dataset("note.txt", "notes")
    assert not [w for w in seen if "runelog" in str(w.message) or run_id in str(w.message)]
    assert deleter.get_run(run_id) is None
    with logger.start_run(log_code=False, log_git_meta=False) as other:
        logger.log_metric("m", 3.0)
    assert deleter.get_run(other)["m"] == 3.0
    logger.close()
    deleter.close()
