"""The store as a whole: backup, garbage collection, verification, stale runs, imports."""

from __future__ import annotations

import os
from collections.abc import Collection
from typing import Any

from .. import liveness, maintenance, runs
from ..blobs import CollectReport
from ..progress import Progress
from .base import StoreHandle


class StoreAPI(StoreHandle):
    def backup(self, dest: str | os.PathLike, blobs: bool = True, progress: Progress | None = None):
        """Copy this store, safely while other processes write to it, into the new folder `dest`.

        The copy is a store of its own: `dest/.runelog/runelog.db` (one consistent
        snapshot, by SQLite's online backup API) and, unless `blobs=False`, the blobs
        its rows reference, re-hashed on the way. Open it with get_tracker(dest).
        All or nothing: built in a temp folder and renamed to `dest` once whole and
        checked; on a failure (BackupFailed, BackupDiskFull) or Ctrl-C the partial
        copy is removed. Raises BackupTargetExists if `dest` holds a store,
        BackupTargetInsideStore if it lies inside this store's folder or artifact
        root, and BackupNotSupported on PostgreSQL (use pg_dump).
        Returns a `runelog.backup.BackupReport`.

            report = tracker.backup("/mnt/backups/runelog-2026-06-01")
            print(report.runs, report.blobs, report.problems)
        """
        from .. import backup

        self.flush()
        return backup.backup_store(self.location, self._blobs, dest, copy_blobs=blobs, progress=progress)

    def sql(self, statement: str, params: dict[str, Any] | None = None) -> tuple[list[str], list[tuple]]:
        """Run one reading SQL statement on the store; return (column names, rows).

        Anything but one read is refused (SqlNotAllowed) before it runs, and the
        database itself is opened read-only. `:name` marks a parameter bound from `params`:

            columns, rows = tracker.sql("SELECT count(*) AS n FROM runs WHERE status = :s", {"s": "FINISHED"})
        """
        from .. import sql

        self.flush()
        return sql.run_readonly(self.location, statement, params)

    def gc(self, grace_seconds: float = 3600.0, dry_run: bool = False,
           progress: Progress | None = None) -> CollectReport:
        """Delete blobs no artifact or model version references, and abandoned temp files,
        once older than the grace period. Safe with any grace, even 0: each blob is checked
        again under the lock writers commit under, just before it is unlinked.
        `progress(done, total)` counts candidate blobs."""
        return maintenance.collect(self._blobs, self._write, self._read, grace_seconds, dry_run, progress)

    def reap_runs(self, stale_after: float = liveness.STALE_AFTER_SECONDS, dry_run: bool = False,
                  run_ids: Collection[str] | None = None) -> list[str]:
        """Mark KILLED the RUNNING runs whose process is gone from this host, or whose
        heartbeat is older than `stale_after` seconds; return their ids (`dry_run`: only list them).
        `run_ids`: look at these runs only (a sweep reaps its own dead worker's run, nothing else)."""
        with self._write() as s:
            exclude = {self.active_run_id} if self.active_run_id else set()
            return liveness.reap(s, stale_after, exclude=exclude, dry_run=dry_run, only=run_ids)

    def verify(self, run_id: str | None = None,
               progress: Progress | None = None) -> maintenance.VerifyReport:
        """Re-hash every blob rows point at (or one run's); report missing and corrupt ones."""
        with self._read() as s:
            refs = maintenance.blob_references(s, None if run_id is None else runs.resolve_run_id(s, run_id))
        report = maintenance.verify(self._blobs, refs, progress)
        if any(p.problem == "missing" for p in report.problems):
            # A row deleted (and its blob collected) while verify ran is no problem: ask again.
            with self._read() as s:
                named = maintenance.referenced_among(s, [p.sha256 for p in report.problems])
            report.problems = [p for p in report.problems if p.problem != "missing" or p.sha256 in named]
        return report

    def import_legacy(self, root: str | os.PathLike, dry_run: bool = False,
                      progress: Progress | None = None):
        """Bring a runelog 0.2.0 store (`root/.mlruns`, `root/.registry`) into this one.

        Experiments, runs, params, metrics, tags, artifacts, git and environment
        records, dataset fingerprints, DVC inputs, lineage links and registered
        models come in; the source is only read. What is already here is
        skipped, so running it again imports only runs that are new. A file that
        cannot be used is reported with its path and the rest goes on
        (`report.ok` is False). `dry_run` reports what would be imported;
        `progress(done, total)` is called as runs and model versions are done.
        Returns a `runelog.legacy.ImportReport`.

            report = tracker.import_legacy("path/to/old/project")
            print(report.imported, report.skipped, report.failed)
        """
        from .. import legacy

        return legacy.import_store(root, self._blobs, self._write, self._read, dry_run, progress)
