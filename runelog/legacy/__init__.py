"""Importing a runelog 0.2.0 store (`.mlruns/` and `.registry/`) into this one.

runelog 0.2.0 kept everything as files under the folder given to its
`get_tracker(path)`:

    .mlruns/<experiment id>/meta.json             {"experiment_id", "name"}
    .mlruns/<experiment id>/<run id>/meta.json    run_id, experiment_id, status, start_time, end_time, tags
        params/<key>.json, metrics/<key>.json     {"value": ...} (a metric's last value only)
        artifacts/...                             the logged files
        source_control.json, environment.json     git state; python, platform and packages
        data_meta.json, dvc_inputs.json           one dataset fingerprint, one DVC input
        lineage.json                              [{name, run_id, experiment_id, artifact_name, artifact_hash_sha256}]
    .registry/<model>/<version>/model.joblib, meta.json

`import_store` brings experiments in first, then runs oldest first (so the
run a lineage link names is in before the link), then model versions. Each
run and each version is one transaction, and its blobs are placed inside
that transaction, under gc's lock. What is already in the store is skipped,
decided by run id and by model name and version, so a second import adds
nothing and a grown store brings only its new runs. A file that cannot be used becomes a failed item
naming its path; the rest goes on. The source is only ever opened for reading,
and nothing outside it is read: every symlink is reported and skipped.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from .. import exceptions
from ..blobs import Batch, BlobStore, Pending
from ..maintenance import hold_blobs
from .reading import LegacyExperiment, LegacyRun, LegacyVersion, scan_experiments, scan_registry, scan_runs
from .report import FAILED, IMPORTED, NOTE, SKIPPED, ImportItem, ImportReport
from .run_files import RunFiles, read_run_files
from .source import MLRUNS, REGISTRY, Unusable, find_store, legacy_time, open_regular
from .writing import (decide_run, missing_source, place_experiment, run_states, version_state, write_run,
                      write_version)

__all__ = ["FAILED", "IMPORTED", "NOTE", "SKIPPED", "ImportItem", "ImportReport", "Progress", "SessionScope",
           "find_store", "import_store", "legacy_time"]

Progress = Callable[[int, int], None]

SessionScope = Callable[[], contextlib.AbstractContextManager[Session]]

# Errors that concern one experiment, run or version: it fails and the import goes on.
# Anything else (a locked or full database, say) stops the import.
_ITEM_ERRORS = (Unusable, OSError, IntegrityError, DataError, exceptions.RunelogException, ValueError, TypeError)


@dataclass
class _Import:
    """One import: the blob store, session scopes, the report, and the run ids in the store so far."""

    blobs: BlobStore
    write: SessionScope
    read: SessionScope
    report: ImportReport
    in_store: set[str] = field(default_factory=set)  # in a dry run: here, or would be

    @property
    def dry_run(self) -> bool:
        return self.report.dry_run


def import_store(root: str | os.PathLike, blobs: BlobStore, write: SessionScope, read: SessionScope,
                 dry_run: bool = False, progress: Progress | None = None) -> ImportReport:
    """Import the 0.2.0 store at `root`, with one `write()` transaction per experiment, run and version.

    `progress(done, total)` is called before the first run and after each run
    and model version. A dry run reads everything and writes nothing.
    """
    source = find_store(root)
    job = _Import(blobs, write, read, ImportReport(str(source), dry_run))
    experiments = [e for e in scan_experiments(source / MLRUNS, job.report) if place(job, e)]
    legacy_runs = scan_runs(experiments, job.report)
    versions = scan_registry(source / REGISTRY, job.report)
    with read() as session:
        states = run_states(session, [run.run_id for run in legacy_runs])
    job.in_store.update(states)
    units: list[LegacyRun | LegacyVersion] = [*legacy_runs, *versions]
    for done, unit in enumerate(units):
        if progress is not None:
            progress(done, len(units))
        if isinstance(unit, LegacyRun):
            import_run(job, unit, states.get(unit.run_id))
        else:
            import_version(job, unit)
    if progress is not None:
        progress(len(units), len(units))
    return job.report


def place(job: _Import, experiment: LegacyExperiment) -> bool:
    """Find or create the experiment here; False (reported) if that fails."""
    try:
        with (job.read() if job.dry_run else job.write()) as session:
            place_experiment(session, experiment, job.report, job.dry_run)
    except _ITEM_ERRORS as exc:
        job.report.add(FAILED, "experiment", experiment.name, experiment.folder,
                       f"{_reason(exc)}; the experiment and its runs were not imported")
        return False
    return True


def import_run(job: _Import, run: LegacyRun, existing: tuple[int, str] | None) -> None:
    state = decide_run(existing, run)
    if state in ("new", "refresh"):
        try:
            state, files, notes = _bring_run(job, run, state)
        except _ITEM_ERRORS as exc:
            job.report.add(FAILED, "run", run.run_id, run.folder, f"{_reason(exc)}; the run was not imported")
            return
    if _already_there(job, state, "run", run.run_id, run.folder,
                      f"a run with id {run.run_id} is already in the store, in another experiment; not imported"):
        return
    job.in_store.add(run.run_id)
    for finding in run.findings:
        job.report.add(*finding)
    for kind, name, path, message in files.problems:
        job.report.add(FAILED, kind, name, path, message)
    for note in notes:
        job.report.add(NOTE, "input", run.run_id, run.folder / "lineage.json", note)
    if run.status == "RUNNING":
        job.report.add(NOTE, "run", run.run_id, run.meta_path,
                       "still RUNNING in 0.2.0 (a live run, or one whose process died); "
                       "an import after it has ended brings it again")
    job.report.add(IMPORTED, "run", run.run_id, run.folder,
                   "updated: it was RUNNING at the last import" if state == "refresh" else "")


def _bring_run(job: _Import, run: LegacyRun, state: str) -> tuple[str, RunFiles, list[str]]:
    """Read a run's files, stage its blobs, then write it with them: (state, files, notes)."""
    files = read_run_files(run)
    with job.blobs.batch() as batch:
        artifacts = stage_artifacts(batch, files, job.dry_run)
        if job.dry_run:
            missing = [link for link in files.inputs if link["source"] not in job.in_store]
            return state, files, [missing_source(link) for link in missing]
        with job.write() as session:
            hold_blobs(session)  # the blobs are placed and their rows committed under gc's lock
            # Decided again under the write lock: another import may have brought it meanwhile.
            state = decide_run(run_states(session, [run.run_id]).get(run.run_id), run)
            if state not in ("new", "refresh"):
                return state, files, []
            batch.place()
            rows = [{**row, "sha256": blob.digest, "size": blob.size} for row, blob in artifacts]
            notes = write_run(session, run, files, rows, refresh=state == "refresh")
    return state, files, notes


def stage_artifacts(batch: Batch, files: RunFiles, dry_run: bool) -> list[tuple[dict[str, Any], Pending]]:
    """Hash and copy each artifact's bytes into the batch, opened without following symlinks.

    A file that cannot be read is a problem, and the run goes on without it. A
    dry run only checks that each file opens.
    """
    staged = []
    for name, path in files.artifacts:
        try:
            with open_regular(path) as fh:
                if dry_run:
                    continue
                blob = batch.add_open(fh)
                created_at = datetime.fromtimestamp(os.fstat(fh.fileno()).st_mtime, timezone.utc)
            staged.append(({"name": name, "created_at": created_at}, blob))
        except Unusable as exc:
            files.problem("artifact", name, path, exc.reason)
        except OSError as exc:
            files.problem("artifact", name, path, f"cannot read it ({exc.strerror or exc}); not imported")
    return staged


def import_version(job: _Import, version: LegacyVersion) -> None:
    try:
        with job.read() as session:
            state = version_state(session, version)
        source = version.source_run_id if version.source_run_id in job.in_store else None
        if state == "new" and job.dry_run:
            open_regular(version.model_file).close()
        elif state == "new":
            with job.blobs.batch() as batch:
                with open_regular(version.model_file) as fh:
                    blob = batch.add_open(fh)
                with job.write() as session:
                    hold_blobs(session)
                    state = version_state(session, version)
                    if state == "new":
                        batch.place()
                        source = write_version(session, version, blob.digest, blob.size)
    except _ITEM_ERRORS as exc:
        path = exc.path if isinstance(exc, Unusable) else version.model_file if isinstance(exc, OSError) \
            else version.folder
        job.report.add(FAILED, "model version", version.label, path, f"{_reason(exc)}; the version was not imported")
        return
    if _already_there(job, state, "model version", version.label, version.folder,
                      f"version {version.version} of model '{version.model_name}' is already in the store, "
                      "registered from another run; not imported"):
        return
    for finding in version.findings:
        job.report.add(*finding)
    if version.source_run_id is not None and source is None:
        job.report.add(NOTE, "model version", version.label, version.folder,
                       f"its source run {version.source_run_id} is not in the store; imported without it")
    job.report.add(IMPORTED, "model version", version.label, version.folder)


def _already_there(job: _Import, state: str, kind: str, name: str, folder: Path, clash: str) -> bool:
    """Report a run or version the store already has (skipped) or that clashes with one (failed); True if so."""
    if state == "same":
        job.report.add(SKIPPED, kind, name, folder, "already in the store")
    elif state == "clash":
        job.report.add(FAILED, kind, name, folder, clash)
    return state in ("same", "clash")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, Unusable):
        return f"{exc.path}: {exc.reason}"
    if isinstance(exc, OSError):
        return f"cannot read it ({exc.strerror or exc})"
    if isinstance(exc, (IntegrityError, DataError)):
        return f"the database refused it ({exc.orig})"
    return str(exc)

