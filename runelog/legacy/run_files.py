"""A run's recorded files (params, metrics, tags, artifacts, git, environment, inputs), parsed and checked.

Each part is read on its own, so a damaged file loses only that part of the run.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import codec, exceptions
from ..blobs import DIGEST
from .reading import LegacyRun
from .source import SYMLINK, Unusable, entries, inside, present, read_json, read_object, unknown_fields

VALUE_FIELDS = {"value"}
GIT_FIELDS = {"commit_hash", "branch", "is_dirty"}
ENVIRONMENT_FIELDS = {"python_version", "platform", "packages"}
DATASET_FIELDS = {"name", "filename", "filesize_bytes", "hash_sha256"}
DVC_FIELDS = {"name", "path", "dvc_file", "md5_hash"}
LINK_FIELDS = {"name", "run_id", "experiment_id", "artifact_name", "artifact_hash_sha256"}
RUN_ENTRIES = {"meta.json", "params", "metrics", "artifacts", "source_control.json", "environment.json",
               "data_meta.json", "dvc_inputs.json", "lineage.json"}


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

    def skipped(exc: Unusable) -> None:
        files.problem(kind, exc.path.name, exc.path, exc.reason)

    for path in entries(folder, skipped):
        key = path.name.removesuffix(".json")
        if not path.is_file() or key == path.name:
            files.problem(kind, path.name, path, "not a <key>.json file; not imported")
            continue
        try:
            data, unknown = read_object(path, VALUE_FIELDS, required=["value"])
            values[codec.check_key(key, f"{kind} key")] = data["value"]
        except Unusable as exc:
            files.problem(kind, key, exc.path, f"{exc.reason}; not imported")
            continue
        except exceptions.InvalidKey as exc:
            files.problem(kind, key, path, str(exc))
            continue
        if unknown:
            files.problem(f"{kind} field", key, path, unknown_fields(unknown))
    return values


def read_params(run: LegacyRun, files: RunFiles) -> None:
    folder = run.folder / "params"
    for key, value in read_values(folder, "param", files).items():
        try:  # 0.2.0's json.dump wrote NaN and Infinity, which are no JSON: refused here, reported
            files.params[key] = codec.encode_value(key, value, "param")
        except exceptions.InvalidValue as exc:
            files.problem("param", key, folder / f"{key}.json", f"{exc} Not imported.")


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
        except (exceptions.InvalidKey, exceptions.InvalidValue) as exc:
            files.problem("tag", str(key), run.meta_path, str(exc))


def list_artifacts(run: LegacyRun, files: RunFiles) -> None:
    """Every regular file under artifacts/, named by its path below it.

    Symlinks (to files or folders) are reported and not followed, so no file
    outside the source tree can become an artifact.
    """
    folder = inside(run.folder / "artifacts")

    def unlistable(error: OSError) -> None:
        if not isinstance(error, FileNotFoundError) or Path(error.filename) != folder:
            files.problem("artifacts", Path(error.filename).name, Path(error.filename),
                          f"cannot list it ({error.strerror or error}); its files were not imported")

    for parent, dirs, names in os.walk(folder, onerror=unlistable):
        base = Path(parent)
        for name in sorted(dirs):
            if (base / name).is_symlink():
                files.problem("artifact", name, base / name, f"{SYMLINK} (it points to {os.readlink(base / name)})")
        for name in sorted(names):
            path = base / name
            artifact = path.relative_to(folder).as_posix()
            try:
                inside(path)
                if not path.is_file():
                    raise Unusable(path, "not a regular file (a FIFO, socket or device); not imported")
                files.artifacts.append((codec.check_artifact_name(artifact, new=True), path))
            except Unusable as exc:
                files.problem("artifact", artifact, path, exc.reason)
            except exceptions.InvalidArtifactName as exc:
                files.problem("artifact", artifact, path, str(exc))
        dirs.sort()


def read_git(run: LegacyRun, files: RunFiles) -> None:
    path = run.folder / "source_control.json"
    if not present(path):
        return
    data, unknown = read_object(path, GIT_FIELDS)
    try:
        git = {"git_commit": None if data.get("commit_hash") is None else _text(data["commit_hash"], "commit", 64),
               "git_branch": None if data.get("branch") is None else _text(data["branch"], "branch", 255),
               "git_dirty": data.get("is_dirty")}
        if git["git_dirty"] is not None and not isinstance(git["git_dirty"], bool):
            raise ValueError(f"is_dirty {git['git_dirty']!r} is not true or false")
    except ValueError as exc:
        raise Unusable(path, str(exc)) from None
    files.git = git
    if unknown:
        files.problem("git field", "source_control.json", path, unknown_fields(unknown))


def read_environment(run: LegacyRun, files: RunFiles) -> None:
    path = run.folder / "environment.json"
    if not present(path):
        return
    data, unknown = read_object(path, ENVIRONMENT_FIELDS)
    files.environment = json.dumps({k: v for k, v in data.items() if k in ENVIRONMENT_FIELDS})
    if unknown:
        files.problem("environment field", "environment.json", path, unknown_fields(unknown))


def read_dataset(run: LegacyRun, files: RunFiles) -> None:
    """data_meta.json: 0.2.0 kept the last dataset logged, without its folder."""
    path = run.folder / "data_meta.json"
    if not present(path):
        return
    data, unknown = read_object(path, DATASET_FIELDS, required=["name", "filename"])
    size = data.get("filesize_bytes")
    try:
        filename = _text(data["filename"], "filename", 1000)
        found = {"filename": filename, "path": filename, "sha256": _digest(data.get("hash_sha256"), "hash_sha256"),
                 "size": size if isinstance(size, int) and not isinstance(size, bool) else None}
        files.datasets.append((codec.check_key(data["name"], "dataset name"), "file", found))
    except (ValueError, exceptions.InvalidKey) as exc:
        raise Unusable(path, str(exc)) from None
    if unknown:
        files.problem("dataset field", str(data["name"]), path, unknown_fields(unknown))


def read_dvc_input(run: LegacyRun, files: RunFiles) -> None:
    """dvc_inputs.json: the md5 DVC kept for a file, as 0.2.0 found it in `<path>.dvc`."""
    path = run.folder / "dvc_inputs.json"
    if not present(path):
        return
    data, unknown = read_object(path, DVC_FIELDS, required=["name", "path", "md5_hash"])
    try:
        data_path = _text(data["path"], "path", 4096)
        found = {"filename": Path(data_path).name or data_path, "path": data_path,
                 "md5": _text(data["md5_hash"], "md5_hash", 64)}
        files.datasets.append((codec.check_key(data["name"], "DVC input name"), "dvc", found))
    except (ValueError, exceptions.InvalidKey) as exc:
        raise Unusable(path, str(exc)) from None
    if unknown:
        files.problem("dvc input field", str(data["name"]), path, unknown_fields(unknown))


def read_lineage(run: LegacyRun, files: RunFiles) -> None:
    """lineage.json: a list of links; a bad entry is reported by its index and skipped."""
    path = run.folder / "lineage.json"
    if not present(path):
        return
    links = read_json(path)
    if not isinstance(links, list):
        raise Unusable(path, f"it holds a JSON {type(links).__name__}, not a list")
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

    def skipped(exc: Unusable) -> None:  # a known part is reported by its own reader
        if exc.path.name not in RUN_ENTRIES:
            files.problem("file", exc.path.name, exc.path, exc.reason)

    for path in entries(run.folder, skipped):
        if path.name not in RUN_ENTRIES:
            files.problem("file", path.name, path, "not part of runelog 0.2.0's format; not imported")
    for kind, reader in RUN_READERS:
        try:
            reader(run, files)
        except Unusable as exc:
            files.problem(kind, exc.path.name, exc.path, f"{exc.reason}; not imported")
    return files


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
