"""No input, however wrong, corrupts the store: every bad call raises a clear error and changes nothing."""

import math
import os
import sqlite3
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runelog import exceptions, get_tracker

TABLES = ["experiments", "runs", "params", "tags", "metrics", "artifacts", "dataset_fingerprints",
          "input_links", "registered_models", "model_versions"]


def snapshot(tracker):
    tracker.flush()
    conn = sqlite3.connect(tracker.location.sqlite_path)
    tables = {t: sorted(map(repr, conn.execute(f"SELECT * FROM {t}"))) for t in TABLES}
    conn.close()
    blobs = sorted(p.name for p in tracker.location.blob_dir.rglob("*") if p.is_file())
    return tables, blobs


@pytest.fixture
def world(tracker, tmp_path):
    """A store with one finished run, an artifact, a model and an open run to throw bad input at."""
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    with tracker.start_run(experiment_name="base", log_code=False) as done:
        tracker.log_artifact(str(tmp_path / "data.csv"))
        tracker.log_artifact(str(tmp_path / "data.csv"), name="link/x")
        tracker.log_model({"w": 1}, "model.joblib")
    tracker.register_model(done, "model.joblib", "clf")
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "dest").mkdir()
    os.symlink(outside, tmp_path / "dest" / "link")
    (tmp_path / "bad.csv.dvc").write_text("outs: [{path: bad.csv}]\n")
    (tmp_path / "bad.csv").write_text("x")
    return tracker, done, tmp_path


ACTIVE_RUN_CALLS = {
    "metric is a string": (lambda t, p: t.log_metric("acc", "0.9"), TypeError),
    "metric is None": (lambda t, p: t.log_metric("acc", None), TypeError),
    "metric is an array": (lambda t, p: t.log_metric("acc", [0.1, 0.2]), TypeError),
    "metrics dict with one bad value": (lambda t, p: t.log_metrics({"a": 1.0, "b": "x"}), TypeError),
    "param not JSON-serialisable": (lambda t, p: t.log_param("opt", object()), exceptions.InvalidValue),
    "tag not JSON-serialisable": (lambda t, p: t.set_run_tags({"ok": 1, "bad": {1, 2j}}), exceptions.InvalidValue),
    "empty param key": (lambda t, p: t.log_param("", 1), exceptions.InvalidKey),
    "key over 250 characters": (lambda t, p: t.log_metric("k" * 251, 1.0), exceptions.InvalidKey),
    "artifact name with ..": (lambda t, p: t.log_artifact(str(p / "data.csv"), name="../x"), exceptions.InvalidArtifactName),
    "absolute artifact name": (lambda t, p: t.log_artifact(str(p / "data.csv"), name="/etc/x"), exceptions.InvalidArtifactName),
    "artifact name with NUL": (lambda t, p: t.log_artifact(str(p / "data.csv"), name="a\x00b"), exceptions.InvalidArtifactName),
    "missing artifact file": (lambda t, p: t.log_artifact(str(p / "nope.bin")), exceptions.ArtifactNotFound),
    "malformed .dvc file": (lambda t, p: t.log_dvc_input(str(p / "bad.csv"), "d"), exceptions.DvcFileError),
    "input from unknown run": (lambda t, p: t.log_input_run("x", "f" * 32), exceptions.RunNotFound),
    "start_run inside a run": (lambda t, p: t.start_run().__enter__(), exceptions.RunAlreadyActive),
}


@pytest.mark.parametrize("case", sorted(ACTIVE_RUN_CALLS))
def test_bad_input_inside_a_run_changes_nothing(world, case):
    tracker, _, tmp_path = world
    call, error = ACTIVE_RUN_CALLS[case]
    with tracker.start_run(experiment_name="victim", log_code=False):
        before = snapshot(tracker)
        with pytest.raises(error):
            call(tracker, tmp_path)
        assert snapshot(tracker) == before


def ambiguous(t, p):
    conn = sqlite3.connect(t.location.sqlite_path)
    with conn:
        for suffix in "01":
            conn.execute("INSERT INTO runs (id, experiment_id, status, start_time) VALUES (?, 0, 'FINISHED', '2026-01-01')",
                         ("abcabc" + suffix * 26,))
    conn.close()


OUTSIDE_RUN_CALLS = {
    "log outside a run": (lambda t, d, p: t.log_metric("m", 1.0), exceptions.NoActiveRun),
    "unknown run id": (lambda t, d, p: t.download_artifact("e" * 32, "data.csv", str(p)), exceptions.RunNotFound),
    "malformed run id": (lambda t, d, p: t.delete_run("../../etc"), exceptions.InvalidRunId),
    "ambiguous prefix": (lambda t, d, p: t.delete_run("abcabc"), exceptions.AmbiguousRunId),
    "unknown experiment": (lambda t, d, p: t.delete_experiment("nope"), exceptions.ExperimentNotFound),
    "unknown model": (lambda t, d, p: t.load_registered_model("nope"), exceptions.ModelNotFound),
    "unknown model version": (lambda t, d, p: t.load_registered_model("clf", "9"), exceptions.ModelVersionNotFound),
    "download name with ..": (lambda t, d, p: t.download_artifact(d, "../data.csv", str(p / "dest")),
                              exceptions.InvalidArtifactName),
    "download through a symlink out": (lambda t, d, p: t.download_artifact(d, "link/x", str(p / "dest")),
                                       exceptions.InvalidArtifactName),
    "delete artifact with ..": (lambda t, d, p: t.delete_artifact(d, "../data.csv"), exceptions.InvalidArtifactName),
    "register unknown artifact": (lambda t, d, p: t.register_model(d, "nope.joblib", "clf"), exceptions.ArtifactNotFound),
}


@pytest.mark.parametrize("case", sorted(OUTSIDE_RUN_CALLS))
def test_bad_input_outside_a_run_changes_nothing(world, case):
    tracker, done, tmp_path = world
    ambiguous(tracker, tmp_path)
    call, error = OUTSIDE_RUN_CALLS[case]
    before = snapshot(tracker)
    with pytest.raises(error):
        call(tracker, done, tmp_path)
    assert snapshot(tracker) == before
    assert list((tmp_path / "outside").iterdir()) == []


# ------------------------------------------------------------ property: whatever goes in comes back out

keys = st.text(alphabet=string.ascii_letters + string.digits + "_-./ äøß漢字🙂", min_size=1, max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8)
metric_values = st.floats(allow_nan=True, allow_infinity=True, width=64)


def same_float(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.dictionaries(keys, json_values, max_size=6), tags=st.dictionaries(keys, json_values, max_size=6),
       points=st.lists(st.tuples(keys, metric_values), max_size=25))
def test_anything_logged_round_trips_exactly(tmp_path_factory, params, tags, points):
    tracker = get_tracker(str(tmp_path_factory.mktemp("prop")))
    with tracker.start_run(experiment_name="prop", log_code=False, log_git_meta=False) as run_id:
        tracker.log_params(params)
        tracker.set_run_tags(tags)
        for key, value in points:
            tracker.log_metric(key, value)
    details = tracker.get_run_details(run_id)
    assert details["params"] == params
    assert details["meta"]["tags"] == tags == tracker.get_run_tags(run_id)
    expected: dict[str, list[float]] = {}
    for key, value in points:
        expected.setdefault(key, []).append(value)
    for key, values in expected.items():
        history = tracker.get_metric_history(run_id, key)
        assert history["step"].tolist() == list(range(len(values)))
        assert all(same_float(a, b) for a, b in zip(history["value"].tolist(), values, strict=True))
        assert same_float(details["metrics"][key], values[-1])
    frame = tracker.load_results("prop")
    base = {"experiment_id", "status", "start_time", "end_time"} | {f"param_{k}" for k in params}
    for key, values in expected.items():
        column = f"metric_{key}" if key in base else key  # a metric named like a column keeps both
        assert same_float(frame.loc[run_id, column], values[-1])
    for key, value in params.items():
        assert frame.loc[run_id, f"param_{key}"] == value or (value is None and frame.loc[run_id, f"param_{key}"] is None)
    tracker.close()
