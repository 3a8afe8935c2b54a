"""The SQL of an import: experiments, runs and what they recorded, inputs, model versions.

Each function runs inside the caller's transaction, so a run or version is written whole or not at all;
what is already in the store is found here too, so that a second import adds nothing.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.orm import Session

from .. import codec, datasets, db, runs
from ..models import (Artifact, DatasetFingerprint, Experiment, InputLink, Metric, ModelVersion, Param,
                      RegisteredModel, Run, Tag)
from .reading import LegacyExperiment, LegacyRun, LegacyVersion
from .report import IMPORTED, SKIPPED, ImportReport
from .run_files import RunFiles
from .source import modified_at

ID_BATCH = 500  # ids per IN (...) query, well under every database's bound-parameter limit


# ---------------------------------------------------------------- experiments


def experiment_named(session: Session, name: str) -> int | None:
    return session.execute(select(Experiment.id).where(Experiment.name == name)).scalar_one_or_none()


def id_is_free(session: Session, experiment_id: int) -> bool:
    return session.execute(select(Experiment.id).where(Experiment.id == experiment_id)).first() is None


def create_experiment(session: Session, experiment: LegacyExperiment, keep_id: bool) -> int:
    row = {"name": experiment.name, "created_at": experiment.created_at}
    if keep_id:
        row["id"] = experiment.wanted_id
    db.upsert(session, Experiment.__table__, [row], keys=["name"], update=[])
    if keep_id and session.get_bind().dialect.name == "postgresql":
        # An explicit id does not move PostgreSQL's sequence; move it past the ids taken.
        # (false: the next id is max + 1; max may be 0, the default experiment, which setval(.., 0) refuses.)
        session.execute(text("SELECT setval(pg_get_serial_sequence('experiments', 'id'), "
                             "(SELECT max(id) FROM experiments) + 1, false)"))
    return session.execute(select(Experiment.id).where(Experiment.name == experiment.name)).scalar_one()


def place_experiment(session: Session, experiment: LegacyExperiment, report: ImportReport,
                     dry_run: bool) -> None:
    """Map an experiment onto one here by name, else create it, keeping its 0.2.0 id if free."""
    existing = experiment_named(session, experiment.name)
    if existing is not None:
        experiment.target_id = existing
        moved = "" if existing == experiment.wanted_id else f" (id {existing} here)"
        report.add(SKIPPED, "experiment", experiment.name, experiment.folder, f"already in the store{moved}")
        return
    # Id 0 belongs to default-experiment, even before its first run creates it.
    reserved = experiment.wanted_id == db.DEFAULT_EXPERIMENT_ID and experiment.name != db.DEFAULT_EXPERIMENT_NAME
    keep_id = experiment.wanted_id is not None and not reserved and id_is_free(session, experiment.wanted_id)
    if not dry_run:
        experiment.target_id = create_experiment(session, experiment, keep_id)
    for finding in experiment.findings:
        report.add(*finding)
    if keep_id or experiment.wanted_id is None:
        report.add(IMPORTED, "experiment", experiment.name, experiment.folder)
        return
    where = "" if experiment.target_id is None else f" {experiment.target_id}"
    why = (f"is kept for {db.DEFAULT_EXPERIMENT_NAME} here" if reserved
           else "is taken here by another experiment")
    report.add(IMPORTED, "experiment", experiment.name, experiment.folder,
               f"id {experiment.wanted_id} {why}; given the next free id{where}")


# ---------------------------------------------------------------- runs


def run_states(session: Session, run_ids: list[str]) -> dict[str, tuple[int, str]]:
    """{run id: (experiment id, status)} of those of `run_ids` already in the store."""
    found = {}
    for start in range(0, len(run_ids), ID_BATCH):
        batch = run_ids[start:start + ID_BATCH]
        for run_id, experiment_id, status in session.execute(
                select(Run.id, Run.experiment_id, Run.status).where(Run.id.in_(batch))):
            found[run_id] = (experiment_id, status)
    return found


def decide_run(existing: tuple[int, str] | None, run: LegacyRun) -> str:
    """new; same (already here); clash (another run has its id); or refresh: imported while
    RUNNING in 0.2.0 (and still RUNNING here, or KILLED by `reap_runs`), and ended since."""
    if existing is None:
        return "new"
    experiment_id, status = existing
    if experiment_id != run.experiment.target_id:
        return "clash"
    if status != run.status and status in ("RUNNING", "KILLED") and run.status != "RUNNING":
        return "refresh"
    return "same"


def clear_run(session: Session, run_id: str) -> None:
    """Drop what a run recorded (not the run row, which models and links may point at)."""
    for table in (Param, Tag, Metric, Artifact, DatasetFingerprint, InputLink):
        session.execute(delete(table).where(table.run_id == run_id))


def existing_ids(session: Session, run_ids: set[str]) -> set[str]:
    return set(run_states(session, sorted(run_ids)))


def write_run(session: Session, run: LegacyRun, files: RunFiles, artifacts: list[dict[str, Any]],
              refresh: bool) -> list[str]:
    """Insert (or, for a refresh, rewrite) a run and everything it recorded; returns notes."""
    columns = {"experiment_id": run.experiment.target_id, "status": run.status, "start_time": run.start_time,
               "end_time": run.end_time, "heartbeat_at": run.logged_at, "environment": files.environment,
               "error": None, "git_commit": None, "git_branch": None, "git_dirty": None, **files.git}
    if refresh:
        clear_run(session, run.run_id)
        session.execute(update(Run).where(Run.id == run.run_id).values(**columns))
    else:
        db.upsert(session, Run.__table__, [{"id": run.run_id, **columns}], keys=["id"], update=[])
    rid = run.run_id
    runs.write_params(session, rid, files.params)  # the run has no params or tags yet: nothing to overwrite
    runs.write_tags(session, rid, files.tags)
    stamp = run.logged_at.timestamp()  # 0.2.0 kept one value per metric: it becomes the point at step 0
    runs.write_metrics(session, [{"run_id": rid, "key": k, "value": v, "step": 0, "timestamp": stamp}
                                 for k, v in files.metrics.items()])
    db.upsert(session, Artifact.__table__, [{"run_id": rid, **a} for a in artifacts],
              keys=["run_id", "name"], update=[])
    for name, kind, found in files.datasets:
        datasets.record(session, rid, name, kind, found)
    return write_inputs(session, run, files.inputs)


def write_inputs(session: Session, run: LegacyRun, links: list[dict[str, Any]]) -> list[str]:
    notes = []
    present = existing_ids(session, {link["source"] for link in links})
    linked_at = modified_at(run.folder / "lineage.json") if links else None
    for link in links:
        source = link["source"] if link["source"] in present else None
        if source is None:
            notes.append(missing_source(link))
        session.execute(insert(InputLink).values(
            run_id=run.run_id, name=link["name"], source_run_id=source, artifact_name=link["artifact_name"],
            sha256=link["sha256"], created_at=linked_at))
    return notes


def missing_source(link: dict[str, Any]) -> str:
    return (f"input '{link['name']}' names run {link['source']}, which is not in the store; "
            "the link is kept with its artifact name and hash but no source run")


# ---------------------------------------------------------------- model versions


def version_state(session: Session, version: LegacyVersion) -> str:
    """new; same (imported before: same source run, or same registration time); or clash."""
    row = session.execute(
        select(ModelVersion.run_id, ModelVersion.created_at)
        .join(RegisteredModel, RegisteredModel.id == ModelVersion.model_id)
        .where(RegisteredModel.name == version.model_name, ModelVersion.version == version.version)).first()
    if row is None:
        return "new"
    run_id, created_at = row
    if (run_id is not None and run_id == version.source_run_id) or created_at == version.registered_at:
        return "same"
    return "clash"


def model_artifact(session: Session, run_id: str, version: LegacyVersion, digest: str, size: int) -> str:
    """The source run's artifact with these bytes; one is added to the run if it has none."""
    found = session.execute(select(Artifact.name).where(Artifact.run_id == run_id, Artifact.sha256 == digest)
                            .order_by(Artifact.name).limit(1)).scalar_one_or_none()
    if found is not None:
        return found
    taken = session.execute(select(Artifact.id).where(Artifact.run_id == run_id,
                                                      Artifact.name == "model.joblib")).first()
    name = "model.joblib"
    if taken:
        name = codec.check_artifact_name(f"registry/{version.model_name}/{version.version}/model.joblib")
    db.upsert(session, Artifact.__table__, [{"run_id": run_id, "name": name, "sha256": digest, "size": size,
                                             "created_at": version.registered_at}],
              keys=["run_id", "name"], update=[])
    return name


def write_version(session: Session, version: LegacyVersion, digest: str, size: int) -> str | None:
    """Register the version with its 0.2.0 number, time and tags; returns its source run if it is here."""
    db.upsert(session, RegisteredModel.__table__, [{"name": version.model_name, "created_at": version.registered_at}],
              keys=["name"], update=[])
    model_id = session.execute(
        select(RegisteredModel.id).where(RegisteredModel.name == version.model_name)).scalar_one()
    run_id = version.source_run_id
    if run_id is not None and not existing_ids(session, {run_id}):
        run_id = None
    artifact = model_artifact(session, run_id, version, digest, size) if run_id else "model.joblib"
    db.upsert(session, ModelVersion.__table__, [{
        "model_id": model_id, "version": version.version, "run_id": run_id, "artifact_name": artifact,
        "sha256": digest, "tags": json.dumps(version.tags), "created_at": version.registered_at}],
        keys=["model_id", "version"], update=[])
    return run_id
