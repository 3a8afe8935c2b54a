"""Scripts written for runelog 0.2.0 keep working: issue 13, items 1-6, 18, 19 (and issue 12, 16-17).

Each test attacks one promise the way a 0.2.0 script (or a notebook) would
hit it; API tests use the `tracker` fixture, so they run on SQLite and on
PostgreSQL.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

import runelog
from runelog import exceptions

from .conftest import REPO

# The exception classes runelog 0.2.0 re-exported from the package (its runelog/__init__.py).
EXCEPTIONS_0_2_0 = [
    "RunelogException", "ExperimentNotFound", "RunNotFound", "ModelNotFound", "ModelVersionNotFound",
    "ArtifactNotFound", "NoActiveRun", "InvalidExperimentId", "InvalidRunId", "RegistryError",
    "DuplicateModelRegistration", "InvalidModelVersion", "CorruptedMetadata", "InsufficientPermissions",
    "StorageError", "NoVersionsFound",
]

BAD_RUN_IDS = ["doesnotexist", "nonexistent-run-id", "..", ".", "/", "../..", "", "   ", "0" * 40]


def python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run code in a fresh interpreter, as a user's script (no test imports loaded)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNELOG_")}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


# ---------------------------------------------------------------- item 1: 0.2.0's module paths


def test_item1_the_module_path_0_2_0_documented_imports(tmp_path):
    script = (
        "from runelog.runelog import RuneLog, get_tracker, exceptions\n"
        "import runelog.tracker\n"
        "assert RuneLog is runelog.tracker.RuneLog\n"
        "t = get_tracker()\n"
        "assert isinstance(t, RuneLog)\n"
        "with t.start_run(experiment_name='e') as run_id:\n"
        "    t.log_metric('m', 1.0)\n"
        "try:\n"
        "    t.delete_run('doesnotexist')\n"
        "except exceptions.RunNotFound:\n"
        "    print('ok', len(run_id))\n"
        "r = RuneLog(path='other')\n"
        "print(r.list_experiments())\n"
    )
    result = python(script, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["ok 32", "[]"]


# ---------------------------------------------------------------- item 18: package-level names


def test_item18_every_exception_0_2_0_exported_is_importable_from_the_package(tmp_path):
    # A fresh interpreter: `from runelog import X` must not depend on anything imported before.
    names = ", ".join(EXCEPTIONS_0_2_0)
    result = python(f"from runelog import {names}\nfrom runelog import get_tracker, RuneLog, exceptions\n"
                    "print(RunNotFound.__module__)", tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "runelog.exceptions"
    for name in EXCEPTIONS_0_2_0:
        assert getattr(runelog, name) is getattr(exceptions, name)
        assert issubclass(getattr(runelog, name), runelog.RunelogException)


# Classes that are deliberately under none of NotFound / InvalidInput / StoreError, and why.
OUTSIDE_THE_BASES = {
    "RunelogException": "the root",
    "RegistryError": "0.2.0's registry base; each of its subclasses is under one of the three",
    "SweepRunsFailed": "a summary of other runs' failures (each recorded with its own error)",
}


def test_item18_every_error_is_under_one_of_the_three_bases():
    import inspect

    for name, cls in inspect.getmembers(exceptions, inspect.isclass):
        if not issubclass(cls, exceptions.RunelogException):
            continue
        if name in OUTSIDE_THE_BASES:
            continue
        assert issubclass(cls, (exceptions.NotFound, exceptions.InvalidInput, exceptions.StoreError)), name


# ---------------------------------------------------------------- item 2: unknown and malformed run ids


def test_item2_unknown_and_malformed_run_ids_behave_as_in_0_2_0(tracker, tmp_path):
    model = tmp_path / "model.pkl"
    model.write_bytes(b"weights")
    with tracker.start_run(experiment_name="e", log_code=False) as run_id:
        tracker.log_artifact(str(model))
    for bad in BAD_RUN_IDS:
        # get_run and get_run_details return None, as for any unknown id.
        assert tracker.get_run(bad) is None, bad
        assert tracker.get_run_details(bad) is None, bad
        # Everything else raises RunNotFound (InvalidRunId is one), which a 0.2.0 `except` catches.
        calls = [  # partials: a failure shows which call and which id
            functools.partial(tracker.delete_run, bad),
            functools.partial(tracker.download_artifact, bad, "model.pkl", str(tmp_path / "out")),
            functools.partial(tracker.get_artifact_abspath, bad, "model.pkl"),
            functools.partial(tracker.register_model, bad, "model.pkl", "m"),
        ]
        for call in calls:
            with pytest.raises(exceptions.RunNotFound):
                call()
        with tracker.start_run(experiment_name="e", log_code=False):
            with pytest.raises(exceptions.RunNotFound):
                tracker.log_input_run("upstream", bad)
    # Nothing was deleted, registered or written on the way.
    assert tracker.get_run(run_id)["status"] == "FINISHED"
    assert tracker.list_registered_models() == []
    assert not (tmp_path / "out").exists()
    assert len(tracker.load_results("e")) == 1 + len(BAD_RUN_IDS)


def test_item2_invalid_run_id_is_a_run_not_found():
    assert issubclass(exceptions.InvalidRunId, exceptions.RunNotFound)
    assert issubclass(exceptions.AmbiguousRunId, exceptions.RunNotFound)
    error = exceptions.InvalidRunId("..")
    assert error.run_id == ".." and "'..'" in str(error)


# ---------------------------------------------------------------- item 4: the default experiment on first use


def test_item4_a_new_store_has_no_experiments_until_a_run_needs_the_default(tracker):
    assert tracker.list_experiments() == []
    assert tracker.get_experiment_summaries() == []
    assert tracker.get_experiment("0") is None
    with pytest.raises(exceptions.ExperimentNotFound):
        tracker.load_results("0")
    # 0.2.0 gave the first named experiment id "0", so it collided with the default one; not here.
    assert tracker.get_or_create_experiment("first") == "1"
    assert tracker.list_experiments() == [{"experiment_id": "1", "name": "first"}]
    with tracker.start_run(log_code=False) as run_id:  # experiment "0" is created by this run
        pass
    assert tracker.get_run(run_id)["experiment_id"] == "0"
    assert tracker.list_experiments() == [{"experiment_id": "0", "name": "default-experiment"},
                                          {"experiment_id": "1", "name": "first"}]
    # Naming the default experiment finds it, as in 0.2.0; nothing is created twice.
    assert tracker.get_or_create_experiment("default-experiment") == "0"
    with tracker.start_run(experiment_name="default-experiment", log_code=False) as second:
        pass
    assert sorted(tracker.load_results("0").index) == sorted([run_id, second])
    assert len(tracker.list_experiments()) == 2


def test_item4_naming_the_default_experiment_first_gives_it_id_0(tracker):
    with tracker.start_run(experiment_name="default-experiment", log_code=False) as run_id:
        pass
    assert tracker.get_run(run_id)["experiment_id"] == "0"
    with tracker.start_run(log_code=False) as other:
        pass
    assert tracker.get_run(other)["experiment_id"] == "0"
    assert tracker.list_experiments() == [{"experiment_id": "0", "name": "default-experiment"}]


def test_item4_a_store_made_by_migrations_matches_and_a_used_store_keeps_its_row(tmp_path):
    import sqlite3

    from runelog import db

    fresh = db.make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    db.upgrade(fresh, "head")  # 0001 inserts the default experiment; 0004 removes it from an unused store
    fresh.dispose()
    used = db.make_engine(f"sqlite:///{tmp_path / 'used.db'}")
    db.upgrade(used, "0003")
    with used.begin() as conn:
        conn.exec_driver_sql("INSERT INTO runs (id, experiment_id, status, start_time) "
                             "VALUES ('ab12cd34', 0, 'FINISHED', '2026-01-01 00:00:00')")
    db.upgrade(used, "head")
    used.dispose()
    rows = {name: sqlite3.connect(tmp_path / name).execute("SELECT id, name FROM experiments").fetchall()
            for name in ("fresh.db", "used.db")}
    assert rows == {"fresh.db": [], "used.db": [(0, "default-experiment")]}


def test_item4_the_cli_says_there_are_no_experiments(tmp_path):
    from typer.testing import CliRunner

    from runelog.cli import app

    runelog.get_tracker(str(tmp_path)).close()
    result = CliRunner().invoke(app, ["--store", str(tmp_path), "experiments", "list", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []


# ---------------------------------------------------------------- item 5: log_dvc_input without a .dvc file


def test_item5_log_dvc_input_without_a_dvc_file_warns_and_keeps_the_lineage(tracker, tmp_path):
    import hashlib

    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n")
    with tracker.start_run(experiment_name="e", log_code=False) as run_id:
        with pytest.warns(UserWarning) as caught:
            tracker.log_dvc_input(str(data), "training-data")
        tracker.log_metric("m", 1.0)  # the run goes on
        with pytest.warns(UserWarning, match="Nothing was recorded"):
            tracker.log_dvc_input(str(tmp_path / "absent.csv"), "absent")
    (warning,) = caught
    assert f"{data}.dvc" in str(warning.message) and "dvc add" in str(warning.message)
    details = tracker.get_run_details(run_id)
    assert details["meta"]["status"] == "FINISHED" and details["metrics"] == {"m": 1.0}
    (recorded,) = details["datasets"]
    assert recorded["name"] == "training-data"
    assert recorded["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert [r.run_id for r in tracker.runs_using(recorded["sha256"])] == [run_id]
    tracker.verify_dataset(run_id, "training-data", data)  # the fingerprint is a real one


def test_item5_outside_a_run_it_only_warns_as_0_2_0_did(tracker, tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("x\n")
    with pytest.warns(UserWarning, match="dvc add"):
        tracker.log_dvc_input(str(data), "d")
    # With a .dvc file there is something to record, so a run is needed (0.2.0: NoActiveRun too).
    (tmp_path / "data.csv.dvc").write_text("outs:\n- md5: 0123456789abcdef0123456789abcdef\n  path: data.csv\n")
    with pytest.raises(exceptions.NoActiveRun):
        tracker.log_dvc_input(str(data), "d")


# ---------------------------------------------------------------- item 6: git state for every run


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_item6_git_state_is_read_for_each_run_in_one_process(tmp_path, monkeypatch):
    from runelog import capture

    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "a@b")
    git(repo, "config", "user.name", "a")
    (repo / ".gitignore").write_text(".runelog/\n")
    (repo / "src" / "train.py").write_text("lr = 0.1\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "first")
    monkeypatch.chdir(repo)
    tracker = runelog.get_tracker(str(repo))

    def run() -> tuple:
        with tracker.start_run(log_code=False) as run_id:
            pass
        meta = tracker.get_run(run_id)
        return meta["git_commit"], meta["git_branch"], meta["git_dirty"]

    first = git(repo, "rev-parse", "HEAD")
    assert run() == (first, "main", False)
    (repo / "src" / "train.py").write_text("lr = 0.2\n")  # an edit, not staged: the index is unchanged
    assert run() == (first, "main", True)
    git(repo, "commit", "-q", "-am", "second")
    second = git(repo, "rev-parse", "HEAD")
    assert run() == (second, "main", False)
    (repo / "notes.txt").write_text("new")  # untracked files made 0.2.0's `git status` dirty too
    assert run() == (second, "main", True)
    (repo / "notes.txt").unlink()
    git(repo, "checkout", "-q", "-b", "experiment")
    assert run() == (second, "experiment", False)
    git(repo, "pack-refs", "--all")  # the branch now lives in packed-refs
    git(repo, "commit", "-q", "--allow-empty", "-m", "third")
    assert run() == (git(repo, "rev-parse", "HEAD"), "experiment", False)

    # Cheap: while nothing changes, runs start no git process.
    calls = []
    real = capture._git
    monkeypatch.setattr(capture, "_git", lambda *a, **k: calls.append(a) or real(*a, **k))
    for _ in range(20):
        run()
    assert calls == []
    tracker.close()


# ---------------------------------------------------------------- issue 12 item 16: names and ids


def test_issue12_item16_an_exact_name_wins_a_bare_number_is_an_id(tracker):
    assert tracker.get_or_create_experiment("a") == "1"
    assert tracker.get_or_create_experiment("1") == "2"  # an experiment *named* "1", with id 2
    ids = {}
    for name in ("a", "1"):
        with tracker.start_run(experiment_name=name, log_code=False) as run_id:
            tracker.set_tag("where", name)
        ids[name] = run_id
    # "1" names an experiment: every call that takes a name or id reads that one, not id 1.
    assert tracker.load_results("1").index.tolist() == [ids["1"]]
    assert [r.run_id for r in tracker.find_runs("1")] == [ids["1"]]
    assert [r["run_id"] for r in tracker.list_runs("1")] == [ids["1"]]
    assert tracker.latest_run("1") == ids["1"]
    assert [r["run_id"] for r in tracker.get_experiment_runs("1")] == [ids["1"]]
    # "2" is no experiment's name, so it is an id: the same experiment.
    assert tracker.load_results("2").index.tolist() == [ids["1"]]
    assert tracker.load_results("a").index.tolist() == [ids["a"]]
    assert tracker.load_results(1).index.tolist() == [ids["a"]]  # an int is always an id
    for unknown in ("3", "99999999999", 2**40, "²", "-1"):  # beyond PostgreSQL's INTEGER: not found, no DataError
        with pytest.raises(exceptions.ExperimentNotFound):
            tracker.load_results(unknown)
        assert tracker.get_experiment(unknown) is None
    with pytest.raises(exceptions.InvalidExperimentId):
        tracker.start_run(experiment_id="99999999999", log_code=False).__enter__()
    tracker.delete_experiment("1")  # by name: experiment 2 goes, experiment 1 ("a") stays
    assert tracker.list_experiments() == [{"experiment_id": "1", "name": "a"}]
    assert tracker.get_run(ids["a"]) is not None and tracker.get_run(ids["1"]) is None


def test_issue12_item16_empty_or_blank_names_are_refused_everywhere(tracker):
    for blank in ("", "   ", "\t\n"):
        refused_everywhere(tracker, blank)
    assert tracker.list_experiments() == []  # nothing went into the default experiment
    assert tracker.active_run_id is None


def refused_everywhere(tracker, blank: str) -> None:
    for call in (lambda: tracker.get_or_create_experiment(blank),
                 lambda: tracker.start_run(experiment_name=blank, log_code=False).__enter__()):
        with pytest.raises(exceptions.InvalidExperimentName) as raised:
            call()
        assert isinstance(raised.value, exceptions.InvalidKey)  # what get_or_create_experiment("") raised
    for read in (tracker.load_results, tracker.find_runs, tracker.list_runs, tracker.latest_run,
                 tracker.delete_experiment):
        with pytest.raises(exceptions.ExperimentNotFound, match="empty or blank"):
            read(blank)


# ---------------------------------------------------------------- issue 12 item 17: model version "²"


def test_issue12_item17_odd_model_versions_are_a_runelog_error(tracker, tmp_path):
    model = tmp_path / "model.pkl"
    model.write_bytes(b"w")
    with tracker.start_run(experiment_name="e", log_code=False) as run_id:
        tracker.log_artifact(str(model))
    tracker.register_model(run_id, "model.pkl", "m")
    for version in ("²", "١", "abc", "0", "-1", "1.5", " ", "99999999999"):
        odd_version_refused(tracker, version)
    assert tracker.get_model_tags("m", "1") == {}


def odd_version_refused(tracker, version: str) -> None:
    for call in (lambda: tracker.load_registered_model("m", version),
                 lambda: tracker.get_model_tags("m", version),
                 lambda: tracker.add_model_tags("m", version, {"k": 1})):
        with pytest.raises(exceptions.InvalidModelVersion) as raised:
            call()
        # 0.2.0 said ModelVersionNotFound for a version it could not find; still true.
        assert isinstance(raised.value, exceptions.ModelVersionNotFound)
        assert "whole number" in str(raised.value)
    # An unknown model is reported as such first, as 0.2.0 checked the model before the version.
    with pytest.raises(exceptions.ModelNotFound):
        tracker.load_registered_model("nope", version)


# ---------------------------------------------------------------- item 19: load_results' column types


def test_item19_load_results_keeps_0_2_0_column_types(tracker):
    import pandas as pd

    logged = [{"epochs": 10, "lr": 0.1, "fast": True, "opt": "adam", "depth": 3},
              {"epochs": 20, "lr": 0.2, "fast": False, "opt": "sgd"}]
    before = datetime.now()
    for i, params in enumerate(logged):
        with tracker.start_run(experiment_name="types", log_code=False):
            tracker.log_params(params)
            tracker.log_metric("acc", 0.5 + i / 10)
    with tracker.start_run(experiment_name="types", log_code=False) as running:
        frame = tracker.load_results("types")
    after = datetime.now()
    # 0.2.0 built its frame from one dict per run: what pandas infers from those dicts is the contract.
    shaped = [{"run_id": f"r{i}", "experiment_id": "1", "status": "FINISHED", "start_time": "t", "end_time": "t",
               **{f"param_{k}": v for k, v in params.items()}, "acc": 0.5} for i, params in enumerate(logged)]
    shaped.append({"run_id": "r9", "experiment_id": "1", "status": "RUNNING", "start_time": "t", "end_time": None})
    expected = pd.DataFrame(shaped).set_index("run_id")
    assert frame.dtypes.sort_index().to_dict() == expected.dtypes.sort_index().to_dict()
    assert frame["param_epochs"].dtype.kind == "f" and frame["param_lr"].dtype.kind == "f"  # numeric, not object
    # Naive local ISO-8601 strings, as 0.2.0's datetime.now().isoformat(): comparable with datetime.now().
    for value in frame["start_time"]:
        assert isinstance(value, str) and datetime.fromisoformat(value).tzinfo is None
        assert before.replace(microsecond=0) <= datetime.fromisoformat(value) <= after
    assert pd.isna(frame.loc[running, "end_time"])
    finished = frame.drop(index=running)
    assert all(datetime.fromisoformat(v) <= after for v in finished["end_time"])
    assert (frame["start_time"] <= after.isoformat()).all()  # filtering them as strings works too
    # Params every run has keep their own type: ints int64, bools bool.
    with tracker.start_run(experiment_name="ints", log_code=False):
        tracker.log_params({"epochs": 10, "lr": 0.5, "fast": True})
    ints = tracker.load_results("ints")
    assert {c: str(t) for c, t in ints.dtypes.items() if c.startswith("param_")} == {
        "param_epochs": "int64", "param_fast": "bool", "param_lr": "float64"}


def test_item19_find_runs_gives_utc_aware_datetimes(tracker):
    from datetime import timezone

    with tracker.start_run(experiment_name="t", log_code=False) as run_id:
        pass
    (found,) = tracker.find_runs("t")
    assert found.run_id == run_id
    assert found.start_time.tzinfo is not None and found.start_time.utcoffset().total_seconds() == 0
    assert found.start_time <= found.end_time <= datetime.now(timezone.utc)
    # The same moment as load_results' local string.
    local = tracker.load_results("t").loc[run_id, "start_time"]
    assert found.start_time.astimezone().replace(tzinfo=None).isoformat() == local


SCRIPT_TYPES_0_2_0 = '''
import json, sys
import runelog
assert runelog.__version__ == "0.2.0", runelog.__file__
t = runelog.get_tracker(".")
for params in ({"epochs": 10, "lr": 0.1, "fast": True, "opt": "adam", "depth": 3},
               {"epochs": 20, "lr": 0.2, "fast": False, "opt": "sgd"},
               {"epochs": 30, "lr": 1, "fast": True, "opt": "sgd", "depth": 4}):
    with t.start_run(experiment_name="types", log_git_meta=False, log_code=False):
        for k, v in params.items():
            t.log_param(k, v)
        t.log_metric("acc", 0.5)
frame = t.load_results("types")
print(json.dumps({"dtypes": {c: str(d) for c, d in frame.dtypes.items()},
                  "times": {r: [frame.loc[r, "start_time"], frame.loc[r, "end_time"]] for r in frame.index}}))
'''


def test_item19_the_same_types_and_times_as_the_real_0_2_0(tracker, tmp_path):
    import zipfile

    from .test_legacy_import import ensure_wheel

    package = tmp_path / "runelog-0.2.0"
    with zipfile.ZipFile(ensure_wheel()) as wheel:
        wheel.extractall(package)
    project = tmp_path / "project"
    project.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNELOG_")}
    env["PYTHONPATH"] = str(package)
    done = subprocess.run([sys.executable, "-c", SCRIPT_TYPES_0_2_0], cwd=project, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    expected = json.loads(done.stdout.splitlines()[-1])
    assert tracker.import_legacy(project).ok
    frame = tracker.load_results("types")
    assert {c: str(d) for c, d in frame.dtypes.items()} == expected["dtypes"]
    assert {r: [frame.loc[r, "start_time"], frame.loc[r, "end_time"]] for r in frame.index} == expected["times"]


def test_issue12_item17_a_0_2_0_store_with_superscript_folders_imports_without_a_value_error(tmp_path):
    # 0.2.0 made .mlruns/² for start_run(experiment_id="²"), and "²".isdigit() is True.
    root = tmp_path / "old"
    (root / ".mlruns" / "²" / "abcd1234").mkdir(parents=True)
    (root / ".registry" / "m" / "²").mkdir(parents=True)
    tracker = runelog.get_tracker(str(tmp_path / "store"))
    report = tracker.import_legacy(root)
    failed = {item.name for item in report.items if item.outcome == "failed"}
    assert "²" in failed and not report.ok
    tracker.close()
