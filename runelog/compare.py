"""Comparing runs: the one implementation behind the API's compare_runs, the CLI and the UI.

Given run ids: the params that differ, and per metric each run's latest value,
which direction is better, and the best run. The direction is the caller's
where given, else read from the name: loss, error, mse, rmse, mae and the
like (`val_loss`, `train/error_rate`) are lower-is-better; anything else is
higher-is-better.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Mapping
from typing import Any

from . import exceptions, queries, runs
from .types import RunComparison, RunInfo

# A metric whose name has one of these words (split at anything not a letter or digit) is lower-is-better.
LOWER_IS_BETTER_WORDS = frozenset({"loss", "error", "err", "mse", "rmse", "mae", "mape", "smape", "msle",
                                   "rmsle", "nll", "perplexity", "ppl", "wer", "cer", "latency"})


def lower_is_better_by_name(key: str) -> bool:
    """Whether a metric's name says lower is better: `loss`, `val_loss`, `logloss`, `test/mse`, `error_rate`."""
    name = key.lower()
    return name.endswith(("loss", "error")) or any(word in LOWER_IS_BETTER_WORDS
                                                   for word in re.split(r"[^a-z0-9]+", name))


def compare_runs(session, run_ids: list[str], lower_is_better: bool | Mapping[str, bool] | Collection[str] | None
                 = None) -> RunComparison:
    """Compare runs given by full id or unique prefix (at least one; a repeated id counts once).

    `lower_is_better`: None reads each metric's name; True or False applies to every metric;
    a dict {metric: bool} decides those metrics (the rest by name); a list or set of metric
    names (or one name) makes those lower-is-better (the rest by name).
    Raises RunNotFound / AmbiguousRunId for an id, InvalidValue for no ids or another lower_is_better.
    """
    if isinstance(run_ids, str) or not run_ids:
        raise exceptions.InvalidValue("Give compare_runs a list of one or more run ids, e.g. [run_a, run_b].")
    lower_is_better = checked_direction(lower_is_better)
    full_ids = list(dict.fromkeys(runs.resolve_run_id(session, run_id) for run_id in run_ids))
    return comparison_of(queries.runs_by_id(session, full_ids), lower_is_better)


def checked_direction(lower_is_better: Any) -> bool | Mapping[str, bool] | frozenset[str] | None:
    """`lower_is_better` as None, a bool, a {metric: bool} dict or a set of names (one name: a set of one)."""
    if lower_is_better is None or isinstance(lower_is_better, bool):
        return lower_is_better
    if isinstance(lower_is_better, str):
        return frozenset([lower_is_better])
    if isinstance(lower_is_better, Mapping):
        if all(isinstance(k, str) and isinstance(v, bool) for k, v in lower_is_better.items()):
            return lower_is_better
    elif isinstance(lower_is_better, Collection) and all(isinstance(k, str) for k in lower_is_better):
        return frozenset(lower_is_better)
    raise exceptions.InvalidValue(
        f"lower_is_better is True or False, a metric name, a list of metric names or a dict "
        f"{{metric: True/False}}, not {lower_is_better!r}.")


def comparison_of(found: list[RunInfo], lower_is_better=None) -> RunComparison:
    """The comparison of runs already read (pure: no database)."""
    param_keys = sorted({key for run in found for key in run.params})
    params = {key: tuple(run.params.get(key) for run in found) for key in param_keys}
    differing = tuple(key for key in param_keys
                      if len({_comparable(run.params, key) for run in found}) > 1)
    metric_keys = sorted({key for run in found for key in run.metrics})
    metrics = {key: tuple(run.metrics.get(key) for run in found) for key in metric_keys}
    lower: dict[str, bool] = {}
    source: dict[str, str] = {}
    best_ids: dict[str, tuple[str, ...]] = {}
    best_values: dict[str, float | None] = {}
    for key, values in metrics.items():
        lower[key], source[key] = _direction(key, lower_is_better)
        usable = [v for v in values if v is not None and not math.isnan(v)]
        best = (min(usable) if lower[key] else max(usable)) if usable else None
        best_values[key] = best
        best_ids[key] = tuple(run.run_id for run, v in zip(found, values, strict=True) if best is not None and v == best)
    return RunComparison(runs=tuple(found), params=params, differing_params=differing, metrics=metrics,
                         lower_is_better=lower, direction_source=source, best_run_ids=best_ids,
                         best_values=best_values)


_MISSING = "\x00missing"


def _comparable(values: dict[str, Any], key: str) -> str:
    """A param value as comparable text: 1, 1.0 and True differ, as they do once stored; missing differs too."""
    if key not in values:
        return _MISSING
    return json.dumps(values[key], sort_keys=True, default=repr)


def _direction(key: str, lower_is_better) -> tuple[bool, str]:
    if isinstance(lower_is_better, bool):
        return lower_is_better, "caller"
    if isinstance(lower_is_better, Mapping) and key in lower_is_better:
        return bool(lower_is_better[key]), "caller"
    if isinstance(lower_is_better, str):
        lower_is_better = (lower_is_better,)
    if (lower_is_better is not None and not isinstance(lower_is_better, Mapping)
            and key in lower_is_better):
        return True, "caller"
    if lower_is_better_by_name(key):
        return True, "name"
    return False, "default"
