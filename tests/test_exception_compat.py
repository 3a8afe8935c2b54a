"""Where runelog 0.2.0 raised X, runelog raises X or a subclass of X (issue 13, item 3).

One table walks every public call of 0.2.0's `RuneLog` (its runelog.py, read
method by method) through the situations in which it raised, returned None,
returned an empty list, or warned. Each row is run twice:

- here, on both backends, checking the outcome is compatible: the same
  exception class or a subclass, the same return value, the same warning;
- against the real 0.2.0 (its wheel, in a subprocess), checking that the row
  says what 0.2.0 actually did. So the table cannot drift from 0.2.0.

A few rows differ on purpose (`now=`): 0.2.0's behaviour was a bug (it
deleted the whole store for delete_run("..")), or it accepted what cannot
be stored. Each says why; docs/migrating.md lists them.

This module imports nothing of runelog's beyond `runelog.exceptions` at the top,
so the 0.2.0 subprocess can load it as it is.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

# ---------------------------------------------------------------- helpers usable on both 0.2.0 and now


def start(t, name: str = "e"):
    return t.start_run(experiment_name=name, log_git_meta=False, log_code=False)


def a_run(t, tmp: Path, artifact: str | None = "model.pkl") -> str:
    """A finished run in experiment "e", with one artifact file."""
    with start(t) as run_id:
        if artifact:
            path = tmp / artifact
            path.write_bytes(b"weights")
            t.log_artifact(str(path))
    return run_id


def a_model(t, tmp: Path) -> str:
    """A model "m" with version 1, registered from a run's artifact."""
    return t.register_model(a_run(t, tmp), "model.pkl", "m")


def in_run(t, call: Callable[[], Any]) -> Any:
    with start(t):
        return call()


class Unserialisable:
    pass


# ---------------------------------------------------------------- the table


@dataclass
class Case:
    id: str
    call: Callable[[Any, Path], Any]  # (tracker, a temp folder) -> result
    was: tuple  # what 0.2.0 did: ("raises", "Name") / ("returns", value) / ("warns", "UserWarning")
    now: tuple | None = None  # only where runelog differs on purpose
    why: str = ""


R, V, W = "raises", "returns", "warns"

CASES = [
    # get_tracker / RuneLog(path)
    Case("get_tracker where the folder is a file", lambda t, d: open_store(d, "file"),
         (R, "builtins.NotADirectoryError")),
    Case("RuneLog in a new folder", lambda t, d: open_store(d, "new"), (V, "opened")),
    # get_or_create_experiment / list_experiments / get_experiment / get_experiment_summaries
    Case("list_experiments on a new store", lambda t, d: t.list_experiments(), (V, [])),
    Case("get_experiment unknown id", lambda t, d: t.get_experiment("42"), (V, None)),
    Case("get_experiment of a name", lambda t, d: (t.get_or_create_experiment("x"), t.get_experiment("x"))[1],
         (V, None)),
    Case("get_experiment_summaries on a new store", lambda t, d: t.get_experiment_summaries(), (V, [])),
    Case("get_or_create_experiment empty name", lambda t, d: t.get_or_create_experiment(""), (V, "0"),
         now=(R, "InvalidExperimentName"), why="issue 12 item 16: empty or blank experiment names are refused"),
    # delete_experiment
    Case("delete_experiment unknown", lambda t, d: t.delete_experiment("nope"), (R, "ExperimentNotFound")),
    Case("delete_experiment unknown id", lambda t, d: t.delete_experiment("42"), (R, "ExperimentNotFound")),
    Case("delete_experiment of the default before it exists", lambda t, d: t.delete_experiment("0"),
         (R, "ExperimentNotFound")),
    # start_run
    Case("start_run in an unknown experiment id",
         lambda t, d: in_run_id(t, "42"), (V, "ran"),
         now=(R, "ExperimentNotFound"),
         why="0.2.0 wrote the run under .mlruns/42 with no experiment record; it is refused instead"),
    Case("start_run inside another run", lambda t, d: in_run(t, lambda: (start(t).__enter__(), "ok")[1]), (V, "ok"),
         now=(R, "RunAlreadyActive"), why="0.2.0 silently lost track of the outer run"),
    Case("start_run with an empty experiment name",
         lambda t, d: (t.start_run(experiment_name="", log_git_meta=False, log_code=False).__enter__(), "ok")[1],
         (V, "ok"), now=(R, "InvalidExperimentName"),
         why="issue 12 item 16: 0.2.0 logged into the default experiment"),
    # get_run / get_run_details / delete_run
    *[Case(f"get_run {bad!r}", lambda t, d, bad=bad: t.get_run(bad), (V, None)) for bad in ("doesnotexist", "a1b2c3d4")],
    *[Case(f"get_run_details {bad!r}", lambda t, d, bad=bad: t.get_run_details(bad), (V, None))
      for bad in ("doesnotexist", "nonexistent-run-id", "a1b2c3d4")],
    Case("get_run '/'", lambda t, d: (a_run(t, d), t.get_run("/"))[1], (R, "builtins.FileNotFoundError"), now=(V, None),
         why="0.2.0 read '/' as a run folder; a path is no run id"),
    Case("get_run_details '..'", lambda t, d: (a_run(t, d), keys(t.get_run_details("..")))[1],
         (V, ["artifacts", "meta", "metrics", "params"]), now=(V, None),
         why="0.2.0 read the .mlruns folder itself as a run"),
    Case("delete_run unknown", lambda t, d: t.delete_run("doesnotexist"), (R, "RunNotFound")),
    Case("delete_run '..'", lambda t, d: (a_run(t, d), t.delete_run(".."))[1], (R, "builtins.FileNotFoundError"),
         now=(R, "RunNotFound"), why="0.2.0 deleted every experiment and run under .mlruns, then raised"),
    # get_experiment_runs
    Case("get_experiment_runs unknown", lambda t, d: t.get_experiment_runs("42"), (V, [])),
    # logging outside a run: NoActiveRun
    Case("log_param outside a run", lambda t, d: t.log_param("k", 1), (R, "NoActiveRun")),
    Case("log_metric outside a run", lambda t, d: t.log_metric("k", 1.0), (R, "NoActiveRun")),
    Case("log_artifact outside a run", lambda t, d: t.log_artifact(__file__), (R, "NoActiveRun")),
    Case("log_artifact missing file outside a run", lambda t, d: t.log_artifact(str(d / "nope")), (R, "NoActiveRun")),
    Case("log_model outside a run", lambda t, d: t.log_model({"w": 1}, "m.pkl"), (R, "NoActiveRun")),
    Case("get_run_tags outside a run", lambda t, d: t.get_run_tags(), (R, "NoActiveRun")),
    Case("set_run_tags outside a run", lambda t, d: t.set_run_tags({"a": 1}), (R, "NoActiveRun")),
    Case("log_dataset outside a run", lambda t, d: t.log_dataset(__file__, "d"), (R, "NoActiveRun")),
    Case("log_dataset missing file outside a run", lambda t, d: t.log_dataset(str(d / "nope.csv"), "d"),
         (R, "ArtifactNotFound")),
    Case("log_input_run outside a run", lambda t, d: t.log_input_run("in", a_run(t, d)), (R, "NoActiveRun")),
    Case("log_input_run unknown run outside a run", lambda t, d: t.log_input_run("in", "doesnotexist"),
         (R, "NoActiveRun")),
    Case("log_dvc_input with a .dvc file outside a run", lambda t, d: t.log_dvc_input(dvc_tracked(d), "d"),
         (R, "NoActiveRun")),
    # logging inside a run
    Case("log_artifact missing file", lambda t, d: in_run(t, lambda: t.log_artifact(str(d / "nope"))),
         (R, "ArtifactNotFound")),
    Case("log_dataset missing file", lambda t, d: in_run(t, lambda: t.log_dataset(str(d / "nope.csv"), "d")),
         (R, "ArtifactNotFound")),
    Case("log_param an object JSON cannot hold",
         lambda t, d: in_run(t, lambda: t.log_param("k", Unserialisable())), (R, "builtins.TypeError")),
    Case("log_metric an object", lambda t, d: in_run(t, lambda: t.log_metric("k", Unserialisable())),
         (R, "builtins.TypeError")),
    Case("log_metric a string", lambda t, d: in_run(t, lambda: t.log_metric("k", "high")), (V, None),
         now=(R, "builtins.TypeError"), why="metrics are numbers (history, latest value, SQL); 0.2.0 kept any JSON"),
    Case("log_model a lambda", lambda t, d: in_run(t, lambda: t.log_model(lambda x: x, "m.pkl")),
         (R, "_pickle.PicklingError")),
    Case("log_dvc_input without a .dvc file", lambda t, d: in_run(t, lambda: t.log_dvc_input(str(d / "x.csv"), "d")),
         (W, "builtins.UserWarning")),
    Case("log_dvc_input without a .dvc file outside a run", lambda t, d: t.log_dvc_input(str(d / "x.csv"), "d"),
         (W, "builtins.UserWarning")),
    Case("log_input_run unknown run", lambda t, d: in_run(t, lambda: t.log_input_run("in", "doesnotexist")),
         (R, "RunNotFound")),
    Case("log_input_run missing artifact",
         lambda t, d: (lambda up: in_run(t, lambda: t.log_input_run("in", up, "nope.pkl")))(a_run(t, d)),
         (R, "ArtifactNotFound")),
    # load_results
    Case("load_results unknown", lambda t, d: t.load_results("nope"), (R, "ExperimentNotFound")),
    Case("load_results unknown id", lambda t, d: t.load_results("42"), (R, "ExperimentNotFound")),
    Case("load_results default before it exists", lambda t, d: t.load_results("0"), (R, "ExperimentNotFound")),
    # register_model
    Case("register_model unknown run", lambda t, d: t.register_model("doesnotexist", "model.pkl", "m"),
         (R, "RunNotFound")),
    Case("register_model unknown run and a path-like artifact",
         lambda t, d: t.register_model("doesnotexist", "../x", "m"), (R, "RunNotFound")),
    Case("register_model missing artifact", lambda t, d: t.register_model(a_run(t, d), "nope.pkl", "m"),
         (R, "ArtifactNotFound")),
    # load_registered_model
    Case("load_registered_model unknown model", lambda t, d: t.load_registered_model("nope"), (R, "ModelNotFound")),
    Case("load_registered_model unknown model, odd version", lambda t, d: t.load_registered_model("nope", "²"),
         (R, "ModelNotFound")),
    Case("load_registered_model unknown version",
         lambda t, d: (a_model(t, d), t.load_registered_model("m", "7"))[1], (R, "ModelVersionNotFound")),
    Case("load_registered_model version '²'",
         lambda t, d: (a_model(t, d), t.load_registered_model("m", "²"))[1], (R, "ModelVersionNotFound")),
    Case("load_registered_model version 'abc'",
         lambda t, d: (a_model(t, d), t.load_registered_model("m", "abc"))[1], (R, "ModelVersionNotFound")),
    # add_model_tags / get_model_tags
    Case("add_model_tags unknown model", lambda t, d: t.add_model_tags("nope", "1", {"a": 1}),
         (R, "ModelVersionNotFound")),
    Case("get_model_tags unknown model", lambda t, d: t.get_model_tags("nope", "1"), (R, "ModelVersionNotFound")),
    Case("add_model_tags unknown version", lambda t, d: (a_model(t, d), t.add_model_tags("m", "7", {"a": 1}))[1],
         (R, "ModelVersionNotFound")),
    Case("get_model_tags unknown version", lambda t, d: (a_model(t, d), t.get_model_tags("m", "7"))[1],
         (R, "ModelVersionNotFound")),
    Case("get_model_tags version '²'", lambda t, d: (a_model(t, d), t.get_model_tags("m", "²"))[1],
         (R, "ModelVersionNotFound")),
    Case("get_model_tags 'latest'", lambda t, d: (a_model(t, d), t.get_model_tags("m", "latest"))[1],
         (R, "ModelVersionNotFound"), now=(V, {}), why="'latest' names the newest version everywhere now"),
    # list_registered_models / get_model_versions
    Case("list_registered_models on a new store", lambda t, d: t.list_registered_models(), (V, [])),
    Case("get_model_versions unknown model", lambda t, d: t.get_model_versions("nope"), (V, [])),
    # get_artifact_abspath / download_artifact
    Case("get_artifact_abspath unknown run", lambda t, d: t.get_artifact_abspath("doesnotexist", "model.pkl"),
         (R, "RunNotFound")),
    Case("get_artifact_abspath unknown run, path-like name",
         lambda t, d: t.get_artifact_abspath("doesnotexist", "../../etc/passwd"), (R, "RunNotFound")),
    Case("get_artifact_abspath missing artifact",
         lambda t, d: t.get_artifact_abspath(a_run(t, d), "nope.pkl"), (R, "ArtifactNotFound")),
    Case("get_artifact_abspath path-like name",
         lambda t, d: t.get_artifact_abspath(a_run(t, d), "../meta.json"), (R, "ArtifactNotFound")),
    Case("download_artifact unknown run", lambda t, d: t.download_artifact("doesnotexist", "model.pkl", str(d)),
         (R, "RunNotFound")),
    Case("download_artifact missing artifact",
         lambda t, d: t.download_artifact(a_run(t, d), "nope.pkl", str(d / "out")), (R, "ArtifactNotFound")),
    Case("download_artifact into a file",
         lambda t, d: (lambda run: (d.joinpath("blocker").write_text("x"),
                                    t.download_artifact(run, "model.pkl", str(d / "blocker"))))(a_run(t, d)),
         (R, "builtins.FileExistsError")),
]


def open_store(folder: Path, kind: str) -> str:
    """Open a store as a 0.2.0 script would: get_tracker(path) / RuneLog(path), whichever runelog is loaded."""
    import runelog

    target = folder / "project"
    if kind == "file":
        target.write_text("not a folder")
        runelog.get_tracker(str(target))
    else:
        runelog.RuneLog(path=str(target / "deeper"))
    return "opened"


def in_run_id(t, experiment_id: str) -> str:
    with t.start_run(experiment_id=experiment_id, log_git_meta=False, log_code=False):
        pass
    return "ran"


def dvc_tracked(folder: Path) -> str:
    data = folder / "data.csv"
    data.write_text("a\n1\n")
    (folder / "data.csv.dvc").write_text("outs:\n- md5: 0123456789abcdef0123456789abcdef\n  path: data.csv\n")
    return str(data)


def keys(value):
    return sorted(value) if isinstance(value, dict) else value


# ---------------------------------------------------------------- running a case


def outcome(tracker, folder: Path, case: Case) -> tuple:
    """("raises", class) / ("returns", value) / ("warns", category) of one call."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = case.call(tracker, folder)
        except Exception as exc:  # noqa: BLE001 - the class is the point
            return R, type(exc)
    user = [w for w in caught if issubclass(w.category, UserWarning)]
    if user:
        return W, user[0].category
    return V, value


def resolve(name: str) -> type:
    """'RunNotFound' -> runelog.exceptions.RunNotFound; 'builtins.TypeError' -> TypeError."""
    if "." not in name:
        return getattr(importlib.import_module("runelog.exceptions"), name)
    module, _, attribute = name.rpartition(".")
    return getattr(importlib.import_module(module), attribute)


def name_of(cls: type) -> str:
    return cls.__name__ if cls.__module__ == "runelog.exceptions" else f"{cls.__module__}.{cls.__qualname__}"


# ---------------------------------------------------------------- the checks


def empty(engine) -> None:
    """Delete every row, so the next tracker opens a store as empty as a new one (and faster to get)."""
    from sqlalchemy import text

    from runelog.models import Base

    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(text(f"DELETE FROM {table.name}"))


def mismatch(case: Case, kind: str, got: Any) -> str | None:
    """Why an outcome is not compatible with the row, or None."""
    want_kind, want = case.now or case.was
    if kind != want_kind:
        return f"{kind} {got!r}, expected {want_kind} {want!r}"
    if kind in (R, W) and not issubclass(got, resolve(want)):
        return f"raised {name_of(got)} ({', '.join(c.__name__ for c in got.__mro__[1:-2])}), 0.2.0 raised {want}"
    if kind == V and got != want:
        return f"returned {got!r}, expected {want!r}"
    return None


def test_every_outcome_is_compatible_with_0_2_0(store_options, tmp_path, monkeypatch):
    """Each row in an empty store; every incompatible row is reported at once."""
    from runelog import get_tracker

    from sqlalchemy import create_engine

    first = get_tracker(**store_options)
    engine = create_engine(first.location.database_url)
    first.close()
    failures = {}
    for number, case in enumerate(CASES):
        folder = tmp_path / f"case{number}"
        (folder / "files").mkdir(parents=True)
        monkeypatch.chdir(folder / "files")
        empty(engine)
        tracker = get_tracker(**store_options)
        try:
            kind, got = outcome(tracker, folder / "files", case)
        finally:
            tracker.close()
        problem = mismatch(case, kind, got)
        if problem:
            failures[case.id] = problem
    engine.dispose()
    assert failures == {}


def test_every_public_call_of_0_2_0_is_in_the_table():
    # The public methods of 0.2.0's RuneLog (runelog/runelog.py at v0.2.0), and the calls each row makes.
    public_0_2_0 = {
        "get_or_create_experiment", "list_experiments", "delete_experiment", "start_run", "get_run_details",
        "delete_run", "get_experiment_runs", "get_experiment_summaries", "log_param", "log_metric",
        "log_artifact", "log_model", "log_dataset", "log_dvc_input", "log_input_run", "get_experiment",
        "get_run", "get_run_tags", "set_run_tags", "load_results", "register_model", "load_registered_model",
        "add_model_tags", "get_model_tags", "list_registered_models", "get_model_versions",
        "get_artifact_abspath", "download_artifact",
    }
    covered = {name for name in public_0_2_0 | {"get_tracker", "RuneLog"}
               if any(name in c.id.split() for c in CASES)}
    assert covered == public_0_2_0 | {"get_tracker", "RuneLog"}
    for case in CASES:
        assert (case.now is None) == (case.why == ""), case.id


def test_the_table_says_what_0_2_0_did(tmp_path):
    """Run every row against the real runelog 0.2.0 and compare with `was`."""
    import zipfile

    from .test_legacy_import import ensure_wheel

    package = tmp_path / "runelog-0.2.0"
    with zipfile.ZipFile(ensure_wheel()) as wheel:
        wheel.extractall(package)
    out = tmp_path / "outcomes.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNELOG_")}
    env["PYTHONPATH"] = str(package)
    done = subprocess.run([sys.executable, __file__, str(out)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(out.read_text())
    wrong = {c.id: (seen[c.id], list(c.was)) for c in CASES if seen[c.id] != json.loads(json.dumps(list(c.was)))}
    assert wrong == {}


def run_against_this_runelog(out: str) -> None:
    """Run in the 0.2.0 subprocess: every row in a fresh store; write {case id: [kind, what]}."""
    import runelog

    assert runelog.__version__ == "0.2.0", runelog.__file__
    results = {}
    for case in CASES:
        with tempfile.TemporaryDirectory() as folder:
            os.chdir(folder)
            files = Path(folder) / "files"
            files.mkdir()
            kind, got = outcome(runelog.get_tracker(folder), files, case)
            results[case.id] = [kind, name_of(got) if kind in (R, W) else got]
    Path(out).write_text(json.dumps(results, default=repr))


if __name__ == "__main__":
    run_against_this_runelog(sys.argv[1])
