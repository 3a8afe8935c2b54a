"""Typed results: what the newer calls of the API return.

Frozen dataclasses, so a result can be passed around and compared without
fear of it changing. `.as_dict()` gives the plain-dict shape (the one 0.2.0's
calls returned where 0.2.0 had the call), with times as ISO 8601 text, for
JSON output and old code. Names are the same everywhere: `run_id`, `sha256`,
`created_at`, `step`.

Frozen means the fields cannot be reassigned; the dicts inside (params,
metrics, tags) are plain dicts built for this result, so changing one changes
nothing stored, and a result holding one is not hashable. `.as_dict()` keeps
Python values: a NaN or infinite metric stays a float, which `json.dumps`
writes as NaN / Infinity (not strict JSON; the CLI's `--json` writes them as
the strings "NaN", "Infinity", "-Infinity").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# A run's status, in the order a run passes through them (the --status choices of the CLI).
RUN_STATUSES = ("RUNNING", "FINISHED", "FAILED", "KILLED")


def iso(value: datetime | None) -> str | None:
    """A time as ISO 8601 text (None stays None): the one way results and dicts write times."""
    return value.isoformat() if value is not None else None


@dataclass(frozen=True, slots=True)
class RunInfo:
    """One run: its record, and (when the query asked for them) params, latest metric values and tags."""

    run_id: str
    experiment_id: str
    run_name: str | None
    status: str
    start_time: datetime | None
    end_time: datetime | None = None
    heartbeat_at: datetime | None = None
    host: str | None = None
    pid: int | None = None
    git_commit: str | None = None
    git_branch: str | None = None
    git_dirty: bool | None = None
    error: str | None = None
    stale: bool = False
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.run_id

    def as_dict(self) -> dict[str, Any]:
        """The run's meta dict (0.2.0's meta.json keys plus runelog's), then params, metrics, tags."""
        return {
            "run_id": self.run_id, "experiment_id": self.experiment_id, "run_name": self.run_name,
            "status": self.status, "start_time": iso(self.start_time), "end_time": iso(self.end_time),
            "heartbeat_at": iso(self.heartbeat_at), "host": self.host, "pid": self.pid,
            "git_commit": self.git_commit, "git_branch": self.git_branch, "git_dirty": self.git_dirty,
            "error": self.error, "stale": self.stale,
            "params": dict(self.params), "metrics": dict(self.metrics), "tags": dict(self.tags),
        }


@dataclass(frozen=True, slots=True)
class MetricPoint:
    """One logged value of a metric."""

    key: str
    step: int
    value: float
    timestamp: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "step": self.step, "value": self.value, "timestamp": iso(self.timestamp)}


@dataclass(frozen=True, slots=True)
class ArtifactInfo:
    """A file a run logged: its logical name and the blob holding its bytes."""

    run_id: str
    name: str
    sha256: str
    size: int
    created_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "sha256": self.sha256, "size": self.size, "created_at": iso(self.created_at)}


@dataclass(frozen=True, slots=True)
class DatasetInfo:
    """A dataset fingerprint a run recorded (log_dataset: kind "file"; log_dvc_input: kind "dvc")."""

    run_id: str
    name: str
    kind: str
    filename: str | None
    path: str | None
    size: int | None
    sha256: str | None
    md5: str | None = None
    row_count: int | None = None
    column_count: int | None = None
    schema: list[dict[str, str]] | None = None  # parquet columns: [{"name": ..., "type": ...}]
    created_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "filename": self.filename, "path": self.path,
                "size": self.size, "sha256": self.sha256, "md5": self.md5, "row_count": self.row_count,
                "column_count": self.column_count, "schema": self.schema, "created_at": iso(self.created_at)}


@dataclass(frozen=True, slots=True)
class LineageEdge:
    """One input link met while walking lineage: `run_id` was reached from `via_run_id`, `depth` hops away."""

    depth: int
    run_id: str | None
    via_run_id: str
    input_name: str
    experiment: str | None = None
    run_name: str | None = None
    status: str | None = None
    artifact_name: str | None = None
    sha256: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"depth": self.depth, "run_id": self.run_id, "via_run_id": self.via_run_id,
                "experiment": self.experiment, "run_name": self.run_name, "status": self.status,
                "input_name": self.input_name, "artifact_name": self.artifact_name, "sha256": self.sha256}


@dataclass(frozen=True, slots=True)
class ModelVersionInfo:
    """One version of a registered model: the run and artifact it came from, its tags and aliases."""

    model_name: str
    version: int
    run_id: str | None
    artifact_name: str
    sha256: str
    created_at: datetime | None = None
    tags: dict[str, Any] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """0.2.0's meta.json of a version (`version` as text, `source_run_id`), plus artifact and aliases."""
        return {"aliases": list(self.aliases), "model_name": self.model_name, "version": str(self.version),
                "source_run_id": self.run_id, "registration_timestamp": iso(self.created_at),
                "tags": dict(self.tags), "artifact_name": self.artifact_name, "sha256": self.sha256}


@dataclass(frozen=True, slots=True)
class RunComparison:
    """Runs side by side (compare_runs): which params differ, and per metric each run's latest
    value, the direction that counts as better, and the run(s) holding the best value.

    Every per-run tuple follows `runs`' order (the order the ids were given). A value a run
    does not have is None; a NaN metric value stays NaN and is never best.
    """

    runs: tuple[RunInfo, ...]
    params: dict[str, tuple[Any, ...]]  # param key (sorted) -> each run's value
    differing_params: tuple[str, ...]  # keys whose values are not all the same (missing differs from any value)
    metrics: dict[str, tuple[float | None, ...]]  # metric key (sorted) -> each run's latest value
    lower_is_better: dict[str, bool]  # metric key -> the direction used
    direction_source: dict[str, str]  # metric key -> "caller", "name" (loss, error, mse, ...) or "default" (higher)
    best_run_ids: dict[str, tuple[str, ...]]  # metric key -> runs with the best value (ties: all; none: ())
    best_values: dict[str, float | None]  # metric key -> the best value, None if no run has a usable one

    @property
    def run_ids(self) -> tuple[str, ...]:
        return tuple(run.run_id for run in self.runs)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the runs (as RunInfo.as_dict()), then per param and per metric a row keyed by run id."""
        ids = self.run_ids
        return {
            "run_ids": list(ids),
            "runs": [run.as_dict() for run in self.runs],
            "params": {key: {"values": dict(zip(ids, values, strict=True)), "differs": key in self.differing_params}
                       for key, values in self.params.items()},
            "metrics": {key: {"values": dict(zip(ids, values, strict=True)),
                              "direction": "lower" if self.lower_is_better[key] else "higher",
                              "direction_source": self.direction_source[key],
                              "best_run_ids": list(self.best_run_ids[key]), "best_value": self.best_values[key]}
                        for key, values in self.metrics.items()},
        }


@dataclass(frozen=True, slots=True)
class ByteUse:
    """A run that logged ("artifact"), fingerprinted ("dataset") or consumed ("input") given bytes."""

    run_id: str
    experiment: str
    status: str
    start_time: datetime | None
    how: str
    name: str

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "experiment": self.experiment, "status": self.status,
                "start_time": iso(self.start_time), "how": self.how, "name": self.name}
