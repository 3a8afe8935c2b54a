"""Store housekeeping: verifying every blob against its name, and collecting garbage.

Also the one lock that keeps writers and gc apart (`hold_blobs`). A writer
places its blobs and commits the rows naming them in one transaction holding
it; gc re-checks each candidate and unlinks it in a transaction holding it
exclusively. So gc can never unlink a blob between a writer's check that the
blob is there and the commit of the row that references it. On SQLite the
lock is the database's write lock (write transactions BEGIN IMMEDIATE); on
PostgreSQL a transaction-level advisory lock, shared by writers and taken
exclusively by gc.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import Connection, select, text, union
from sqlalchemy.orm import Session

from . import exceptions
from .blobs import BlobStore, CollectReport
from .progress import Progress, Reporter
from .models import Artifact, ModelVersion, RegisteredModel

BLOB_LOCK_KEY = 0x72756E656C6F67  # "runelog": the advisory lock id on PostgreSQL

SessionScope = Callable[[], contextlib.AbstractContextManager[Session]]


@dataclass
class BlobProblem:
    sha256: str
    problem: str  # "missing" or "corrupt"
    references: list[str] = field(default_factory=list)  # "run <id>: <artifact>" / "model <name> v<n>"


@dataclass
class VerifyReport:
    checked: int = 0
    problems: list[BlobProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def blob_references(session: Session, run_id: str | None = None) -> dict[str, list[str]]:
    """Every blob rows point at, with who points at it (one run's, or all)."""
    refs: dict[str, list[str]] = {}
    artifacts = select(Artifact.sha256, Artifact.run_id, Artifact.name).order_by(Artifact.run_id, Artifact.name)
    versions = (select(ModelVersion.sha256, RegisteredModel.name, ModelVersion.version)
                .join(RegisteredModel, RegisteredModel.id == ModelVersion.model_id)
                .order_by(RegisteredModel.name, ModelVersion.version))
    if run_id is not None:
        artifacts = artifacts.where(Artifact.run_id == run_id)
        versions = versions.where(ModelVersion.run_id == run_id)
    for digest, run, name in session.execute(artifacts):
        refs.setdefault(digest, []).append(f"run {run}: {name}")
    for digest, model, version in session.execute(versions):
        refs.setdefault(digest, []).append(f"model {model} v{version}")
    return refs


def verify(blobs: BlobStore, refs: dict[str, list[str]],
           progress: Progress | None = None) -> VerifyReport:
    """Re-hash each referenced blob once; report the missing and the corrupt with their referrers.

    `progress(done, total)` counts blobs."""
    report = VerifyReport()
    counter = Reporter(progress, total=len(refs))
    for digest, who in sorted(refs.items()):
        try:
            blobs.verify(digest)
        except exceptions.BlobMissing:
            report.problems.append(BlobProblem(digest, "missing", who))
        except exceptions.BlobCorrupted:
            report.problems.append(BlobProblem(digest, "corrupt", who))
        report.checked += 1
        counter.advance()
    return report


# ---------------------------------------------------------------- writers and gc, kept apart


def hold_blobs(executor: Session | Connection, exclusive: bool = False) -> None:
    """Take the blob lock for the rest of this write transaction (see the module docstring).

    Call it first in the transaction, before placing blobs (writers) or unlinking them (gc).
    """
    connection = executor.connection() if isinstance(executor, Session) else executor
    # On SQLite, having the connection means the transaction began IMMEDIATE: the write lock is held.
    if connection.dialect.name == "postgresql":
        function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        connection.execute(text(f"SELECT {function}(:key)"), {"key": BLOB_LOCK_KEY})


def referenced_among(executor: Session | Connection, digests: list[str]) -> set[str]:
    """Those of `digests` that an artifact or a model version names now."""
    if not digests:
        return set()
    query = union(select(Artifact.sha256).where(Artifact.sha256.in_(digests)),
                  select(ModelVersion.sha256).where(ModelVersion.sha256.in_(digests)))
    return set(executor.execute(query).scalars())


def collect(blobs: BlobStore, write: SessionScope, read: SessionScope, grace_seconds: float = 3600.0,
            dry_run: bool = False, progress: Progress | None = None) -> CollectReport:
    """Delete unreferenced blobs older than the grace period; safe with any grace, even 0.

    The references read first only choose candidates; each batch of them is
    checked again, and unlinked, inside one write transaction holding the blob
    lock exclusively.
    """
    with read() as session:
        referenced = set(blob_references(session))
    return blobs.collect(referenced, grace_seconds, dry_run, guard=guard(write), progress=progress)


def guard(write: SessionScope) -> Callable[[list[str]], contextlib.AbstractContextManager[set[str]]]:
    """gc's guard: hold the blob lock exclusively and say which candidates no row names now."""

    @contextlib.contextmanager
    def still_unreferenced(candidates: list[str]) -> Iterator[set[str]]:
        with write() as session:
            hold_blobs(session, exclusive=True)
            yield set(candidates) - referenced_among(session, candidates)

    return still_unreferenced
