"""The command line: in-process through typer's CliRunner, and the console script in subprocesses."""

import hashlib
import json
import os
import shutil
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from runelog import __version__, db, get_tracker
from runelog.cli import app


def runelog(*args, cwd):
    exe = shutil.which("runelog", path=os.path.dirname(sys.executable)) or "runelog"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNELOG_")}
    return subprocess.run([exe, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def test_version_comes_from_the_package(tmp_path):
    result = runelog("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"runelog {__version__}"
    assert __version__ != "0.0.0+unknown"


def test_db_current_and_upgrade(tmp_path):
    store = tmp_path / "s"
    empty = runelog("--store", str(store), "db", "current", cwd=tmp_path)
    assert empty.returncode == 0 and "(empty)" in empty.stdout
    assert not (store / ".runelog" / "runelog.db").exists()  # looking changes nothing
    up = runelog("--store", str(store), "db", "upgrade", cwd=tmp_path)
    assert up.returncode == 0 and f"to {db.HEAD_REVISION}" in up.stdout
    again = runelog("--store", str(store), "db", "upgrade", cwd=tmp_path)
    assert "Already at" in again.stdout
    current = runelog("--store", str(store), "db", "current", cwd=tmp_path)
    assert "up to date" in current.stdout
    history = runelog("db", "history", cwd=tmp_path)
    assert db.HEAD_REVISION in history.stdout


def test_user_errors_are_one_red_line_and_exit_1(tmp_path):
    bad = tmp_path / ".runelog" / "runelog.db"
    bad.parent.mkdir()
    bad.write_text("not a database at all" * 50)
    result = runelog("db", "current", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("error:") and "not a SQLite database" in result.stderr
    debug = runelog("--debug", "db", "current", cwd=tmp_path)
    assert "Traceback" in debug.stderr


def test_usage_errors_exit_2(tmp_path):
    result = runelog("db", "no-such-command", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


# ------------------------------------------------------------ in-process, through typer's CliRunner

runner = CliRunner()


def invoke(store, *args):
    return runner.invoke(app, ["--store", str(store), *args], catch_exceptions=False)


@pytest.fixture
def pipeline(tmp_path):
    """A feature run, a training run that used its artifact, and a registered model."""
    tracker = get_tracker(str(tmp_path / "s"))
    data = tmp_path / "feat.parquet"
    data.write_bytes(b"features")
    with tracker.start_run(experiment_name="feature-sets", run_name="feats", log_code=False) as feature_run:
        tracker.log_artifact(str(data))
    with tracker.start_run(experiment_name="models", run_name="train", log_code=False) as model_run:
        tracker.log_input_run("feature_set", feature_run, artifact_name="feat.parquet")
        tracker.log_model({"w": 1}, "model.joblib")
    tracker.register_model(model_run, "model.joblib", "clf")
    return tmp_path / "s", feature_run, model_run


def test_lineage_prints_the_tree_with_the_pinned_hash(pipeline):
    store, feature_run, model_run = pipeline
    result = invoke(store, "lineage", model_run[:8])
    assert result.exit_code == 0, result.output
    assert "feature_set" in result.output and "feat.parquet" in result.output
    assert feature_run[:8] in result.output and model_run[:8] in result.output
    assert hashlib.sha256(b"features").hexdigest()[:12] in result.output
    down = invoke(store, "lineage", feature_run, "--downstream")
    assert model_run[:8] in down.output and "→" in down.output
    by_model = invoke(store, "lineage", "--model", "clf")
    assert feature_run[:8] in by_model.output
    as_json = invoke(store, "lineage", model_run, "--json")
    assert json.loads(as_json.output)[0]["run_id"] == feature_run


def test_lineage_errors(pipeline):
    store, feature_run, _ = pipeline
    unknown = invoke(store, "lineage", "abcdef123456")
    assert unknown.exit_code == 1 and "not found" in unknown.output
    missing_model = invoke(store, "lineage", "--model", "nope")
    assert missing_model.exit_code == 1 and "nope" in missing_model.output
    both = invoke(store, "lineage", feature_run, "--model", "clf")
    assert both.exit_code == 2


def test_sql_reads_and_refuses_writes(pipeline):
    store, feature_run, model_run = pipeline
    result = invoke(store, "sql", "SELECT run_id, experiment_name FROM run_summary ORDER BY start_time", "--json")
    assert [r["run_id"] for r in json.loads(result.output)] == [feature_run, model_run]
    csv_out = invoke(store, "sql", "SELECT count(*) AS n FROM runs", "--csv")
    assert csv_out.output.splitlines() == ["n", "2"]
    refused = invoke(store, "sql", "DELETE FROM runs")
    assert refused.exit_code == 1 and "readonly" in refused.output
    assert json.loads(invoke(store, "sql", "SELECT count(*) AS n FROM runs", "--json").output) == [{"n": 2}]
    query = store / "q.sql"
    query.write_text("SELECT name FROM registered_models")
    assert "clf" in invoke(store, "sql", "--file", str(query)).output


def test_examples_run_against_the_selected_store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = tmp_path / "s"
    result = runelog("--store", str(store), "examples", "features", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    trained = runelog("--store", str(store), "examples", "train-fs", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    assert get_tracker(str(store)).list_registered_models() == ["iris-classifier"]
    unknown = runelog("examples", "nope", cwd=tmp_path)
    assert unknown.returncode == 2
