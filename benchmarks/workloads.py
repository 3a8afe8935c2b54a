"""What is measured: the workloads of issue 6, their sizes, targets and the issue's figures.

One table of data, so the runner, the report and the smoke test all agree on
it. `full` sizes are the issue's; `tiny` sizes only prove the code still runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ENGINES = ("runelog", "mlflow", "sqlite")
ENGINE_TITLES = {"runelog": "runelog", "mlflow": "MLflow", "sqlite": "raw sqlite3",
                 "trackio": "trackio", "designed": "raw sqlite3, designed"}  # the last two: W9 only


@dataclass(frozen=True)
class Row:
    """One figure a workload reports, as one line of the results table."""

    figure: str                  # key in the child's result dict
    unit: str
    higher_is_better: bool
    target: float | None = None  # None: no numeric target (only checks, or none)
    target_text: str = ""
    needs_checks: bool = False   # met only if the correctness checks passed too
    issue: tuple[str, str, str] = ("", "", "")  # runelog 0.2.0, MLflow 3.17, raw sqlite3

    def met(self, value: float | None, checks_ok: bool = True) -> bool | None:
        if self.needs_checks and not checks_ok:
            return False
        if self.target is None:
            return checks_ok if self.needs_checks else None
        if value is None:
            return None
        return value >= self.target if self.higher_is_better else value <= self.target


@dataclass(frozen=True)
class Workload:
    id: str                      # "W1" .. "W8r"; --workload selects by id
    variant: str                 # what distinguishes rows sharing an id
    title: str
    task: str                    # function in on_<engine>.py, else in tasks.py
    rows: tuple[Row, ...]
    full: dict
    tiny: dict
    setup: str | None = None     # None | "created" | "populated" | "file"
    engines: tuple[str, ...] = ENGINES
    local_only: bool = False     # needs a store no process has opened: not with --database-url
    notes: dict[str, str] = field(default_factory=dict)  # per engine: how it is done there

    @property
    def label(self) -> str:
        return f"{self.id} {self.variant}".strip()

    def size(self, tiny: bool) -> dict:
        return dict(self.tiny if tiny else self.full)


WORKLOADS: tuple[Workload, ...] = (
    Workload(
        "W1", "default buffering", "one run, 5,000 log_metric(k, v, step=i) calls", "metric_calls",
        (Row("calls_per_s", "calls/s", True, 50_000, "≥ 50,000", issue=("3,528", "208", "")),),
        full={"calls": 5_000, "commit_per_call": False}, tiny={"calls": 50, "commit_per_call": False},
        notes={"mlflow": "MlflowClient.log_metric: MLflow has no buffer, each call commits",
               "sqlite": "buffered like runelog: executemany + commit per 1,000 rows"},
    ),
    Workload(
        "W1", "commit per call", "the same with get_tracker(metric_buffer=0)", "metric_calls",
        (Row("calls_per_s", "calls/s", True, 15_000, "≥ 15,000", issue=("3,528", "208", "40,071")),),
        full={"calls": 5_000, "commit_per_call": True}, tiny={"calls": 50, "commit_per_call": True},
        notes={"mlflow": "MlflowClient.log_metric", "sqlite": "INSERT + COMMIT per row, WAL"},
    ),
    Workload(
        "W2", "log_metrics", "100,000 metric points as fast as the API allows", "metric_points",
        (Row("points_per_s", "points/s", True, 150_000, "≥ 150,000", issue=("4,446", "10,164", "390,259")),),
        full={"points": 100_000, "via": "log_metrics"}, tiny={"points": 500, "via": "log_metrics"},
        notes={"runelog": "log_metrics({10 keys}, step=i) × 10,000, default buffering",
               "mlflow": "MlflowClient.log_batch, 1,000 metrics per call",
               "sqlite": "one executemany of 100,000 rows, one commit"},
    ),
    Workload(
        "W2", "log_metric", "the same as 100,000 log_metric calls", "metric_points",
        (Row("points_per_s", "points/s", True, 150_000, "≥ 150,000"),),
        full={"points": 100_000, "via": "log_metric"}, tiny={"points": 500, "via": "log_metric"},
        engines=("runelog",),
        notes={"runelog": "log_metric(k, v, step=i) × 100,000 (10 keys), default buffering"},
    ),
    Workload(
        "W3", "", "2,000 runs, each 5 params, 5 metrics, 2 tags", "populate",
        (Row("runs_per_s", "runs/s", True, 1_000, "≥ 1,000", issue=("173", "21", "2,359")),),
        full={"start": 0, "count": 2_000}, tiny={"start": 0, "count": 10},
        notes={"runelog": "start_run + log_params + log_metrics + set_run_tags per run",
               "mlflow": "MlflowClient create_run + log_batch + set_terminated per run",
               "sqlite": "one transaction per run"},
    ),
    Workload(
        "W4", "", "latest run tagged latest_feature_set=True among 2,000 runs", "latest_tagged",
        (Row("ms", "ms", False, 0.5, "≤ 0.5", issue=("470", "10.7", "0.091")),),
        full={"runs": 2_000, "calls": 500}, tiny={"runs": 10, "calls": 5}, setup="populated",
        notes={"runelog": "latest_run(experiment, tags={'latest_feature_set': True}); median of calls",
               "mlflow": "MlflowClient.search_runs(filter tags + status, order by start_time, max_results=1)",
               "sqlite": "the same SELECT … JOIN tags … ORDER BY start_time DESC LIMIT 1"},
    ),
    Workload(
        "W5", "", "load_results of 2,000 runs into a DataFrame", "results_frame",
        (Row("s", "s", False, 0.15, "≤ 0.15", issue=("0.45", "1.35", "0.055")),),
        full={"runs": 2_000}, tiny={"runs": 10}, setup="populated",
        notes={"mlflow": "mlflow.search_runs (a DataFrame)",
               "sqlite": "three SELECTs (runs, params, latest metrics) into dicts, no pandas"},
    ),
    Workload(
        "W6", "", "the same 200 MiB file logged as an artifact in 3 runs", "artifact_thrice",
        (Row("s_per_log", "s per log", False, 0.18, "≤ 0.18", issue=("0.064", "0.49", "0.148")),
         Row("mb_added", "MB on disk", False, 210, "≤ 210 (one copy)", issue=("629", "629", "210"))),
        full={"mib": 200, "logs": 3}, tiny={"mib": 1, "logs": 3}, setup="file",
        notes={"mlflow": "MlflowClient.log_artifact into a local artifact folder",
               "sqlite": "hashlib pass, copy only when the blob is new"},
    ),
    Workload(
        "W7", "", "start-up: `python -c \"import X\"`; a new process making a new store + one run + one metric",
        "startup",
        (Row("import_s", "s (import)", False, 0.15, "≤ 0.15", issue=("0.52", "1.63", "0.017")),
         Row("new_store_s", "s (new process)", False, 0.4, "≤ 0.4", issue=("0.50", "3.86", ""))),
        full={}, tiny={}, local_only=True,
        notes={"sqlite": "import sqlite3; the new store is the reference schema"},
    ),
    Workload(
        "W8", "", "4 processes × 2,000 log_metric calls on one store that exists", "parallel",
        (Row("s", "s", False, 0.6, "≤ 0.6, no errors, nothing lost", needs_checks=True,
             issue=("0.80", "31.4", "0.25")),),
        full={"processes": 4, "calls": 2_000}, tiny={"processes": 2, "calls": 20}, setup="created",
        notes={"sqlite": "commit per row from each process"},
    ),
    Workload(
        "W8r", "", "the same on a store none of them has opened before", "parallel",
        (Row("s", "s", False, None, "no errors, nothing lost, one schema", needs_checks=True),),
        full={"processes": 4, "calls": 2_000}, tiny={"processes": 2, "calls": 20}, local_only=True,
    ),
)

# --scale: run counts, and the lineage chain depth queried at each.
SCALE_SIZES = {"full": (2_000, 20_000, 200_000), "tiny": (60, 120)}
LINEAGE_DEPTH = {"full": 50, "tiny": 5}
SCALE_W4_TARGET_MS = 1.0  # the issue: W4 ≤ 1 ms at 200,000 runs (and W5 linear in runs)

# --memory: W5 at this many runs, and an artifact of this size; peak RSS limit (MB).
MEMORY = {"full": {"runs": 20_000, "mib": 1024}, "tiny": {"runs": 20, "mib": 2}}
MEMORY_LIMIT_MB = 150


def select(ids: list[str] | None) -> list[Workload]:
    """The workloads named (every variant of an id), in table order; all when none are named."""
    if not ids:
        return list(WORKLOADS)
    wanted = {i.lower() for i in ids}
    unknown = wanted - {w.id.lower() for w in WORKLOADS}
    if unknown:
        raise ValueError(f"unknown workload(s) {sorted(unknown)}; choose from "
                         f"{sorted({w.id for w in WORKLOADS})}")
    return [w for w in WORKLOADS if w.id.lower() in wanted]

# ------------------------------------------------------------------ the data every engine logs

TAGGED_EVERY = 10  # one run in ten carries latest_feature_set=True, the rest False


def run_record(i: int) -> tuple[dict, dict, dict]:
    """The params (5), metrics (5) and tags (2) of populated run number `i`."""
    params = {"lr": 0.001 * (i % 10 + 1), "layers": [128, 64], "augment": i % 2 == 0,
              "optimizer": "adam", "seed": i}
    metrics = {"loss": 1.0 / (i + 1), "acc": (i % 100) / 100, "f1": 0.5, "precision": 0.25, "recall": 0.75}
    tags = {"latest_feature_set": i % TAGGED_EVERY == TAGGED_EVERY - 1, "stage": "candidate"}
    return params, metrics, tags


def run_name(i: int) -> str:
    return f"r{i}"


def latest_tagged_name(runs: int) -> str:
    """Name of the newest run among `runs` that carries latest_feature_set=True."""
    return run_name(runs - 1 - (runs % TAGGED_EVERY))


def chain_leaf_name(runs: int, depth: int) -> str:
    """The newest run that ends a complete lineage chain of `depth` links (depth + 1 runs)."""
    length = depth + 1
    return run_name((runs // length) * length - 1)


def metric_key(i: int, keys: int = 10) -> str:
    return f"m{i % keys}"
