"""Every long call reports progress(done, total) the same way: from 0, never backwards, ending at total."""

from __future__ import annotations

import pytest


def _recorder():
    calls: list[tuple[int, int | None]] = []
    return calls, lambda done, total: calls.append((done, total))


def _check(calls, total):
    assert calls[0] == (0, total), calls
    assert calls[-1] == (total, total), calls
    dones = [d for d, _ in calls]
    assert dones == sorted(dones), calls


@pytest.fixture()
def three_blobs(tracker, tmp_path):
    with tracker.run("p", log_code=False) as run:
        for i in range(3):
            f = tmp_path / f"f{i}.txt"
            f.write_text(f"content {i}")
            run.log_artifact(f)
    return run.id


def test_verify_counts_blobs(tracker, three_blobs):
    calls, progress = _recorder()
    report = tracker.verify(progress=progress)
    assert report.ok and report.checked == 3
    _check(calls, 3)


def test_gc_counts_candidate_blobs(tracker, three_blobs):
    tracker.delete_run(three_blobs)
    calls, progress = _recorder()
    report = tracker.gc(grace_seconds=0, progress=progress)
    assert len(report.blobs) == 3
    _check(calls, 3)


def test_backup_counts_copied_blobs(tmp_path):
    from runelog import get_tracker

    tracker = get_tracker(str(tmp_path / "store"))
    with tracker.run("p", log_code=False) as run:
        for i in range(3):
            (tmp_path / f"f{i}.txt").write_text(f"content {i}")
            run.log_artifact(tmp_path / f"f{i}.txt")
    calls, progress = _recorder()
    report = tracker.backup(tmp_path / "copy", progress=progress)
    assert report.blobs == 3
    _check(calls, 3)


def test_a_sweep_counts_runs(tmp_path):
    from runelog.sweep import run_sweep

    config = tmp_path / "sweep.yaml"
    config.write_text("""
experiment_name: progress
dataset: {source: sklearn.datasets.load_iris}
validation: {strategy: train_test_split, params: {test_size: 0.3, random_state: 0}}
evaluation: {metrics: [accuracy_score]}
runs:
  - {id: a, model_class: sklearn.tree.DecisionTreeClassifier, model_params: {random_state: 0}}
  - {id: b, model_class: sklearn.tree.DecisionTreeClassifier, model_params: {random_state: 1}}
""")
    calls, progress = _recorder()
    result = run_sweep(config, store=str(tmp_path / "store"), progress=progress)
    assert result.ok
    _check(calls, 2)
