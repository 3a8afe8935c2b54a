"""load_results: an experiment's runs as a pandas DataFrame (0.2.0's shape), from three queries.

The runs are the run query's (runelog.queries.run_statement) and the metric
values runs.latest_metric_rows': the same selection and the same "latest"
as every other reader, read as plain tuples and pivoted by pandas, because
a results frame of thousands of runs is a hot path.
"""

from __future__ import annotations

from datetime import timezone
from typing import Any

from sqlalchemy import select

from . import codec, queries, runs
from .models import Param, Run


def load_results(executor, experiment_name_or_id: Any, sort_by: str | None = None, ascending: bool = True):
    """One row per run: experiment_id, status, times, `param_*` columns, latest metric values.

    Three queries (runs, params, latest metrics) and two pivots; works on a bare connection.
    A metric whose name is already a column is shown as `metric_<name>`. Column types are
    0.2.0's: start_time/end_time are naive local ISO-8601 strings (what 0.2.0 wrote with
    `datetime.now().isoformat()`), and params get the dtype pandas infers for their values
    (numbers numeric, not object), as 0.2.0's frame built from dicts did.
    """
    import pandas as pd

    experiment_id = runs.experiment_id_of(executor, experiment_name_or_id)
    selection, values = queries.run_statement(executor, experiment_id, order_by=queries.OLDEST_FIRST)
    selected = selection.subquery()
    in_experiment = select(Run.id).where(Run.experiment_id == experiment_id)
    # Plain tuples: pandas probes SQLAlchemy Row objects attribute by attribute, which is slow.
    run_rows = [(run_id, experiment, status, local_iso(start), local_iso(end)) for run_id, experiment, status, start, end
                in executor.execute(select(selected.c.id, selected.c.experiment_id, selected.c.status,
                                           selected.c.start_time, selected.c.end_time), values)]
    if not run_rows:
        return pd.DataFrame()

    frame = pd.DataFrame(run_rows, columns=["run_id", "experiment_id", "status", "start_time", "end_time"])
    frame["experiment_id"] = frame["experiment_id"].astype(str)
    frame = frame.set_index("run_id")

    params = executor.execute(
        select(Param.run_id, Param.key, Param.value).where(Param.run_id.in_(in_experiment))).all()
    if params:
        owners, keys, texts = zip(*params, strict=True)
        wide = pd.DataFrame({"run_id": owners, "key": ["param_" + k for k in keys],
                             "value": codec.decode_many(list(texts))}
                            ).pivot(index="run_id", columns="key", values="value")
        frame = frame.join(wide[sorted(wide.columns)].infer_objects())  # numbers numeric, as in 0.2.0

    metrics = [(run_id, key, value) for run_id, key, value, _
               in executor.execute(runs.latest_metric_rows(in_experiment))]
    if metrics:
        # float64 turns the NULLs that stand for NaN back into NaN.
        wide = pd.DataFrame(metrics, columns=["run_id", "key", "value"]).astype({"value": "float64"}) \
            .pivot(index="run_id", columns="key", values="value")
        # A metric named like a column already there ("status", "param_lr") keeps both: metric_<key>.
        wide = wide.rename(columns=lambda key: f"metric_{key}" if key in frame.columns else key)
        frame = frame.join(wide[sorted(wide.columns)])

    frame.columns.name = None
    if sort_by and sort_by in frame.columns:
        return frame.sort_values(by=sort_by, ascending=ascending)
    return frame.sort_index(ascending=ascending)


def local_iso(value) -> str | None:
    """A stored (UTC) time as 0.2.0 wrote it: naive local time, `datetime.now().isoformat()`."""
    if value is None:
        return None
    if value.tzinfo is None:  # a naive value read back is UTC
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone().replace(tzinfo=None).isoformat()
