"""A sweep's YAML file, read and checked whole before any run starts.

A problem is reported with its YAML path (`runs[1].model_class`). Names in the
file only ever resolve to scikit-learn loaders, estimators and metrics (or
another allowed estimator package), so a config cannot run arbitrary code; and
estimator params that name files or folders (`memory:` and the like) are
refused, so a sweep writes nothing outside its store.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from ..exceptions import SweepConfigError, SweepFileNotFound

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

    def __call__(self, where: str, message: str) -> NoReturn:
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
