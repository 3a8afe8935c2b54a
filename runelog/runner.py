"""runelog 0.2.0's `runelog.runner`: `from runelog.runner import run_sweep` keeps working.

The sweep itself lives in `runelog.sweep`; this module keeps 0.2.0's names
(`run_sweep`, `_load_data`, `_run_single_experiment`, `_silent_handler`,
`get_tracker`) with their 0.2.0 signatures.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import get_tracker
from .sweep import SweepResult, evaluate, load_dataset
from .sweep import run_sweep as _run_sweep

__all__ = ["run_sweep", "get_tracker"]


def _silent_handler(message: str) -> None:
    """The default progress handler: says nothing."""


def _load_data(config: dict) -> tuple:
    """(X, y) for a `dataset:` section; a relative CSV path is read from the working folder."""
    return load_dataset(config)


def _run_single_experiment(model, X, y, validation_config: dict, evaluation_config: dict) -> dict:
    """Fit and score `model`; an unknown strategy raises ValueError("Unknown validation strategy ...")."""
    return evaluate(model, X, y, validation_config, evaluation_config)


def run_sweep(config_path: str | Path, progress_handler: Callable[[str], Any] | None = None,
              **options) -> SweepResult:
    """`runelog.sweep.run_sweep`, logging into `get_tracker()` of this module unless told otherwise.

    Looking `get_tracker` up here (as 0.2.0 did) keeps scripts and tests that
    replace `runelog.runner.get_tracker` working.
    """
    if options.get("jobs", 1) == 1 and not {"store", "database_url", "tracker"} & options.keys():
        options["tracker"] = get_tracker()
    return _run_sweep(config_path, progress_handler, **options)
