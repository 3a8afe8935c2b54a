"""Experiments and runs: creating, resolving, writing and deleting them.

Functions over a Session; every statement takes user values as bound
parameters. Run ids resolve in one place (`resolve_run_id`), experiments in
another (`resolve_experiment`).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timezone
from typing import Any, cast

from sqlalchemy import Connection, CursorResult, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from . import codec, db, exceptions, liveness
from .models import Artifact, Experiment, Metric, Param, Run, Tag, table_of
from .types import ArtifactInfo, iso

MIN_PREFIX = 6
_HEX = re.compile(r"^[0-9a-f]+$")


def new_run_id() -> str:
    return uuid.uuid4().hex


# ---------------------------------------------------------------- resolving


def resolve_run_id(session: Session, run_id: Any) -> str:
    """Full run id for a full id or a unique prefix of at least 6 characters."""
    if not isinstance(run_id, str):
        raise exceptions.InvalidRunId(str(run_id))
    candidate = run_id.strip().lower()
    if not _HEX.match(candidate) or len(candidate) > 32:
        raise exceptions.InvalidRunId(run_id)
    if session.execute(select(Run.id).where(Run.id == candidate)).first():
        return candidate
    if len(candidate) < MIN_PREFIX:
        raise exceptions.RunNotFound(run_id)
    # A range scan on the primary key: every id with this prefix sorts between the two.
    matches = session.execute(
        select(Run.id).where(Run.id >= candidate, Run.id < candidate + "g").limit(6)
    ).scalars().all()
    if not matches:
        raise exceptions.RunNotFound(run_id)
    if len(matches) > 1:
        raise exceptions.AmbiguousRunId(run_id, list(matches))
    return matches[0]


_DIGITS = re.compile(r"^[0-9]{1,10}$")  # ASCII only: '²'.isdigit() is True, but int('²') fails
MAX_EXPERIMENT_ID = 2**31 - 1  # experiments.id is a 32-bit INTEGER on PostgreSQL


def as_experiment_id(value: Any) -> int | None:
    """The id a value spells (0, 7, "7"), or None if it is no whole number an experiment can have."""
    if isinstance(value, str):
        value = int(value) if _DIGITS.match(value) else None
    elif not isinstance(value, int) or isinstance(value, bool):
        return None
    return value if value is not None and 0 <= value <= MAX_EXPERIMENT_ID else None


def check_experiment_name(name: Any) -> str:
    """`name` if it can name an experiment; empty and blank names are refused."""
    if isinstance(name, str) and not name.strip():
        raise exceptions.InvalidExperimentName(name)
    return codec.check_key(name, "experiment name")


def experiment_id_of(executor: Session | Connection, name_or_id: Any) -> int:
    """The one rule for "an experiment's name or id", used by every call that takes one.

    An exact name match wins (an experiment may be called "1"); a bare number
    that is no experiment's name is an id; an empty or blank name is refused.
    """
    key = name_or_id if isinstance(name_or_id, str) else str(name_or_id)
    if not key.strip():
        raise exceptions.InvalidExperimentName(key)
    found = None
    if isinstance(name_or_id, str):  # an int is an id; only a string can be a name
        found = executor.execute(select(Experiment.id).where(Experiment.name == key)).scalar()
    number = as_experiment_id(name_or_id)
    if found is None and number is not None:
        found = executor.execute(select(Experiment.id).where(Experiment.id == number)).scalar()
    if found is None:
        raise exceptions.ExperimentNotFound(key)
    return found


def resolve_experiment(session: Session, name_or_id: Any) -> Experiment:
    """An experiment (as an ORM object) by id or else by name."""
    experiment = session.get(Experiment, experiment_id_of(session, name_or_id))
    if experiment is None:  # deleted since its id was looked up
        raise exceptions.ExperimentNotFound(str(name_or_id))
    return experiment


def experiment_by_id(session: Session, experiment_id: Any) -> dict[str, str] | None:
    """0.2.0's get_experiment: by id only; None for anything that is no experiment's id."""
    number = as_experiment_id(experiment_id)
    found = session.get(Experiment, number) if number is not None else None
    return None if found is None else {"experiment_id": str(found.id), "name": found.name}


def experiment_id_for(session: Session | Connection, experiment_name: str | None, experiment_id: Any) -> int:
    """The experiment a new run goes into (0.2.0's rules).

    A name (even "", which is refused) wins over `experiment_id` and is created
    if needed; the default experiment "0" is created by the first run that uses it.
    """
    if experiment_name is not None:
        return get_or_create_experiment(session, experiment_name)
    if experiment_id in (None, ""):
        experiment_id = db.DEFAULT_EXPERIMENT_ID
    number = as_experiment_id(experiment_id)
    if number is None:
        raise exceptions.InvalidExperimentId(str(experiment_id))
    if number == db.DEFAULT_EXPERIMENT_ID:
        ensure_default_experiment(session)
    elif session.execute(select(Experiment.id).where(Experiment.id == number)).first() is None:
        raise exceptions.ExperimentNotFound(str(experiment_id))
    return number


def ensure_default_experiment(session: Session | Connection) -> int:
    """Create experiment 0, "default-experiment", unless it exists (as 0.2.0 did on first use)."""
    db.upsert(session, Experiment.__table__, [{
        "id": db.DEFAULT_EXPERIMENT_ID, "name": db.DEFAULT_EXPERIMENT_NAME,
        "created_at": datetime.now(timezone.utc)}], keys=["id"], update=[])
    return db.DEFAULT_EXPERIMENT_ID


def get_or_create_experiment(session: Session | Connection, name: str) -> int:
    """Id of the experiment called `name`; concurrent creators get the same one.

    New experiments are numbered from 1: id 0 is kept for "default-experiment"
    (0.2.0 gave id 0 to whichever experiment came first, so a project's first
    named experiment and the default one collided). Naming the default
    experiment gets it, created if needed, as in 0.2.0.
    """
    check_experiment_name(name)
    if name == db.DEFAULT_EXPERIMENT_NAME:
        return ensure_default_experiment(session)
    db.upsert(session, Experiment.__table__, [{"name": name, "created_at": datetime.now(timezone.utc)}],
              keys=["name"], update=[])
    return session.execute(select(Experiment.id).where(Experiment.name == name)).scalar_one()


# ---------------------------------------------------------------- writing


# Hot statements are built once: building them costs more than running them.
_INSERT_RUN = insert(table_of(Run))
_END_RUN = (update(table_of(Run)).where(Run.__table__.c.id == bindparam("run"))
            .values(status=bindparam("new_status"), end_time=bindparam("now"), heartbeat_at=bindparam("now"),
                    error=bindparam("reason")))


def create_run(executor: Session | Connection, run_id: str, experiment_id: int, **columns: Any) -> None:
    now = datetime.now(timezone.utc)
    executor.execute(_INSERT_RUN, {"id": run_id, "experiment_id": experiment_id, "status": "RUNNING",
                                   "start_time": now, "heartbeat_at": now, **columns})


def end_run(executor: Session | Connection, run_id: str, status: str, error: str | None = None) -> bool:
    """Record how a run ended; False if there is no such run (it was deleted)."""
    # Session.execute is typed as returning a plain Result; for an UPDATE it is a CursorResult.
    result = cast(CursorResult[Any], executor.execute(
        _END_RUN, {"run": run_id, "new_status": status, "now": datetime.now(timezone.utc), "reason": error}))
    return result.rowcount > 0


def write_params(session: Session | Connection, run_id: str, encoded: dict[str, str]) -> None:
    rows = [{"run_id": run_id, "key": k, "value": v} for k, v in encoded.items()]
    db.upsert(session, Param.__table__, rows, keys=["run_id", "key"], update=["value"])


def write_tags(session: Session | Connection, run_id: str, encoded: dict[str, str], replace: bool = False) -> None:
    if replace:
        session.execute(delete(Tag).where(Tag.run_id == run_id))
    rows = [{"run_id": run_id, "key": k, "value": v} for k, v in encoded.items()]
    db.upsert(session, Tag.__table__, rows, keys=["run_id", "key"], update=["value"])


def write_metrics(executor: Session | Connection, rows: list[dict]) -> None:
    """Insert metric points with one executemany (rows: run_id, key, value, step, timestamp)."""
    if rows:
        executor.execute(_INSERT_METRICS, rows)


_INSERT_METRICS = insert(table_of(Metric))


def write_artifacts(session: Session, run_id: str, artifacts: list[tuple[str, str, int]]) -> None:
    """Record (name, sha256, size) artifacts of a run in one statement; a name logged again is replaced.

    A name cannot be both a file and a folder of the same run ('x' and 'x/y'),
    or it could not be downloaded: InvalidArtifactName, and nothing is written.
    """
    check_no_clash(session, run_id, [name for name, _, _ in artifacts])
    now = datetime.now(timezone.utc)
    db.upsert(session, Artifact.__table__, [
        {"run_id": run_id, "name": name, "sha256": sha256, "size": size, "created_at": now}
        for name, sha256, size in artifacts], keys=["run_id", "name"], update=["sha256", "size", "created_at"])


def _folders(name: str) -> list[str]:
    """'a/b/c' -> ['a', 'a/b']: the folders a name sits in."""
    parts = name.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def check_no_clash(session: Session | Connection, run_id: str, names: list[str]) -> None:
    """Refuse names that are a file where another name of the run needs a folder, or the other way round."""
    new = set(names)
    for name in names:
        for folder in _folders(name):
            if folder in new:
                raise _clash(name, folder, run_id)
    if len(names) > 50:  # a big folder: one look at every name the run has
        existing = set(session.execute(select(Artifact.name).where(Artifact.run_id == run_id)).scalars())
        inside = {folder: name for name in existing for folder in _folders(name)}
        for name in names:
            clash = next((folder for folder in _folders(name) if folder in existing), None)
            if clash is not None:
                raise _clash(name, clash, run_id)
            if name in inside:
                raise _clash(inside[name], name, run_id)
        return
    folders = sorted({folder for name in names for folder in _folders(name)})
    if folders:
        taken = session.execute(_NAMED, {"run": run_id, "names": folders}).scalars().first()
        if taken is not None:
            raise _clash(next(n for n in names if taken in _folders(n)), taken, run_id)
    for name in names:
        below = artifacts_under(session, run_id, name)
        if below:
            raise _clash(below[0], name, run_id)


_ARTIFACTS = Artifact.__table__
# Built once: building a statement costs more than running it, and these run for every artifact logged.
_NAMED = (select(_ARTIFACTS.c.name)
          .where(_ARTIFACTS.c.run_id == bindparam("run"), _ARTIFACTS.c.name.in_(bindparam("names", expanding=True)))
          .order_by(_ARTIFACTS.c.name))
# SQLite compares with BINARY (bytes): the names inside 'x/' are those from 'x/' up to 'x0' ('/' + 1), on the index.
_UNDER_BY_RANGE = (select(_ARTIFACTS.c.name)
                   .where(_ARTIFACTS.c.run_id == bindparam("run"), _ARTIFACTS.c.name >= bindparam("low"),
                          _ARTIFACTS.c.name < bindparam("high"))
                   .order_by(_ARTIFACTS.c.name))
# A server collation need not sort by bytes: LIKE with its wildcards escaped is exact there.
_UNDER_BY_LIKE = (select(_ARTIFACTS.c.name)
                  .where(_ARTIFACTS.c.run_id == bindparam("run"),
                         _ARTIFACTS.c.name.like(bindparam("pattern"), escape="\\"))
                  .order_by(_ARTIFACTS.c.name))


def _clash(name: str, file_name: str, run_id: str) -> exceptions.InvalidArtifactName:
    return exceptions.InvalidArtifactName(
        name, f"run {run_id} would have both a file '{file_name}' and a folder '{file_name}/' holding "
              f"'{name}', which cannot both be downloaded; rename one of them (log_artifact(..., name=...))")


def artifacts_under(session: Session | Connection, run_id: str, folder: str) -> list[str]:
    """Names of a run's artifacts inside `folder` (a name prefix ending at a '/'), sorted."""
    prefix = folder + "/"
    bind = session.get_bind() if isinstance(session, Session) else session
    if bind.dialect.name == "sqlite":
        found = session.execute(_UNDER_BY_RANGE, {"run": run_id, "low": prefix, "high": folder + "0"})
    else:
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        found = session.execute(_UNDER_BY_LIKE, {"run": run_id, "pattern": pattern})
    return [n for n in found.scalars() if n.startswith(prefix)]


def delete_run(session: Session, run_id: str) -> None:
    session.execute(delete(Run).where(Run.id == run_id))


def delete_artifact(session: Session, run_id: str, name: str) -> None:
    artifact = artifact_row(session, run_id, name)
    session.execute(delete(Artifact).where(Artifact.id == artifact.id))


def delete_experiment(session: Session, experiment: Experiment) -> None:
    session.execute(delete(Experiment).where(Experiment.id == experiment.id))


# ---------------------------------------------------------------- reading


def run_meta(run: Run) -> dict[str, Any]:
    """The dict 0.2.0 kept in a run's meta.json, plus what runelog records now."""
    return {
        "run_id": run.id, "experiment_id": str(run.experiment_id), "run_name": run.name, "status": run.status,
        "start_time": iso(run.start_time), "end_time": iso(run.end_time), "heartbeat_at": iso(run.heartbeat_at),
        "host": run.host, "pid": run.pid, "git_commit": run.git_commit, "git_branch": run.git_branch,
        "git_dirty": run.git_dirty, "error": run.error, "stale": liveness.is_stale(run),
    }


def get_run_row(session: Session, run_id: str) -> Run:
    run = session.get(Run, run_id)
    if run is None:
        raise exceptions.RunNotFound(run_id)
    return run


def tags_of(session: Session, run_id: str) -> dict[str, Any]:
    rows = session.execute(select(Tag.key, Tag.value).where(Tag.run_id == run_id).order_by(Tag.key))
    return {key: codec.decode_value(value) for key, value in rows}


def params_of(session: Session, run_id: str) -> dict[str, Any]:
    rows = session.execute(select(Param.key, Param.value).where(Param.run_id == run_id).order_by(Param.key))
    return {key: codec.decode_value(value) for key, value in rows}


# The one rule for "the latest value of a metric": the point at the highest step; of several at that
# step, the last logged. Every reader (run pages, results frames, filters, sorting, comparisons) uses these.
LATEST_FIRST = (Metric.step.desc(), Metric.id.desc())


def latest_metric_rows(run_ids, key: str | None = None, counts: bool = False):
    """SELECT (run_id, key, value, step[, points]) of each metric's latest point, for the runs given
    (ids, or a SELECT of ids). `key`: one metric only; `counts` adds `points`, how many the metric
    has (a second window, only when asked: results frames read thousands of runs). NaN is NULL."""
    partition = (Metric.run_id, Metric.key)
    counted = [func.count().over(partition_by=partition).label("points")] if counts else []
    ranked = select(Metric.run_id, Metric.key, Metric.value, Metric.step, *counted,
                    func.row_number().over(partition_by=partition, order_by=LATEST_FIRST).label("rank")
                    ).where(Metric.run_id.in_(run_ids), *([Metric.key == key] if key is not None else [])).subquery()
    return select(*[column for column in ranked.c if column.name != "rank"]).where(ranked.c.rank == 1)


def latest_metric_value(run_id, key: str):
    """Metric `key`'s latest value of run `run_id` (a column: Run.id), as a scalar subquery: one index
    seek per run, for filters and sorting. NULL without such a metric, or for NaN: neither matches."""
    return (select(Metric.value).where(Metric.run_id == run_id, Metric.key == key)
            .order_by(*LATEST_FIRST).limit(1).scalar_subquery())


def latest_metrics_of(executor: Session | Connection, run_ids, parameters: dict | None = None) -> dict:
    """{run_id: {key: latest value}} for ids or a SELECT of ids (with its bound `parameters`), in one
    query; for one run id (a str), that run's {key: value}. NaN comes back as NaN."""
    one = isinstance(run_ids, str)
    found: dict[str, dict[str, float]] = {}
    for run_id, key, value, _ in executor.execute(latest_metric_rows([run_ids] if one else run_ids), parameters or {}):
        found.setdefault(run_id, {})[key] = codec.metric_from_db(value)
    if one:
        return dict(sorted(found.get(run_ids, {}).items()))
    return {run_id: dict(sorted(values.items())) for run_id, values in found.items()}


def artifacts_of(session: Session, run_id: str) -> list[ArtifactInfo]:
    rows = session.execute(
        select(Artifact.name, Artifact.sha256, Artifact.size, Artifact.created_at)
        .where(Artifact.run_id == run_id).order_by(Artifact.name))
    return [ArtifactInfo(run_id, n, h, s, c) for n, h, s, c in rows]


def artifact_row(session: Session, run_id: str, name: str) -> Artifact:
    found = session.execute(
        select(Artifact).where(Artifact.run_id == run_id, Artifact.name == name)).scalar_one_or_none()
    if found is None:
        raise exceptions.ArtifactNotFound(name, run_id)
    return found


def artifact_rows(session: Session, run_id: str, names: list[str]) -> list[Artifact]:
    """A run's artifacts with these names, sorted by name (one query per 500 names)."""
    found: list[Artifact] = []
    for start in range(0, len(names), 500):
        found += session.execute(select(Artifact).where(
            Artifact.run_id == run_id, Artifact.name.in_(names[start:start + 500]))).scalars().all()
    return sorted(found, key=lambda a: a.name)


def artifact_size(session: Session, run_id: str | None, name: str | None, sha256: str | None) -> int | None:
    """Size of a logged artifact, if its row still exists."""
    if run_id is None or name is None:
        return None
    return session.execute(select(Artifact.size).where(
        Artifact.run_id == run_id, Artifact.name == name, Artifact.sha256 == sha256)).scalar_one_or_none()


def environment_of(run: Run) -> dict | None:
    return json.loads(run.environment) if run.environment else None

