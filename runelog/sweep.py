"""Sweeps: many scikit-learn runs described by one YAML file (runelog 0.2.0's format).

    experiment_name: iris-sweep
    dataset:
      source: sklearn.datasets.load_iris     # or a CSV path, with target_column
    validation:
      strategy: train_test_split             # or cross_validation
      params: {test_size: 0.25, random_state: 0}   # cross_validation: {n_splits: 5}
    evaluation:
      metrics: [accuracy_score, f1_score]
      metric_params: {f1_score: {average: macro}}
    runs:
      - id: logreg
        model_class: sklearn.linear_model.LogisticRegression
        model_params: {C: 1.0, max_iter: 500}

The whole file is checked before any run starts; a problem is reported with
its YAML path (`runs[1].model_class`). Names in the file only ever resolve to
scikit-learn loaders, estimators and metrics (or another allowed estimator
package), so a config cannot run arbitrary code, and estimator params that
name files or folders (`memory:` and the like) are refused, so a sweep writes
nothing outside its store. Each run is a runelog run: one that raises
(including a dataset loader that raises) is recorded FAILED and the sweep
goes on; the caller hears of it at the end. With jobs > 1, Ctrl-C or SIGTERM
stops the sweep: no new run starts, the running ones end KILLED; a worker
whose parent dies ends its run KILLED, and a worker that dies (SIGKILL) has
its run reaped by the parent.

This is a face: it uses only the public API (`get_tracker`), like the CLI.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import interrupts
from .exceptions import (SweepConfigError, SweepFileNotFound, SweepOptionError,
                         SweepRunsFailed)

if TYPE_CHECKING:
    from .tracker import RuneLog

ESTIMATOR_PACKAGES = ("sklearn.", "xgboost.", "lightgbm.", "catboost.")
STRATEGIES = ("train_test_split", "cross_validation")

# Estimator params that take a file or folder (scikit-learn's `memory`, and the
# output/cache locations of xgboost, lightgbm and catboost). A sweep refuses any
# value for them but null/false: the estimator would write there, outside the store.
PATH_PARAM_NAMES = frozenset({
    "memory", "cache", "cachedir", "location", "path", "dir", "directory", "folder", "file", "filename",
    "train_dir", "snapshot_file", "output_model", "input_model", "output_result", "convert_model",
})
PATH_PARAM_SUFFIXES = ("_dir", "_directory", "_folder", "_path", "_file", "_filename")

_RESULT_MARK = "RUNELOG-SWEEP-RESULT "
STOP_GRACE_SECONDS = 5.0  # after Ctrl-C/SIGTERM, how long workers get to record KILLED before SIGKILL


@dataclass(frozen=True)
class RunSpec:
    id: str
    model_class: str
    model_params: dict


@dataclass(frozen=True)
class SweepConfig:
    path: str
    experiment_name: str
    dataset: dict
    validation: dict
    evaluation: dict
    runs: tuple[RunSpec, ...]
    csv_path: str | None = None  # the CSV dataset, resolved when the file was checked


@dataclass
class SweepResult:
    experiment_name: str
    finished: list[tuple[str, str, dict]] = field(default_factory=list)  # (spec id, run id, metrics)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (spec id, error)

    @property
    def ok(self) -> bool:
        return not self.failed


@dataclass
class _Outcome:
    spec_id: str
    run_id: str
    metrics: dict | None
    error: str | None
    exception: BaseException | None = None  # only for runs in this process


# ---------------------------------------------------------------- validation


def load_config(path: str | Path, *, workdir: str | Path | None = None) -> SweepConfig:
    """Read and check a sweep file completely; SweepConfigError names the first problem's YAML path.

    A relative CSV path is looked for in `workdir` (default: the current folder), then beside the file.
    """
    import yaml

    path = str(path)
    if not Path(path).is_file():
        raise SweepFileNotFound(path, "", "the file does not exist")
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SweepConfigError(path, "", f"it is not UTF-8 text (byte {exc.start}); a sweep file is YAML "
                                         "saved as UTF-8") from None
    except OSError as exc:
        raise SweepConfigError(path, "", f"it cannot be read ({exc.strerror or exc})") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SweepConfigError(path, "", f"it is not valid YAML ({exc})") from None
    problem = _Checker(path)
    if not isinstance(raw, dict):
        problem("", "the top level must be a mapping")
    dataset = problem.mapping(raw, "dataset")
    source = problem.string(dataset, "source", "dataset.source")
    csv_path = None
    if source.lower().endswith(".csv"):
        csv_path = str(_find_csv(source, Path(path).resolve().parent, path, workdir))
        problem.string(dataset, "target_column", "dataset.target_column")
    else:
        _resolve(problem, "dataset.source", source, ("sklearn.datasets.",), prefix_name="load_")
    validation = problem.mapping(raw, "validation")
    strategy = problem.string(validation, "strategy", "validation.strategy")
    if strategy not in STRATEGIES:
        problem("validation.strategy", f"Unknown validation strategy '{strategy}'; use one of {', '.join(STRATEGIES)}")
    if not isinstance(validation.get("params", {}) or {}, dict):
        problem("validation.params", "must be a mapping")
    evaluation = problem.mapping(raw, "evaluation")
    metrics = evaluation.get("metrics")
    if not isinstance(metrics, list) or not metrics:
        problem("evaluation.metrics", "must be a non-empty list of sklearn.metrics function names")
    for i, name in enumerate(metrics):
        _resolve(problem, f"evaluation.metrics[{i}]", f"sklearn.metrics.{name}", ("sklearn.metrics.",))
    metric_params = evaluation.get("metric_params", {}) or {}
    if not isinstance(metric_params, dict):
        problem("evaluation.metric_params", "must be a mapping")
    for name in metric_params:
        if name not in metrics:
            problem(f"evaluation.metric_params.{name}", "names a metric that is not in evaluation.metrics")
    runs = raw.get("runs")
    if not isinstance(runs, list) or not runs:
        problem("runs", "must be a non-empty list")
    specs, seen = [], set()
    for i, run in enumerate(runs):
        where = f"runs[{i}]"
        if not isinstance(run, dict):
            problem(where, "must be a mapping")
        spec_id = str(run.get("id", f"run-{i}"))
        if spec_id in seen:
            problem(f"{where}.id", f"'{spec_id}' is used twice")
        seen.add(spec_id)
        model_class = problem.string(run, "model_class", f"{where}.model_class")
        _resolve(problem, f"{where}.model_class", model_class, ESTIMATOR_PACKAGES, must_be_class=True)
        params = run.get("model_params", {}) or {}
        if not isinstance(params, dict):
            problem(f"{where}.model_params", "must be a mapping")
        _check_no_paths(problem, f"{where}.model_params", params)
        specs.append(RunSpec(spec_id, model_class, params))
    name = raw.get("experiment_name", "default-sweep")
    if not isinstance(name, str) or not name.strip():
        problem("experiment_name", "must be a non-empty string")
    return SweepConfig(path, name, dataset, validation, evaluation, tuple(specs), csv_path)


class _Checker:
    """Raises SweepConfigError for one file, and reads typed values with their YAML paths."""

    def __init__(self, path: str):
        self.path = path

    def __call__(self, where: str, message: str):
        raise SweepConfigError(self.path, where, message)

    def mapping(self, parent: dict, key: str) -> dict:
        value = parent.get(key)
        if not isinstance(value, dict):
            self(key, "is missing or is not a mapping")
        return value

    def string(self, parent: dict, key: str, where: str) -> str:
        value = parent.get(key)
        if not isinstance(value, str) or not value:
            self(where, "is missing or is not a string")
        return value


def _resolve(problem: _Checker, where: str, dotted: str, allowed: tuple[str, ...],
             must_be_class: bool = False, prefix_name: str | None = None) -> Any:
    """Import `package.module.Name`, but only from the allowed packages."""
    if not isinstance(dotted, str) or not dotted.startswith(allowed) or "." not in dotted:
        problem(where, f"'{dotted}' is not allowed; use a name under {' or '.join(allowed)}")
    module_name, _, attribute = dotted.rpartition(".")
    if attribute.startswith("_") or (prefix_name and not attribute.startswith(prefix_name)):
        problem(where, f"'{dotted}' is not allowed")
    try:
        found = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError):
        problem(where, f"'{dotted}' does not exist")
    if must_be_class and not (isinstance(found, type) and hasattr(found, "fit")):
        problem(where, f"'{dotted}' is not an estimator class")
    if not callable(found):
        problem(where, f"'{dotted}' is not callable")
    return found


def _check_no_paths(problem: _Checker, where: str, params: Any) -> None:
    """Refuse estimator params that would make the estimator read or write files outside the store.

    Two rules: a param whose name says it is a location (`memory`, `*_dir`,
    `*_path`, ...) may only be null/false; and no string anywhere in the params
    may look like a path (absolute, `~`, or containing a separator).
    """
    if isinstance(params, dict):
        for key, value in params.items():
            here = f"{where}.{key}"
            name = str(key).lower()
            if (name in PATH_PARAM_NAMES or name.endswith(PATH_PARAM_SUFFIXES)) and value not in (None, False):
                problem(here, f"names a file or folder ({value!r}); a sweep writes nothing outside its store, "
                              "so location params are refused. Leave it out or set it to null")
            _check_no_paths(problem, here, value)
    elif isinstance(params, (list, tuple)):
        for i, value in enumerate(params):
            _check_no_paths(problem, f"{where}[{i}]", value)
    elif isinstance(params, str) and _looks_like_path(params):
        problem(where, f"'{params}' looks like a file or folder path; a sweep writes nothing outside its "
                       "store, so estimator params that name paths are refused. Remove it")


def _looks_like_path(text: str) -> bool:
    return (os.path.isabs(text) or text.startswith(("~", "./", "../")) or text in (".", "..")
            or "/" in text or "\\" in text or os.sep in text)


def _find_csv(source: str, config_dir: Path | None, config_path: str | None = None,
              workdir: str | Path | None = None) -> Path:
    """A CSV dataset path: absolute as given; relative against the working folder first (as 0.2.0),
    then against the YAML file's folder. SweepFileNotFound names every place it looked."""
    given = Path(source).expanduser()
    workdir = Path(workdir) if workdir is not None else Path.cwd()
    candidates = [given] if given.is_absolute() else [workdir / given]
    if not given.is_absolute() and config_dir is not None and config_dir.resolve() != workdir.resolve():
        candidates.append(config_dir / given)
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    looked = " or ".join(f"'{c}'" for c in candidates)
    raise SweepFileNotFound(config_path or source, "dataset.source",
                            f"the CSV file '{source}' was not found; looked at {looked}")


# ---------------------------------------------------------------- one run


def load_dataset(dataset: dict, config_dir: Path | None = None, csv_path: str | None = None):
    """(X, y) for a `dataset:` section: a CSV with its target column, or a scikit-learn loader."""
    source = dataset["source"]
    if source.lower().endswith(".csv"):
        import pandas as pd

        frame = pd.read_csv(csv_path or _find_csv(source, config_dir))
        target = dataset["target_column"]
        return frame.drop(columns=[target]), frame[target]
    module_name, _, loader = source.rpartition(".")
    return getattr(importlib.import_module(module_name), loader)(return_X_y=True)


def evaluate(model, X, y, validation: dict, evaluation: dict) -> dict[str, float]:
    """Fit and score one estimator under a `validation:` and an `evaluation:` section."""
    from sklearn import metrics as sk_metrics
    from sklearn.metrics import make_scorer
    from sklearn.model_selection import cross_validate, train_test_split

    names = evaluation["metrics"]
    extra = evaluation.get("metric_params", {}) or {}
    params = validation.get("params", {}) or {}
    strategy = validation.get("strategy")
    if strategy == "cross_validation":
        scoring = {n: make_scorer(getattr(sk_metrics, n), **extra.get(n, {})) for n in names}
        scores = cross_validate(model, X, y, cv=params.get("n_splits", 5), scoring=scoring)
        return {n: float(scores[f"test_{n}"].mean()) for n in names}
    if strategy == "train_test_split":
        X_train, X_test, y_train, y_test = train_test_split(X, y, **params)
        predicted = model.fit(X_train, y_train).predict(X_test)
        return {n: float(getattr(sk_metrics, n)(y_test, predicted, **extra.get(n, {}))) for n in names}
    raise ValueError(f"Unknown validation strategy: {strategy}. Choose either "
                     f"{' or '.join(repr(s) for s in STRATEGIES)}.")


def _once(load: Callable[[], Any]) -> Callable[[], Any]:
    """Call `load` the first time only; later calls return its value or raise its error again."""
    box: list[tuple[Any, BaseException | None]] = []

    def get():
        if not box:
            try:
                box.append((load(), None))
            except Exception as exc:
                box.append((None, exc))
        value, error = box[0]
        if error is not None:
            raise error
        return value

    return get


def _run_one(tracker: RuneLog, config: SweepConfig, spec: RunSpec, data: Callable[[], Any],
             say: Callable[[str], Any]) -> _Outcome:
    """One sweep run as a runelog run; anything it raises is recorded FAILED and returned, not raised."""
    say(f"\nrun in progress: '{spec.id}'")
    run_id, stage = "", "starting the run"
    try:
        with tracker.start_run(experiment_name=config.experiment_name, run_name=spec.id,
                               log_code=False) as run_id:
            params = {"run_config_id": spec.id, "model_class": spec.model_class,
                      "validation_strategy": config.validation["strategy"], **spec.model_params}
            tracker.log_params(params)
            say(f"Logged Parameters: {params}")
            stage = f"loading the dataset '{config.dataset['source']}'"
            X, y = data()
            stage = "building the estimator"
            module_name, _, class_name = spec.model_class.rpartition(".")
            model = getattr(importlib.import_module(module_name), class_name)(**spec.model_params)
            stage = "training and evaluating"
            metrics = evaluate(model, X, y, config.validation, config.evaluation)
            tracker.log_metrics(metrics)
            say(f"Logged Metrics: { {k: round(v, 4) for k, v in metrics.items()} }")
    except Exception as exc:  # recorded FAILED by start_run; the sweep goes on
        error = f"{stage}: {type(exc).__name__}: {exc}"
        say(f"run '{spec.id}' FAILED while {error}")
        return _Outcome(spec.id, run_id, None, error, exc)
    return _Outcome(spec.id, run_id, metrics, None)


# ---------------------------------------------------------------- parallel workers

# The worker starts isolated (-I: no current folder, no PYTHON* variables, no user
# site) and then takes the parent's import path minus the current folder and the
# config's folder, before it imports anything else; so a `yaml.py` or `sklearn.py`
# lying next to the config is never run. Works the same on 3.10 (which has no -P).
# It also runs in an empty folder of its own, with PYTHONSAFEPATH=1, so the processes
# it starts in turn (joblib's loky workers run `python -m ...`) cannot import from
# the user's folder either; and whatever an estimator writes to relative paths
# lands there and is removed with it.
_BOOTSTRAP = (
    "import sys\n"
    "sys.path[:] = [p for p in sys.path if p not in ('', '.')]\n"
    "import json\n"
    "sys.path[:] = json.loads(sys.argv[1])\n"
    "from runelog.sweep import _worker_main\n"
    "_worker_main(sys.argv[2:])\n"
)


def _worker_path(config: SweepConfig) -> list[str]:
    """The parent's sys.path without the current folder or the config's folder (resolved)."""
    def resolved(entry: str) -> Path | None:
        try:
            return Path(entry).resolve()
        except (OSError, RuntimeError):
            return None

    banned = {Path.cwd().resolve(), Path(config.path).resolve().parent}
    # Absolute, because the worker runs in another folder.
    kept = [os.path.abspath(entry) for entry in sys.path if entry and resolved(entry) not in banned | {None}]
    package_root = Path(__file__).resolve().parent.parent
    if package_root in banned:  # runelog runs from a checkout there: keep it reachable, after everything else
        kept.append(str(package_root))
    return kept


class _Workers:
    """Runs sweep runs in worker processes (one thread each waits for its worker) and can stop them all.

    Each worker gets its own session, so a terminal's Ctrl-C reaches only this
    process, which passes the signal on once (`stop`); and each holds the read
    end of a pipe whose write end only this process has: when this process dies,
    however it dies, the worker sees the pipe close and ends its run KILLED.
    A worker that dies without reporting (SIGKILL, the OOM killer) leaves its
    run RUNNING; the run is reaped here, by the worker's pid.
    """

    def __init__(self, config: SweepConfig, store: str | None, database_url: str | None, folder: str):
        self.config, self.database_url, self.folder = config, database_url, folder
        self.store = str(Path(store if store is not None else os.environ.get("RUNELOG_HOME", ".")).resolve())
        self._lock = threading.Lock()
        self._running: dict[str, subprocess.Popen] = {}
        self.stopping = False

    def run(self, spec: RunSpec) -> _Outcome | None:
        """One run in a fresh worker started in `folder` (empty); None if the sweep was stopped first."""
        command = [sys.executable, "-I", "-c", _BOOTSTRAP, json.dumps(_worker_path(self.config)),
                   str(Path(self.config.path).resolve()), spec.id, "--store", self.store,
                   "--workdir", str(Path.cwd())]
        if self.database_url is not None:
            command += ["--database-url", self.database_url]
        with self._lock:  # stop() sees every worker started, and none starts after it
            if self.stopping:
                return None
            watched, parent_end = os.pipe()
            try:
                worker = subprocess.Popen(command + ["--parent-pipe", str(watched)], pass_fds=(watched,),
                                          start_new_session=True, stdin=subprocess.DEVNULL,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                          cwd=self.folder, env={**os.environ, "PYTHONSAFEPATH": "1"})
            except BaseException:
                os.close(parent_end)
                raise
            finally:
                os.close(watched)
            self._running[spec.id] = worker
        try:
            out, err = worker.communicate()
        finally:
            os.close(parent_end)
            with self._lock:
                self._running.pop(spec.id, None)
        for line in reversed(out.splitlines()):
            if line.startswith(_RESULT_MARK):
                found = json.loads(line[len(_RESULT_MARK):])
                return _Outcome(found["spec_id"], found["run_id"], found["metrics"], found["error"])
        code = worker.returncode
        how = f"was killed by signal {-code} ({_signal_name(-code)})" if code < 0 else f"exited with status {code}"
        tail = (err.strip().splitlines() or ["no output"])[-1]
        reaped = self._reap(spec, worker.pid)
        left = f"; its run {reaped[0][:8]} is recorded KILLED" if reaped else ""
        return _Outcome(spec.id, reaped[0] if reaped else "", None,
                        f"the worker process {how}{left}: {tail}")

    def _reap(self, spec: RunSpec, pid: int) -> list[str]:
        """Mark KILLED the run the dead worker `pid` left RUNNING (it cannot record its end itself)."""
        from . import get_tracker

        tracker = get_tracker(self.store, database_url=self.database_url)
        try:
            mine = [r["run_id"] for r in tracker.find_runs(self.config.experiment_name, status="RUNNING")
                    if r.get("pid") == pid and r.get("run_name") == spec.id]
            return tracker.reap_runs(stale_after=float("inf"), run_ids=mine) if mine else []
        finally:
            tracker.close()

    def stop(self, signum: int, grace: float = STOP_GRACE_SECONDS) -> None:
        """Start no more workers; pass `signum` to the running ones, and SIGKILL any still alive after `grace`."""
        with self._lock:
            self.stopping = True
            running = list(self._running.values())
        for worker in running:
            with contextlib.suppress(ProcessLookupError):
                worker.send_signal(signum)
        deadline = time.monotonic() + grace
        for worker in running:
            while worker.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            if worker.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    worker.kill()  # its thread then reaps its run


def _worker_main(argv: list[str] | None = None) -> None:
    """A worker: one run of CONFIG; prints its outcome as one marked JSON line."""
    import argparse

    from . import get_tracker

    parser = argparse.ArgumentParser(prog="runelog sweep worker")
    parser.add_argument("config")
    parser.add_argument("spec_id")
    parser.add_argument("--store")
    parser.add_argument("--database-url")
    parser.add_argument("--workdir")
    parser.add_argument("--parent-pipe", type=int)
    args = parser.parse_args(argv)
    if args.parent_pipe is not None:
        _end_when_parent_dies(args.parent_pipe)
    config = load_config(args.config, workdir=args.workdir)
    spec = next(s for s in config.runs if s.id == args.spec_id)
    tracker = get_tracker(args.store, database_url=args.database_url)
    try:
        data = lambda: load_dataset(config.dataset, csv_path=config.csv_path)  # noqa: E731
        outcome = _run_one(tracker, config, spec, data, lambda message: None)
    finally:
        tracker.close()
    print(_RESULT_MARK + json.dumps({"spec_id": outcome.spec_id, "run_id": outcome.run_id,
                                     "metrics": outcome.metrics, "error": outcome.error}))


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return "unknown signal"


def _end_when_parent_dies(fd: int) -> None:
    """Watch the pipe only the parent writes to: at EOF the parent is gone, so end this worker
    with SIGTERM (its open run is recorded KILLED). Portable, unlike PR_SET_PDEATHSIG."""
    def watch():
        try:
            while os.read(fd, 1024):
                pass
        except OSError:
            pass
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="runelog-sweep-parent-watch", daemon=True).start()


# ---------------------------------------------------------------- the sweep


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """While the workers are being stopped, a further Ctrl-C/SIGTERM does not cut that short."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)


@contextlib.contextmanager
def _safe_path_for_children() -> Iterator[None]:
    """While runs train in this process, Python processes they start (joblib's loky workers,
    `python -m ...`) do not put the current folder on their import path (PYTHONSAFEPATH, 3.11+)."""
    before = os.environ.get("PYTHONSAFEPATH")
    os.environ["PYTHONSAFEPATH"] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("PYTHONSAFEPATH", None)
        else:
            os.environ["PYTHONSAFEPATH"] = before


def _silent(message: str) -> None:
    """The default progress handler (as in 0.2.0): says nothing."""


def run_sweep(config_path: str | Path, progress_handler: Callable[[str], Any] | None = None, *,
              jobs: int = 1, progress: Callable[[str, str | None], Any] | None = None,
              store: str | None = None, database_url: str | None = None,
              tracker: RuneLog | None = None, raise_on_failure: bool = True) -> SweepResult:
    """Check the config, then run every run (in `jobs` processes) and record each as a runelog run.

    `run_sweep(path)` and `run_sweep(path, print)` work as in runelog 0.2.0:
    `progress_handler` gets text messages. `progress(spec_id, error_or_None)`
    is called after each run. The runs go to `tracker`, or to the store at
    `store` / `database_url` (default: here, or $RUNELOG_HOME).

    Workers (jobs > 1) start isolated, in an empty folder, and never import from
    the current folder; while runs train in this process, PYTHONSAFEPATH=1 is set
    so the processes they start (joblib's) do not either.

    A run that fails is recorded FAILED and the others still run. At the end,
    if any failed and `raise_on_failure` is true: with jobs=1 the first failed
    run's own exception is raised again (as 0.2.0 raised it), otherwise
    SweepRunsFailed; either carries the result as `.sweep_result`.
    """
    say = progress_handler or _silent
    config = load_config(config_path)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise SweepOptionError(f"jobs must be a whole number of at least 1, not {jobs!r}.")
    if tracker is not None and jobs > 1:
        raise SweepOptionError("With jobs > 1 each worker process opens the store itself: pass store= or "
                               "database_url= instead of tracker=.")
    result = SweepResult(config.experiment_name)
    outcomes: list[_Outcome] = []
    say(f"Running sweep for experiment: '{config.experiment_name}'")

    def record(outcome: _Outcome) -> None:
        outcomes.append(outcome)
        if outcome.error is None:
            result.finished.append((outcome.spec_id, outcome.run_id, outcome.metrics))
        else:
            result.failed.append((outcome.spec_id, outcome.error))
        if progress is not None:
            progress(outcome.spec_id, outcome.error)

    if jobs == 1:
        from . import get_tracker

        own = tracker is None
        tracker = get_tracker(store, database_url=database_url) if own else tracker

        def load():
            X, y = load_dataset(config.dataset, csv_path=config.csv_path)
            say(f"Dataset '{config.dataset['source']}' loaded successfully. Shape: {getattr(X, 'shape', '?')}")
            return X, y

        data = _once(load)
        try:
            with _safe_path_for_children():
                for spec in config.runs:
                    record(_run_one(tracker, config, spec, data, say))
        finally:
            if own:
                tracker.close()
    else:
        # Each parallel run is a fresh, isolated worker process: nothing (open connections,
        # the caller's __main__, the current folder's modules) is inherited, and a crash
        # stays in its run.
        import tempfile

        with tempfile.TemporaryDirectory(prefix="runelog-sweep-") as folder:
            workers = _Workers(config, store, database_url, folder)
            pool = ThreadPoolExecutor(max_workers=jobs)
            try:
                with interrupts.sigterm_raises():
                    waiting = {pool.submit(workers.run, spec) for spec in config.runs}
                    while waiting:
                        done, waiting = wait(waiting, timeout=0.2, return_when=FIRST_COMPLETED)
                        for future in done:
                            outcome = future.result()
                            say(f"run '{outcome.spec_id}' " + ("finished" if outcome.error is None else
                                                                f"FAILED while {outcome.error}"))
                            record(outcome)
            except BaseException as exc:
                # Ctrl-C or SIGTERM (or an error here): no new run starts, the running ones end KILLED.
                signum = signal.SIGINT if isinstance(exc, KeyboardInterrupt) else signal.SIGTERM
                with _signals_held():
                    pool.shutdown(wait=False, cancel_futures=True)
                    workers.stop(signum)
                    pool.shutdown(wait=True)
                raise
            pool.shutdown(wait=True)
    order = {spec.id: i for i, spec in enumerate(config.runs)}
    result.finished.sort(key=lambda r: order[r[0]])
    result.failed.sort(key=lambda r: order[r[0]])
    if result.failed and raise_on_failure:
        _raise_failure(result, outcomes, order)
    return result


def _raise_failure(result: SweepResult, outcomes: list[_Outcome], order: dict[str, int]) -> None:
    first = min((o for o in outcomes if o.error is not None), key=lambda o: order[o.spec_id])
    if first.exception is None:
        raise SweepRunsFailed(result.experiment_name, result.failed, len(order), result)
    summary = SweepRunsFailed(result.experiment_name, result.failed, len(order), result)
    error = first.exception
    try:
        error.sweep_result = result
    except AttributeError:
        pass
    if hasattr(error, "add_note"):  # 3.11+: the traceback says the other runs were recorded
        error.add_note(str(summary))
    raise error
