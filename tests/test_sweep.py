"""Sweeps: isolated workers, no writes outside the store, failures recorded, 0.2.0's call and spellings.

Each test attacks one promise the way issues 12 and 13 describe it: real
console-script processes, real worker processes, real files.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from runelog import get_tracker
from runelog.cli import app
from runelog.exceptions import SweepConfigError, SweepFileNotFound, SweepOptionError, SweepRunsFailed
from runelog.sweep import run_sweep

from .reliability.helpers import ctrl_c_as_a_terminal_gives_it

REPO = Path(__file__).resolve().parent.parent
RUNELOG = shutil.which("runelog", path=os.path.dirname(sys.executable)) or "runelog"

SWEEP = """
experiment_name: sweep-test
dataset: {source: sklearn.datasets.load_iris}
validation: {strategy: train_test_split, params: {test_size: 0.3, random_state: 0}}
evaluation: {metrics: [accuracy_score]}
runs:
  - {id: good, model_class: sklearn.linear_model.LogisticRegression, model_params: {max_iter: 500}}
  - {id: tree, model_class: sklearn.tree.DecisionTreeClassifier, model_params: {random_state: 0}}
"""
BROKEN_RUN = "  - {id: broken, model_class: sklearn.linear_model.LogisticRegression, model_params: {C: -1}}\n"


def _env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith("RUNELOG_") and k != "PYTHONPATH"}


def _cli(*args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([RUNELOG, *map(str, args)], cwd=cwd, env=_env(), capture_output=True, text=True,
                          timeout=120)


def _statuses(store: Path, experiment: str = "sweep-test") -> dict[str, str]:
    tracker = get_tracker(str(store))
    try:
        return {r["run_name"]: r["status"] for r in tracker.list_runs(experiment)}
    finally:
        tracker.close()


def _write(folder: Path, text: str = SWEEP, name: str = "sweep.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


# ------------------------------------------------------------ issue 12.2: workers never import from the cwd

PLANTED = ("yaml", "sklearn", "json", "joblib")


def _plant(folder: Path) -> None:
    for name in PLANTED:
        (folder / f"{name}.py").write_text(
            "from pathlib import Path\n"
            f"Path(__file__).with_name('PLANTED-{name}-RAN').touch()\n"
            "raise ImportError('planted module')\n")


def _planted_ran(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("PLANTED-*"))


def test_jobs_workers_never_import_modules_planted_next_to_the_config(tmp_path):
    project = tmp_path / "project"
    config = _write(project)
    _plant(project)
    done = _cli("--store", tmp_path / "s", "sweep", config.name, "--jobs", "2", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _planted_ran(project) == []
    assert _statuses(tmp_path / "s") == {"good": "FINISHED", "tree": "FINISHED"}


@pytest.mark.slow  # two more worker processes; the console-script attack above runs in `make test`
def test_jobs_workers_drop_the_current_folder_even_when_the_caller_has_it_on_its_path(tmp_path, monkeypatch):
    """A Python caller whose own import path starts with the config's folder (as `python -c` has '')."""
    import joblib, json, sklearn, yaml  # noqa: E401, F401  (this process has the real ones already)

    project = tmp_path / "project"
    config = _write(project)
    _plant(project)
    monkeypatch.chdir(project)
    monkeypatch.syspath_prepend(str(project))  # yaml, sklearn and json are already imported from elsewhere
    monkeypatch.setattr(sys, "path", ["", *sys.path])
    result = run_sweep(config.name, jobs=2, store=str(tmp_path / "s"))
    assert result.ok, result.failed
    assert _planted_ran(project) == []
    assert _statuses(tmp_path / "s") == {"good": "FINISHED", "tree": "FINISHED"}


@pytest.mark.slow  # joblib starts two more Python processes per run
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_processes_a_run_starts_do_not_import_from_the_current_folder_either(tmp_path, jobs):
    """joblib's loky workers start as `python -m ...`, which would put the current folder first."""
    project = tmp_path / "project"
    config = _write(project, SWEEP.split("runs:")[0] + "runs:\n  - {id: bag, model_class: "
                    "sklearn.ensemble.BaggingClassifier, model_params: {n_estimators: 4, n_jobs: 2}}\n")
    _plant(project)
    done = _cli("--store", tmp_path / "s", "sweep", config.name, "--jobs", jobs, cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _planted_ran(project) == []
    assert _statuses(tmp_path / "s") == {"bag": "FINISHED"}


# ------------------------------------------------------------ issue 12.3: nothing written outside the store


@pytest.mark.parametrize("params, where", [
    ("{memory: OUTSIDE}", "runs[2].model_params.memory"),
    ("{memory: cache}", "runs[2].model_params.memory"),          # a relative folder in the cwd
    ("{n_clusters: 3, cache_dir: OUTSIDE}", "runs[2].model_params.cache_dir"),
    ("{n_clusters: 3, connectivity: [OUTSIDE/x]}", "runs[2].model_params.connectivity[0]"),
])
def test_estimator_params_that_name_paths_are_refused_before_any_run(tmp_path, params, where):
    outside = Path(f"/tmp/runelog-sweep-outside-{uuid.uuid4().hex}")
    run = f"  - {{id: cached, model_class: sklearn.cluster.AgglomerativeClustering, model_params: {params}}}\n"
    config = _write(tmp_path, SWEEP + run.replace("OUTSIDE", str(outside)))
    before = set(tmp_path.rglob("*"))
    try:
        with pytest.raises(SweepConfigError, match=r"writes nothing outside its store") as raised:
            run_sweep(config, store=str(tmp_path / "s"))
        assert where in str(raised.value)
        assert not outside.exists()
        assert set(tmp_path.rglob("*")) == before  # no store, no cache folder, no run started
        if params == "{memory: OUTSIDE}":  # the command too, with workers
            done = _cli("--store", tmp_path / "s", "sweep", config, "--jobs", "2", cwd=tmp_path)
            assert done.returncode == 1 and where in done.stderr and "Traceback" not in done.stderr
            assert not outside.exists() and set(tmp_path.rglob("*")) == before
    finally:
        shutil.rmtree(outside, ignore_errors=True)


def test_a_location_param_set_to_null_is_allowed(tmp_path):
    run = ("  - {id: piped, model_class: sklearn.neighbors.KNeighborsClassifier, "
           "model_params: {n_neighbors: 3, metric_params: null}}\n")
    config = _write(tmp_path, SWEEP.replace("{max_iter: 500}", "{max_iter: 500, memory: null}") + run)
    with pytest.raises(TypeError):  # LogisticRegression has no `memory`: a FAILED run, not a refusal
        run_sweep(config, store=str(tmp_path / "s"))
    assert _statuses(tmp_path / "s") == {"good": "FAILED", "tree": "FINISHED", "piped": "FINISHED"}


@pytest.mark.parametrize("dataset, error", [
    ("{source: sklearn.datasets.load_files}", "container_path"),            # a loader that raises TypeError
    ("{source: data.csv, target_column: no_such_column}", "no_such_column"),  # a CSV the loader cannot split
])
def test_a_loader_that_raises_becomes_a_failed_run_not_a_crash(tmp_path, dataset, error):
    (tmp_path / "data.csv").write_text("a,b,label\n1,2,0\n3,4,1\n")
    config = _write(tmp_path, SWEEP.replace("{source: sklearn.datasets.load_iris}", dataset))
    with pytest.raises(Exception, match=error) as raised:
        run_sweep(config, store=str(tmp_path / "s"))
    assert type(raised.value).__name__ in ("TypeError", "KeyError")  # the loader's own error, as in 0.2.0
    tracker = get_tracker(str(tmp_path / "s"))
    runs = tracker.list_runs("sweep-test")
    assert {r["run_name"]: r["status"] for r in runs} == {"good": "FAILED", "tree": "FAILED"}
    assert all(error in tracker.get_run_details(r["run_id"])["meta"]["error"] for r in runs)
    tracker.close()
    if "load_files" in dataset:  # the same in worker processes
        parallel = run_sweep(config, jobs=2, store=str(tmp_path / "s2"), raise_on_failure=False)
        assert [spec for spec, _ in parallel.failed] == ["good", "tree"]
        assert all(e.startswith("loading the dataset") and error in e for _, e in parallel.failed)
        assert _statuses(tmp_path / "s2") == {"good": "FAILED", "tree": "FAILED"}


# ------------------------------------------------------------ issue 13.7: run_sweep as in 0.2.0


def test_run_sweep_keeps_020_signature_and_messages(tmp_path, capsys):
    params = inspect.signature(run_sweep).parameters
    assert list(params)[:2] == ["config_path", "progress_handler"]
    assert all(p.kind is p.KEYWORD_ONLY for name, p in params.items() if name not in ("config_path", "progress_handler"))
    from runelog import runner

    assert runner.run_sweep is not None and callable(runner._load_data) and callable(runner._silent_handler)
    assert runner.get_tracker is get_tracker
    config = _write(tmp_path)
    result = runner.run_sweep(str(config), print)  # 0.2.0's call: stores where get_tracker() does (here)
    out = capsys.readouterr().out
    assert "Running sweep for experiment: 'sweep-test'" in out and "Logged Metrics" in out
    assert "Dataset 'sklearn.datasets.load_iris' loaded successfully. Shape: (150, 4)" in out
    assert result.ok and _statuses(tmp_path) == {"good": "FINISHED", "tree": "FINISHED"}
    X, y = runner._load_data({"source": "sklearn.datasets.load_iris"})
    assert X.shape == (150, 4) and y.shape == (150,)


def test_runner_looks_up_get_tracker_in_its_own_module_as_020_did(tmp_path, monkeypatch):
    from runelog import runner

    other = get_tracker(str(tmp_path / "elsewhere"))
    monkeypatch.setattr("runelog.runner.get_tracker", lambda: other)
    runner.run_sweep(str(_write(tmp_path)), progress_handler=lambda message: None)
    assert [e["name"] for e in other.list_experiments()] == ["sweep-test"]
    other.close()


def test_relative_dataset_path_resolves_against_cwd_first_then_the_yaml_folder(tmp_path, monkeypatch):
    sweeps = tmp_path / "sweeps"
    config = _write(sweeps, SWEEP.replace("{source: sklearn.datasets.load_iris}",
                                          "{source: data/iris.csv, target_column: label}"))
    rows = "".join(f"{i % 7},{i % 5},{i % 2}\n" for i in range(40))
    (sweeps / "data").mkdir()
    (sweeps / "data" / "iris.csv").write_text("a,b,label\n" + rows)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    # Only beside the YAML: found there.
    run_sweep(config, store=str(tmp_path / "s1"))
    assert _statuses(tmp_path / "s1") == {"good": "FINISHED", "tree": "FINISHED"}
    # Nowhere: the error names both places, and it is still a FileNotFoundError (as in 0.2.0).
    (sweeps / "data" / "iris.csv").unlink()
    with pytest.raises(FileNotFoundError) as raised:
        run_sweep(config, store=str(tmp_path / "s3"))
    assert isinstance(raised.value, SweepFileNotFound)
    assert str(work / "data" / "iris.csv") in str(raised.value)
    assert str(sweeps / "data" / "iris.csv") in str(raised.value)


def test_working_folder_csv_wins_over_the_yaml_folder(tmp_path, monkeypatch):
    sweeps, work = tmp_path / "sweeps", tmp_path / "work"
    config = _write(sweeps, SWEEP.replace("{source: sklearn.datasets.load_iris}",
                                          "{source: d.csv, target_column: label}"))
    (sweeps / "d.csv").write_text("a,label\n" + "".join(f"{i},{i % 2}\n" for i in range(30)))
    work.mkdir()
    (work / "d.csv").write_text("a,b,label\n" + "".join(f"{i},{i},{i % 2}\n" for i in range(30)))
    monkeypatch.chdir(work)
    messages = []
    run_sweep(config, messages.append, store=str(tmp_path / "s"))
    assert any("Shape: (30, 2)" in m for m in messages), messages  # the cwd file has two feature columns


def test_a_failing_run_raises_after_the_others_finished_and_were_recorded(tmp_path):
    config = _write(tmp_path, SWEEP.replace("  - {id: tree", BROKEN_RUN + "  - {id: tree"))
    with pytest.raises(ValueError, match="'C' parameter") as raised:  # sklearn's own error, as 0.2.0 raised it
        run_sweep(config, store=str(tmp_path / "s"))
    assert _statuses(tmp_path / "s") == {"good": "FINISHED", "broken": "FAILED", "tree": "FINISHED"}
    assert raised.value.sweep_result.failed[0][0] == "broken"
    quiet = run_sweep(config, store=str(tmp_path / "q"), raise_on_failure=False)
    assert not quiet.ok and [spec for spec, _ in quiet.failed] == ["broken"]


def test_a_failing_run_in_a_worker_raises_sweep_runs_failed_after_the_others(tmp_path):
    config = _write(tmp_path, SWEEP.split("  - {id: tree")[0] + BROKEN_RUN)  # good and broken
    with pytest.raises(SweepRunsFailed, match="1 of 2 sweep runs failed") as parallel:
        run_sweep(config, jobs=2, store=str(tmp_path / "p"))
    assert _statuses(tmp_path / "p") == {"good": "FINISHED", "broken": "FAILED"}
    assert [finished[0] for finished in parallel.value.sweep_result.finished] == ["good"]
    assert "InvalidParameterError" in parallel.value.sweep_result.failed[0][1]


def test_unknown_validation_strategy_says_so_before_any_run(tmp_path):
    config = _write(tmp_path, SWEEP.replace("strategy: train_test_split", "strategy: bootstrap"))
    with pytest.raises(ValueError, match="Unknown validation strategy"):
        run_sweep(config, store=str(tmp_path / "s"))
    assert not (tmp_path / "s").exists()
    from sklearn.linear_model import LinearRegression

    from runelog.runner import _run_single_experiment

    with pytest.raises(ValueError, match="Unknown validation strategy"):
        _run_single_experiment(LinearRegression(), [[1], [2]], [1, 2], {"strategy": "nope"}, {"metrics": []})


@pytest.mark.slow  # about 11 s of CPU: 0.2.0's own config, 5-fold CV over a 200-tree forest
def test_020_sweep_example_runs_unmodified(tmp_path):
    example = REPO / "tests" / "compat" / "examples" / "sweep" / "sweep.py"
    done = subprocess.run([sys.executable, str(example)], cwd=tmp_path, env=_env(), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Logged Metrics" in done.stdout and "Traceback" not in done.stderr
    assert _statuses(tmp_path, "sweep-example") == {
        "logistic-regression-lbfgs": "FINISHED", "decision-tree-gini": "FINISHED",
        "random-forest-200-entropy": "FINISHED"}


# ------------------------------------------------------------ issue 13.8: 0.2.0's spellings


@pytest.mark.parametrize("spelling", [["--config", "{}"], ["-c", "{}"], ["{}"]])
def test_sweep_file_spellings(tmp_path, spelling):
    config = _write(tmp_path)
    args = [a.format(config) for a in spelling]
    result = CliRunner().invoke(app, ["--store", str(tmp_path / "s"), "sweep", *args, "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert "Sweep into 'sweep-test'" in result.output
    assert _statuses(tmp_path / "s") == {"good": "FINISHED", "tree": "FINISHED"}


def test_sweep_file_given_twice_or_not_at_all_is_a_usage_error(tmp_path):
    config = str(_write(tmp_path))
    for args in ([config, "--config", config], []):
        result = CliRunner().invoke(app, ["--store", str(tmp_path / "s"), "sweep", *args])
        assert result.exit_code == 2 and "FILE" in result.output
    assert not (tmp_path / "s").exists()


def test_cli_failing_run_exits_1_without_traceback(tmp_path):
    config = _write(tmp_path, SWEEP + BROKEN_RUN)
    done = _cli("--store", tmp_path / "s", "sweep", "-c", config, cwd=tmp_path)
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    assert "broken failed" in done.stdout and "InvalidParameterError" in done.stdout
    assert _statuses(tmp_path / "s") == {"good": "FINISHED", "tree": "FINISHED", "broken": "FAILED"}


def test_bad_run_sweep_options_are_refused_before_any_run(tmp_path):
    config = _write(tmp_path)
    for options in ({"jobs": 0}, {"jobs": "2"}, {"jobs": True}, {"jobs": 2, "tracker": object()}):
        with pytest.raises(SweepOptionError) as raised:
            run_sweep(config, **options)
        assert isinstance(raised.value, ValueError) and "jobs" in str(raised.value)
    assert not (tmp_path / ".runelog").exists()


# ------------------------------------------------------------ stopping a parallel sweep: signals, dead processes

# Runs that go on far longer than any test (a Python-level loop over trees, so signals land at once).
ENDLESS = """
experiment_name: endless
dataset: {source: sklearn.datasets.load_iris}
validation: {strategy: train_test_split, params: {test_size: 0.3, random_state: 0}}
evaluation: {metrics: [accuracy_score]}
runs:
"""
ENDLESS_RUN = ("  - {id: %s, model_class: sklearn.ensemble.RandomForestClassifier, "
               "model_params: {n_estimators: 1000000, max_depth: 2}}\n")
QUICK_RUN = "  - {id: %s, model_class: sklearn.tree.DecisionTreeClassifier, model_params: {random_state: 0}}\n"


def _start_sweep(tmp_path: Path, runs: str, jobs: int = 2) -> subprocess.Popen:
    """`runelog sweep` in a process group of its own, as a terminal starts it."""
    config = _write(tmp_path, ENDLESS + runs)
    return subprocess.Popen([RUNELOG, "--store", str(tmp_path / "s"), "sweep", str(config), "--jobs", str(jobs)],
                            cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, preexec_fn=ctrl_c_as_a_terminal_gives_it)


def _runs(tmp_path: Path) -> dict[str, tuple[str, int, str | None]]:
    """name -> (status, pid, error), read straight from the SQLite file."""
    import sqlite3

    db = tmp_path / "s" / ".runelog" / "runelog.db"
    if not db.exists():
        return {}
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return {name: (status, pid, error) for name, status, pid, error in
                connection.execute("select name, status, pid, error from runs")}
    except sqlite3.OperationalError:  # the schema is being created
        return {}
    finally:
        connection.close()


def _wait_running(tmp_path: Path, sweep: subprocess.Popen, names: set[str], timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _runs(tmp_path)
        if {n for n, (status, _, _) in found.items() if status == "RUNNING"} >= names:
            return found
        assert sweep.poll() is None, sweep.communicate()[0]
        time.sleep(0.2)
    raise AssertionError(f"runs {names} never ran: {_runs(tmp_path)}")


def _alive(pid: int) -> bool:
    """A process that exists and is not a zombie (a container's init may not reap orphans)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def _gone_soon(pids, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not any(_alive(pid) for pid in pids)


@pytest.fixture
def sweeps():
    """Every sweep a test starts, and every worker pid it saw: killed at the end whatever happened."""
    started: list[subprocess.Popen] = []
    pids: list[int] = []
    yield started, pids
    for sweep in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(sweep.pid, signal.SIGKILL)
        sweep.wait()
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.slow  # two worker processes start and train under a loaded machine
@pytest.mark.parametrize("signum, code, reason", [(signal.SIGINT, 130, "KeyboardInterrupt"),
                                                  (signal.SIGTERM, 143, "SIGTERM")])
def test_ctrl_c_or_sigterm_to_the_group_stops_a_parallel_sweep_at_once(tmp_path, sweeps, signum, code, reason):
    sweep = _start_sweep(tmp_path, "".join(ENDLESS_RUN % n for n in ("e1", "e2", "e3", "e4")))
    sweeps[0].append(sweep)
    found = _wait_running(tmp_path, sweep, {"e1", "e2"})
    sweeps[1].extend(pid for _, pid, _ in found.values())
    os.killpg(sweep.pid, signum)  # as a terminal's Ctrl-C does: the whole foreground group
    sent = time.monotonic()
    output = sweep.communicate(timeout=30)[0]
    assert time.monotonic() - sent < 10, output
    assert sweep.returncode == code, output
    assert "Traceback" not in output
    time.sleep(2)  # a pending run that had been started would have been created by now
    assert _runs(tmp_path) == {n: ("KILLED", found[n][1], reason) for n in ("e1", "e2")}
    assert _gone_soon(pid for _, pid, _ in found.values())


@pytest.mark.slow
def test_sigterm_to_the_parent_alone_is_passed_on_to_its_workers(tmp_path, sweeps):
    sweep = _start_sweep(tmp_path, "".join(ENDLESS_RUN % n for n in ("e1", "e2", "e3")))
    sweeps[0].append(sweep)
    found = _wait_running(tmp_path, sweep, {"e1", "e2"})
    sweeps[1].extend(pid for _, pid, _ in found.values())
    sweep.send_signal(signal.SIGTERM)  # `kill PID`: only the parent hears it
    output = sweep.communicate(timeout=30)[0]
    assert sweep.returncode == 143, output
    assert _gone_soon(pid for _, pid, _ in found.values())
    time.sleep(2)
    assert _runs(tmp_path) == {n: ("KILLED", found[n][1], "SIGTERM") for n in ("e1", "e2")}


@pytest.mark.slow
def test_workers_end_their_runs_killed_when_the_parent_is_sigkilled(tmp_path, sweeps):
    sweep = _start_sweep(tmp_path, "".join(ENDLESS_RUN % n for n in ("e1", "e2", "e3")))
    sweeps[0].append(sweep)
    found = _wait_running(tmp_path, sweep, {"e1", "e2"})
    sweeps[1].extend(pid for _, pid, _ in found.values())
    sweep.kill()  # nothing to pass anything on: the workers notice on their own
    sweep.wait()
    assert _gone_soon((pid for _, pid, _ in found.values()), timeout=20), _runs(tmp_path)
    assert _runs(tmp_path) == {n: ("KILLED", found[n][1], "SIGTERM") for n in ("e1", "e2")}


@pytest.mark.slow
def test_a_sigkilled_worker_leaves_its_run_recorded_not_running(tmp_path, sweeps):
    sweep = _start_sweep(tmp_path, ENDLESS_RUN % "oom" + QUICK_RUN % "quick")
    sweeps[0].append(sweep)
    found = _wait_running(tmp_path, sweep, {"oom"})
    sweeps[1].append(found["oom"][1])
    os.kill(found["oom"][1], signal.SIGKILL)  # as the OOM killer does
    output = sweep.communicate(timeout=60)[0]
    assert sweep.returncode == 1, output
    assert "Traceback" not in output
    assert "oom failed" in output and "killed by signal 9 (SIGKILL)" in output and "recorded KILLED" in output
    runs = _runs(tmp_path)
    assert runs["quick"][0] == "FINISHED"
    status, pid, error = runs["oom"]
    assert status == "KILLED" and error == f"reaped: process {pid} is gone"


@pytest.mark.parametrize("content", [b"\xff\xfe: [", b"\x00\x01\x02\x89PNG\r\n", "name: caf\xe9".encode("latin-1")])
def test_a_file_that_is_not_utf8_text_is_a_config_error(tmp_path, content):
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(content)
    if content.startswith(b"\x00"):  # valid UTF-8 but not text: YAML refuses the control characters
        with pytest.raises(SweepConfigError):
            run_sweep(bad)
    else:
        with pytest.raises(SweepConfigError, match="is not UTF-8 text"):
            run_sweep(bad)
    done = _cli("sweep", bad, cwd=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
    assert "bad.yaml" in done.stdout + done.stderr
    assert not (tmp_path / ".runelog").exists()
