"""Copying a live local store: the database by SQLite's online backup API, then the blobs it names.

A backup is itself a store: `DEST/.runelog/runelog.db` plus `DEST/.runelog/blobs/`,
opened with `get_tracker(DEST)` or `runelog --store DEST`. The database copy is
one consistent snapshot, taken while other processes go on writing; the blobs
copied are exactly those its rows reference (a blob is in place before its row
commits, so each is there to copy), each re-hashed on the way. A server
database (PostgreSQL) is backed up with its own tools (pg_dump).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, make_url, select

from . import db, exceptions, maintenance, sqlite_file
from .blobs import BlobStore
from .models import Run


@dataclass
class BackupReport:
    """What a backup wrote: where, how many runs, which blobs (and any it could not copy)."""

    store: str                 # the backup's folder: open it with get_tracker(store)
    database: str              # its runelog.db
    runs: int = 0
    blobs: int = 0             # blobs copied (0 with blobs=False)
    bytes: int = 0             # bytes of blobs copied
    blobs_skipped: bool = False
    problems: list[maintenance.BlobProblem] = field(default_factory=list)  # missing or corrupt in the source

    @property
    def ok(self) -> bool:
        return not self.problems


def backup_store(location: db.StoreLocation, blobs: BlobStore, dest: str | os.PathLike,
                 copy_blobs: bool = True) -> BackupReport:
    """Copy the store at `location` into the folder `dest` (which must not hold a store yet)."""
    source = location.sqlite_path
    if source is None:
        raise exceptions.BackupNotSupported(make_url(location.database_url).render_as_string(hide_password=True))
    folder = Path(dest).resolve()
    target = folder / ".runelog" / "runelog.db"
    if os.path.lexists(target):
        raise exceptions.BackupTargetExists(str(folder))
    if not sqlite_file.create(target, lambda temp: _copy_database(source, temp, target)):
        raise exceptions.BackupTargetExists(str(folder))
    report = BackupReport(str(folder), str(target), blobs_skipped=not copy_blobs)
    engine = db.make_engine(f"sqlite:///{target}", target)
    try:
        with db.read_session(engine) as session:
            report.runs = session.execute(select(func.count()).select_from(Run)).scalar_one()
            refs = maintenance.blob_references(session) if copy_blobs else {}
    finally:
        db.close_engine(engine, checkpoint_first=False, forget=True)
    if refs:
        _copy_blobs(blobs, BlobStore(target.parent / "blobs", target.parent / "tmp"), refs, report)
    return report


def _copy_database(source: Path, temp: Path, target: Path) -> None:
    with sqlite_file.guard(target, "write the backup", new=True):
        db.copy_sqlite(source, temp)


def _copy_blobs(source: BlobStore, target: BlobStore, refs: dict[str, list[str]], report: BackupReport) -> None:
    for digest, who in sorted(refs.items()):
        path = target.path(digest)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            source.copy_to(digest, path)  # re-hashed on the way: a corrupt blob is not copied
        except exceptions.BlobMissing:
            report.problems.append(maintenance.BlobProblem(digest, "missing", who))
            continue
        except exceptions.BlobCorrupted:
            report.problems.append(maintenance.BlobProblem(digest, "corrupt", who))
            continue
        except OSError as exc:
            raise sqlite_file.from_os_error(exc, path, "copy a blob into the backup") from None
        os.chmod(path, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        report.blobs += 1
        report.bytes += path.stat().st_size
