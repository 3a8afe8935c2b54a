"""Reading runs back: results frames, metric histories, and run searches.

Reads never run one query per run and never join every child table at once:
`load_results` is one query per table and a pandas pivot. pandas is imported
inside the functions that need it.
"""

from __future__ import annotations

import functools
from datetime import timezone
from typing import Any

from sqlalchemy import bindparam, exists, func, select
from sqlalchemy.orm import Session

from . import codec, exceptions, runs
from .models import Experiment, Metric, Param, Run, Tag

RUN_ORDER_COLUMNS = {
    "start_time": Run.start_time, "end_time": Run.end_time, "run_name": Run.name,
    "name": Run.name, "status": Run.status, "run_id": Run.id,
}


def latest_metric_rows(run_filter, key: str | None = None):
    """(run_id, key, value) of the highest step of each metric (or of `key`) of the runs selected."""
    ranked = (
        select(
            Metric.run_id, Metric.key, Metric.value,
            func.row_number().over(
                partition_by=(Metric.run_id, Metric.key),
                order_by=(Metric.step.desc(), Metric.id.desc()),
            ).label("rank"),
        )
        .where(Metric.run_id.in_(run_filter), *([Metric.key == key] if key is not None else []))
        .subquery()
    )
    return select(ranked.c.run_id, ranked.c.key, ranked.c.value).where(ranked.c.rank == 1)


def load_results(executor, experiment_name_or_id: str, sort_by: str | None = None,
                 ascending: bool = True):
    """One row per run: experiment_id, status, times, `param_*` columns, latest metric values.

    Three queries (runs, params, latest metrics) and two pivots; works on a bare connection.
    A metric whose name is already a column is shown as `metric_<name>`. Column types are
    0.2.0's: start_time/end_time are naive local ISO-8601 strings (what 0.2.0 wrote with
    `datetime.now().isoformat()`), and params get the dtype pandas infers for their values
    (numbers numeric, not object), as 0.2.0's frame built from dicts did.
    """
    import pandas as pd

    experiment_id = runs.experiment_id_of(executor, experiment_name_or_id)
    in_experiment = select(Run.id).where(Run.experiment_id == experiment_id)
    # Plain tuples: pandas probes SQLAlchemy Row objects attribute by attribute, which is slow.
    run_rows = [(run_id, experiment, status, local_iso(start), local_iso(end)) for run_id, experiment, status, start, end
                in executor.execute(select(Run.id, Run.experiment_id, Run.status, Run.start_time, Run.end_time)
                                    .where(Run.experiment_id == experiment_id))]
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

    metrics = list(map(tuple, executor.execute(latest_metric_rows(in_experiment))))
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


def metric_history(session: Session, run_id: str, key: str):
    """Every point of one metric: a DataFrame of step, value, timestamp (UTC), by step."""
    import pandas as pd

    rows = session.execute(
        select(Metric.step, Metric.value, Metric.timestamp)
        .where(Metric.run_id == run_id, Metric.key == key)
        .order_by(Metric.step, Metric.id)).all()
    frame = pd.DataFrame(
        [(s, codec.metric_from_db(v), t) for s, v, t in rows], columns=["step", "value", "timestamp"])
    frame["step"] = frame["step"].astype("int64")
    frame["value"] = frame["value"].astype("float64")
    frame["timestamp"] = pd.to_datetime(frame["timestamp"].astype("float64"), unit="s", utc=True)
    return frame


def run_query(experiment_id: int, tags: dict | None = None, status: str | list[str] | None = None,
              order_by: str = "start_time", descending: bool = True, limit: int | None = None,
              ids_only: bool = False):
    """The one SELECT behind find_runs, latest_run and run_table, and its bound values.

    Runs of one experiment that carry every tag given. Tags are EXISTS probes on
    the (run_id, key) primary key, so "newest run with this tag" walks the
    experiment's runs newest first and stops at the first match instead of
    sorting every tagged run. Returns (statement, parameters): the statement
    depends only on the query's shape, so it is built and compiled once.
    """
    if order_by not in RUN_ORDER_COLUMNS:
        raise ValueError(f"Cannot order runs by {order_by!r}; use one of {sorted(RUN_ORDER_COLUMNS)}.")
    params: dict[str, Any] = {"experiment_id": experiment_id}
    for i, (tag_key, value) in enumerate((tags or {}).items()):
        codec.check_key(tag_key, "tag key")
        params[f"tag_key_{i}"] = tag_key
        params[f"tag_value_{i}"] = codec.encode_value(tag_key, value, "tag")
    if status is not None:
        params["statuses"] = [status] if isinstance(status, str) else list(status)
    if limit is not None:
        params["limit"] = int(limit)
    shape = (len(tags or {}), status is not None, order_by, descending, limit is not None, ids_only)
    return _query_shape(*shape), params


@functools.lru_cache(maxsize=64)
def _query_shape(tag_count: int, by_status: bool, order_by: str, descending: bool, limited: bool,
                 ids_only: bool):
    stmt = select(Run.id if ids_only else Run).where(Run.experiment_id == bindparam("experiment_id"))
    for i in range(tag_count):
        stmt = stmt.where(exists().where(Tag.run_id == Run.id, Tag.key == bindparam(f"tag_key_{i}"),
                                         Tag.value == bindparam(f"tag_value_{i}")))
    if by_status:
        stmt = stmt.where(Run.status.in_(bindparam("statuses", expanding=True)))
    column = RUN_ORDER_COLUMNS[order_by]
    stmt = stmt.order_by(column.desc() if descending else column.asc(),
                         Run.id.desc() if descending else Run.id.asc())
    if limited:
        stmt = stmt.limit(bindparam("limit"))
    return stmt


def latest_run_id(executor, experiment: Any, tags: dict | None, status) -> str | None:
    """Id of the newest matching run: two indexed lookups, no ORM objects."""
    query, params = run_query(runs.experiment_id_of(executor, experiment), tags=tags, status=status,
                              limit=1, ids_only=True)
    return executor.execute(query, params).scalar()


def find_runs(session: Session, experiment: Any, **filters) -> list[dict[str, Any]]:
    """Run meta dicts whose times (start_time, end_time, heartbeat_at) are UTC-aware datetimes."""
    query, params = run_query(runs.experiment_id_of(session, experiment), **filters)
    return [dict(runs.run_meta(run), start_time=run.start_time, end_time=run.end_time,
                 heartbeat_at=run.heartbeat_at)
            for run in session.execute(query, params).scalars()]


def experiment_runs(session: Session, experiment_id: str, sort_by: str | None = "timestamp",
                    ascending: bool = True) -> list[dict[str, Any]]:
    """0.2.0's get_experiment_runs: run meta dicts with a `timestamp`; [] for an unknown id."""
    try:
        experiment = runs.resolve_experiment(session, experiment_id)
    except exceptions.ExperimentNotFound:
        return []
    found = session.execute(select(Run).where(Run.experiment_id == experiment.id)).scalars().all()
    rows = [dict(runs.run_meta(run), timestamp=runs.iso(run.start_time)) for run in found]
    if sort_by:
        rows.sort(key=lambda r: (r.get(sort_by) is None, str(r.get(sort_by) or "")), reverse=not ascending)
    return rows


def experiment_summaries(session: Session, sort_by: str | None = None,
                         ascending: bool = True) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Experiment.id, Experiment.name, Experiment.created_at,
               func.count(Run.id), func.max(Run.start_time))
        .outerjoin(Run, Run.experiment_id == Experiment.id)
        .group_by(Experiment.id, Experiment.name, Experiment.created_at)
        .order_by(Experiment.id)).all()
    summaries = [
        {"experiment_id": str(i), "name": n, "created_at": runs.iso(c), "num_runs": count,
         "last_run": runs.iso(last)}
        for i, n, c, count, last in rows
    ]
    if sort_by:
        summaries.sort(key=lambda x: _sort_key(x.get(sort_by)), reverse=not ascending)
    return summaries


def _sort_key(value):
    if isinstance(value, (int, float)):
        return (0, value, "")
    return (1, 0, str(value or ""))


def run_table(session: Session, experiment: Any, tags: dict | None = None,
              status: str | list[str] | None = None, sort_by: str | None = None,
              descending: bool = False, limit: int | None = None) -> list[dict[str, Any]]:
    """Runs of an experiment with their params, tags and latest metric values, without pandas.

    Four queries (runs, params, tags, latest metrics). `sort_by` is a run column
    (start_time, status, ...), `param_<key>`, or a metric key; runs missing that
    value sort last.
    """
    by_column = sort_by in RUN_ORDER_COLUMNS
    query, params = run_query(runs.experiment_id_of(session, experiment), tags=tags, status=status,
                              order_by=sort_by if by_column else "start_time",
                              descending=descending if by_column else False,
                              limit=limit if (by_column or sort_by is None) else None)
    found = session.execute(query, params).scalars().all()
    if not found:
        return []
    ids = [run.id for run in found]
    rows = {run.id: dict(runs.run_meta(run), params={}, metrics={}, tags={}) for run in found}
    for model, field in ((Param, "params"), (Tag, "tags")):
        pairs = session.execute(select(model.run_id, model.key, model.value).where(model.run_id.in_(ids))).all()
        for (run_id, key, _), value in zip(pairs, codec.decode_many([v for *_, v in pairs]), strict=True):
            rows[run_id][field][key] = value
    for run_id, key, value in session.execute(latest_metric_rows(ids)):
        rows[run_id]["metrics"][key] = codec.metric_from_db(value)
    table = [rows[i] for i in ids]
    if sort_by and not by_column:
        table = _sorted_by_value(table, sort_by, descending)
        if limit is not None:
            table = table[:limit]
    return table


def _sorted_by_value(table: list[dict], sort_by: str, descending: bool) -> list[dict]:
    def value(row):
        if sort_by.startswith("param_") and sort_by[6:] in row["params"]:
            return row["params"][sort_by[6:]]
        return row["metrics"].get(sort_by)

    present = [r for r in table if value(r) is not None and value(r) == value(r)]  # not None, not NaN
    missing = [r for r in table if r not in present]
    present.sort(key=lambda r: _sort_key(value(r)), reverse=descending)
    return present + missing


def metric_summary(session: Session, run_id: str) -> list[dict[str, Any]]:
    """Per metric key: the latest value, its step, and how many points were logged (one query)."""
    ranked = select(
        Metric.key, Metric.value, Metric.step,
        func.count().over(partition_by=Metric.key).label("points"),
        func.row_number().over(partition_by=Metric.key,
                               order_by=(Metric.step.desc(), Metric.id.desc())).label("rank"),
    ).where(Metric.run_id == run_id).subquery()
    rows = session.execute(
        select(ranked.c.key, ranked.c.value, ranked.c.step, ranked.c.points)
        .where(ranked.c.rank == 1).order_by(ranked.c.key)).all()
    return [{"key": k, "value": codec.metric_from_db(v), "step": s, "count": n} for k, v, s, n in rows]


def experiment_overview(session: Session, metric: str | None = None,
                        lower_is_better: bool = False) -> list[dict[str, Any]]:
    """Per experiment: run counts by status, last run time, and the best latest value of `metric`."""
    experiments = session.execute(select(Experiment.id, Experiment.name).order_by(Experiment.id)).all()
    counts: dict[int, dict[str, int]] = {}
    last: dict[int, Any] = {}
    for experiment_id, status, n, newest in session.execute(
            select(Run.experiment_id, Run.status, func.count(), func.max(Run.start_time))
            .group_by(Run.experiment_id, Run.status)):
        counts.setdefault(experiment_id, {})[status] = n
        last[experiment_id] = max(filter(None, [last.get(experiment_id), newest]), default=None)
    best: dict[int, tuple[float, str]] = {}
    if metric:
        latest = latest_metric_rows(select(Run.id), key=metric).subquery()
        for experiment_id, run_id, value in session.execute(
                select(Run.experiment_id, Run.id, latest.c.value).join(latest, latest.c.run_id == Run.id)):
            if value is None:
                continue
            current = best.get(experiment_id)
            if current is None or (value < current[0] if lower_is_better else value > current[0]):
                best[experiment_id] = (value, run_id)
    return [{"experiment_id": str(i), "name": name, "num_runs": sum(counts.get(i, {}).values()),
             "status_counts": counts.get(i, {}), "last_run": runs.iso(last.get(i)),
             "best_value": best[i][0] if i in best else None, "best_run_id": best[i][1] if i in best else None}
            for i, name in experiments]


def metric_keys(session: Session, experiment: Any | None = None) -> list[str]:
    """The metric keys logged in an experiment (or anywhere), sorted."""
    stmt = select(Metric.key).distinct().order_by(Metric.key)
    if experiment is not None:
        found = runs.resolve_experiment(session, experiment)
        stmt = stmt.where(Metric.run_id.in_(select(Run.id).where(Run.experiment_id == found.id)))
    return list(session.execute(stmt).scalars())
