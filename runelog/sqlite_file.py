"""The SQLite file of a local store: what it is, making a new one, and its errors in plain words.

Looking at an existing file never changes it. Its header is read as bytes and
its schema through a read-only connection, before any pragma that writes:
switching a foreign file to WAL mode rewrites bytes 18-19 of its header.

A new store is built in a temp file beside runelog.db and linked into place
under the store's lock, so runelog.db either does not exist or holds a whole
schema. An existing file is never initialised: a zero-length or schema-less
runelog.db is refused, not taken for a new store.

SQLite's errors (a damaged page, a read-only file, a full disk) become
RunelogException subclasses that say what to do; `translate` is the one place
that decides which.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import sqlite3
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from . import exceptions

HEADER = b"SQLite format 3\x00"

# Primary SQLite result codes (https://www.sqlite.org/rescode.html) that say the store itself is the problem.
_PERM, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB = 3, 8, 10, 11, 13, 14, 26
_IOERR_SHMSIZE = _IOERR | (19 << 8)


@dataclass(frozen=True)
class FileState:
    """What an existing runelog.db holds, read without changing it."""

    revision: str | None        # the Alembic revision, None without an alembic_version table
    tables: tuple[str, ...]
    wal: bool                   # the header says WAL mode
    writable: bool              # the file and its folder can be written (False on a read-only mount)


def inspect(path: Path) -> FileState | None:
    """The state of the store file at `path`, None if there is none; raises for anything not a readable store."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise from_os_error(exc, path, "open") from None
    if stat.S_ISDIR(info.st_mode):
        raise exceptions.StoreUnreadable(
            str(path), "it is a folder, not a file",
            "Move that folder away (runelog keeps its database in the file .runelog/runelog.db).")
    if info.st_size == 0:
        raise exceptions.StoreEmpty(str(path), _empty_advice(path))
    try:
        with open(path, "rb") as fh:
            header = fh.read(100)
    except OSError as exc:
        raise from_os_error(exc, path, "read") from None
    if header[:16] != HEADER:
        raise exceptions.StoreUnreadable(str(path), "it is not a SQLite database", restore_advice(path))
    if info.st_size < 512:
        raise exceptions.StoreUnreadable(str(path), "the file is truncated", restore_advice(path))
    wal = header[18:20] == b"\x02\x02"
    writable = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
    try:
        connection = sqlite3.connect(read_uri(path, writable, wal), uri=True, timeout=60)
        try:
            tables = tuple(name for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"))
            revision = None
            if "alembic_version" in tables:
                row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
                revision = row[0] if row else None
        finally:
            connection.close()
    except sqlite3.Error as exc:
        raise (translate(exc, path) or exceptions.StoreUnreadable(str(path), str(exc), restore_advice(path))) \
            from None
    return FileState(revision, tables, wal, writable)


def read_uri(path: Path, writable: bool, wal: bool) -> str:
    """A URI that opens `path` read-only.

    In a folder that cannot be written, SQLite cannot make the -shm file a WAL
    reader needs; with no -wal file there is nothing beyond the main file to
    read, so the file is opened as immutable (no locks, no -shm). A -wal file
    there holds changes that cannot be read without writing: refused.
    """
    uri = f"file:{quote(str(path))}?mode=ro"
    if wal and not writable and not os.access(path.parent, os.W_OK):
        wal_file = path.with_name(path.name + "-wal")
        if wal_file.exists() and wal_file.stat().st_size > 0:
            raise exceptions.StoreNotWritable(
                str(path), "its newest changes are in runelog.db-wal, and SQLite cannot read them "
                           "without writing runelog.db-shm in this read-only folder")
        uri += "&immutable=1"
    return uri


def reader_uri(path: Path) -> str:
    """A read-only URI for a runelog.db known to be a SQLite file, wherever it lies (see read_uri)."""
    with open(path, "rb") as fh:
        wal = fh.read(20)[18:20] == b"\x02\x02"
    writable = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
    return read_uri(path, writable, wal)


def engine_uri(path: Path, state: FileState, read_only: bool = False) -> str:
    """The SQLite URI runelog's engine opens `path` with: read-write, or read-only where nothing can be
    written or nothing should be (`read_only`: a reading tracker never checkpoints or removes the WAL files).

    mode=rw: an engine never creates a file, even if runelog.db is deleted while the process runs.
    """
    if state.writable and not read_only:
        return f"file:{quote(str(path))}?mode=rw"
    return read_uri(path, state.writable, state.wal)


# ---------------------------------------------------------------- making a new store


def lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` (created if missing, and left there), released when the block ends.

    filelock's FileLock: flock on POSIX, LockFileEx on Windows; the kernel drops it
    if the holder dies, so a killed process never leaves a store locked.
    """
    from filelock import FileLock

    with FileLock(path):
        yield


def create(path: Path, build: Callable[[Path], None]) -> bool:
    """Make the store file at `path` with `build(temp_path)`, unless a file is there; True if this call made it.

    `build` writes a whole store into the temp file and closes every connection
    to it. The file is then linked to `path`, which never replaces anything, so
    other processes see no runelog.db or a finished one. Processes opening a new
    store at the same moment queue on the lock; the first one builds it.
    """
    with guard(path, "create the store", new=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        with file_lock(lock_path(path)):
            if os.path.lexists(path):
                return False
            for stale in path.parent.glob(f".{path.name}.*.new*"):  # a builder that died holding the lock
                stale.unlink(missing_ok=True)
            temp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.new")
            try:
                build(temp)
                made = _link(temp, path)
            finally:
                for leftover in (temp, temp.with_name(temp.name + "-wal"), temp.with_name(temp.name + "-shm")):
                    leftover.unlink(missing_ok=True)
            _sync_folder(path.parent)
            return made


def _link(temp: Path, path: Path) -> bool:
    try:
        os.link(temp, path)  # fails if anything is at `path`: nothing is ever replaced
        return True
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
    # A filesystem without hard links: rename, which is atomic but would replace; checked just before.
    if os.path.lexists(path):
        return False
    os.rename(temp, path)
    return True


def fsync(path: Path) -> None:
    """Flush a file's bytes, or a folder's entries (a new name), to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_folder(folder: Path) -> None:
    # The new name must survive a power cut as the file's contents do.
    with contextlib.suppress(OSError):
        fsync(folder)


# ---------------------------------------------------------------- errors in plain words


def translate(exc: BaseException, path: Path | str, new: bool = False) -> exceptions.RunelogException | None:
    """The RunelogException for a sqlite3 error that says the store is damaged, read-only or full; else None."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return None
    primary, detail, path = code & 0xFF, str(exc), Path(path)
    if primary in (_CORRUPT, _NOTADB):
        return exceptions.StoreDamaged(str(path), detail, _damaged_advice(path))
    if primary in (_READONLY, _PERM):
        return exceptions.StoreNotWritable(str(path), _read_only_reason(path, detail))
    if primary == _FULL:
        return exceptions.StoreDiskFull(str(path), detail, new=new)
    if code == _IOERR_SHMSIZE:  # no room to grow runelog.db-shm: in practice a full disk
        return exceptions.StoreDiskFull(str(path), "no room for runelog.db-shm, which SQLite needs to read it",
                                        new=new)
    if primary == _IOERR:
        return exceptions.StoreIOError(str(path), f"{detail}, {getattr(exc, 'sqlite_errorname', '')}")
    if primary == _CANTOPEN:
        if path.is_dir():
            return exceptions.StoreUnreadable(str(path), "it is a folder, not a file")
        if not os.access(path.parent, os.W_OK):
            return exceptions.StoreNotWritable(str(path), _read_only_reason(path, detail))
        return exceptions.StoreUnreadable(str(path), f"SQLite cannot open it ({detail})",
                                          "Check that the folder exists and that you may read it.")
    return None


def from_os_error(exc: OSError, path: Path | str, action: str, new: bool = False) -> exceptions.RunelogException:
    """The RunelogException for an OSError met while opening or making the store at `path`."""
    if isinstance(exc, exceptions.RunelogException):  # already ours (StorageError and kin are OSErrors too)
        return exc
    path = Path(path)
    if exc.errno == errno.EROFS:
        return exceptions.StoreNotWritable(str(path), f"could not {action}: the filesystem is read-only")
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return exceptions.StoreDiskFull(str(path), f"could not {action}: {exc.strerror}", new=new)
    if exc.errno in (errno.EACCES, errno.EPERM):
        return exceptions.InsufficientPermissions(str(exc.filename or path), action)
    if exc.errno == errno.EISDIR:
        return exceptions.StoreUnreadable(str(path), "it is a folder, not a file")
    if exc.errno == errno.ENOTDIR:
        return exceptions.StorePathNotAFolder(str(path), f"a part of its path is a file, not a folder ({exc.filename})",
                                              "Point runelog at another folder.")
    return exceptions.StorageError(action, str(path), exc)


@contextlib.contextmanager
def guard(path: Path, action: str, new: bool = False) -> Iterator[None]:
    """Turn the OSErrors and SQLite errors of a block into RunelogExceptions naming `path`."""
    try:
        yield
    except exceptions.StoreDiskFull as exc:
        if new and not exc.new:  # raised inside by an engine that did not know the store was new
            raise exceptions.StoreDiskFull(str(path), exc.detail, new=True) from None
        raise
    except OSError as exc:
        raise from_os_error(exc, path, action, new) from None
    except sqlite3.Error as exc:
        mapped = translate(exc, path, new)
        if mapped is None:
            raise
        raise mapped from None
    except Exception as exc:  # SQLAlchemy's wrapper around a sqlite3 error
        orig = getattr(exc, "orig", None)
        mapped = translate(orig, path, new) if orig is not None else None
        if mapped is None:
            raise
        raise mapped from None


def _read_only_reason(path: Path, detail: str) -> str:
    folder = path.parent
    if not os.access(folder, os.W_OK):
        try:
            read_only_fs = bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
        except (OSError, AttributeError):  # AttributeError: no statvfs (Windows)
            read_only_fs = False
        return "it is on a read-only filesystem" if read_only_fs else f"its folder {folder} is read-only"
    if path.exists() and not os.access(path, os.W_OK):
        return "the file is read-only"
    return f"SQLite refused to write ({detail})"


# ---------------------------------------------------------------- advice that is true


def backups(path: Path) -> list[Path]:
    """The copies runelog made before schema upgrades, newest first."""
    folder = Path(path).parent / "backups"
    try:
        return sorted(folder.glob("*.db"), key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return []


def restore_advice(path: Path) -> str:
    """Restore from .runelog/backups/ only when a copy is there; otherwise say what else to do."""
    found = backups(path)
    if found:
        return (f"Restore it from a copy: the newest of {len(found)} taken before schema upgrades is "
                f"{found[0]}; a copy made with `runelog backup` may be newer.")
    return "Restore it from a copy (one made with `runelog backup`) if you have one, or point runelog at another folder."


def _empty_advice(path: Path) -> str:
    wal = path.with_name(path.name + "-wal")
    extra = ""
    if wal.exists() and wal.stat().st_size > 0:
        extra = f" {wal.name} beside it is not empty: keep it, it may hold the runs."
    return ("If it was created by mistake, delete it and runelog will make a new store; if runs should be in it, "
            + lower_first(restore_advice(path)) + extra)


def lower_first(sentence: str) -> str:
    """A sentence of advice, to follow a semicolon."""
    return sentence[:1].lower() + sentence[1:]


def _damaged_advice(path: Path) -> str:
    return (f"Save what can be read with `sqlite3 {path} .recover > recovered.sql`. "
            + restore_advice(path))
