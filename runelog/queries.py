"""The one run query: which runs of an experiment, in what order, which page; and the reads built on it.

`find_runs` is the service behind every reader of runs (the API's find_runs,
list_runs, latest_run, get_experiment_runs; load_results uses its selection,
runelog.results_frame). Filters are runelog.filters' language, turned into
SQL by runelog.filter_sql; latest metric values come from runs.latest_*.
Reads never run one query per run: a page of runs costs one query for the
runs and one each for params, tags and latest metric values.
"""

from __future__ import annotations

import functools
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, bindparam, exists, func, select
from sqlalchemy.orm import Session

from . import codec, exceptions, filter_sql, liveness, runs
from .filters import Key, OrderBy, SortTerm, parse_filter, parse_order_by
from .models import Experiment, Metric, Param, Run, Tag
from .types import RUN_STATUSES, MetricPoint, RunInfo

# list_runs' and get_experiment_runs' 0.2.0-era names for run columns
RUN_ORDER_COLUMNS = {
    "start_time": "start_time", "end_time": "end_time", "run_name": "name", "name": "name",
    "status": "status", "run_id": "id",
}
NEWEST_FIRST = (SortTerm(Key("attribute", "start_time"), descending=True),)
OLDEST_FIRST = (SortTerm(Key("attribute", "start_time"), descending=False),)  # 0.2.0's order
MAX_LISTED_IDS = 500  # above this, children are read by a subquery (SQLite and PostgreSQL cap bound values)
MAX_COUNT = 2**63 - 1  # a limit or offset: BIGINT on SQLite and PostgreSQL
_RUN = Run.__table__
_RUN_COLUMNS = tuple(c for c in _RUN.c if c.name != "environment")


def dialect_of(executor: Session | Connection) -> str:
    bind = executor.get_bind() if isinstance(executor, Session) else executor
    return bind.dialect.name


def find_runs(executor: Session | Connection, experiment: Any, filter: str | None = None,
              order_by: OrderBy = None, limit: int | None = None, offset: int = 0, *,
              tags: dict | None = None, status: str | list[str] | None = None,
              details: bool = True) -> list[RunInfo]:
    """Runs of an experiment matching `filter` (and every tag in `tags`, and `status`), sorted and paged.

    `filter`: runelog.filters' language (MLflow's), e.g. "metrics.acc > 0.9 and tags.stage = 'prod'".
    `order_by`: "metrics.acc DESC", "params.lr", "attributes.start_time ASC", "run_name" (a string,
    comma-separated, or a list); default newest first. Runs missing a sort key come last.
    `details=False` skips params, metrics and tags (three queries) when only the run records are needed.
    Raises ExperimentNotFound, InvalidFilter (bad filter or order_by), InvalidValue (bad limit/offset).
    """
    experiment_id = runs.experiment_id_of(executor, experiment)
    statement, values = run_statement(executor, experiment_id, filter, order_by, limit, offset, tags, status)
    rows = executor.execute(statement, values).all()
    if not rows:
        return []
    if not details:
        return [_run_info(row, {}, {}, {}) for row in rows]
    ids: Any = [row.id for row in rows]
    if len(ids) > MAX_LISTED_IDS:  # too many to bind one by one: the same selection, as a subquery
        selection, _ = run_statement(executor, experiment_id, filter, order_by, limit, offset, tags, status,
                                     ids_only=True)
        ids = select(selection.subquery().c.id)
    params, tag_values = values_of(executor, Param, ids, values), values_of(executor, Tag, ids, values)
    metrics = runs.latest_metrics_of(executor, ids, values)
    return [_run_info(row, params.get(row.id, {}), metrics.get(row.id, {}), tag_values.get(row.id, {}))
            for row in rows]


def run_statement(executor, experiment_id: int, filter: str | None = None, order_by=None,
                  limit: int | None = None, offset: int = 0, tags: dict | None = None,
                  status: str | list[str] | None = None, ids_only: bool = False):
    """(SELECT, bound values) of the runs find_runs returns; `ids_only` selects just their ids."""
    node = parse_filter(filter)
    terms = parse_order_by(order_by) or NEWEST_FIRST
    limit, offset = _count("limit", limit), _count("offset", offset) or 0
    values: dict[str, Any] = {"experiment_id": experiment_id}
    if tags is not None and not isinstance(tags, dict):
        raise exceptions.InvalidValue(f"tags is a dict of tag values, e.g. tags={{'stage': 'prod'}}, "
                                      f"not {tags!r}.")
    for i, (tag_key, value) in enumerate((tags or {}).items()):
        codec.check_key(tag_key, "tag key")
        values[f"tag_key_{i}"] = tag_key
        values[f"tag_value_{i}"] = codec.encode_value(tag_key, value, "tag")
    if status is not None:
        values["statuses"] = statuses(status)
    if limit is not None:
        values["limit"] = limit
    if offset:
        values["offset"] = offset
    dialect = dialect_of(executor)
    shape = (len(tags or {}), status is not None, limit is not None, bool(offset), ids_only, dialect)
    if node is None and all(t.key.entity == "attribute" for t in terms):
        return _cached_statement(*shape, terms), values  # latest_run's path: built and compiled once
    statement = _statement(*shape, terms)
    if node is not None:
        statement = statement.where(filter_sql.where(node, dialect))
    return statement, values


def _count(name: str, value: Any) -> int | None:
    """A limit or offset; both databases take a signed 64-bit integer, so more is refused, not clamped."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise exceptions.InvalidValue(f"{name} must be a whole number of runs from 0 to {MAX_COUNT}, "
                                      f"not {value!r}.")
    return value


def statuses(status: Any) -> list[str]:
    """`status` (one or a list, any case) as the stored upper-case names; InvalidValue for anything else."""
    given = [status] if isinstance(status, str) else status
    if not isinstance(given, (list, tuple, set, frozenset)) or not all(isinstance(s, str) for s in given):
        raise exceptions.InvalidValue(f"status is one of {', '.join(RUN_STATUSES)} or a list of them, "
                                      f"not {status!r}.")
    upper = [s.upper() for s in given]
    unknown = [s for s in upper if s not in RUN_STATUSES]
    if unknown:
        raise exceptions.InvalidValue(f"status {unknown[0]!r} is unknown; use one of {', '.join(RUN_STATUSES)}.")
    return upper


@functools.lru_cache(maxsize=128)
def _cached_statement(*shape):
    return _statement(*shape)


def _statement(tag_count: int, by_status: bool, limited: bool, offset: bool, ids_only: bool, dialect: str,
               terms: tuple[SortTerm, ...]):
    """Tags are EXISTS probes on the (run_id, key) primary key, so "newest run with this tag"
    walks the experiment's runs newest first and stops at the first match."""
    statement = select(_RUN.c.id) if ids_only else select(*_RUN_COLUMNS)
    statement = statement.where(_RUN.c.experiment_id == bindparam("experiment_id"))
    for i in range(tag_count):
        statement = statement.where(exists().where(
            Tag.run_id == Run.id, Tag.key == bindparam(f"tag_key_{i}"), Tag.value == bindparam(f"tag_value_{i}")))
    if by_status:
        statement = statement.where(_RUN.c.status.in_(bindparam("statuses", expanding=True)))
    order = filter_sql.order_by(terms, dialect)
    if all(t.key.entity == "attribute" and t.key.name in ("start_time", "id") for t in terms):
        # Never NULL: plain columns, so the (experiment_id, start_time) index serves the order.
        order = [(_RUN.c[t.key.name].desc() if t.descending else _RUN.c[t.key.name].asc()) for t in terms]
    # Ties (and runs missing every sort key) in time order, in the first term's direction.
    ties = [_RUN.c.start_time, _RUN.c.id] if terms[0].key.name != "start_time" else [_RUN.c.id]
    statement = statement.order_by(*order, *(c.desc() if terms[0].descending else c.asc() for c in ties))
    if limited:
        statement = statement.limit(bindparam("limit"))
    if offset:
        statement = statement.offset(bindparam("offset"))
    return statement


def runs_by_id(executor: Session | Connection, run_ids: list[str]) -> list[RunInfo]:
    """Full RunInfo of these runs (full ids, any experiments), in the order given; unknown ids are left out."""
    if not run_ids:
        return []
    rows = {row.id: row for row in executor.execute(select(*_RUN_COLUMNS).where(_RUN.c.id.in_(run_ids)))}
    ids = [run_id for run_id in dict.fromkeys(run_ids) if run_id in rows]
    params, tag_values = values_of(executor, Param, ids), values_of(executor, Tag, ids)
    metrics = runs.latest_metrics_of(executor, ids)
    return [_run_info(rows[i], params.get(i, {}), metrics.get(i, {}), tag_values.get(i, {})) for i in ids]


def values_of(executor, model, run_ids, parameters: dict | None = None) -> dict[str, dict[str, Any]]:
    """{run_id: {key: value}} of params or tags (`model`) of these runs (ids, or a SELECT of ids
    with its bound `parameters`), decoded, in one query."""
    pairs = executor.execute(select(model.run_id, model.key, model.value)
                             .where(model.run_id.in_(run_ids)).order_by(model.run_id, model.key),
                             parameters or {}).all()
    found: dict[str, dict[str, Any]] = {}
    for (run_id, key, _), value in zip(pairs, codec.decode_many([v for *_, v in pairs]), strict=True):
        found.setdefault(run_id, {})[key] = value
    return found


def _run_info(row, params: dict, metrics: dict, tags: dict) -> RunInfo:
    return RunInfo(
        run_id=row.id, experiment_id=str(row.experiment_id), run_name=row.name, status=row.status,
        start_time=row.start_time, end_time=row.end_time, heartbeat_at=row.heartbeat_at, host=row.host,
        pid=row.pid, git_commit=row.git_commit, git_branch=row.git_branch, git_dirty=row.git_dirty,
        error=row.error, stale=liveness.is_stale(row), params=params, metrics=metrics, tags=tags)


def latest_run_id(executor, experiment: Any, tags: dict | None, status) -> str | None:
    """Id of the newest matching run: two indexed lookups (the experiment, then its runs newest first)."""
    experiment_id = runs.experiment_id_of(executor, experiment)
    statement, values = run_statement(executor, experiment_id, limit=1, tags=tags, status=status, ids_only=True)
    return executor.execute(statement, values).scalar()


# ---------------------------------------------------------------- the 0.2.0-era shapes


def run_table(session, experiment: Any, tags: dict | None = None, status: str | list[str] | None = None,
              sort_by: str | None = None, descending: bool = False, limit: int | None = None) -> list[dict]:
    """list_runs: run dicts with params, latest metrics and tags, oldest first unless sorted.

    `sort_by`: a run column (start_time, status, run_name, ...), `param_<key>` or a metric key of
    the experiment (missing values last); anything else raises InvalidSortKey listing the choices.
    """
    experiment_id = runs.experiment_id_of(session, experiment)
    term = _sort_term(session, experiment_id, sort_by or "start_time")
    if term is None:
        return []  # an experiment with no runs has nothing to sort by, and nothing to list
    found = find_runs(session, experiment_id, order_by=[SortTerm(term, descending)], limit=limit,
                      tags=tags, status=status)
    return [run.as_dict() for run in found]


def _sort_term(session, experiment_id: int, sort_by: str) -> Key | None:
    """The sort key list_runs' `sort_by` means; None if the experiment has no runs at all.

    Built as a Key, not as text to parse: reading runs never loads the filter grammar."""
    if sort_by in RUN_ORDER_COLUMNS:
        return Key("attribute", RUN_ORDER_COLUMNS[sort_by])
    in_experiment = select(Run.id).where(Run.experiment_id == experiment_id)
    param_keys = set(session.execute(select(Param.key).distinct().where(Param.run_id.in_(in_experiment))).scalars())
    if sort_by.startswith("param_") and sort_by[6:] in param_keys:
        return Key("param", sort_by[6:])
    metric_keys = set(session.execute(
        select(Metric.key).distinct().where(Metric.run_id.in_(in_experiment))).scalars())
    if sort_by in metric_keys:
        return Key("metric", sort_by)
    if session.execute(in_experiment.limit(1)).first() is None:
        return None
    raise exceptions.InvalidSortKey(sort_by, sorted(RUN_ORDER_COLUMNS) + sorted(
        [f"param_{k}" for k in param_keys] + list(metric_keys)))


def experiment_runs(session, experiment_id: Any, sort_by: str | None = "timestamp",
                    ascending: bool = True) -> list[dict[str, Any]]:
    """0.2.0's get_experiment_runs: run meta dicts with a `timestamp`; [] for an unknown experiment."""
    try:
        found = find_runs(session, experiment_id, order_by=OLDEST_FIRST, details=False)
    except exceptions.ExperimentNotFound:
        return []
    rows = []
    for run in found:
        row = run.as_dict()
        for field in ("params", "metrics", "tags"):
            del row[field]
        rows.append(dict(row, timestamp=row["start_time"]))
    if sort_by:
        rows.sort(key=lambda r: (r.get(sort_by) is None, str(r.get(sort_by) or "")), reverse=not ascending)
    return rows


def experiment_summaries(session, sort_by: str | None = None, ascending: bool = True) -> list[dict[str, Any]]:
    """0.2.0's get_experiment_summaries: id, name, created_at, num_runs, last_run of each experiment."""
    rows = session.execute(
        select(Experiment.id, Experiment.name, Experiment.created_at, func.count(Run.id), func.max(Run.start_time))
        .outerjoin(Run, Run.experiment_id == Experiment.id)
        .group_by(Experiment.id, Experiment.name, Experiment.created_at)
        .order_by(Experiment.id)).all()
    summaries = [{"experiment_id": str(i), "name": n, "created_at": runs.iso(c), "num_runs": count,
                  "last_run": runs.iso(last)} for i, n, c, count, last in rows]
    if sort_by:
        summaries.sort(key=lambda x: _sort_key(x.get(sort_by)), reverse=not ascending)
    return summaries


def _sort_key(value):
    if isinstance(value, (int, float)):
        return (0, value, "")
    return (1, 0, str(value or ""))


# ---------------------------------------------------------------- metrics


def experiment_overview(session, metric: str | None = None, lower_is_better: bool = False) -> list[dict[str, Any]]:
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
        latest = runs.latest_metric_rows(select(Run.id), key=metric).subquery()
        for experiment_id, run_id, value in session.execute(
                select(Run.experiment_id, Run.id, latest.c.value).join(latest, latest.c.run_id == Run.id)
                .order_by(Run.id)):
            if value is None:
                continue
            current = best.get(experiment_id)
            if current is None or (value < current[0] if lower_is_better else value > current[0]):
                best[experiment_id] = (value, run_id)
    return [{"experiment_id": str(i), "name": name, "num_runs": sum(counts.get(i, {}).values()),
             "status_counts": counts.get(i, {}), "last_run": runs.iso(last.get(i)),
             "best_value": best[i][0] if i in best else None, "best_run_id": best[i][1] if i in best else None}
            for i, name in experiments]


def metric_keys(session, experiment: Any | None = None) -> list[str]:
    """The metric keys logged in an experiment (or anywhere), sorted."""
    statement = select(Metric.key).distinct().order_by(Metric.key)
    if experiment is not None:
        experiment_id = runs.experiment_id_of(session, experiment)
        statement = statement.where(Metric.run_id.in_(select(Run.id).where(Run.experiment_id == experiment_id)))
    return list(session.execute(statement).scalars())


def metric_summary(session, run_id: str) -> list[dict[str, Any]]:
    """Per metric key of a run: the latest value, its step, and how many points were logged (one query)."""
    rows = session.execute(runs.latest_metric_rows([run_id], counts=True).order_by("key")).all()
    return [{"key": k, "value": codec.metric_from_db(v), "step": s, "count": n} for _, k, v, s, n in rows]


def _history_rows(session, run_id: str, key: str):
    return session.execute(
        select(Metric.step, Metric.value, Metric.timestamp)
        .where(Metric.run_id == run_id, Metric.key == key)
        .order_by(Metric.step, Metric.id)).all()


def metric_points(session, run_id: str, key: str) -> list[MetricPoint]:
    """Every point of one metric, by step (ties: in the order logged), as MetricPoints."""
    return [MetricPoint(key, s, codec.metric_from_db(v), datetime.fromtimestamp(t, timezone.utc))
            for s, v, t in _history_rows(session, run_id, key)]


def metric_history(session, run_id: str, key: str):
    """Every point of one metric: a DataFrame of step, value, timestamp (UTC), by step."""
    import pandas as pd

    rows = _history_rows(session, run_id, key)
    frame = pd.DataFrame(
        [(s, codec.metric_from_db(v), t) for s, v, t in rows], columns=["step", "value", "timestamp"])
    frame["step"] = frame["step"].astype("int64")
    frame["value"] = frame["value"].astype("float64")
    frame["timestamp"] = pd.to_datetime(frame["timestamp"].astype("float64"), unit="s", utc=True)
    return frame
