"""Several processes on one store at once: no errors, nothing lost, one schema, one experiment."""

import sqlite3

import pytest

from runelog import db

from .helpers import WAIT_FOR_START, script, spawn, start_together

WRITER = WAIT_FOR_START + """
from runelog import get_tracker
tracker = get_tracker(sys.argv[1], metric_buffer=int(sys.argv[3]))
with tracker.start_run(experiment_name="parallel", log_code=False, log_git_meta=False):
    for i in range(2000):
        tracker.log_metric("m", float(i), step=i)
"""

READER = WAIT_FOR_START + """
from runelog import get_tracker, exceptions
tracker = get_tracker(sys.argv[1])
reads = 0
deadline = time.time() + 60
while time.time() < deadline:
    try:
        frame = tracker.load_results("parallel")
        reads += 1
        if len(frame) == 4 and set(frame["status"]) == {"FINISHED"}:
            break
    except exceptions.ExperimentNotFound:
        pass
print(reads)
"""


@pytest.mark.parametrize("buffer", [1000, 0], ids=["buffered", "commit-per-call"])
def test_four_writers_and_two_readers_on_a_new_store(tmp_path, buffer):
    store = tmp_path / "store"
    start = start_together()
    writer, reader = script(tmp_path, "writer.py", WRITER), script(tmp_path, "reader.py", READER)
    procs = [spawn(writer, store, start, buffer) for _ in range(4)] + [spawn(reader, store, start) for _ in range(2)]
    outcomes = [p.communicate(timeout=180) for p in procs]
    for proc, (_, err) in zip(procs, outcomes, strict=True):
        assert proc.returncode == 0 and err == "", err
    assert all(int(out) > 0 for out, _ in outcomes[4:])  # the readers did read while writers wrote
    conn = sqlite3.connect(store / ".runelog" / "runelog.db")
    assert conn.execute("SELECT count(*) FROM metrics").fetchone() == (8000,)
    assert conn.execute("SELECT count(*), count(DISTINCT run_id) FROM metrics GROUP BY run_id").fetchall() == [(2000, 1)] * 4
    assert conn.execute("SELECT status, count(*) FROM runs GROUP BY status").fetchall() == [("FINISHED", 4)]
    assert conn.execute("SELECT count(*) FROM experiments WHERE name = 'parallel'").fetchone() == (1,)
    conn.close()


SAME_EXPERIMENT = WAIT_FOR_START + """
from runelog import get_tracker
print(get_tracker(sys.argv[1]).get_or_create_experiment("shared-name"))
"""


def test_four_processes_creating_one_experiment_name_get_one_experiment(tmp_path):
    store = tmp_path / "store"
    from runelog import get_tracker

    get_tracker(str(store)).close()  # an existing store: the race is on the experiment row alone
    start = start_together()
    procs = [spawn(script(tmp_path, "exp.py", SAME_EXPERIMENT), store, start) for _ in range(4)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), [e for _, e in outs]
    assert len({out.strip() for out, _ in outs}) == 1
    with sqlite3.connect(store / ".runelog" / "runelog.db") as conn:
        assert conn.execute("SELECT count(*) FROM experiments WHERE name = 'shared-name'").fetchone() == (1,)


OPENER = WAIT_FOR_START + """
from runelog import get_tracker
tracker = get_tracker(sys.argv[1])
with tracker.start_run(experiment_name="first-use", log_code=False):
    for i in range(50):
        tracker.log_metric("m", float(i))
"""


def test_four_processes_opening_a_brand_new_store_get_one_schema(tmp_path):
    store = tmp_path / "store"
    start = start_together()
    procs = [spawn(script(tmp_path, "open.py", OPENER), store, start) for _ in range(4)]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    conn = sqlite3.connect(store / ".runelog" / "runelog.db")
    assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(db.HEAD_REVISION,)]
    assert conn.execute("SELECT count(*) FROM experiments WHERE name = 'first-use'").fetchone() == (1,)
    assert conn.execute("SELECT count(*), count(DISTINCT run_id) FROM metrics").fetchone() == (200, 4)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
