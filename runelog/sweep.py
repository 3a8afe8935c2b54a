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
package), so a config cannot run arbitrary code. Each run is a runelog run:
one that raises is recorded FAILED and the sweep goes on.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .exceptions import SweepConfigError

ESTIMATOR_PACKAGES = ("sklearn.", "xgboost.", "lightgbm.", "catboost.")
STRATEGIES = ("train_test_split", "cross_validation")


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


@dataclass
class SweepResult:
    experiment_name: str
    finished: list[tuple[str, str, dict]] = field(default_factory=list)  # (spec id, run id, metrics)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (spec id, error)

    @property
    def ok(self) -> bool:
        return not self.failed


# ---------------------------------------------------------------- validation


def load_config(path: str | Path) -> SweepConfig:
    """Read and check a sweep file completely; SweepConfigError names the first problem's YAML path."""
    import yaml

    path = str(path)
    if not Path(path).is_file():
        raise SweepConfigError(path, "", "the file does not exist")
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as exc:
        raise SweepConfigError(path, "", f"it is not valid YAML ({exc})") from None
    problem = _Checker(path)
    if not isinstance(raw, dict):
        problem("", "the top level must be a mapping")
    dataset = problem.mapping(raw, "dataset")
    source = problem.string(dataset, "source", "dataset.source")
    if source.lower().endswith(".csv"):
        csv_path = Path(path).parent / source if not Path(source).is_absolute() else Path(source)
        if not csv_path.is_file():
            problem("dataset.source", f"the CSV file '{source}' does not exist")
        problem.string(dataset, "target_column", "dataset.target_column")
    else:
        _resolve(problem, "dataset.source", source, ("sklearn.datasets.",), prefix_name="load_")
    validation = problem.mapping(raw, "validation")
    strategy = problem.string(validation, "strategy", "validation.strategy")
    if strategy not in STRATEGIES:
        problem("validation.strategy", f"'{strategy}' is not one of {', '.join(STRATEGIES)}")
    if not isinstance(validation.get("params", {}), dict):
        problem("validation.params", "must be a mapping")
    evaluation = problem.mapping(raw, "evaluation")
    metrics = evaluation.get("metrics")
    if not isinstance(metrics, list) or not metrics:
        problem("evaluation.metrics", "must be a non-empty list of sklearn.metrics function names")
    for i, name in enumerate(metrics):
        _resolve(problem, f"evaluation.metrics[{i}]", f"sklearn.metrics.{name}", ("sklearn.metrics.",))
    metric_params = evaluation.get("metric_params", {})
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
        specs.append(RunSpec(spec_id, model_class, params))
    name = raw.get("experiment_name", "default-sweep")
    if not isinstance(name, str) or not name:
        problem("experiment_name", "must be a non-empty string")
    return SweepConfig(path, name, dataset, validation, evaluation, tuple(specs))


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
    if not dotted.startswith(allowed) or "." not in dotted:
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


# ---------------------------------------------------------------- running


def _load_data(config: SweepConfig):
    source = config.dataset["source"]
    if source.lower().endswith(".csv"):
        import pandas as pd

        csv_path = Path(source) if Path(source).is_absolute() else Path(config.path).parent / source
        frame = pd.read_csv(csv_path)
        target = config.dataset["target_column"]
        return frame.drop(columns=[target]), frame[target]
    module_name, _, loader = source.rpartition(".")
    return getattr(importlib.import_module(module_name), loader)(return_X_y=True)


def _evaluate(model, X, y, config: SweepConfig) -> dict[str, float]:
    from sklearn import metrics as sk_metrics
    from sklearn.metrics import make_scorer
    from sklearn.model_selection import cross_validate, train_test_split

    names = config.evaluation["metrics"]
    extra = config.evaluation.get("metric_params", {})
    params = config.validation.get("params", {}) or {}
    if config.validation["strategy"] == "cross_validation":
        scoring = {n: make_scorer(getattr(sk_metrics, n), **extra.get(n, {})) for n in names}
        scores = cross_validate(model, X, y, cv=params.get("n_splits", 5), scoring=scoring)
        return {n: float(scores[f"test_{n}"].mean()) for n in names}
    X_train, X_test, y_train, y_test = train_test_split(X, y, **params)
    predicted = model.fit(X_train, y_train).predict(X_test)
    return {n: float(getattr(sk_metrics, n)(y_test, predicted, **extra.get(n, {}))) for n in names}


def _run_one(config: SweepConfig, spec: RunSpec, store: str | None, database_url: str | None,
             data=None) -> tuple[str, str, dict | None, str | None]:
    """One sweep run as a runelog run. Returns (spec id, run id, metrics or None, error or None)."""
    from . import get_tracker

    tracker = get_tracker(store, database_url=database_url)
    run_id, metrics, error = "", None, None
    try:
        with tracker.start_run(experiment_name=config.experiment_name, run_name=spec.id,
                               log_code=False) as run_id:
            tracker.log_params({"run_config_id": spec.id, "model_class": spec.model_class,
                                "validation_strategy": config.validation["strategy"], **spec.model_params})
            X, y = data if data is not None else _load_data(config)
            module_name, _, class_name = spec.model_class.rpartition(".")
            model = getattr(importlib.import_module(module_name), class_name)(**spec.model_params)
            metrics = _evaluate(model, X, y, config)
            tracker.log_metrics(metrics)
    except Exception as exc:  # recorded FAILED by start_run; the sweep goes on
        error = f"{type(exc).__name__}: {exc}"
    finally:
        tracker.close()
    return spec.id, run_id, metrics, error


def _run_in_process(config: SweepConfig, spec: RunSpec, store: str | None,
                    database_url: str | None) -> tuple[str, str, dict | None, str | None]:
    command = [sys.executable, "-m", "runelog.sweep", config.path, spec.id]
    if store is not None:
        command += ["--store", str(store)]
    if database_url is not None:
        command += ["--database-url", database_url]
    done = subprocess.run(command, capture_output=True, text=True)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return spec.id, "", None, f"worker exited with {done.returncode}: {tail}"
    outcome = json.loads(lines[-1])
    return outcome["spec_id"], outcome["run_id"], outcome["metrics"], outcome["error"]


def run_sweep(config_path: str | Path, jobs: int = 1,
              progress: Callable[[str, str | None], None] | None = None,
              store: str | None = None, database_url: str | None = None) -> SweepResult:
    """Check the config, then run every run (in `jobs` processes); report each as it ends.

    `progress(spec_id, error_or_None)` is called after each run.
    """
    config = load_config(config_path)
    if jobs < 1:
        raise ValueError("jobs must be at least 1")
    result = SweepResult(config.experiment_name)

    def record(outcome):
        spec_id, run_id, metrics, error = outcome
        if error is None:
            result.finished.append((spec_id, run_id, metrics))
        else:
            result.failed.append((spec_id, error))
        if progress is not None:
            progress(spec_id, error)

    if jobs == 1:
        data = _load_data(config)
        for spec in config.runs:
            record(_run_one(config, spec, store, database_url, data))
    else:
        # Each parallel run is a fresh `python -m runelog.sweep` process: nothing (open
        # connections, the caller's __main__) is inherited, and a crash stays in its run.
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(_run_in_process, config, spec, store, database_url) for spec in config.runs]
            for future in as_completed(futures):
                record(future.result())
    order = {spec.id: i for i, spec in enumerate(config.runs)}
    result.finished.sort(key=lambda r: order[r[0]])
    result.failed.sort(key=lambda r: order[r[0]])
    return result


def _worker_main(argv: list[str] | None = None) -> None:
    """`python -m runelog.sweep CONFIG SPEC_ID`: one run; prints its outcome as a JSON line."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m runelog.sweep")
    parser.add_argument("config")
    parser.add_argument("spec_id")
    parser.add_argument("--store")
    parser.add_argument("--database-url")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    spec = next(s for s in config.runs if s.id == args.spec_id)
    spec_id, run_id, metrics, error = _run_one(config, spec, args.store, args.database_url)
    print(json.dumps({"spec_id": spec_id, "run_id": run_id, "metrics": metrics, "error": error}))


if __name__ == "__main__":
    _worker_main()
