"""Changed or deleted bytes are refused, never handed over; user values never become SQL."""

import os
import pickle
from pathlib import Path

import pytest
from typer.testing import CliRunner

from runelog import exceptions
from runelog.cli import app

from ..pipeline import build_pipeline


@pytest.fixture
def tampered(tracker, tmp_path):
    """The shared pipeline plus a notes.txt artifact, then the feature blob changed and the notes blob deleted."""
    (tmp_path / "notes.txt").write_text("notes")
    built = build_pipeline(tracker, tmp_path / "inputs",
                           featurize=lambda t: t.log_artifact(str(tmp_path / "notes.txt")))
    changed = Path(tracker.get_artifact_abspath(built.feature_run, built.artifact))
    changed.chmod(0o644)
    changed.write_bytes(b"PAR1 features, edited")
    Path(tracker.get_artifact_abspath(built.feature_run, "notes.txt")).unlink()
    return tracker, built.feature_run, built.model_run, tmp_path


def test_changed_blob_is_refused_everywhere(tampered):
    tracker, feature_run, model_run, tmp_path = tampered
    with pytest.raises(exceptions.BlobCorrupted, match="features.parquet"):
        tracker.download_artifact(feature_run, "features.parquet", str(tmp_path / "out"))
    assert not (tmp_path / "out" / "features.parquet").exists()
    with pytest.raises(exceptions.BlobCorrupted):
        tracker.get_artifact_abspath(feature_run, "features.parquet")
    with pytest.raises(exceptions.BlobCorrupted):
        tracker.verify_input(model_run, "feature_set")


def test_deleted_blob_is_reported_missing_not_a_traceback(tampered):
    tracker, feature_run, _, tmp_path = tampered
    with pytest.raises(exceptions.BlobMissing, match="notes.txt"):
        tracker.download_artifact(feature_run, "notes.txt", str(tmp_path / "out"))
    result = CliRunner().invoke(app, ["--store", str(tmp_path / "store"), "runs", "download-artifact",
                                      feature_run, "notes.txt", "-o", str(tmp_path / "out")])
    assert result.exit_code == 1 and "missing" in result.output and "Traceback" not in result.output


def test_runelog_verify_reports_both(tampered):
    _, feature_run, _, tmp_path = tampered
    result = CliRunner().invoke(app, ["--store", str(tmp_path / "store"), "verify"])
    assert result.exit_code == 1
    assert "corrupt" in result.output and "missing" in result.output


def test_changed_local_dataset_is_refused(tracker, tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b\n1,2\n")
    with tracker.start_run(log_code=False) as run_id:
        tracker.log_dataset(str(path), "d")
    path.write_text("a,b\n1,3\n")
    with pytest.raises(exceptions.DatasetMismatch):
        tracker.verify_dataset(run_id, "d", str(path))



class _Bomb:
    """Unpickling this writes a marker file: proof that bytes were unpickled."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_tampered_model_is_never_unpickled(tracker, tmp_path):
    with tracker.start_run(log_code=False) as run_id:
        tracker.log_model({"w": 1}, "m.joblib")
    tracker.register_model(run_id, "m.joblib", "m")
    blob = tracker.get_artifact_abspath(run_id, "m.joblib")
    marker = tmp_path / "pwned"
    os.chmod(blob, 0o644)
    with open(blob, "wb") as fh:
        pickle.dump(_Bomb(str(marker)), fh)
    with pytest.raises(exceptions.BlobCorrupted):
        tracker.load_registered_model("m")
    assert not marker.exists()



def test_injection_shaped_tags_are_stored_and_found_literally(tracker):
    nasty = {"x' OR '1'='1": "\"; DROP TABLE runs; --"}
    with tracker.start_run(experiment_name="e") as run_id:
        tracker.set_run_tags(nasty)
    with tracker.start_run(experiment_name="e"):
        tracker.set_tag("other", 1)
    assert tracker.get_run_tags(run_id) == nasty
    assert [r.run_id for r in tracker.find_runs("e", tags=nasty)] == [run_id]



def test_ad_hoc_sql_cannot_write(tracker, tmp_path):
    with tracker.start_run(log_code=False):
        pass
    runner = CliRunner()
    for statement in ("DELETE FROM runs", "DROP TABLE runs", "UPDATE runs SET status = 'X'",
                      "INSERT INTO experiments (name, created_at) VALUES ('x', '2026-01-01')"):
        result = runner.invoke(app, ["--store", str(tmp_path / "store"), "sql", statement])
        assert result.exit_code == 1 and "Refused" in result.output, statement
    assert len(tracker.find_runs("0")) == 1
