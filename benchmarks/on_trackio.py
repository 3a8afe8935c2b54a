"""W9 through trackio (Hugging Face's local tracker), in the bench virtualenv beside MLflow.

trackio keeps one SQLite database per project under TRACKIO_DIR
(`<TRACKIO_DIR>/<project>.db`): a `metrics` table with one row per
`trackio.log()` call (run id, run name, step, timestamp, and every metric of
that call as one JSON object), a `configs` table with each run's config. The
store of a measurement is its TRACKIO_DIR, set before trackio is imported.

What it can do here, and what it cannot (the runner reads NOT_AVAILABLE):
- populate: `trackio.init(project, name, config=params)`, `trackio.log({keys}, step=i)`
  per step, `trackio.finish()`. `log` queues; a background thread writes the queue
  in batches (that is trackio's batch path). trackio has no run tags: the 2 tags
  are not stored.
- history: `SQLiteStorage.get_metric_values(project, run, key)`, the call behind
  `trackio get metric --project P --run R --metric K`; not a documented Python API
  (trackio.Api has runs, configs and alerts, not metric values).
- no results frame (nothing returns every run's latest metric values) and no
  latest-values table: both n/a.
Checked with strace: init, log, finish and the reads open no network connection.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import measure
from .workloads import run_name, run_record

PACKAGE = "trackio"

NOT_AVAILABLE = {
    "frame_ms": "n/a: no call returns every run's latest metric values",
    "find_ms": "n/a: trackio.Api().runs() lists runs with their config, no metric values",
    "latest_ms": "n/a: no latest-values table or view (one JSON row per log call)",
}


def _use_store(store: str) -> None:
    """trackio reads TRACKIO_DIR when it is imported: set it first."""
    os.environ["TRACKIO_DIR"] = str(Path(store) / "trackio")


def versions() -> dict:
    import sqlite3
    import sys
    from importlib.metadata import version

    return {"trackio": version("trackio"), "pandas": version("pandas"), "python": sys.version.split()[0],
            "sqlite": sqlite3.sqlite_version}


def curves_populate(store: str, experiment: str, start: int, count: int, keys: int, steps: int) -> dict:
    """W9's store through trackio's public logging calls (params as the run config, no tags)."""
    _use_store(store)
    import trackio
    from trackio.sqlite_storage import SQLiteStorage

    from .curves import metric_keys, point_value

    names = metric_keys(keys)
    with measure.timer() as t:
        for i in range(start, start + count):
            params, _, _ = run_record(i)
            trackio.init(project=experiment, name=run_name(i), config=params,
                         auto_log_cpu=False, auto_log_gpu=False, embed=False)
            for step in range(steps):
                trackio.log({name: point_value(i, k, step) for k, name in enumerate(names)}, step=step)
            trackio.finish()
    points = count * keys * steps
    db_bytes = measure.checkpointed_db_bytes(SQLiteStorage.get_project_db_path(experiment))
    return {"points_per_s": points / t.seconds, "s": t.seconds, "points": points, "db_bytes": db_bytes,
            "bytes_per_point": db_bytes / ((start + count) * keys * steps)}


def curves_history(store: str, experiment: str, runs: int, steps: int, calls: int) -> dict:
    """Median ms of SQLiteStorage.get_metric_values (what `trackio get metric` runs)."""
    _use_store(store)
    from trackio.sqlite_storage import SQLiteStorage

    from .curves import HISTORY_KEY, history_run

    name = run_name(history_run(runs))

    def query():
        return SQLiteStorage.get_metric_values(experiment, name, HISTORY_KEY)

    found = query()
    ms = measure.median_call_ms(query, calls)
    return {"ms": ms, "checks": {"ok": len(found) == steps, "rows": len(found)}}
