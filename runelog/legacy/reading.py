"""What there is to import: a 0.2.0 store's experiments, runs and model versions, read into dataclasses.

Reading touches no database, so a dry run reads exactly what an import would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .. import codec, db, exceptions
from ..types import RUN_STATUSES
from ..registry import check_tags
from .report import FAILED, NOTE, Finding, ImportReport
from .source import Unusable, legacy_time, listing, modified_at, present, read_object, unknown_fields

EXPERIMENT_FIELDS = {"experiment_id", "name"}
RUN_META_FIELDS = {"run_id", "experiment_id", "status", "start_time", "end_time", "tags"}
VERSION_FIELDS = {"model_name", "version", "source_run_id", "registration_timestamp", "tags"}

# A 0.2.0 run id (8 hex characters) is kept as it is; runelog resolves any lowercase hex id up to 32.
LEGACY_RUN_ID = re.compile(r"^[0-9a-f]{1,32}$")


# ---------------------------------------------------------------- experiments


@dataclass
class LegacyExperiment:
    folder: Path
    name: str
    wanted_id: int | None  # the 0.2.0 id, kept when it is free here
    created_at: datetime
    target_id: int | None = None  # the id here, once placed (None in a dry run for a new one)
    findings: list[Finding] = field(default_factory=list)


def read_experiment(folder: Path) -> LegacyExperiment:
    """An experiment folder. One named by a number but without meta.json (0.2.0 made those for
    `start_run(experiment_id=...)` with an id it did not know) gets a made-up name."""
    wanted = int(folder.name) if folder.name.isascii() and folder.name.isdigit() else None  # not "²"
    meta_path = folder / "meta.json"
    if not present(meta_path) and wanted is None:
        raise Unusable(folder, "not an experiment folder of runelog 0.2.0 (no meta.json, no numeric id)")
    if not present(meta_path):
        name = db.DEFAULT_EXPERIMENT_NAME if wanted == db.DEFAULT_EXPERIMENT_ID else f"0.2.0 experiment {wanted}"
        found = LegacyExperiment(folder, name, wanted, datetime.now(timezone.utc))
        found.findings.append((NOTE, "experiment", name, folder, f"no meta.json; imported as '{name}'"))
        return found
    meta, unknown = read_object(meta_path, EXPERIMENT_FIELDS, required=["name"])
    try:
        name = codec.check_key(meta["name"], "experiment name")
    except exceptions.InvalidKey as exc:
        raise Unusable(meta_path, str(exc)) from None
    found = LegacyExperiment(folder, name, wanted, modified_at(meta_path))
    if unknown:
        found.findings.append((FAILED, "experiment field", name, meta_path, unknown_fields(unknown)))
    return found


def scan_experiments(mlruns: Path, report: ImportReport) -> list[LegacyExperiment]:
    found = []
    for folder in listing(mlruns, report, "folder"):
        if not folder.is_dir():
            report.add(FAILED, "file", folder.name, folder, "not part of runelog 0.2.0's format; not imported")
            continue
        try:
            found.append(read_experiment(folder))
        except Unusable as exc:
            report.add(FAILED, "experiment", folder.name, exc.path,
                       f"{exc.reason}; the experiment and its runs were not imported")
    return found


# ---------------------------------------------------------------- runs (meta.json; the rest is in run_files)


@dataclass
class LegacyRun:
    run_id: str
    folder: Path
    experiment: LegacyExperiment
    status: str
    start_time: datetime
    end_time: datetime | None
    tags: dict[str, Any]
    findings: list[Finding] = field(default_factory=list)

    @property
    def meta_path(self) -> Path:
        return self.folder / "meta.json"

    @property
    def logged_at(self) -> datetime:
        """When its values were last written: the end, else the start."""
        return self.end_time or self.start_time


def read_run_meta(folder: Path, experiment: LegacyExperiment) -> LegacyRun:
    path = folder / "meta.json"
    if not LEGACY_RUN_ID.match(folder.name):
        raise Unusable(folder, "the folder name is not a run id (1 to 32 lowercase hex characters)")
    meta, unknown = read_object(path, RUN_META_FIELDS, required=["status", "start_time"])
    if meta.get("run_id", folder.name) != folder.name:
        raise Unusable(path, f"its run_id {meta['run_id']!r} is not its folder's name {folder.name!r}")
    if meta["status"] not in RUN_STATUSES:
        raise Unusable(path, f"its status {meta['status']!r} is not one of {', '.join(RUN_STATUSES)}")
    try:
        start = legacy_time(meta["start_time"])
        end = None if meta.get("end_time") is None else legacy_time(meta["end_time"])
    except ValueError as exc:
        raise Unusable(path, f"a time in it cannot be read: {exc}") from None
    tags = meta.get("tags") or {}
    if not isinstance(tags, dict):
        raise Unusable(path, f"its tags are a JSON {type(tags).__name__}, not an object")
    run = LegacyRun(folder.name, folder, experiment, meta["status"], start, end, tags)
    if unknown:
        run.findings.append((FAILED, "run field", folder.name, path, unknown_fields(unknown)))
    recorded = meta.get("experiment_id")
    if recorded is not None and str(recorded) != experiment.folder.name:
        run.findings.append((NOTE, "run", folder.name, path,
                             f"meta.json says experiment {recorded!r}; imported into the folder's experiment "
                             f"'{experiment.name}', where 0.2.0 found it"))
    return run


def scan_runs(experiments: list[LegacyExperiment], report: ImportReport) -> list[LegacyRun]:
    """Every readable run of the experiments, oldest first; a run id seen twice is imported once."""
    found: dict[str, LegacyRun] = {}
    for experiment in experiments:
        for folder in listing(experiment.folder, report, "experiment"):
            if folder.name == "meta.json":
                continue
            if not folder.is_dir():
                report.add(FAILED, "file", folder.name, folder, "not part of runelog 0.2.0's format; not imported")
                continue
            try:
                run = read_run_meta(folder, experiment)
            except Unusable as exc:
                report.add(FAILED, "run", folder.name, exc.path, f"{exc.reason}; the run was not imported")
                continue
            if run.run_id in found:
                report.add(FAILED, "run", run.run_id, folder,
                           f"run id {run.run_id} also names {found[run.run_id].folder} (0.2.0 could not tell "
                           "them apart); only that one was imported")
                continue
            found[run.run_id] = run
    return sorted(found.values(), key=lambda r: (r.start_time, r.run_id))


# ---------------------------------------------------------------- model versions


@dataclass
class LegacyVersion:
    model_name: str
    version: int
    folder: Path
    source_run_id: str | None
    registered_at: datetime
    tags: dict[str, Any]
    findings: list[Finding] = field(default_factory=list)

    @property
    def model_file(self) -> Path:
        return self.folder / "model.joblib"

    @property
    def label(self) -> str:
        return f"{self.model_name} v{self.version}"


def read_version(folder: Path) -> LegacyVersion:
    path = folder / "meta.json"
    meta, unknown = read_object(path, VERSION_FIELDS, required=["registration_timestamp"])
    try:
        registered_at = legacy_time(meta["registration_timestamp"])
    except ValueError as exc:
        raise Unusable(path, f"its registration_timestamp cannot be read: {exc}") from None
    tags = meta.get("tags") or {}
    if not isinstance(tags, dict):
        raise Unusable(path, f"its tags are a JSON {type(tags).__name__}, not an object")
    source = meta.get("source_run_id")
    source = source.lower() if isinstance(source, str) and LEGACY_RUN_ID.match(source.lower()) else None
    usable, refused = {}, []
    for key, value in tags.items():
        try:
            usable.update(check_tags({key: value}))  # the registry's own rule for a model tag
        except exceptions.InvalidKey:
            refused.append(key)
    version = LegacyVersion(folder.parent.name, int(folder.name), folder, source, registered_at, usable)
    for key in refused:
        version.findings.append((FAILED, "model tag", version.label, path,
                                 f"the tag key {key!r} cannot be stored; not imported"))
    if unknown:
        version.findings.append((FAILED, "model version field", version.label, path, unknown_fields(unknown)))
    if meta.get("source_run_id") is not None and source is None:
        version.findings.append((NOTE, "model version", version.label, path,
                                 f"source_run_id {meta['source_run_id']!r} is not a run id; "
                                 "imported without a source run"))
    return version


def _usable_name(name: str) -> bool:
    try:
        codec.check_key(name, "model name")
    except exceptions.InvalidKey:
        return False
    return True


def scan_registry(registry: Path, report: ImportReport) -> list[LegacyVersion]:
    """Every readable version, by model name and version number."""
    found = []
    for model in listing(registry, report, "folder"):
        if not model.is_dir() or not _usable_name(model.name):
            report.add(FAILED, "file", model.name, model, "not a model folder of runelog 0.2.0; not imported")
            continue
        for folder in listing(model, report, "model"):
            if not folder.is_dir() or not (folder.name.isascii() and folder.name.isdigit()) or int(folder.name) < 1:
                report.add(FAILED, "file", folder.name, folder, "not a version folder of runelog 0.2.0; not imported")
                continue
            try:
                found.append(read_version(folder))
            except Unusable as exc:
                report.add(FAILED, "model version", f"{model.name} v{folder.name}", exc.path,
                           f"{exc.reason}; the version was not imported")
    return sorted(found, key=lambda v: (v.model_name, v.version))
