"""Lineage as data: input links from a run to the runs (and exact bytes) it consumed."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import CompoundSelect, Select, case, func, insert, literal, select, union, union_all
from sqlalchemy.orm import Session, aliased

from . import codec, exceptions, registry, runs
from .models import Artifact, DatasetFingerprint, Experiment, InputLink, ModelVersion, Run
from .types import ByteUse, LineageEdge, ModelVersionInfo


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


# ---------------------------------------------------------------- multi-hop queries

MAX_DEPTH = 1000  # a guard for "no limit": deeper than any real pipeline


def _walk(start_ids, direction: str, depth: int | None):
    """A recursive CTE over input_links from `start_ids`, one row per (link, path).

    Upstream follows run_id -> source_run_id, downstream the reverse. The path of
    visited runs (",a,b,c,") detects cycles: the edge that closes one is listed,
    but the walk does not go round again. `depth` bounds the number of hops.
    """
    if direction not in ("upstream", "downstream"):
        raise exceptions.InvalidValue(f"direction must be 'upstream' or 'downstream', not {direction!r}.")
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth):
        raise exceptions.InvalidValue(f"depth must be a whole number of hops, at least 1, not {depth!r}.")
    limit = MAX_DEPTH if depth is None else min(depth, MAX_DEPTH)  # deeper than MAX_DEPTH: no limit
    link = InputLink.__table__
    here, there = ((link.c.run_id, link.c.source_run_id) if direction == "upstream"
                   else (link.c.source_run_id, link.c.run_id))
    marker = literal(",") + func.coalesce(there, "") + literal(",")
    seed = select(
        link.c.id.label("link_id"), there.label("node"), here.label("via"), literal(1).label("depth"),
        (literal(",") + here + marker).label("path"),
        case((here == there, 1), else_=0).label("closed"),
    ).where(here.in_(start_ids))
    walk = seed.cte("walk", recursive=True)
    step = select(
        link.c.id, there, here, walk.c.depth + 1, walk.c.path + func.coalesce(there, "") + literal(","),
        case((walk.c.path.contains(marker), 1), else_=0),
    ).join(walk, here == walk.c.node).where(walk.c.depth < limit, walk.c.closed == 0)
    return walk.union_all(step)


def edges(session: Session, run_id: str, direction: str = "upstream",
          depth: int | None = None) -> list[LineageEdge]:
    """Every run reachable from `run_id` through input links, nearest first.

    Each edge: `run_id` is the run reached, `via_run_id` the run it was reached
    from, with the input's name, the artifact and its SHA-256, and the number
    of hops. In a diamond each edge is listed once, at its shortest depth.
    """
    walk = _walk([run_id], direction, depth)
    shortest = select(walk.c.link_id, walk.c.node, walk.c.via, func.min(walk.c.depth).label("depth")) \
        .group_by(walk.c.link_id, walk.c.node, walk.c.via).subquery()
    node = aliased(Run)
    rows = session.execute(
        select(shortest.c.depth, shortest.c.node, shortest.c.via, Experiment.name, node.name, node.status,
               InputLink.name, InputLink.artifact_name, InputLink.sha256)
        .join(InputLink, InputLink.id == shortest.c.link_id)
        .outerjoin(node, node.id == shortest.c.node)
        .outerjoin(Experiment, Experiment.id == node.experiment_id)
        .order_by(shortest.c.depth, InputLink.id)).all()
    return [LineageEdge(depth=d, run_id=n, via_run_id=v, experiment=e, run_name=rn, status=st,
                        input_name=i, artifact_name=a, sha256=h) for d, n, v, e, rn, st, i, a, h in rows]


def byte_uses(session: Session, sha256: str) -> list[ByteUse]:
    """Every run that logged, fingerprinted or consumed exactly these bytes, oldest run first."""
    uses = union_all(
        select(Artifact.run_id, literal("artifact").label("how"), Artifact.name).where(Artifact.sha256 == sha256),
        select(DatasetFingerprint.run_id, literal("dataset").label("how"), DatasetFingerprint.name)
        .where(DatasetFingerprint.sha256 == sha256),
        select(InputLink.run_id, literal("input").label("how"), InputLink.name).where(InputLink.sha256 == sha256),
    ).subquery()
    rows = session.execute(
        select(uses.c.run_id, Experiment.name, Run.status, Run.start_time, uses.c.how, uses.c.name)
        .join(Run, Run.id == uses.c.run_id).join(Experiment, Experiment.id == Run.experiment_id)
        .order_by(Run.start_time, uses.c.how, uses.c.name)).all()
    return [ByteUse(run_id=r, experiment=e, status=s, start_time=t, how=h, name=n) for r, e, s, t, h, n in rows]


def model_versions_from(session: Session, run_id: str | None = None,
                        sha256: str | None = None) -> list[ModelVersionInfo]:
    """Model versions whose source run descends from a run, or used a file's exact bytes.

    For a run: versions registered from any run downstream of it. For a SHA-256:
    versions registered from a run that consumed or fingerprinted those bytes, or
    from any run downstream of one. Sorted by model name, then version.
    """
    if (run_id is None) == (sha256 is None):
        raise exceptions.InvalidValue("Give exactly one of run_id or sha256.")
    reached: Select | CompoundSelect
    if run_id is not None:
        reached = select(_walk([run_id], "downstream", None).c.node)
    else:
        seeds = union(
            select(InputLink.run_id).where(InputLink.sha256 == sha256),
            select(DatasetFingerprint.run_id).where(DatasetFingerprint.sha256 == sha256),
        ).cte("seeds")
        seed_ids = select(seeds.c.run_id)
        reached = union(select(_walk(seed_ids, "downstream", None).c.node), seed_ids)
    rows = session.execute(select(ModelVersion).where(ModelVersion.run_id.in_(reached))).scalars().all()
    return sorted(registry.infos(session, list(rows)), key=lambda v: (v.model_name, v.version))


def input_link(session: Session, run_id: str, name: str) -> InputLink:
    found = session.execute(select(InputLink).where(InputLink.run_id == run_id, InputLink.name == name)
                            .order_by(InputLink.id.desc()).limit(1)).scalar_one_or_none()
    if found is None:
        raise exceptions.InputNotFound(name, run_id)
    return found
