"""Store housekeeping: verifying every blob against its name, and collecting garbage."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import exceptions
from .blobs import BlobStore
from .models import Artifact, ModelVersion, RegisteredModel


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
           on_blob: Callable[[str], None] | None = None) -> VerifyReport:
    """Re-hash each referenced blob once; report the missing and the corrupt with their referrers."""
    report = VerifyReport()
    for digest, who in sorted(refs.items()):
        try:
            blobs.verify(digest)
        except exceptions.BlobMissing:
            report.problems.append(BlobProblem(digest, "missing", who))
        except exceptions.BlobCorrupted:
            report.problems.append(BlobProblem(digest, "corrupt", who))
        report.checked += 1
        if on_blob is not None:
            on_blob(digest)
    return report
