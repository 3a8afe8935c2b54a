"""Lineage as data: input links from a run to the runs (and exact bytes) it consumed."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, aliased

from . import codec, runs
from .models import InputLink, Run


def record_input(session: Session, run_id: str, name: str, source_run_id: str,
                 artifact_name: str | None = None) -> str | None:
    """Link `run_id` to the run it consumed; with an artifact, pin that artifact's SHA-256."""
    codec.check_key(name, "input name")
    sha256 = None
    if artifact_name is not None:
        codec.check_artifact_name(artifact_name)
        sha256 = runs.artifact_row(session, source_run_id, artifact_name).sha256
    session.execute(insert(InputLink).values(
        run_id=run_id, name=name, source_run_id=source_run_id, artifact_name=artifact_name,
        sha256=sha256, created_at=datetime.now(timezone.utc)))
    return sha256


def inputs_of(session: Session, run_id: str) -> list[dict[str, Any]]:
    """0.2.0's lineage.json entries: name, run_id, experiment_id, artifact_name, artifact_hash_sha256."""
    source = aliased(Run)
    rows = session.execute(
        select(InputLink.name, InputLink.source_run_id, source.experiment_id,
               InputLink.artifact_name, InputLink.sha256)
        .outerjoin(source, source.id == InputLink.source_run_id)
        .where(InputLink.run_id == run_id).order_by(InputLink.id)).all()
    return [{"name": n, "run_id": r, "experiment_id": None if e is None else str(e),
             "artifact_name": a, "artifact_hash_sha256": h} for n, r, e, a, h in rows]
