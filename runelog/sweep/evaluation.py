"""One sweep run: load the dataset, build the estimator, fit and score it, and record it as a runelog run."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import STRATEGIES, RunSpec, SweepConfig, _find_csv

if TYPE_CHECKING:
    from .. import RuneLog


@dataclass
class _Outcome:
    spec_id: str
    run_id: str
    metrics: dict | None
    error: str | None
    exception: BaseException | None = None  # only for runs in this process


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
