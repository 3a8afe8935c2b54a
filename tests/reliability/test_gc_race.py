"""gc against writers in flight: a committed row never loses its blob, whatever the grace period.

Real processes on both backends: two writers log 300 artifacts each (some bytes
shared between them, some re-logged after being deleted, so the store already
had them) while a third runs gc in a tight loop with a grace period of 0, and
now and then the default grace, which must never trip over temp files or blobs
that vanish while it looks.
"""

import hashlib
import io
import json
import time

import pytest

from runelog import get_tracker, maintenance, runs

from .helpers import WAIT_FOR_START, script, spawn, start_together


WRITER = WAIT_FOR_START + """
import json
from pathlib import Path
from runelog import get_tracker
options, who = json.loads(sys.argv[1]), sys.argv[3]
tracker = get_tracker(**options)
folder = Path(f"files-{who}")
folder.mkdir()
with tracker.start_run(experiment_name="race", log_code=False, log_git_meta=False) as run_id:
    for i in range(int(sys.argv[4])):
        path = folder / f"f{i}.txt"
        # Every third file has the same bytes in both writers: one of them finds the blob already there.
        path.write_text(f"shared {i}" if i % 3 == 0 else f"{who} {i}")
        tracker.log_artifact(str(path))
        if i % 10 == 0:
            # Unreferenced for a moment, then logged again from the same file: the store's
            # copy may be collected between the re-hash and the commit, and must be put back.
            tracker.delete_artifact(run_id, path.name)
            tracker.log_artifact(str(path), name=f"again/{path.name}")
        if i % 10 == 5:  # garbage for gc to take: logged, then forgotten
            junk = folder / "junk.txt"
            junk.write_text(f"junk {who} {i}")
            tracker.log_artifact(str(junk))
            tracker.delete_artifact(run_id, "junk.txt")
print(run_id)
"""

COLLECTOR = WAIT_FOR_START + """
import json, traceback
from pathlib import Path
from runelog import get_tracker
options, stop = json.loads(sys.argv[1]), Path(sys.argv[3])
tracker = get_tracker(**options)
calls = removed = 0
try:
    while not stop.exists():
        report = tracker.gc(grace_seconds=0 if calls % 5 else 3600)
        calls += 1
        removed += len(report.blobs)
except BaseException:
    traceback.print_exc()
    sys.exit(1)
print(calls, removed)
"""


@pytest.mark.slow
def test_gc_with_grace_0_never_takes_a_blob_a_committed_row_names(tmp_path, store_options, artifacts=300):
    options = json.dumps(store_options)
    get_tracker(**store_options).close()  # the store exists before the race starts
    stop = tmp_path / "stop"
    start = start_together(2.0)
    writer = script(tmp_path, "writer.py", WRITER)
    collector = spawn(script(tmp_path, "collector.py", COLLECTOR), options, start, stop)
    writers = [spawn(writer, options, start, who, artifacts) for who in ("a", "b")]
    outcomes = [p.communicate(timeout=240) for p in writers]
    stop.touch()
    gc_out, gc_err = collector.communicate(timeout=60)
    for proc, (_, err) in zip(writers, outcomes, strict=True):
        assert proc.returncode == 0, err
    assert collector.returncode == 0, gc_err  # never raised (no FileNotFoundError, no lock error)
    calls, removed = map(int, gc_out.split())
    assert calls > 10 and removed > 0  # it really ran, and really deleted the blobs it could

    tracker = get_tracker(**store_options)
    run_ids = [out.strip() for out, _ in outcomes]
    for run_id in run_ids:
        names = {a.name for a in tracker.list_artifacts(run_id)}
        assert len(names) == artifacts  # every tenth was deleted and logged again under again/
        assert sum(name.startswith("again/") for name in names) == artifacts // 10
    report = tracker.verify()
    assert report.checked > artifacts and report.ok, [(p.sha256, p.problem, p.references) for p in report.problems]
    for run_id in run_ids:  # every referenced blob is there and downloads with the right bytes
        for artifact in tracker.list_artifacts(run_id)[:20]:
            tracker.download_artifact(run_id, artifact.name, str(tmp_path / "out" / run_id))
    tracker.gc(grace_seconds=0)  # what the loop left is garbage only
    assert tracker.verify().ok
    tracker.close()


@pytest.mark.slow
def test_gc_ignores_files_that_vanish_under_it(tmp_path):
    """Two collectors at once: each finds the other's deletions gone, and says nothing."""
    tracker = get_tracker(str(tmp_path / "store"))
    for i in range(200):  # blobs no row names
        path = tmp_path / f"f{i}"
        path.write_text(str(i))
        tracker._blobs.put(path)
    tracker.close()
    options = json.dumps({"path": str(tmp_path / "store")})
    stop = tmp_path / "stop"
    start = start_together()
    collector = script(tmp_path, "collector.py", COLLECTOR)
    procs = [spawn(collector, options, start, stop) for _ in range(2)]
    blobs = tmp_path / "store" / ".runelog" / "blobs"
    deadline = time.time() + 60
    while any(p.is_file() for p in blobs.rglob("*")):
        assert time.time() < deadline, "the collectors did not collect"
        time.sleep(0.1)
    time.sleep(0.5)  # a few more rounds on an empty store
    stop.touch()
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert int(out.split()[0]) > 1


# ------------------------------------------------------------ the two halves, step by step, in one process


def test_gc_checks_again_under_the_lock_so_a_stale_snapshot_deletes_nothing_referenced(tmp_path, store_options):
    """gc's first look at the references is only a snapshot: rows committed after it must still win."""
    tracker = get_tracker(**store_options)
    (tmp_path / "kept.txt").write_text("kept")
    (tmp_path / "junk.txt").write_text("junk")
    with tracker.start_run(log_code=False, log_git_meta=False) as run_id:
        tracker.log_artifact(str(tmp_path / "kept.txt"))
        tracker.log_artifact(str(tmp_path / "junk.txt"))
    tracker.delete_artifact(run_id, "junk.txt")
    stale = set()  # as if the snapshot had been taken before either row was committed
    report = tracker._blobs.collect(stale, grace_seconds=0, guard=maintenance.guard(tracker._write))
    assert report.blobs == [hashlib.sha256(b"junk").hexdigest()]
    assert tracker.verify().ok and tracker.verify().checked == 1
    tracker.close()


def test_a_writer_puts_back_a_blob_gc_took_before_its_row_committed(tmp_path, store_options):
    """The writer's half: bytes the store had when they were hashed, collected before the commit."""
    tracker = get_tracker(**store_options)
    source = tmp_path / "data.txt"
    source.write_text("bytes the store already had")
    with tracker.start_run(log_code=False, log_git_meta=False) as run_id:
        tracker.log_artifact(str(source))
        tracker.delete_artifact(run_id, "data.txt")
        with tracker._blobs.batch() as batch:
            blob = batch.add(source)  # known bytes: re-hashed, not copied
            assert blob.file is None
            assert tracker.gc(grace_seconds=0).blobs == [blob.digest]  # gc comes in between
            with tracker._write() as session:
                maintenance.hold_blobs(session)
                batch.place()
                runs.write_artifacts(session, run_id, [("data.txt", blob.digest, blob.size)])
    assert tracker.verify().ok
    out = tracker.download_artifact(run_id, "data.txt", str(tmp_path / "out"))
    assert open(out).read() == "bytes the store already had"
    tracker.close()


def test_scratch_folders_in_use_are_never_collected_and_abandoned_ones_are(tmp_path):
    tracker = get_tracker(str(tmp_path / "store"))
    with tracker._blobs.batch() as batch:  # a writer mid-copy
        staged = batch.add_open(io.BytesIO(b"in flight"))
        assert tracker.gc(grace_seconds=0).temp_files == []
        assert staged.file.exists()
    abandoned = tracker.location.tmp_dir / "w-crashed"
    abandoned.mkdir()
    (abandoned / "blob-1.part").write_bytes(b"half")
    assert tracker.gc(grace_seconds=0).temp_files == [str(abandoned)]
    assert not abandoned.exists()
    tracker.close()
