"""Copying a live local store, all or nothing: built in a temp folder, renamed into place when verified.

A backup is itself a store: `DEST/.runelog/runelog.db` plus `DEST/.runelog/blobs/`,
opened with `get_tracker(DEST)` or `runelog --store DEST`. The database copy is
one consistent snapshot (SQLite's online backup API), taken while other
processes go on writing; the blobs copied are exactly those its rows reference
(a blob is in place before its row commits, so each is there to copy), each
re-hashed on the way. A server database (PostgreSQL) is backed up with its own
tools (pg_dump).

Nothing is written at DEST until the copy is whole: it is built in a temp
folder on the same filesystem (beside DEST, or inside DEST if that folder
already exists), checked (SQLite's quick_check, every blob re-hashed and
fsynced), and only then renamed to DEST (or DEST/.runelog). A failure, Ctrl-C
or SIGTERM removes the temp folder; one left by a killed process (its name
holds the dead pid and ends in `.partial`, and it holds no `.runelog` folder,
so it never opens as a store) is removed by the next backup to the same DEST.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import sqlite3
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import URL, func, select

from . import db, exceptions, interrupts, maintenance, sqlite_file
from .blobs import BlobStore
from .progress import Progress, Reporter
from .models import Run

PARTIAL = re.compile(r"\.runelog-backup-(\d+)-[0-9a-f]+\.partial$")


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
                 copy_blobs: bool = True, progress: Progress | None = None) -> BackupReport:
    """Copy the store at `location` into the folder `dest` (which must not hold a store yet), all or nothing."""
    source = location.sqlite_path
    if source is None:
        raise exceptions.BackupNotSupported(location.shown_url)
    folder = Path(dest).resolve()
    _refuse_inside_the_store(location, folder)
    if os.path.lexists(folder / ".runelog"):
        raise exceptions.BackupTargetExists(str(folder))
    if os.path.lexists(folder) and not folder.is_dir():
        raise exceptions.StorePathNotAFolder(str(folder), "it is a file, not a folder",
                                             "Give a new folder (or an empty one) for the backup.")
    with interrupts.sigterm_raises():  # SIGTERM ends a backup like Ctrl-C: the temp folder goes
        _remove_leftovers(folder)
        work = _make_work_folder(folder)
        return _build_and_publish(source, blobs, work, folder, copy_blobs, progress)


def _build_and_publish(source: Path, blobs: BlobStore, work: Path, folder: Path, copy_blobs: bool,
                       progress: Progress | None = None) -> BackupReport:
    """Build the copy in `work`, rename it to `folder`; on any failure or signal remove `work` and say so."""
    home = work / "store"  # becomes DEST/.runelog; not named .runelog until it is whole
    renaming = False
    try:
        report = _build(source, blobs, home, folder, copy_blobs, progress)
        renaming = True
        _publish(work, home, folder)
        return report
    except BaseException as exc:
        if renaming and _published(work, home, folder):
            raise
        removed = _remove(work)
        if isinstance(exc, exceptions.BackupTargetExists):
            raise
        if isinstance(exc, exceptions.RunelogException):
            raise exceptions.BackupFailed.of(exc, str(folder), str(work), removed) from exc
        if isinstance(exc, OSError):
            raise exceptions.BackupFailed.of(sqlite_file.from_os_error(exc, folder, "write the backup"),
                                             str(folder), str(work), removed) from exc
        if sys.version_info >= (3, 11):  # notes are new in 3.11
            exc.add_note("The backup was stopped. " + exceptions.BackupFailed.outcome(
                str(folder), str(work), removed, "Run it again to make the backup."))
        raise


def _refuse_inside_the_store(location: db.StoreLocation, folder: Path) -> None:
    """A backup inside the folder it copies would copy itself (and is lost with the store)."""
    artifact_root = location.blob_dir.parent  # .runelog itself, or the store's artifact_root
    for folder_of_store in (location.home, artifact_root):
        if folder_of_store is None:
            continue
        inside = folder_of_store.resolve()
        if folder == inside or inside in folder.parents:
            raise exceptions.BackupTargetInsideStore(str(folder), str(inside))


def _build(source: Path, blobs: BlobStore, home: Path, folder: Path, copy_blobs: bool,
           progress: Progress | None = None) -> BackupReport:
    target = home / "runelog.db"
    with sqlite_file.guard(target, "write the backup", new=True):
        home.mkdir()
        db.copy_sqlite(source, target)
    report = BackupReport(str(folder), str(folder / ".runelog" / "runelog.db"), blobs_skipped=not copy_blobs)
    engine = db.make_engine(URL.create("sqlite", database=str(target)), target)  # '?' in a path stays a path
    try:
        with db.read_session(engine) as session:
            report.runs = session.execute(select(func.count()).select_from(Run)).scalar_one()
            refs = maintenance.blob_references(session) if copy_blobs else {}
    finally:
        db.close_engine(engine, checkpoint_first=False, forget=True)
    copied = BlobStore(home / "blobs", home / "tmp")
    if refs:
        _copy_blobs(blobs, copied, refs, report, Reporter(progress, total=len(refs)))
    _check(target, copied, refs, report)
    return report


def _copy_blobs(source: BlobStore, target: BlobStore, refs: dict[str, list[str]], report: BackupReport,
                counter: Reporter) -> None:
    for digest, who in sorted(refs.items()):
        _copy_blob(source, target, digest, who, report)
        counter.advance()


def _copy_blob(source: BlobStore, target: BlobStore, digest: str, who: list[str], report: BackupReport) -> None:
    path = target.path(digest)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        source.copy_to(digest, path)  # re-hashed on the way: a corrupt blob is not copied
    except exceptions.BlobMissing:
        report.problems.append(maintenance.BlobProblem(digest, "missing", who))
        return
    except exceptions.BlobCorrupted:
        report.problems.append(maintenance.BlobProblem(digest, "corrupt", who))
        return
    except OSError as exc:
        raise sqlite_file.from_os_error(exc, path, "copy a blob into the backup") from None
    os.chmod(path, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    report.blobs += 1
    report.bytes += path.stat().st_size


def _check(target: Path, copied: BlobStore, refs: dict[str, list[str]], report: BackupReport) -> None:
    """Before the copy gets its name: the database passes quick_check, each copied blob re-hashes, all on disk."""
    with sqlite_file.guard(target, "check the backup"):
        connection = sqlite3.connect(target)
        try:
            result = connection.execute("PRAGMA quick_check").fetchall()
        finally:
            connection.close()
        if result != [("ok",)]:
            raise exceptions.StoreDamaged(str(target), f"quick_check: {result[:3]}",
                                          "The copy was not kept; run the backup again.")
        sqlite_file.fsync(target)
        bad = {p.sha256 for p in report.problems}
        for digest in refs:
            if digest not in bad:
                copied.verify(digest, "the backup")  # BlobMissing/BlobCorrupted: the copy is not kept
                sqlite_file.fsync(copied.path(digest))
        for folder in {copied.path(d).parent for d in refs if d not in bad} | {target.parent}:
            sqlite_file.fsync(folder)


# ---------------------------------------------------------------- the temp folder and the rename


def _make_work_folder(folder: Path) -> Path:
    """A new temp folder on DEST's filesystem: inside DEST if it exists (it may be a mount point), else beside it."""
    name = f".runelog-backup-{os.getpid()}-{secrets.token_hex(4)}.partial"
    inside = folder.is_dir()
    parent = folder if inside else folder.parent
    if not inside:
        name = f".{folder.name}{name}"
    try:
        parent.mkdir(parents=True, exist_ok=True)
        (parent / name).mkdir()
    except OSError as exc:
        raise sqlite_file.from_os_error(exc, parent / name, "write the backup", new=True) from None
    return parent / name


def _publish(work: Path, home: Path, folder: Path) -> None:
    """Give the whole, checked copy its name in one rename; never over anything but an empty folder."""
    try:
        if work.parent == folder:  # DEST existed: DEST/.<temp>/store -> DEST/.runelog
            os.rename(home, folder / ".runelog")
            work.rmdir()
        else:  # DEST did not exist: .<DEST>.<temp>/ (holding .runelog) -> DEST
            os.rename(home, work / ".runelog")
            os.rename(work, folder)
    except OSError:
        if os.path.lexists(folder / ".runelog"):  # another backup got there first
            raise exceptions.BackupTargetExists(str(folder)) from None
        raise
    with contextlib.suppress(OSError):
        sqlite_file.fsync(folder.parent)
        sqlite_file.fsync(folder)


def _published(work: Path, home: Path, folder: Path) -> bool:
    """The rename happened (a signal may land just after it): DEST is the whole copy, keep it."""
    return not os.path.lexists(home) and not os.path.lexists(work / ".runelog") and \
        os.path.lexists(folder / ".runelog" / "runelog.db")


def _remove(work: Path) -> bool:
    shutil.rmtree(work, ignore_errors=True)
    return not os.path.lexists(work)


def _remove_leftovers(folder: Path) -> None:
    """Temp folders of earlier backups to this DEST whose process is gone (SIGKILL, power cut)."""
    places = [(folder.parent, f".{folder.name}.runelog-backup-"), (folder, ".runelog-backup-")]
    for parent, prefix in places:
        if not parent.is_dir():
            continue
        for entry in parent.iterdir():
            match = PARTIAL.search(entry.name)
            if entry.name.startswith(prefix) and match and not _alive(int(match.group(1))):
                _remove(entry)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


