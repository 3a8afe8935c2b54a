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

This is a face: like the CLI it uses only the public API (`runelog.get_tracker`,
`runelog.exceptions`, `runelog.interrupts`). Its modules: `config` (the file),
`evaluation` (one run), `workers` (the process pool), `run` (run_sweep).
"""

from __future__ import annotations

from .config import (ESTIMATOR_PACKAGES, PATH_PARAM_NAMES, PATH_PARAM_SUFFIXES, STRATEGIES, RunSpec,
                     SweepConfig, load_config)
from .evaluation import evaluate, load_dataset
from .run import SweepResult, run_sweep
from .workers import STOP_GRACE_SECONDS, _worker_main  # noqa: F401  (_worker_main: what a worker process runs)

__all__ = ["run_sweep", "load_config", "load_dataset", "evaluate", "SweepConfig", "SweepResult", "RunSpec",
           "ESTIMATOR_PACKAGES", "STRATEGIES", "PATH_PARAM_NAMES", "PATH_PARAM_SUFFIXES", "STOP_GRACE_SECONDS"]
