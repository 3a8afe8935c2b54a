"""Importing runelog 0.2.0 stores (`.mlruns/`, `.registry/`) into this runelog.

The legacy stores are written by the real runelog 0.2.0 code: its wheel is
downloaded from PyPI once (cached in ~/.cache/runelog-tests), unpacked, and
run in a subprocess with that folder first on PYTHONPATH.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from runelog import get_tracker, legacy
from runelog.cli import app

WHEEL = "runelog-0.2.0-py3-none-any.whl"
WHEEL_SHA256 = "f0f7c96e62ca3b82c06b88e9c8ef20c05d15a3c8c8697776044424d81863eea0"
CACHE = Path.home() / ".cache" / "runelog-tests"

# Runs under runelog 0.2.0. `base ROOT QUIRK OUT` writes the store the tests share;
# `grow ROOT READY GO OUT` adds runs to a copy of it, one of them held open until GO exists.
SCRIPT_0_2_0 = textwrap.dedent('''
    import json, os, sys, time
    from pathlib import Path

    import runelog
    assert runelog.__version__ == "0.2.0", runelog.__file__
    from runelog import get_tracker

    def dump(tracker, names):
        frames = {name: tracker.load_results(name) for name in names}
        return {name: {"columns": list(frame.columns), "rows": frame.to_dict(orient="index")}
                for name, frame in frames.items()}

    def base(root, quirk, out):
        os.chdir(root)
        tracker = get_tracker(".")
        with tracker.start_run(log_git_meta=False, log_code=False):  # .mlruns/0: default-experiment
            tracker.log_param("note", "default")
            tracker.log_metric("loss", 1.5)

        data = Path("data")
        data.mkdir()
        (data / "features.csv").write_text("a,b\\n1,2\\n3,4\\n")
        (data / "raw.csv").write_text("x\\n1\\n")
        (data / "raw.csv.dvc").write_text(
            "outs:\\n- md5: 6f1ed002ab5595859014ebf0951522d9\\n  size: 4\\n  path: raw.csv\\n")
        with tracker.start_run(experiment_name="features", log_env=True) as feature_run:
            tracker.log_param("columns", ["a", "b"])
            tracker.log_param("normalise", True)
            tracker.log_metric("rows", 2)
            tracker.log_dataset("data/features.csv", "features")
            tracker.log_dvc_input("data/raw.csv", "raw")
            tracker.log_artifact("data/features.csv")
            tracker.set_run_tags({"latest_feature_set": True, "owner": "ana"})

        from sklearn.linear_model import LogisticRegression
        model = LogisticRegression().fit([[0, 0], [1, 1], [0, 1], [1, 0]], [0, 1, 0, 1])
        for c in (0.1, 1.0):
            with tracker.start_run(experiment_name="training", log_git_meta=False) as run_id:
                tracker.log_input_run("features", feature_run, artifact_name="features.csv")
                tracker.log_param("C", c)
                tracker.log_param("solver", "lbfgs")
                tracker.log_metric("accuracy", 0.5)
                tracker.log_metric("accuracy", 0.75 + c / 10)  # 0.2.0 keeps the last value only
                tracker.log_metric("brier", float("nan"))
                tracker.log_model(model, "model.joblib")
        version = tracker.register_model(run_id, "model.joblib", "classifier", tags={"stage": "candidate"})
        tracker.add_model_tags("classifier", version, {"reviewed": True})
        results = {"project": dump(tracker, ["default-experiment", "features", "training"]),
                   "feature_run": feature_run, "model_run": run_id}

        os.chdir(quirk)  # 0.2.0 gives id "0" to the first experiment created by name
        other = get_tracker(".")
        with other.start_run(experiment_name="first", log_git_meta=False, log_code=False):
            other.log_param("lr", 0.5)
            other.log_metric("loss", 0.25)
        with other.start_run(log_git_meta=False, log_code=False):  # experiment "0": the same one
            other.log_param("lr", 0.1)
        results["quirk"] = dump(other, ["first"])
        Path(out).write_text(json.dumps(results, default=str))

    def grow(root, ready, go, out):
        os.chdir(root)
        tracker = get_tracker(".")
        for c in (10.0, 100.0):
            with tracker.start_run(experiment_name="training", log_git_meta=False, log_code=False):
                tracker.log_param("C", c)
                tracker.log_metric("accuracy", 0.99)
        with tracker.start_run(experiment_name="late", log_git_meta=False, log_code=False) as live:
            tracker.log_param("epochs", 3)
            Path(ready).write_text(live)
            deadline = time.time() + 60
            while not Path(go).exists() and time.time() < deadline:
                time.sleep(0.05)
            tracker.log_metric("loss", 0.125)
        Path(out).write_text(json.dumps(dump(tracker, ["training", "late"]), default=str))

    {"base": base, "grow": grow}[sys.argv[1]](*sys.argv[2:])
''')


def ensure_wheel() -> Path:
    """The 0.2.0 wheel from the cache, downloaded with pip the first time (and checked by hash)."""
    wheel = CACHE / WHEEL
    if wheel.is_file() and hashlib.sha256(wheel.read_bytes()).hexdigest() == WHEEL_SHA256:
        return wheel
    CACHE.mkdir(parents=True, exist_ok=True)
    wheel.unlink(missing_ok=True)
    result = subprocess.run([sys.executable, "-m", "pip", "download", "runelog==0.2.0", "--no-deps",
                             "--disable-pip-version-check", "-q", "-d", str(CACHE)],
                            capture_output=True, text=True, timeout=300)
    if result.returncode != 0 or not wheel.is_file():
        pytest.skip(f"cannot download runelog 0.2.0 from PyPI: {result.stderr.strip()[-300:]}")
    assert hashlib.sha256(wheel.read_bytes()).hexdigest() == WHEEL_SHA256, "the 0.2.0 wheel changed on PyPI"
    return wheel


@dataclass
class Legacy:
    """A 0.2.0 project folder written by 0.2.0, and what 0.2.0 itself said about it."""

    root: Path
    quirk: Path
    results: dict
    package: Path  # the unpacked 0.2.0 wheel
    script: Path
    git: bool = False  # the project is a git repository, so 0.2.0 wrote source_control.json

    def run(self, *args: str, **popen) -> subprocess.Popen:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RUNELOG_")}
        env["PYTHONPATH"] = str(self.package)  # first: 0.2.0 wins over the installed runelog
        return subprocess.Popen([sys.executable, str(self.script), *args], env=env, cwd=self.root,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)

    def wait(self, process: subprocess.Popen) -> None:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err


@pytest.fixture(scope="session")
def legacy_020(tmp_path_factory) -> Legacy:
    base = tmp_path_factory.mktemp("legacy-0.2.0")
    package = base / "runelog-0.2.0"
    with zipfile.ZipFile(ensure_wheel()) as wheel:
        wheel.extractall(package)
    script = base / "train_020.py"
    script.write_text(SCRIPT_0_2_0)
    root, quirk = base / "project", base / "quirk"
    root.mkdir()
    quirk.mkdir()
    found = Legacy(root, quirk, {}, package, script)
    if shutil.which("git"):  # a repository with one commit, so that 0.2.0 writes source_control.json
        git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main",
               "-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null"]
        found.git = all(subprocess.run([*git, *args], cwd=root, capture_output=True).returncode == 0
                        for args in (["init", "-q"], ["commit", "-q", "--allow-empty", "-m", "start"]))
    found.wait(found.run("base", str(root), str(quirk), str(base / "results.json")))
    found.results = json.loads((base / "results.json").read_text())
    return found


def copy_of(folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy" / folder.name
    shutil.copytree(folder, target, symlinks=True)
    return target


def tree_digest(folder: Path) -> str:
    """One hash over every path, file's bytes and link target under `folder`."""
    sha = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        sha.update(str(path.relative_to(folder)).encode() + b"\0")
        if path.is_symlink():
            sha.update(b"link:" + os.readlink(path).encode())
        elif path.is_file():
            sha.update(path.read_bytes())
        sha.update(oct(path.lstat().st_mode).encode())
    return sha.hexdigest()


def counts(report, kind):
    """{outcome: number} of one kind of item, notes left out."""
    return {k: v for k, v in report.counts().get(kind, {}).items() if k != "note"}


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if a is None and isinstance(b, float) and math.isnan(b):
        return True
    return a == b


# ------------------------------------------------------------ the import itself


def test_everything_comes_across(legacy_020, store_options):
    tracker = get_tracker(**store_options)
    calls = []
    report = tracker.import_legacy(legacy_020.root, progress=lambda done, total: calls.append((done, total)))
    assert report.ok, [i for i in report.items if i.outcome == "failed"]
    assert calls == [(n, 5) for n in range(6)]  # four runs and a model version
    # A new store has no experiments yet (as in 0.2.0), so default-experiment comes in too, as id 0.
    assert counts(report, "experiment") == {"imported": 3}
    assert counts(report, "run") == {"imported": 4}
    assert counts(report, "model version") == {"imported": 1}
    assert (report.imported, report.skipped, report.failed) == (8, 0, 0)

    # Experiments keep their 0.2.0 ids; runs keep their 8-hex ids and are found by them.
    assert {e["name"]: e["experiment_id"] for e in tracker.list_experiments()} == {
        "default-experiment": "0", "features": "1", "training": "2"}
    assert tracker.get_or_create_experiment("after-the-import") == "3"  # (PostgreSQL: its sequence moved on)
    feature_run, model_run = legacy_020.results["feature_run"], legacy_020.results["model_run"]
    details = tracker.get_run_details(feature_run)
    meta = json.loads((legacy_020.root / ".mlruns" / "1" / feature_run / "meta.json").read_text())
    assert details["meta"]["status"] == "FINISHED" and details["meta"]["experiment_id"] == "1"
    start = datetime.fromisoformat(meta["start_time"]).astimezone().astimezone(timezone.utc)
    assert details["meta"]["start_time"] == start.isoformat()
    assert details["meta"]["end_time"].endswith("+00:00")
    assert details["params"] == {"columns": ["a", "b"], "normalise": True}
    assert details["meta"]["tags"] == {"latest_feature_set": True, "owner": "ana"}
    assert tracker.latest_run("features", tags={"latest_feature_set": True}) == feature_run

    # A metric's one 0.2.0 value is the point at step 0, stamped with the run's end.
    history = tracker.get_metric_history(feature_run, "rows")
    assert history["step"].tolist() == [0] and history["value"].tolist() == [2.0]
    end = datetime.fromisoformat(details["meta"]["end_time"])
    assert abs(history["timestamp"][0].timestamp() - end.timestamp()) < 1e-3
    assert tracker.get_run(model_run)["accuracy"] == pytest.approx(0.85)
    assert math.isnan(tracker.get_run(model_run)["brier"])

    # Artifacts are in the blob store; the script both runs logged is stored once.
    assert sorted(details["artifacts"]) == ["features.csv", "requirements.txt", "train_020.py"]
    scripts = {a.sha256 for r in (feature_run, model_run) for a in tracker.list_artifacts(r)
               if a.name == "train_020.py"}
    assert scripts == {hashlib.sha256(legacy_020.script.read_bytes()).hexdigest()}
    blobs = [p for p in tracker.location.blob_dir.rglob("*") if p.is_file()]
    run_ids = [r["run_id"] for name in ("features", "training") for r in tracker.list_runs(name)]
    assert len(blobs) == len({a.sha256 for r in run_ids for a in tracker.list_artifacts(r)})
    assert len(blobs) < sum(len(tracker.list_artifacts(r)) for r in run_ids)
    assert tracker.verify().ok
    assert "packages" in details["environment"]  # environment.json
    if legacy_020.git:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=legacy_020.root, capture_output=True,
                              text=True).stdout.strip()
        assert details["meta"]["git_commit"] == head and details["meta"]["git_branch"] == "main"

    # data_meta.json and dvc_inputs.json become fingerprints; lineage.json becomes links with hashes.
    features_sha = hashlib.sha256((legacy_020.root / "data" / "features.csv").read_bytes()).hexdigest()
    by_kind = {d["kind"]: d for d in details["datasets"]}
    assert by_kind["file"]["name"] == "features" and by_kind["file"]["sha256"] == features_sha
    assert by_kind["file"]["filename"] == "features.csv" and by_kind["file"]["size"] == 12
    assert by_kind["dvc"]["md5"] == "6f1ed002ab5595859014ebf0951522d9" and by_kind["dvc"]["path"] == "data/raw.csv"
    (edge,) = tracker.get_lineage(model_run)
    assert edge.run_id == feature_run and edge.input_name == "features"
    assert edge.artifact_name == "features.csv" and edge.sha256 == features_sha
    assert tracker.verify_input(model_run, "features", legacy_020.root / "data" / "features.csv")

    # The registered model points at the run's artifact blob, with 0.2.0's tags and time.
    (version,) = tracker.get_model_versions("classifier")
    registry_meta = json.loads((legacy_020.root / ".registry" / "classifier" / "1" / "meta.json").read_text())
    assert version["version"] == "1" and version["source_run_id"] == model_run
    assert version["tags"] == {"stage": "candidate", "reviewed": True}
    assert version["artifact_name"] == "model.joblib"
    assert version["sha256"] == {a.sha256 for a in tracker.list_artifacts(model_run)
                                 if a.name == "model.joblib"}.pop()
    registered = datetime.fromisoformat(registry_meta["registration_timestamp"]).astimezone(timezone.utc)
    assert version["registration_timestamp"] == registered.isoformat()
    model = tracker.load_registered_model("classifier")
    assert model.predict([[1, 1]]).tolist() == [1]
    assert tracker.models_trained_on(feature_run)[0].model_name == "classifier"
    tracker.close()


def test_load_results_equals_what_0_2_0_returned(legacy_020, store_options):
    tracker = get_tracker(**store_options)
    assert tracker.import_legacy(legacy_020.root).ok
    for name, expected in legacy_020.results["project"].items():
        frame = tracker.load_results(name)
        assert sorted(frame.index) == sorted(expected["rows"]), name
        meta = ("experiment_id", "status", "start_time", "end_time", "tags")
        wanted = [c for c in expected["columns"] if c not in meta]  # param_* and metrics
        assert sorted(c for c in frame.columns if c not in meta) == sorted(wanted)
        for run_id, row in expected["rows"].items():
            for column in wanted:
                assert same(row[column], frame.loc[run_id, column]), (name, run_id, column)
            assert frame.loc[run_id, "status"] == row["status"]
    tracker.close()


def test_a_second_import_adds_nothing_and_the_source_is_never_touched(legacy_020, store_options):
    before = tree_digest(legacy_020.root)
    tracker = get_tracker(**store_options)
    first = tracker.import_legacy(legacy_020.root)
    snapshot = {t: tracker.list_runs(t) for t in ("features", "training")}
    blobs = sorted(tracker.location.blob_dir.rglob("*"))
    again = tracker.import_legacy(legacy_020.root)
    assert again.ok and again.imported == 0 and again.skipped == first.imported + first.skipped
    assert {t: tracker.list_runs(t) for t in ("features", "training")} == snapshot
    assert len(tracker.get_metric_history(legacy_020.results["model_run"], "accuracy")) == 1
    assert len(tracker.get_lineage(legacy_020.results["model_run"])) == 1
    assert len(tracker.get_model_versions("classifier")) == 1
    assert sorted(tracker.location.blob_dir.rglob("*")) == blobs
    assert tree_digest(legacy_020.root) == before
    tracker.close()


def test_dry_run_reports_and_changes_nothing(legacy_020, store_options):
    tracker = get_tracker(**store_options)
    planned = tracker.import_legacy(legacy_020.root, dry_run=True)
    assert planned.dry_run and planned.ok
    assert tracker.list_experiments() == []
    assert not any(p.is_file() for p in tracker.location.blob_dir.rglob("*"))
    done = tracker.import_legacy(legacy_020.root)
    assert planned.counts() == done.counts()
    assert [(i.outcome, i.kind, i.name) for i in planned.items] == [(i.outcome, i.kind, i.name) for i in done.items]
    tracker.close()


def test_a_grown_store_brings_only_its_new_runs(legacy_020, tmp_path):
    root = copy_of(legacy_020.root, tmp_path)
    tracker = get_tracker(str(tmp_path / "store"))
    assert tracker.import_legacy(root).ok

    ready, go, out = tmp_path / "ready", tmp_path / "go", tmp_path / "grown.json"
    process = legacy_020.run("grow", str(root), str(ready), str(go), str(out))
    deadline = time.time() + 60
    while not ready.exists() and process.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert ready.exists(), process.communicate()[1]
    live = ready.read_text()

    grown = tracker.import_legacy(root)  # two finished runs, a new experiment, and a run still open in 0.2.0
    assert grown.ok
    assert counts(grown, "run") == {"imported": 3, "skipped": 4}
    assert counts(grown, "experiment") == {"imported": 1, "skipped": 3}
    assert counts(grown, "model version") == {"skipped": 1}
    assert tracker.get_run(live)["status"] == "RUNNING" and tracker.get_run(live)["param_epochs"] == 3
    assert any(i.outcome == "note" and i.name == live for i in grown.items)

    go.write_text("")
    legacy_020.wait(process)
    ended = tracker.import_legacy(root)  # the open run has finished since: it is brought again
    assert ended.ok and counts(ended, "run") == {"imported": 1, "skipped": 6}
    run = tracker.get_run(live)
    assert run["status"] == "FINISHED" and run["loss"] == 0.125 and run["param_epochs"] == 3
    assert len(tracker.get_metric_history(live, "loss")) == 1

    assert tracker.import_legacy(root).imported == 0
    expected = json.loads(out.read_text())
    for name in ("training", "late"):
        frame = tracker.load_results(name)
        assert sorted(frame.index) == sorted(expected[name]["rows"])
        for run_id, row in expected[name]["rows"].items():
            for column in expected[name]["columns"]:
                if column.startswith("param_") or column in ("accuracy", "loss"):
                    assert same(row[column], frame.loc[run_id, column]), (run_id, column)
    tracker.close()


def test_experiment_zero_under_another_name_gets_a_new_id(legacy_020, store_options):
    tracker = get_tracker(**store_options)
    report = tracker.import_legacy(legacy_020.quirk)
    assert report.ok
    (note,) = [i for i in report.items if i.kind == "experiment"]
    assert note.name == "first" and "id 0 is kept for default-experiment" in note.message
    experiments = {e["name"]: e["experiment_id"] for e in tracker.list_experiments()}
    assert experiments == {"first": "1"}  # id 0 stays for default-experiment, created on first use
    expected = legacy_020.results["quirk"]["first"]["rows"]
    frame = tracker.load_results("first")
    assert sorted(frame.index) == sorted(expected)
    for run_id, row in expected.items():
        assert frame.loc[run_id, "param_lr"] == row["param_lr"]
        assert same(row["loss"], frame.loc[run_id, "loss"])
    assert tracker.import_legacy(legacy_020.quirk).imported == 0
    tracker.close()


def test_naive_times_are_read_as_local_time(monkeypatch):
    monkeypatch.setenv("TZ", "EST5")  # a POSIX zone: UTC-5, no daylight saving
    time.tzset()
    try:
        assert legacy.legacy_time("2024-01-15T12:00:00.250000") == datetime(2024, 1, 15, 17, 0, 0, 250000,
                                                                            tzinfo=timezone.utc)
        assert legacy.legacy_time("2024-01-15T12:00:00+01:00") == datetime(2024, 1, 15, 11, tzinfo=timezone.utc)
    finally:
        monkeypatch.undo()
        time.tzset()


# ------------------------------------------------------------ damaged stores, through the CLI

runner = CliRunner()


def invoke(store, *args):
    return runner.invoke(app, ["--store", str(store), *args], catch_exceptions=False)


def test_damaged_files_are_reported_by_path_and_the_rest_comes_in(legacy_020, tmp_path):
    root = copy_of(legacy_020.root, tmp_path)
    runs = legacy_020.results["project"]["training"]["rows"]
    broken_run = next(r for r, row in runs.items() if row["param_C"] == 0.1)
    model_run, feature_run = legacy_020.results["model_run"], legacy_020.results["feature_run"]
    broken_meta = root / ".mlruns" / "2" / broken_run / "meta.json"
    broken_meta.write_text('{"run_id": "' + broken_run + '", "status": ')  # cut off mid-write
    missing = root / ".mlruns" / "1" / feature_run / "artifacts" / "features.csv"
    missing.unlink()
    missing.symlink_to(tmp_path / "gone.csv")  # a (dangling) symlink: reported, never followed
    odd_param = root / ".mlruns" / "2" / model_run / "params" / "solver.json"
    odd_param.write_text('{"value": "lbfgs", "unit": "none"}')
    nan_param = root / ".mlruns" / "2" / model_run / "params" / "tol.json"
    nan_param.write_text('{"value": NaN}')  # what 0.2.0's json.dump wrote for float("nan")
    before = tree_digest(root)

    result = invoke(tmp_path / "store", "import-legacy", str(root), "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    failed = {i["path"]: i for i in report["items"] if i["outcome"] == "failed"}
    assert set(failed) == {str(broken_meta), str(missing), str(odd_param), str(nan_param)}
    assert "not valid JSON" in failed[str(broken_meta)]["message"]
    assert "Not imported" in failed[str(nan_param)]["message"]
    assert "symbolic link" in failed[str(missing)]["message"]
    assert "'unit'" in failed[str(odd_param)]["message"]
    assert report["counts"]["run"] == {"imported": 3, "failed": 1}
    assert report["counts"]["model version"] == {"imported": 1}
    assert tree_digest(root) == before

    tracker = get_tracker(str(tmp_path / "store"))
    assert tracker.get_run(broken_run) is None
    assert tracker.get_run(model_run)["param_solver"] == "lbfgs"
    assert "param_tol" not in tracker.get_run(model_run)  # the run came in without its NaN param
    assert sorted(tracker.get_run_details(feature_run)["artifacts"]) == ["requirements.txt", "train_020.py"]
    (edge,) = tracker.get_lineage(model_run)  # the link keeps the hash 0.2.0 recorded
    assert edge.run_id == feature_run and edge.sha256 == hashlib.sha256(b"a,b\n1,2\n3,4\n").hexdigest()
    tracker.close()

    table = invoke(tmp_path / "store", "import-legacy", str(root))  # again: the broken run still fails
    assert table.exit_code == 1
    assert str(broken_meta) in table.output.replace("\n", "") and "1 failed" in table.output


def test_cli_dry_run_then_import_into_the_project_folder(legacy_020, tmp_path):
    root = copy_of(legacy_020.root, tmp_path)
    legacy_parts = {name: tree_digest(root / name) for name in (".mlruns", ".registry", "data")}
    planned = invoke(root, "import-legacy", str(root), "--dry-run")
    assert planned.exit_code == 0, planned.output
    assert "would import" in planned.output and "nothing was changed" in planned.output
    assert invoke(root, "runs", "list", "training", "--json").exit_code == 1  # no such experiment yet

    done = invoke(root, "import-legacy", str(root / ".mlruns"), "--json")  # the .mlruns folder works too
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["imported"] == 8  # default-experiment included: a new store has none
    listed = json.loads(invoke(root, "runs", "list", "training", "--json").stdout)
    assert len(listed) == 2
    again = invoke(root, "import-legacy", str(root))
    assert again.exit_code == 0 and "0 imported" in again.output
    assert {name: tree_digest(root / name) for name in legacy_parts} == legacy_parts


def test_a_folder_without_a_0_2_0_store_is_one_red_line(tmp_path):
    (tmp_path / "empty").mkdir()
    result = invoke(tmp_path / "store", "import-legacy", str(tmp_path / "empty"))
    assert result.exit_code == 1
    assert "No runelog 0.2.0 store" in result.output and "Traceback" not in result.output


# ------------------------------------------------------------ symlinks: nothing outside the source tree comes in


SECRET = "TOP SECRET: the importing user's private key"


def test_symlinks_anywhere_in_the_source_are_reported_and_never_followed(legacy_020, tmp_path):
    """Issue 12, item 4: a symlink under artifacts/, params/, metrics/, a run folder, an experiment
    folder, a JSON file or a registered model must not turn a file outside the tree into stored data."""
    root = copy_of(legacy_020.root, tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.txt"
    secret.write_text(SECRET)
    (outside / "value.json").write_text(json.dumps({"value": SECRET}))
    (outside / "folder").mkdir()
    (outside / "folder" / "key.pem").write_text(SECRET)
    (outside / "model.joblib").write_text(SECRET)
    feature_run, model_run = legacy_020.results["feature_run"], legacy_020.results["model_run"]
    feature_dir, model_dir = root / ".mlruns" / "1" / feature_run, root / ".mlruns" / "2" / model_run
    # A whole run and a whole experiment outside the tree, linked in.
    stolen_run = outside / "runs" / "abcdef12"
    shutil.copytree(feature_dir, stolen_run)
    meta = json.loads((stolen_run / "meta.json").read_text())
    (stolen_run / "meta.json").write_text(json.dumps({**meta, "run_id": "abcdef12"}))
    (stolen_run / "artifacts" / "secret.txt").write_text(SECRET)
    (outside / "experiment").mkdir()
    (outside / "experiment" / "meta.json").write_text(json.dumps({"experiment_id": "9", "name": SECRET[:20]}))
    planted = {
        feature_dir / "artifacts" / "secret.txt": secret,  # a file symlink among the artifacts
        feature_dir / "artifacts" / "keys": outside / "folder",  # a folder symlink among the artifacts
        model_dir / "params" / "stolen.json": outside / "value.json",  # a param
        model_dir / "metrics" / "stolen.json": outside / "value.json",  # a metric
        root / ".mlruns" / "1" / "abcdef12": stolen_run,  # a run folder that is a symlink
        root / ".mlruns" / "9": outside / "experiment",  # an experiment folder that is a symlink
        root / ".registry" / "classifier" / "1" / "model.joblib": outside / "model.joblib",  # a model
    }
    (root / ".registry" / "classifier" / "1" / "model.joblib").unlink()
    for link, target in planted.items():
        link.symlink_to(target)
    # A folder of the run replaced by a symlink to a copy of itself outside.
    shutil.copytree(model_dir / "params", outside / "params")
    (outside / "params" / "C.json").write_text(json.dumps({"value": SECRET}))
    shutil.rmtree(model_dir / "params")
    (model_dir / "params").symlink_to(outside / "params")
    planted[model_dir / "params"] = outside / "params"
    del planted[model_dir / "params" / "stolen.json"]  # now behind the linked folder: never even listed
    before = tree_digest(root)

    result = invoke(tmp_path / "store", "import-legacy", str(root), "--json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    failed = {item["path"]: item["message"] for item in report["items"] if item["outcome"] == "failed"}
    for link in planted:
        assert str(link) in failed, (link, failed)
        assert "symbolic link" in failed[str(link)]
    assert tree_digest(root) == before

    tracker = get_tracker(str(tmp_path / "store"))
    assert tracker.get_run("abcdef12") is None
    assert SECRET[:20] not in [e["name"] for e in tracker.list_experiments()]
    details = tracker.get_run_details(model_run)
    assert details["params"] == {} and "stolen" not in details["metrics"]
    assert not any(name.startswith(("secret", "keys")) for name in tracker.get_run_details(feature_run)["artifacts"])
    assert tracker.get_model_versions("classifier") == []
    tracker.close()
    # Nothing stored anywhere holds the secret: no blob, no value in any table.
    store = tmp_path / "store" / ".runelog"
    assert all(SECRET.encode() not in blob.read_bytes() for blob in (store / "blobs").rglob("*") if blob.is_file())
    conn = sqlite3.connect(store / "runelog.db")
    tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        for row in conn.execute(f'SELECT * FROM "{table}"'):
            assert not any(isinstance(v, str) and SECRET[:20] in v for v in row), (table, row)
    conn.close()


def test_an_artifact_file_name_that_is_not_utf8_is_skipped_alone(tmp_path):
    """One odd file name is reported by its path; its run, tags and metrics still come in."""
    run = tmp_path / "src" / ".mlruns" / "0" / "abcd1234"
    for folder in ("params", "metrics", "artifacts"):
        (run / folder).mkdir(parents=True)
    (run.parent / "meta.json").write_text('{"experiment_id": "0", "name": "old"}')
    (run / "meta.json").write_text('{"run_id": "abcd1234", "experiment_id": "0", "status": "FINISHED", '
                                   '"start_time": "2025-01-01T10:00:00", "end_time": "2025-01-01T10:05:00", '
                                   '"tags": {"t": true}}')
    (run / "metrics" / "acc.json").write_text('{"value": 0.5}')
    (run / "artifacts" / "ok.txt").write_text("fine")
    odd = os.path.join(os.fsencode(run / "artifacts"), b"\xff\xfe.bin")
    with open(odd, "wb") as fh:
        fh.write(b"x")
    result = invoke(tmp_path / "store", "import-legacy", str(tmp_path / "src"), "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    (failed,) = [i for i in report["items"] if i["outcome"] == "failed"]
    assert "not valid UTF-8" in failed["message"] and failed["path"].endswith(".bin")
    tracker = get_tracker(str(tmp_path / "store"))
    details = tracker.get_run_details("abcd1234")
    assert details["metrics"] == {"acc": 0.5} and details["meta"]["tags"] == {"t": True}
    assert details["artifacts"] == ["ok.txt"]
    tracker.close()
