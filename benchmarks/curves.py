"""W9 and W9L (issue 15): the real shape of tracking data, long metric curves.

W9: 300 runs × 4 metric keys × 1,000 steps (1.2 M points), 5 params and 2
tags per run. W9L (`--large`): 10,000 runs of the same shape (40 M points).
The store is populated before any clock starts, through each engine's own
batch path, and that population is itself one figure (points/s). Every other
figure is a fresh process reading the populated store.

One table of data, shared by the runner (curves_runner.py), the report
(curves_report.py), the engines (`curves_*` functions in on_<engine>.py) and
the smoke test.
"""

from __future__ import annotations

from dataclasses import dataclass

from .workloads import Row

# The engines of W9, in the order they alternate; "designed" is raw sqlite3 with issue 15's layout.
ENGINES = ("runelog", "mlflow", "trackio", "designed")
TITLES = {"runelog": "runelog", "mlflow": "MLflow", "trackio": "trackio",
          "designed": "raw sqlite3, designed"}
LARGE_ENGINES = ("runelog", "designed")  # MLflow would take ~100 min to populate 40 M points

SIZES = {
    "full": {"runs": 300, "keys": 4, "steps": 1_000},
    "tiny": {"runs": 4, "keys": 4, "steps": 25},
    "large": {"runs": 10_000, "keys": 4, "steps": 1_000},
}
LARGE_CHUNK_RUNS = 500      # W9L is populated in chunks of this many runs, each a process
LARGE_BUDGET_S = 900        # per engine: stop populating W9L after this long and project the rest

METRIC_KEYS = ("train/loss", "val/loss", "val/acc", "lr")


@dataclass(frozen=True)
class Figure:
    """One W9 figure: which engine task gives it, and how the row reads."""

    id: str        # key in the results; also the figure key in the task's RESULT dict
    task: str      # curves_<task> in on_<engine>.py; "populate" figures come from the setup
    options: dict
    row: Row


FIGURES: tuple[Figure, ...] = (
    Figure("frame_ms", "frame", {"via": "results_frame"},
           Row("frame_ms", "ms", False, 30, "≤ 30",
               issue=("2,970", "410", "9"))),
    Figure("find_ms", "frame", {"via": "find_runs"},
           Row("frame_ms", "ms", False, 30, "≤ 30")),
    Figure("history_ms", "history", {},
           Row("ms", "ms", False, 2, "≤ 2", issue=("7.9", "71", "1.1"))),
    Figure("latest_ms", "latest", {},
           Row("ms", "ms", False, 10, "≤ 10", issue=("3,200", "", ""))),
    Figure("bytes_per_point", "populate", {},
           Row("bytes_per_point", "bytes/point", False, 40, "≤ 40", issue=("136", "255", "32"))),
    Figure("load_points_per_s", "populate", {},
           Row("points_per_s", "points/s", True, None, "(W2 shape: ≥ 300,000)",
               issue=("90,000", "6,600", "310,000"))),
)

# Issue 15's targets at 10,000 runs × 4 × 1,000 (W9L); a figure not named has none at that size.
LARGE_TARGETS = {"frame_ms": (1_000, "≤ 1,000"), "find_ms": (1_000, "≤ 1,000"),
                 "history_ms": (2, "≤ 2"), "bytes_per_point": (40, "≤ 40 (store ≤ 1.6 GB)")}

TITLES_OF_FIGURES = {
    "frame_ms": "results frame: load_results(experiment), all runs with the latest value of every metric",
    "find_ms": "results frame: find_runs(experiment)",
    "history_ms": "one 1,000-step get_metric_history",
    "latest_ms": "SELECT count(*) FROM latest_metrics (or the engine's equivalent)",
    "bytes_per_point": "bytes on disk per point (database + WAL after a checkpoint, indexes included)",
    "load_points_per_s": "batched load of the whole store (setup; one measurement per engine)",
}
TRACKIO_ISSUE = {"bytes_per_point": "134", "load_points_per_s": "30,000"}


def size(mode: str) -> dict:
    return dict(SIZES[mode])


def point_value(run: int, key: int, step: int) -> float:
    """A curve that looks like training: decaying losses, a rising accuracy, a stepped rate."""
    progress = step / 1000
    if key == 0:
        return 2.0 / (1.0 + 5 * progress) + (run % 7) * 0.01
    if key == 1:
        return 2.2 / (1.0 + 4 * progress) + (run % 5) * 0.01
    if key == 2:
        return min(0.99, 0.5 + 0.45 * progress) - (run % 11) * 0.001
    return 0.001 * (0.5 ** (step // 300))


def metric_keys(keys: int) -> list[str]:
    return [METRIC_KEYS[k] if k < len(METRIC_KEYS) else f"m{k}" for k in range(keys)]


def history_run(runs: int) -> int:
    """The run whose history is read: one in the middle, not the first or last written."""
    return runs // 2


HISTORY_KEY = METRIC_KEYS[2]  # val/acc
