"""Importing a runelog 0.2.0 store (`.mlruns/` and `.registry/`) into this one.

runelog 0.2.0 kept everything as files under the folder given to its
`get_tracker(path)`:

    .mlruns/<experiment id>/meta.json             {"experiment_id", "name"}
    .mlruns/<experiment id>/<run id>/meta.json    run_id, experiment_id, status, start_time, end_time, tags
        params/<key>.json, metrics/<key>.json     {"value": ...} (a metric's last value only)
        artifacts/...                             the logged files
        source_control.json, environment.json     git state; python, platform and packages
        data_meta.json, dvc_inputs.json           one dataset fingerprint, one DVC input
        lineage.json                              [{name, run_id, experiment_id, artifact_name, artifact_hash_sha256}]
    .registry/<model>/<version>/model.joblib, meta.json

`import_store` brings experiments in first, then runs oldest first (so the
run a lineage link names is in before the link), then model versions. Each
run and each version is one transaction, and its blobs are in place before
it commits. What is already in the store is skipped, decided by run id and by
model name and version, so a second import adds nothing and a grown store
brings only its new runs. A file that cannot be used becomes a failed item
naming its path; the rest goes on. The source is only ever opened for reading.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from . import codec, datasets, db, exceptions
from .blobs import DIGEST, BlobStore
from .models import (RUN_STATUSES, Artifact, DatasetFingerprint, Experiment, InputLink, Metric, ModelVersion,
                     Param, RegisteredModel, Run, Tag)

MLRUNS, REGISTRY = ".mlruns", ".registry"
IMPORTED, SKIPPED, FAILED, NOTE = "imported", "skipped", "failed", "note"

EXPERIMENT_FIELDS = {"experiment_id", "name"}
RUN_META_FIELDS = {"run_id", "experiment_id", "status", "start_time", "end_time", "tags"}
VALUE_FIELDS = {"value"}
GIT_FIELDS = {"commit_hash", "branch", "is_dirty"}
ENVIRONMENT_FIELDS = {"python_version", "platform", "packages"}
DATASET_FIELDS = {"name", "filename", "filesize_bytes", "hash_sha256"}
DVC_FIELDS = {"name", "path", "dvc_file", "md5_hash"}
LINK_FIELDS = {"name", "run_id", "experiment_id", "artifact_name", "artifact_hash_sha256"}
VERSION_FIELDS = {"model_name", "version", "source_run_id", "registration_timestamp", "tags"}
RUN_ENTRIES = {"meta.json", "params", "metrics", "artifacts", "source_control.json", "environment.json",
               "data_meta.json", "dvc_inputs.json", "lineage.json"}

# A 0.2.0 run id (8 hex characters) is kept as it is; runelog resolves any lowercase hex id up to 32.
LEGACY_RUN_ID = re.compile(r"^[0-9a-f]{1,32}$")
ID_BATCH = 500  # ids per IN (...) query, well under every database's bound-parameter limit

Progress = Callable[[int, int], None]


# ---------------------------------------------------------------- the report


@dataclass
class ImportItem:
    """One thing the import did, skipped, could not use, or wants you to know."""

    outcome: str  # imported, skipped, failed, note
    kind: str  # experiment, run, model version; or a part of one: param, metric, artifact, ...
    name: str
    path: str  # the 0.2.0 file or folder it came from
    message: str = ""


@dataclass
class ImportReport:
    """What `import_store` did (in a dry run: would do).

    `imported`, `skipped` and `failed` count items: experiments, runs and model
    versions imported or already in the store, and every file, field or whole
    unit that could not be used. Notes count nowhere.
    """

    root: str
    dry_run: bool = False
    imported: int = 0
    skipped: int = 0
    failed: int = 0
    items: list[ImportItem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def add(self, outcome: str, kind: str, name: str, path: str | os.PathLike, message: str = "") -> None:
        self.items.append(ImportItem(outcome, kind, name, str(path), message))
        if outcome in (IMPORTED, SKIPPED, FAILED):
            setattr(self, outcome, getattr(self, outcome) + 1)

    def counts(self) -> dict[str, dict[str, int]]:
        """{kind: {outcome: number}}, e.g. {"run": {"imported": 3, "skipped": 1}}."""
        found: dict[str, Counter] = {}
        for item in self.items:
            found.setdefault(item.kind, Counter())[item.outcome] += 1
        return {kind: dict(counter) for kind, counter in found.items()}

    def as_dict(self) -> dict[str, Any]:
        return {"root": self.root, "dry_run": self.dry_run, "ok": self.ok, "imported": self.imported,
                "skipped": self.skipped, "failed": self.failed, "counts": self.counts(),
                "items": [asdict(item) for item in self.items]}


class _Unusable(Exception):
    """A 0.2.0 file or folder that cannot be imported; becomes a failed item naming it."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


# ---------------------------------------------------------------- reading 0.2.0 files


def find_store(root: str | os.PathLike) -> Path:
    """The folder holding `.mlruns/` and `.registry/` (given it, or `.mlruns` itself)."""
    path = Path(root).expanduser().resolve()
    if path.name in (MLRUNS, REGISTRY) and not (path / MLRUNS).is_dir():
        path = path.parent
    if not (path / MLRUNS).is_dir() and not (path / REGISTRY).is_dir():
        raise exceptions.LegacyStoreNotFound(str(path))
    return path


def legacy_time(value: Any) -> datetime:
    """A 0.2.0 timestamp as an aware UTC datetime.

    0.2.0 wrote `datetime.now().isoformat()`: naive local time. It is read as
    the local time of the machine doing the import.

    >>> legacy_time("2024-03-01T12:00:00+00:00")
    datetime.datetime(2024, 3, 1, 12, 0, tzinfo=datetime.timezone.utc)
    """
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not an ISO date and time")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.astimezone()  # a naive datetime is taken as this machine's local time
    return moment.astimezone(timezone.utc)


def modified_at(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)


def read_json(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        raise _Unusable(path, "the file is missing") from None
    except OSError as exc:
        raise _Unusable(path, f"cannot read it ({exc.strerror or exc})") from None
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise _Unusable(path, f"it is not valid JSON ({exc})") from None


def read_object(path: Path, fields: set[str], required: Iterable[str] = ()) -> tuple[dict, list[str]]:
    """A JSON object with the `required` keys; also returns its keys outside `fields`."""
    data = read_json(path)
    if not isinstance(data, dict):
        raise _Unusable(path, f"it holds a JSON {type(data).__name__}, not an object")
    missing = [key for key in required if key not in data]
    if missing:
        raise _Unusable(path, f"it has no {', '.join(repr(k) for k in missing)}")
    return data, sorted(set(data) - fields)


def unknown_fields(unknown: list[str]) -> str:
    listed = ", ".join(repr(k) for k in unknown)
    return f"{'field' if len(unknown) == 1 else 'fields'} {listed} {'is' if len(unknown) == 1 else 'are'} " \
           "not part of runelog 0.2.0's format; not imported"


def entries(folder: Path) -> list[Path]:
    """A folder's entries, sorted, without hidden files (.DS_Store and the like)."""
    try:
        return sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise _Unusable(folder, f"cannot list it ({exc.strerror or exc})") from None


def listing(folder: Path, report: ImportReport, kind: str) -> list[Path]:
    """`entries`, reporting a folder that cannot be listed as a failed `kind` and going on."""
    try:
        return entries(folder)
    except _Unusable as exc:
        report.add(FAILED, kind, folder.name, folder, f"{exc.reason}; nothing in it was imported")
        return []


def _text(value: Any, what: str, limit: int) -> str:
    if not isinstance(value, str) or not value or len(value) > limit or "\x00" in value:
        raise ValueError(f"{what} {value!r} is not a text of 1 to {limit} characters")
    return value


def _digest(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not DIGEST.match(value):
        raise ValueError(f"{what} {value!r} is not a SHA-256 (64 lowercase hex characters)")
    return value


# ---------------------------------------------------------------- experiments


# What reading found about an experiment or run, reported only if it is imported (so a second
# import of an unchanged store reports nothing new): (outcome, kind, name, path, message).
Finding = tuple[str, str, str, Path, str]


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
    wanted = int(folder.name) if folder.name.isdigit() else None
    meta_path = folder / "meta.json"
    if not meta_path.exists() and wanted is None:
        raise _Unusable(folder, "not an experiment folder of runelog 0.2.0 (no meta.json, no numeric id)")
    if not meta_path.exists():
        name = db.DEFAULT_EXPERIMENT_NAME if wanted == db.DEFAULT_EXPERIMENT_ID else f"0.2.0 experiment {wanted}"
        found = LegacyExperiment(folder, name, wanted, datetime.now(timezone.utc))
        found.findings.append((NOTE, "experiment", name, folder, f"no meta.json; imported as '{name}'"))
        return found
    meta, unknown = read_object(meta_path, EXPERIMENT_FIELDS, required=["name"])
    try:
        name = codec.check_key(meta["name"], "experiment name")
    except exceptions.InvalidKey as exc:
        raise _Unusable(meta_path, str(exc)) from None
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
        except _Unusable as exc:
            report.add(FAILED, "experiment", folder.name, exc.path,
                       f"{exc.reason}; the experiment and its runs were not imported")
    return found


def experiment_named(session: Session, name: str) -> int | None:
    return session.execute(select(Experiment.id).where(Experiment.name == name)).scalar_one_or_none()


def id_is_free(session: Session, experiment_id: int) -> bool:
    return session.execute(select(Experiment.id).where(Experiment.id == experiment_id)).first() is None


def create_experiment(session: Session, experiment: LegacyExperiment, keep_id: bool) -> int:
    row = {"name": experiment.name, "created_at": experiment.created_at}
    if keep_id:
        row["id"] = experiment.wanted_id
    db.upsert(session, Experiment.__table__, [row], keys=["name"], update=[])
    if keep_id and session.get_bind().dialect.name == "postgresql":
        # An explicit id does not move PostgreSQL's sequence; move it past the ids taken.
        session.execute(text("SELECT setval(pg_get_serial_sequence('experiments', 'id'), "
                             "(SELECT max(id) FROM experiments))"))
    return experiment_named(session, experiment.name)


def place_experiment(session: Session, experiment: LegacyExperiment, report: ImportReport,
                     dry_run: bool) -> None:
    """Map an experiment onto one here by name, else create it, keeping its 0.2.0 id if free."""
    existing = experiment_named(session, experiment.name)
    if existing is not None:
        experiment.target_id = existing
        moved = "" if existing == experiment.wanted_id else f" (id {existing} here)"
        report.add(SKIPPED, "experiment", experiment.name, experiment.folder, f"already in the store{moved}")
        return
    keep_id = experiment.wanted_id is not None and id_is_free(session, experiment.wanted_id)
    if not dry_run:
        experiment.target_id = create_experiment(session, experiment, keep_id)
    for finding in experiment.findings:
        report.add(*finding)
    if keep_id or experiment.wanted_id is None:
        report.add(IMPORTED, "experiment", experiment.name, experiment.folder)
        return
    where = "" if experiment.target_id is None else f" {experiment.target_id}"
    report.add(IMPORTED, "experiment", experiment.name, experiment.folder,
               f"id {experiment.wanted_id} is taken here by another experiment; given the next free id{where}")


# ---------------------------------------------------------------- runs: meta.json


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
        raise _Unusable(folder, "the folder name is not a run id (1 to 32 lowercase hex characters)")
    meta, unknown = read_object(path, RUN_META_FIELDS, required=["status", "start_time"])
    if meta.get("run_id", folder.name) != folder.name:
        raise _Unusable(path, f"its run_id {meta['run_id']!r} is not its folder's name {folder.name!r}")
    if meta["status"] not in RUN_STATUSES:
        raise _Unusable(path, f"its status {meta['status']!r} is not one of {', '.join(RUN_STATUSES)}")
    try:
        start = legacy_time(meta["start_time"])
        end = None if meta.get("end_time") is None else legacy_time(meta["end_time"])
    except ValueError as exc:
        raise _Unusable(path, f"a time in it cannot be read: {exc}") from None
    tags = meta.get("tags") or {}
    if not isinstance(tags, dict):
        raise _Unusable(path, f"its tags are a JSON {type(tags).__name__}, not an object")
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
            except _Unusable as exc:
                report.add(FAILED, "run", folder.name, exc.path, f"{exc.reason}; the run was not imported")
                continue
            if run.run_id in found:
                report.add(FAILED, "run", run.run_id, folder,
                           f"run id {run.run_id} also names {found[run.run_id].folder} (0.2.0 could not tell "
                           "them apart); only that one was imported")
                continue
            found[run.run_id] = run
    return sorted(found.values(), key=lambda r: (r.start_time, r.run_id))


# ---------------------------------------------------------------- runs: everything else


@dataclass
class RunFiles:
    """A run's files, parsed and checked (nothing written yet)."""

    params: dict[str, str] = field(default_factory=dict)  # key -> JSON
    tags: dict[str, str] = field(default_factory=dict)  # key -> JSON
    metrics: dict[str, float | None] = field(default_factory=dict)  # None stands for NaN
    artifacts: list[tuple[str, Path]] = field(default_factory=list)
    git: dict[str, Any] = field(default_factory=dict)
    environment: str | None = None
    datasets: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # (name, kind, found)
    inputs: list[dict[str, Any]] = field(default_factory=list)
    problems: list[tuple[str, str, Path, str]] = field(default_factory=list)  # (kind, name, path, message)

    def problem(self, kind: str, name: str, path: Path, message: str) -> None:
        self.problems.append((kind, name, path, message))


def read_values(folder: Path, kind: str, files: RunFiles) -> dict[str, Any]:
    """params/ or metrics/: `<key>.json` files holding {"value": ...}."""
    values = {}
    for path in entries(folder):
        key = path.name.removesuffix(".json")
        if not path.is_file() or key == path.name:
            files.problem(kind, path.name, path, "not a <key>.json file; not imported")
            continue
        try:
            data, unknown = read_object(path, VALUE_FIELDS, required=["value"])
            values[codec.check_key(key, f"{kind} key")] = data["value"]
        except _Unusable as exc:
            files.problem(kind, key, exc.path, f"{exc.reason}; not imported")
            continue
        except exceptions.InvalidKey as exc:
            files.problem(kind, key, path, str(exc))
            continue
        if unknown:
            files.problem(f"{kind} field", key, path, unknown_fields(unknown))
    return values


def read_params(run: LegacyRun, files: RunFiles) -> None:
    for key, value in read_values(run.folder / "params", "param", files).items():
        files.params[key] = codec.encode_value(key, value, "param")  # it came from JSON, so it encodes


def read_metrics(run: LegacyRun, files: RunFiles) -> None:
    folder = run.folder / "metrics"
    for key, value in read_values(folder, "metric", files).items():
        try:
            files.metrics[key] = codec.metric_value(key, value)
        except TypeError as exc:
            files.problem("metric", key, folder / f"{key}.json", f"{exc} Not imported.")


def read_tags(run: LegacyRun, files: RunFiles) -> None:
    for key, value in run.tags.items():
        try:
            files.tags[codec.check_key(key, "tag key")] = codec.encode_value(key, value, "tag")
        except exceptions.InvalidKey as exc:
            files.problem("tag", str(key), run.meta_path, str(exc))


def list_artifacts(run: LegacyRun, files: RunFiles) -> None:
    """Every file under artifacts/, named by its path below it (symlinked folders are not followed)."""
    folder = run.folder / "artifacts"

    def unlistable(error: OSError) -> None:
        if not isinstance(error, FileNotFoundError) or Path(error.filename) != folder:
            files.problem("artifacts", Path(error.filename).name, Path(error.filename),
                          f"cannot list it ({error.strerror or error}); its files were not imported")

    for parent, dirs, names in os.walk(folder, onerror=unlistable):
        base = Path(parent)
        for name in sorted(dirs):
            if (base / name).is_symlink():
                files.problem("artifact", name, base / name, "a symlink to a folder; not followed")
        for name in sorted(names):
            path = base / name
            artifact = path.relative_to(folder).as_posix()
            try:
                files.artifacts.append((codec.check_artifact_name(artifact), path))
            except exceptions.InvalidArtifactName as exc:
                files.problem("artifact", artifact, path, str(exc))
        dirs.sort()


def read_git(run: LegacyRun, files: RunFiles) -> None:
    path = run.folder / "source_control.json"
    if not path.exists():
        return
    data, unknown = read_object(path, GIT_FIELDS)
    try:
        git = {"git_commit": None if data.get("commit_hash") is None else _text(data["commit_hash"], "commit", 64),
               "git_branch": None if data.get("branch") is None else _text(data["branch"], "branch", 255),
               "git_dirty": data.get("is_dirty")}
        if git["git_dirty"] is not None and not isinstance(git["git_dirty"], bool):
            raise ValueError(f"is_dirty {git['git_dirty']!r} is not true or false")
    except ValueError as exc:
        raise _Unusable(path, str(exc)) from None
    files.git = git
    if unknown:
        files.problem("git field", "source_control.json", path, unknown_fields(unknown))


def read_environment(run: LegacyRun, files: RunFiles) -> None:
    path = run.folder / "environment.json"
    if not path.exists():
        return
    data, unknown = read_object(path, ENVIRONMENT_FIELDS)
    files.environment = json.dumps({k: v for k, v in data.items() if k in ENVIRONMENT_FIELDS})
    if unknown:
        files.problem("environment field", "environment.json", path, unknown_fields(unknown))


def read_dataset(run: LegacyRun, files: RunFiles) -> None:
    """data_meta.json: 0.2.0 kept the last dataset logged, without its folder."""
    path = run.folder / "data_meta.json"
    if not path.exists():
        return
    data, unknown = read_object(path, DATASET_FIELDS, required=["name", "filename"])
    size = data.get("filesize_bytes")
    try:
        filename = _text(data["filename"], "filename", 1000)
        found = {"filename": filename, "path": filename, "sha256": _digest(data.get("hash_sha256"), "hash_sha256"),
                 "size": size if isinstance(size, int) and not isinstance(size, bool) else None}
        files.datasets.append((codec.check_key(data["name"], "dataset name"), "file", found))
    except (ValueError, exceptions.InvalidKey) as exc:
        raise _Unusable(path, str(exc)) from None
    if unknown:
        files.problem("dataset field", str(data["name"]), path, unknown_fields(unknown))


def read_dvc_input(run: LegacyRun, files: RunFiles) -> None:
    """dvc_inputs.json: the md5 DVC kept for a file, as 0.2.0 found it in `<path>.dvc`."""
    path = run.folder / "dvc_inputs.json"
    if not path.exists():
        return
    data, unknown = read_object(path, DVC_FIELDS, required=["name", "path", "md5_hash"])
    try:
        data_path = _text(data["path"], "path", 4096)
        found = {"filename": Path(data_path).name or data_path, "path": data_path,
                 "md5": _text(data["md5_hash"], "md5_hash", 64)}
        files.datasets.append((codec.check_key(data["name"], "DVC input name"), "dvc", found))
    except (ValueError, exceptions.InvalidKey) as exc:
        raise _Unusable(path, str(exc)) from None
    if unknown:
        files.problem("dvc input field", str(data["name"]), path, unknown_fields(unknown))


def read_lineage(run: LegacyRun, files: RunFiles) -> None:
    """lineage.json: a list of links; a bad entry is reported by its index and skipped."""
    path = run.folder / "lineage.json"
    if not path.exists():
        return
    links = read_json(path)
    if not isinstance(links, list):
        raise _Unusable(path, f"it holds a JSON {type(links).__name__}, not a list")
    for index, link in enumerate(links):
        where = f"{path}[{index}]"
        if not isinstance(link, dict) or "name" not in link or "run_id" not in link:
            files.problem("input", f"#{index}", Path(where), "not an object with a name and a run_id; skipped")
            continue
        try:
            artifact = link.get("artifact_name")
            files.inputs.append({
                "name": codec.check_key(link["name"], "input name"),
                "source": _text(link["run_id"], "run_id", 32).lower(),
                "artifact_name": None if artifact is None else codec.check_artifact_name(artifact),
                "sha256": _digest(link.get("artifact_hash_sha256"), "artifact_hash_sha256"),
            })
        except (ValueError, exceptions.InvalidKey, exceptions.InvalidArtifactName) as exc:
            files.problem("input", str(link.get("name")), Path(where), f"{exc}; skipped")
            continue
        unknown = sorted(set(link) - LINK_FIELDS)
        if unknown:
            files.problem("input field", str(link["name"]), Path(where), unknown_fields(unknown))


# (what a failure is reported as, the reader); a reader that raises loses only its own part.
RUN_READERS = (("params", read_params), ("metrics", read_metrics), ("tags", read_tags),
               ("artifacts", list_artifacts), ("git", read_git), ("environment", read_environment),
               ("dataset", read_dataset), ("dvc input", read_dvc_input), ("lineage", read_lineage))


def read_run_files(run: LegacyRun) -> RunFiles:
    files = RunFiles()
    for path in entries(run.folder):
        if path.name not in RUN_ENTRIES:
            files.problem("file", path.name, path, "not part of runelog 0.2.0's format; not imported")
    for kind, reader in RUN_READERS:
        try:
            reader(run, files)
        except _Unusable as exc:
            files.problem(kind, exc.path.name, exc.path, f"{exc.reason}; not imported")
    return files


def store_artifacts(blobs: BlobStore, files: RunFiles, dry_run: bool) -> list[dict[str, Any]]:
    """Put each artifact's bytes in the blob store (once however many runs have them).

    A file that cannot be read is a problem, and the run goes on without it. A
    dry run only checks that each file opens.
    """
    stored = []
    for name, path in files.artifacts:
        try:
            if dry_run:
                open(path, "rb").close()
                continue
            digest, size = blobs.put(path)
            stored.append({"name": name, "sha256": digest, "size": size, "created_at": modified_at(path)})
        except OSError as exc:
            files.problem("artifact", name, path, f"cannot read it ({exc.strerror or exc}); not imported")
    return stored


# ---------------------------------------------------------------- runs: the database


def run_states(session: Session, run_ids: list[str]) -> dict[str, tuple[int, str]]:
    """{run id: (experiment id, status)} of those of `run_ids` already in the store."""
    found = {}
    for start in range(0, len(run_ids), ID_BATCH):
        batch = run_ids[start:start + ID_BATCH]
        for run_id, experiment_id, status in session.execute(
                select(Run.id, Run.experiment_id, Run.status).where(Run.id.in_(batch))):
            found[run_id] = (experiment_id, status)
    return found


def decide_run(existing: tuple[int, str] | None, run: LegacyRun) -> str:
    """new; same (already here); clash (another run has its id); or refresh: imported while
    RUNNING in 0.2.0 (and still RUNNING here, or KILLED by `reap_runs`), and ended since."""
    if existing is None:
        return "new"
    experiment_id, status = existing
    if experiment_id != run.experiment.target_id:
        return "clash"
    if status != run.status and status in ("RUNNING", "KILLED") and run.status != "RUNNING":
        return "refresh"
    return "same"


def clear_run(session: Session, run_id: str) -> None:
    """Drop what a run recorded (not the run row, which models and links may point at)."""
    for table in (Param, Tag, Metric, Artifact, DatasetFingerprint, InputLink):
        session.execute(delete(table).where(table.run_id == run_id))


def existing_ids(session: Session, run_ids: set[str]) -> set[str]:
    return set(run_states(session, sorted(run_ids)))


def write_run(session: Session, run: LegacyRun, files: RunFiles, artifacts: list[dict[str, Any]],
              refresh: bool) -> list[str]:
    """Insert (or, for a refresh, rewrite) a run and everything it recorded; returns notes."""
    columns = {"experiment_id": run.experiment.target_id, "status": run.status, "start_time": run.start_time,
               "end_time": run.end_time, "heartbeat_at": run.logged_at, "environment": files.environment,
               "error": None, "git_commit": None, "git_branch": None, "git_dirty": None, **files.git}
    if refresh:
        clear_run(session, run.run_id)
        session.execute(update(Run).where(Run.id == run.run_id).values(**columns))
    else:
        db.upsert(session, Run.__table__, [{"id": run.run_id, **columns}], keys=["id"], update=[])
    rid = run.run_id
    db.upsert(session, Param.__table__, [{"run_id": rid, "key": k, "value": v} for k, v in files.params.items()],
              keys=["run_id", "key"], update=[])
    db.upsert(session, Tag.__table__, [{"run_id": rid, "key": k, "value": v} for k, v in files.tags.items()],
              keys=["run_id", "key"], update=[])
    stamp = run.logged_at.timestamp()
    if files.metrics:  # 0.2.0 kept one value per metric: it becomes the point at step 0
        session.execute(insert(Metric.__table__), [
            {"run_id": rid, "key": k, "value": v, "step": 0, "timestamp": stamp} for k, v in files.metrics.items()])
    db.upsert(session, Artifact.__table__, [{"run_id": rid, **a} for a in artifacts],
              keys=["run_id", "name"], update=[])
    for name, kind, found in files.datasets:
        datasets.record(session, rid, name, kind, found)
    return write_inputs(session, run, files.inputs)


def write_inputs(session: Session, run: LegacyRun, links: list[dict[str, Any]]) -> list[str]:
    notes = []
    present = existing_ids(session, {link["source"] for link in links})
    linked_at = modified_at(run.folder / "lineage.json") if links else None
    for link in links:
        source = link["source"] if link["source"] in present else None
        if source is None:
            notes.append(_missing_source(link))
        session.execute(insert(InputLink).values(
            run_id=run.run_id, name=link["name"], source_run_id=source, artifact_name=link["artifact_name"],
            sha256=link["sha256"], created_at=linked_at))
    return notes


# ---------------------------------------------------------------- the registry


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
        raise _Unusable(path, f"its registration_timestamp cannot be read: {exc}") from None
    tags = meta.get("tags") or {}
    if not isinstance(tags, dict):
        raise _Unusable(path, f"its tags are a JSON {type(tags).__name__}, not an object")
    source = meta.get("source_run_id")
    source = source.lower() if isinstance(source, str) and LEGACY_RUN_ID.match(source.lower()) else None
    version = LegacyVersion(folder.parent.name, int(folder.name), folder, source, registered_at,
                            {k: v for k, v in tags.items() if _usable_key(k)})
    for key in [k for k in tags if not _usable_key(k)]:
        version.findings.append((FAILED, "model tag", version.label, path,
                                 f"the tag key {key!r} cannot be stored; not imported"))
    if unknown:
        version.findings.append((FAILED, "model version field", version.label, path, unknown_fields(unknown)))
    if meta.get("source_run_id") is not None and source is None:
        version.findings.append((NOTE, "model version", version.label, path,
                                 f"source_run_id {meta['source_run_id']!r} is not a run id; "
                                 "imported without a source run"))
    return version


def _usable_key(key: str) -> bool:
    try:
        codec.check_key(key)
    except exceptions.InvalidKey:
        return False
    return True


def scan_registry(registry: Path, report: ImportReport) -> list[LegacyVersion]:
    """Every readable version, by model name and version number."""
    found = []
    for model in listing(registry, report, "folder"):
        if not model.is_dir() or not _usable_key(model.name):
            report.add(FAILED, "file", model.name, model, "not a model folder of runelog 0.2.0; not imported")
            continue
        for folder in listing(model, report, "model"):
            if not folder.is_dir() or not folder.name.isdigit() or int(folder.name) < 1:
                report.add(FAILED, "file", folder.name, folder, "not a version folder of runelog 0.2.0; not imported")
                continue
            try:
                found.append(read_version(folder))
            except _Unusable as exc:
                report.add(FAILED, "model version", f"{model.name} v{folder.name}", exc.path,
                           f"{exc.reason}; the version was not imported")
    return sorted(found, key=lambda v: (v.model_name, v.version))


def version_state(session: Session, version: LegacyVersion) -> str:
    """new; same (imported before: same source run, or same registration time); or clash."""
    row = session.execute(
        select(ModelVersion.run_id, ModelVersion.created_at)
        .join(RegisteredModel, RegisteredModel.id == ModelVersion.model_id)
        .where(RegisteredModel.name == version.model_name, ModelVersion.version == version.version)).first()
    if row is None:
        return "new"
    run_id, created_at = row
    if (run_id is not None and run_id == version.source_run_id) or created_at == version.registered_at:
        return "same"
    return "clash"


def model_artifact(session: Session, run_id: str, version: LegacyVersion, digest: str, size: int) -> str:
    """The source run's artifact with these bytes; one is added to the run if it has none."""
    found = session.execute(select(Artifact.name).where(Artifact.run_id == run_id, Artifact.sha256 == digest)
                            .order_by(Artifact.name).limit(1)).scalar_one_or_none()
    if found is not None:
        return found
    taken = session.execute(select(Artifact.id).where(Artifact.run_id == run_id,
                                                      Artifact.name == "model.joblib")).first()
    name = "model.joblib"
    if taken:
        name = codec.check_artifact_name(f"registry/{version.model_name}/{version.version}/model.joblib")
    db.upsert(session, Artifact.__table__, [{"run_id": run_id, "name": name, "sha256": digest, "size": size,
                                             "created_at": version.registered_at}],
              keys=["run_id", "name"], update=[])
    return name


def write_version(session: Session, version: LegacyVersion, digest: str, size: int) -> str | None:
    """Register the version with its 0.2.0 number, time and tags; returns its source run if it is here."""
    db.upsert(session, RegisteredModel.__table__, [{"name": version.model_name, "created_at": version.registered_at}],
              keys=["name"], update=[])
    model_id = session.execute(
        select(RegisteredModel.id).where(RegisteredModel.name == version.model_name)).scalar_one()
    run_id = version.source_run_id
    if run_id is not None and not existing_ids(session, {run_id}):
        run_id = None
    artifact = model_artifact(session, run_id, version, digest, size) if run_id else "model.joblib"
    db.upsert(session, ModelVersion.__table__, [{
        "model_id": model_id, "version": version.version, "run_id": run_id, "artifact_name": artifact,
        "sha256": digest, "tags": json.dumps(version.tags), "created_at": version.registered_at}],
        keys=["model_id", "version"], update=[])
    return run_id


# ---------------------------------------------------------------- the import


SessionScope = Callable[[], contextlib.AbstractContextManager[Session]]

# Errors that concern one experiment, run or version: it fails and the import goes on.
# Anything else (a locked or full database, say) stops the import.
_ITEM_ERRORS = (_Unusable, OSError, IntegrityError, DataError, exceptions.RunelogException, ValueError, TypeError)


@dataclass
class _Import:
    """One import: the blob store, session scopes, the report, and the run ids in the store so far."""

    blobs: BlobStore
    write: SessionScope
    read: SessionScope
    report: ImportReport
    in_store: set[str] = field(default_factory=set)  # in a dry run: here, or would be

    @property
    def dry_run(self) -> bool:
        return self.report.dry_run


def import_store(root: str | os.PathLike, blobs: BlobStore, write: SessionScope, read: SessionScope,
                 dry_run: bool = False, progress: Progress | None = None) -> ImportReport:
    """Import the 0.2.0 store at `root`, with one `write()` transaction per experiment, run and version.

    `progress(done, total)` is called before the first run and after each run
    and model version. A dry run reads everything and writes nothing.
    """
    source = find_store(root)
    job = _Import(blobs, write, read, ImportReport(str(source), dry_run))
    experiments = [e for e in scan_experiments(source / MLRUNS, job.report) if place(job, e)]
    legacy_runs = scan_runs(experiments, job.report)
    versions = scan_registry(source / REGISTRY, job.report)
    with read() as session:
        states = run_states(session, [run.run_id for run in legacy_runs])
    job.in_store.update(states)
    units: list[LegacyRun | LegacyVersion] = [*legacy_runs, *versions]
    for done, unit in enumerate(units):
        if progress is not None:
            progress(done, len(units))
        if isinstance(unit, LegacyRun):
            import_run(job, unit, states.get(unit.run_id))
        else:
            import_version(job, unit)
    if progress is not None:
        progress(len(units), len(units))
    return job.report


def place(job: _Import, experiment: LegacyExperiment) -> bool:
    """Find or create the experiment here; False (reported) if that fails."""
    try:
        with (job.read() if job.dry_run else job.write()) as session:
            place_experiment(session, experiment, job.report, job.dry_run)
    except _ITEM_ERRORS as exc:
        job.report.add(FAILED, "experiment", experiment.name, experiment.folder,
                       f"{_reason(exc)}; the experiment and its runs were not imported")
        return False
    return True


def import_run(job: _Import, run: LegacyRun, existing: tuple[int, str] | None) -> None:
    state = decide_run(existing, run)
    if state in ("new", "refresh"):
        try:
            state, files, notes = _bring_run(job, run, state)
        except _ITEM_ERRORS as exc:
            job.report.add(FAILED, "run", run.run_id, run.folder, f"{_reason(exc)}; the run was not imported")
            return
    if state == "same":
        job.report.add(SKIPPED, "run", run.run_id, run.folder, "already in the store")
        return
    if state == "clash":
        job.report.add(FAILED, "run", run.run_id, run.folder,
                       f"a run with id {run.run_id} is already in the store, in another experiment; not imported")
        return
    job.in_store.add(run.run_id)
    for finding in run.findings:
        job.report.add(*finding)
    for kind, name, path, message in files.problems:
        job.report.add(FAILED, kind, name, path, message)
    for note in notes:
        job.report.add(NOTE, "input", run.run_id, run.folder / "lineage.json", note)
    if run.status == "RUNNING":
        job.report.add(NOTE, "run", run.run_id, run.meta_path,
                       "still RUNNING in 0.2.0 (a live run, or one whose process died); "
                       "an import after it has ended brings it again")
    job.report.add(IMPORTED, "run", run.run_id, run.folder,
                   "updated: it was RUNNING at the last import" if state == "refresh" else "")


def _bring_run(job: _Import, run: LegacyRun, state: str) -> tuple[str, RunFiles, list[str]]:
    """Read a run's files, store its blobs, then write it: (state, files, notes)."""
    files = read_run_files(run)
    artifacts = store_artifacts(job.blobs, files, job.dry_run)
    if job.dry_run:
        missing = [link for link in files.inputs if link["source"] not in job.in_store]
        return state, files, [_missing_source(link) for link in missing]
    with job.write() as session:
        # Decided again under the write lock: another import may have brought it meanwhile.
        state = decide_run(run_states(session, [run.run_id]).get(run.run_id), run)
        if state not in ("new", "refresh"):
            return state, files, []
        notes = write_run(session, run, files, artifacts, refresh=state == "refresh")
    return state, files, notes


def _missing_source(link: dict[str, Any]) -> str:
    return (f"input '{link['name']}' names run {link['source']}, which is not in the store; "
            "the link is kept with its artifact name and hash but no source run")


def import_version(job: _Import, version: LegacyVersion) -> None:
    try:
        with job.read() as session:
            state = version_state(session, version)
        source = version.source_run_id if version.source_run_id in job.in_store else None
        if state == "new" and job.dry_run:
            open(version.model_file, "rb").close()
        elif state == "new":
            digest, size = job.blobs.put(version.model_file)
            with job.write() as session:
                state = version_state(session, version)
                if state == "new":
                    source = write_version(session, version, digest, size)
    except _ITEM_ERRORS as exc:
        path = version.model_file if isinstance(exc, OSError) else version.folder
        job.report.add(FAILED, "model version", version.label, path, f"{_reason(exc)}; the version was not imported")
        return
    if state == "same":
        job.report.add(SKIPPED, "model version", version.label, version.folder, "already in the store")
        return
    if state == "clash":
        job.report.add(FAILED, "model version", version.label, version.folder,
                       f"version {version.version} of model '{version.model_name}' is already in the store, "
                       "registered from another run; not imported")
        return
    for finding in version.findings:
        job.report.add(*finding)
    if version.source_run_id is not None and source is None:
        job.report.add(NOTE, "model version", version.label, version.folder,
                       f"its source run {version.source_run_id} is not in the store; imported without it")
    job.report.add(IMPORTED, "model version", version.label, version.folder)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, _Unusable):
        return f"{exc.path}: {exc.reason}"
    if isinstance(exc, OSError):
        return f"cannot read it ({exc.strerror or exc})"
    if isinstance(exc, (IntegrityError, DataError)):
        return f"the database refused it ({exc.orig})"
    return str(exc)
