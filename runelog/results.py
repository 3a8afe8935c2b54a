"""Old names of the run query service, kept until the API calls runelog.queries directly.

Nothing new goes here: runelog.queries (find_runs and the reads built on it)
and runelog.results_frame (load_results) are the service.
"""

from __future__ import annotations

from typing import Any

from . import queries
from .queries import (RUN_ORDER_COLUMNS, experiment_overview, experiment_runs, experiment_summaries,  # noqa: F401
                      latest_run_id, metric_history, metric_keys, metric_summary, run_table)
from .results_frame import load_results, local_iso  # noqa: F401
from .runs import latest_metric_rows  # noqa: F401


def find_runs(session, experiment: Any, tags: dict | None = None, status=None, order_by: str = "start_time",
              descending: bool = True, limit: int | None = None) -> list[dict[str, Any]]:
    """The former find_runs: run meta dicts whose times are UTC-aware datetimes."""
    found = queries.find_runs(session, experiment, order_by=f"{order_by} {'DESC' if descending else 'ASC'}",
                              limit=limit, tags=tags, status=status, details=False)
    rows = []
    for run in found:
        row = run.as_dict()
        for field in ("params", "metrics", "tags"):
            del row[field]
        rows.append(dict(row, start_time=run.start_time, end_time=run.end_time, heartbeat_at=run.heartbeat_at))
    return rows
