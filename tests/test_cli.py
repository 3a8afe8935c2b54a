"""The command line: in-process through typer's CliRunner, and the console script in subprocesses."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from runelog import __version__, db, get_tracker
from runelog.cli import app

from .pipeline import build_pipeline, feature_bytes


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
    """The shared feature run -> model run -> registered model `clf` (tests/pipeline.py) in store `s`."""
    built = build_pipeline(get_tracker(str(tmp_path / "s")), tmp_path, artifact="feat.parquet")
    return tmp_path / "s", built.feature_run, built.model_run


def test_lineage_prints_the_tree_with_the_pinned_hash(pipeline):
    store, feature_run, model_run = pipeline
    result = invoke(store, "lineage", model_run[:8])
    assert result.exit_code == 0, result.output
    assert "feature_set" in result.output and "feat.parquet" in result.output
    assert feature_run[:8] in result.output and model_run[:8] in result.output
    assert hashlib.sha256(feature_bytes()).hexdigest()[:12] in result.output
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
    assert refused.exit_code == 1 and "Refused: DELETE is not a reading statement" in refused.output
    assert json.loads(invoke(store, "sql", "SELECT count(*) AS n FROM runs", "--json").output) == [{"n": 2}]
    query = store / "q.sql"
    query.write_text("SELECT name FROM registered_models")
    assert "clf" in invoke(store, "sql", "--file", str(query)).output


@pytest.mark.slow  # over 12 s: run by `make test-slow` (and CI)
def test_examples_run_against_the_selected_store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = tmp_path / "s"
    result = runelog("--store", str(store), "examples", "make-features", cwd=tmp_path)  # 0.2.0's names
    assert result.returncode == 0, result.stderr
    trained = runelog("--store", str(store), "examples", "train-with-fs", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    assert get_tracker(str(store)).list_registered_models() == ["iris-classifier"]
    unknown = runelog("examples", "nope", cwd=tmp_path)
    assert unknown.returncode == 2


@pytest.fixture
def populated(tmp_path):
    """Three runs in one experiment with params, metric histories, tags and an artifact."""
    store = tmp_path / "s"
    tracker = get_tracker(str(store))
    ids = []
    for lr, loss, tagged in ((0.1, 0.5, True), (0.2, 0.3, False), (0.3, 0.4, True)):
        with tracker.start_run(experiment_name="exp", run_name=f"lr{lr}", log_code=False) as run_id:
            tracker.log_params({"lr": lr, "layers": 2})
            tracker.log_metric("loss", loss * 2)
            tracker.log_metric("loss", loss)
            tracker.log_metric("acc", 1 - loss)
            tracker.set_run_tags({"latest_feature_set": tagged})
        ids.append(run_id)
    (tmp_path / "notes.txt").write_text("hello")
    with tracker.start_run(experiment_name="other", log_code=False) as other:
        tracker.log_artifact(str(tmp_path / "notes.txt"))
    tracker.close()
    return store, ids, other


def test_experiments_list_get_export_delete(populated, tmp_path):
    store, ids, _ = populated
    listed = json.loads(invoke(store, "experiments", "list", "--json").output)
    assert {e["name"]: e["num_runs"] for e in listed if e["num_runs"]} == {"exp": 3, "other": 1}
    table = invoke(store, "experiments", "list", "--sort-by", "num_runs", "--desc").output
    assert table.index("exp") < table.index("other")
    got = json.loads(invoke(store, "experiments", "get", "exp", "--sort-by", "loss", "--json").output)
    assert [r["run_id"] for r in got] == [ids[1], ids[2], ids[0]]
    assert "lr0.2" in invoke(store, "experiments", "get", "exp").output

    csv_file = tmp_path / "exp.csv"
    assert invoke(store, "experiments", "export", "exp", "-o", str(csv_file)).exit_code == 0
    import pandas as pd

    assert sorted(pd.read_csv(csv_file, index_col="run_id", converters={"run_id": str}).index) == sorted(ids)
    parquet_file = tmp_path / "exp.parquet"
    invoke(store, "experiments", "export", "exp", "-o", str(parquet_file))
    assert pd.read_parquet(parquet_file)["loss"].min() == 0.3

    refused = runner.invoke(app, ["--store", str(store), "experiments", "delete", "exp"], input="n\n")
    assert refused.exit_code == 0 and len(get_tracker(str(store)).load_results("exp")) == 3
    assert invoke(store, "experiments", "delete", "exp", "--yes").exit_code == 0
    missing = invoke(store, "experiments", "get", "exp")
    assert missing.exit_code == 1 and "not found" in missing.output


def test_runs_list_filters_sorts_and_limits(populated):
    store, ids, _ = populated
    def listed(*args):
        result = invoke(store, "runs", "list", "exp", "--json", *args)
        assert result.exit_code == 0, result.output
        return [r["run_id"] for r in json.loads(result.output)]

    assert listed() == ids
    assert listed("--sort-by", "acc", "--desc") == [ids[1], ids[2], ids[0]]
    assert listed("--sort-by", "param_lr", "--desc", "--limit", "2") == [ids[2], ids[1]]
    assert listed("--tag", "latest_feature_set=true") == [ids[0], ids[2]]
    assert listed("--status", "failed") == []
    table = invoke(store, "runs", "list", "exp").output
    assert all(i[:8] in table for i in ids) and ids[0][:9] not in table
    bad = invoke(store, "runs", "list", "exp", "--tag", "novalue")
    assert bad.exit_code == 2
    assert invoke(store, "runs", "list", "nope").exit_code == 1


def test_runs_get_shows_everything_about_a_run(populated):
    store, ids, other = populated
    shown = invoke(store, "runs", "get", ids[1][:8])
    assert shown.exit_code == 0
    for text in (ids[1], "lr", "0.2000", "loss", "latest_feature_set"):
        assert text in shown.output
    details = json.loads(invoke(store, "runs", "get", ids[1], "--json").output)
    assert {m["key"]: (m["value"], m["step"], m["count"]) for m in details["metrics"]} == {
        "acc": (0.7, 0, 1), "loss": (0.3, 1, 2)}
    artifact = json.loads(invoke(store, "runs", "get", other, "--json").output)["artifacts"][0]
    assert artifact["name"] == "notes.txt" and artifact["size"] == 5
    assert hashlib.sha256(b"hello").hexdigest()[:12] in invoke(store, "runs", "get", other).output
    assert invoke(store, "runs", "get", "0123456789ab").exit_code == 1


def test_runs_download_compare_delete(populated, tmp_path, monkeypatch):
    store, ids, other = populated
    out = tmp_path / "dl"
    assert invoke(store, "runs", "download-artifact", other[:8], "notes.txt", "-o", str(out)).exit_code == 0
    assert (out / "notes.txt").read_text() == "hello"
    escape = invoke(store, "runs", "download-artifact", other, "../x", "-o", str(out))
    assert escape.exit_code == 1 and "Invalid artifact name" in escape.output

    compared = invoke(store, "runs", "compare", ids[0], ids[1], "--json")
    assert [d["meta"]["run_id"] for d in json.loads(compared.output)] == ids[:2]
    assert invoke(store, "runs", "compare", ids[0]).exit_code == 2
    import io

    from rich.console import Console

    from runelog.cli import runs as runs_cli

    screen = io.StringIO()
    monkeypatch.setattr(runs_cli, "console", Console(file=screen, force_terminal=True, width=200,
                                                     color_system="standard"))
    invoke(store, "runs", "compare", ids[0], ids[1], ids[2], "--lower-is-better", "loss", "--higher-is-better", "acc")
    lines = screen.getvalue().splitlines()
    loss_line = next(line for line in lines if "loss" in line)
    acc_line = next(line for line in lines if "acc" in line)
    lr_line = next(line for line in lines if "lr" in line)
    assert "\x1b[1;32m0.3000" in loss_line  # the lowest loss is highlighted
    assert "\x1b[1;32m0.7000" in acc_line  # the highest accuracy is highlighted
    assert "\x1b[33m0.1000" in lr_line  # params that differ are yellow

    assert invoke(store, "runs", "delete", ids[0], "--yes").exit_code == 0
    assert get_tracker(str(store)).get_run(ids[0]) is None


def test_registry_commands(populated):
    store, _, other = populated
    tracker = get_tracker(str(store))
    with tracker.start_run(log_code=False) as run_id:
        tracker.log_model({"w": 1}, "model.joblib")
    assert invoke(store, "registry", "register", run_id[:8], "model.joblib", "clf", "--tag", "stage=dev").exit_code == 0
    invoke(store, "registry", "register", run_id, "model.joblib", "clf")
    listed = json.loads(invoke(store, "registry", "list", "--json").output)
    assert [(m["model_name"], m["version"]) for m in listed] == [("clf", "2")]
    versions = json.loads(invoke(store, "registry", "get-versions", "clf", "--json").output)
    assert [v["version"] for v in versions] == ["2", "1"] and versions[1]["tags"] == {"stage": "dev"}
    tagged = invoke(store, "registry", "tag", "clf", "1", "--add", "stage=prod", "--add", "score=0.9", "--remove", "nope")
    assert tagged.exit_code == 0
    assert get_tracker(str(store)).get_model_tags("clf", "1") == {"stage": "prod", "score": 0.9}
    invoke(store, "registry", "tag", "clf", "1", "--remove", "score")
    assert get_tracker(str(store)).get_model_tags("clf", "1") == {"stage": "prod"}
    assert invoke(store, "registry", "alias", "clf", "champion", "1").exit_code == 0
    assert json.loads(invoke(store, "registry", "get-versions", "clf", "--json").output)[1]["aliases"] == ["champion"]
    assert "champion" in invoke(store, "registry", "get-versions", "clf").output
    assert invoke(store, "registry", "alias", "clf", "champion").exit_code == 2
    assert invoke(store, "registry", "alias", "clf", "champion", "--delete").exit_code == 0
    assert get_tracker(str(store)).get_model_aliases("clf") == {}
    unknown = invoke(store, "registry", "get-versions", "nope")
    assert unknown.exit_code == 0 and "No versions found for model 'nope'" in unknown.output
    assert invoke(store, "registry", "register", other, "missing.joblib", "clf").exit_code == 1


def test_verify_finds_corrupt_and_missing_blobs(populated, tmp_path):
    store, _, other = populated
    tracker = get_tracker(str(store))
    (tmp_path / "second.txt").write_text("second")
    with tracker.start_run(log_code=False) as second:
        tracker.log_artifact(str(tmp_path / "second.txt"))
    assert invoke(store, "verify").exit_code == 0
    corrupt = Path(tracker.get_artifact_abspath(other, "notes.txt"))
    corrupt.chmod(0o644)
    corrupt.write_text("HELLO")
    Path(tracker.get_artifact_abspath(second, "second.txt")).unlink()
    result = invoke(store, "verify", "--json")
    assert result.exit_code == 1
    problems = {p["problem"]: p["references"] for p in json.loads(result.output)["problems"]}
    assert problems == {"corrupt": [f"run {other}: notes.txt"], "missing": [f"run {second}: second.txt"]}
    one = invoke(store, "verify", "--run", second[:8])
    assert one.exit_code == 1 and "missing" in one.output and "corrupt" not in one.output


def test_gc_keeps_referenced_and_young_blobs(populated, tmp_path):
    store, _, other = populated
    tracker = get_tracker(str(store))
    (tmp_path / "gone.txt").write_text("gone")
    with tracker.start_run(log_code=False) as doomed:
        tracker.log_artifact(str(tmp_path / "gone.txt"))
    tracker.delete_run(doomed)
    young = json.loads(invoke(store, "gc", "--json").output)
    assert young["blobs"] == []  # younger than the default grace period of 1h
    dry = json.loads(invoke(store, "gc", "--grace", "0s", "--dry-run", "--json").output)
    assert dry["blobs"] == [hashlib.sha256(b"gone").hexdigest()] and dry["bytes"] == 4
    declined = runner.invoke(app, ["--store", str(store), "gc", "--grace", "0s"], input="n\n")
    assert declined.exit_code == 0 and len(list(tracker.location.blob_dir.rglob("*/*"))) == 2
    done = invoke(store, "gc", "--grace", "0s", "--yes")
    assert "Freed 4 bytes: 1 blobs" in done.output
    assert tracker.download_artifact(other, "notes.txt", str(tmp_path / "kept"))
    assert invoke(store, "gc", "--grace", "soon").exit_code == 2


SWEEP = """
experiment_name: sweep-test
dataset: {source: sklearn.datasets.load_iris}
validation: {strategy: train_test_split, params: {test_size: 0.3, random_state: 0}}
evaluation: {metrics: [accuracy_score]}
runs:
  - {id: good, model_class: sklearn.linear_model.LogisticRegression, model_params: {max_iter: 500}}
  - {id: broken, model_class: sklearn.linear_model.LogisticRegression, model_params: {C: -1}}
  - {id: tree, model_class: sklearn.tree.DecisionTreeClassifier, model_params: {random_state: 0}}
"""


def test_sweep_with_two_jobs_and_a_failing_run(tmp_path):
    config = tmp_path / "sweep.yaml"
    config.write_text(SWEEP)
    store = tmp_path / "s"
    result = invoke(store, "sweep", str(config), "--jobs", "2")
    assert result.exit_code == 1
    assert "broken failed" in result.output
    tracker = get_tracker(str(store))
    runs = {r["run_name"]: r for r in tracker.list_runs("sweep-test")}
    assert {n: r["status"] for n, r in runs.items()} == {"good": "FINISHED", "broken": "FAILED", "tree": "FINISHED"}
    assert runs["good"]["params"]["model_class"] == "sklearn.linear_model.LogisticRegression"
    assert 0.8 < runs["good"]["metrics"]["accuracy_score"] <= 1.0
    assert "InvalidParameterError" in tracker.get_run_details(runs["broken"]["run_id"])["meta"]["error"]


@pytest.mark.parametrize("change, where", [
    (("model_class: sklearn.tree.DecisionTreeClassifier", "model_class: sklearn.tree.NoSuchTree"), "runs[2].model_class"),
    (("model_class: sklearn.tree.DecisionTreeClassifier", "model_class: os.system"), "runs[2].model_class"),
    (("metrics: [accuracy_score]", "metrics: [made_up_score]"), "evaluation.metrics[0]"),
    (("strategy: train_test_split", "strategy: bootstrap"), "validation.strategy"),
    (("source: sklearn.datasets.load_iris", "source: missing.csv"), "dataset.source"),
    (("dataset: {source: sklearn.datasets.load_iris}", "datasets: {}"), "dataset"),
])
def test_sweep_config_errors_name_the_yaml_path_before_any_run(tmp_path, change, where):
    config = tmp_path / "sweep.yaml"
    config.write_text(SWEEP.replace(*change))
    result = invoke(tmp_path / "s", "sweep", str(config))
    assert result.exit_code == 1
    assert where in result.output and "Traceback" not in result.output
    assert not (tmp_path / "s" / ".runelog").exists() or get_tracker(str(tmp_path / "s")).list_experiments() == []


def test_sweep_yaml_syntax_error(tmp_path):
    config = tmp_path / "sweep.yaml"
    config.write_text("runs: [\n")
    result = invoke(tmp_path / "s", "sweep", str(config))
    assert result.exit_code == 1 and "not valid YAML" in result.output


def test_runs_list_and_help_do_not_import_heavy_libraries(populated, tmp_path):
    store, _, _ = populated
    probe = (
        "import sys\n"
        "from runelog.cli import app\n"
        "try:\n"
        f"    app(['--store', {str(store)!r}, 'runs', 'list', 'exp'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('pandas', 'pyarrow', 'sklearn', 'joblib', 'alembic') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path)
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize("example, expected", [("minimal", "final loss"), ("sweep", "accuracy")])
def test_bundled_examples_minimal_and_sweep(tmp_path, example, expected):
    result = runelog("--store", str(tmp_path / "s"), "examples", example, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout


def test_arguments_that_are_not_utf8_are_a_usage_error_not_a_traceback(populated, tmp_path):
    """Bytes that are not UTF-8 (a mistyped name in another encoding) reach Python as surrogates."""
    store, _, _ = populated
    script = Path(sys.executable).with_name("runelog")
    for command in (["runs", "list"], ["experiments", "get"], ["experiments", "delete"],
                    ["registry", "get-versions"], ["lineage", "--model"]):
        result = subprocess.run([os.fsencode(script), b"--store", os.fsencode(store),
                                 *(c.encode() for c in command), b"\xff\xfe"],
                                capture_output=True, cwd=tmp_path)
        assert result.returncode == 2, (command, result.stderr)
        assert b"not valid UTF-8" in result.stderr and b"Traceback" not in result.stderr, command
