"""A content-addressed blob store: bytes are named by their SHA-256.

Knows nothing of runs or SQL. The only route from a name to a path is
`path()`, which accepts nothing but a validated 64-hex digest, so no
user-supplied string can ever become part of a blob path.

Writes go to a private scratch folder under `tmp/` first and are renamed into
`blobs/<2 hex>/<64 hex>`; rename is atomic on one filesystem, so a reader sees
a whole blob or none. Reads re-hash while copying out and refuse bytes that do
not match.

Garbage collection (`collect`, in blob_gc) and writers are kept apart in two ways. Each process
stages bytes in a scratch folder of its own, locked (flock) while the process
lives, so `collect` never removes bytes in flight, whatever the grace period. And a `Batch` renames its blobs into place
only in `place()`, which the caller runs inside the transaction that commits
the rows naming them, while holding the lock `collect`'s `guard` takes before
it unlinks: a blob is either collected before a writer places it (and then
placed again) or referenced by a committed row when `collect` looks again.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import os
import re
import shutil
import stat
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from .blob_gc import SCRATCH_PREFIX, CollectReport, Guard, collect
from .exceptions import BlobCorrupted, BlobMissing, InvalidArtifactName
from .progress import Progress

CHUNK_SIZE = 1 << 20
DIGEST = re.compile(r"^[0-9a-f]{64}$")


def check_digest(digest: str) -> str:
    if not isinstance(digest, str) or not DIGEST.match(digest):
        raise InvalidArtifactName(str(digest), "a blob digest must be 64 lowercase hex characters")
    return digest


def _pump(source: io.BufferedIOBase, sink: BinaryIO | None,
          progress: Callable[[int], None] | None = None) -> tuple[str, int]:
    """The one streaming loop: hash `source` (copying into `sink` if given), reporting bytes done."""
    sha = hashlib.sha256()
    size = 0
    buffer = bytearray(CHUNK_SIZE)
    view = memoryview(buffer)
    while True:
        n = source.readinto(buffer)
        if not n:
            break
        chunk = view[:n]
        sha.update(chunk)
        if sink is not None:
            sink.write(chunk)
        if progress is not None:
            progress(n)
        size += n
    return sha.hexdigest(), size


def hash_file(path: str | os.PathLike) -> tuple[str, int]:
    """SHA-256 and size of a file, read in chunks (never whole into memory)."""
    with open(path, "rb") as fh:
        return _pump(fh, None)


@dataclass
class Pending:
    """Bytes hashed and waiting to be placed in the store."""

    digest: str
    size: int
    file: Path | None  # the copy in the scratch folder; None when the store already had these bytes
    source: Path | None = None  # the original, copied again if the store's copy vanished meanwhile
    identity: tuple[int, int, int, int] | None = None


class Batch:
    """Blobs staged in one locked scratch folder, placed together by `place()`.

    Stage everything first (`add`, `add_open`, `new_file` + `adopt`): reading
    fails before anything is placed or recorded. Then, inside the transaction
    that commits the rows and holding the store's blob lock, `place()`.
    """

    def __init__(self, store: BlobStore):
        self.store = store
        self.pending: list[Pending] = []
        self.files: list[Path] = []  # every scratch file made for this batch, removed at its end

    def _scratch_path(self, stem: str = "blob") -> Path:
        # The process's scratch folder, made on first need (re-logging known bytes needs none).
        fd, name = tempfile.mkstemp(dir=self.store._scratch(), prefix=f"{stem}-", suffix=".part")
        os.close(fd)
        self.files.append(Path(name))
        return Path(name)

    def discard(self) -> None:
        """Remove what was staged and not placed."""
        for path in self.files:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def add(self, source: str | os.PathLike, progress: Callable[[int], None] | None = None) -> Pending:
        """Hash and copy a file into the scratch folder. A file the store took in before,
        unchanged by the look of it, is only re-hashed (no copy)."""
        source = Path(source)
        with open(source, "rb") as src:
            info = os.fstat(src.fileno())
            identity = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)
            known = self.store._seen.get(identity)
            if known is not None and self.store.exists(known):
                digest, size = _pump(src, None, progress)
                if digest == known:
                    return self._pend(Pending(digest, size, None, source, identity))
                src.seek(0)
            return self._pend(self._copy(src, progress, source, identity))

    def add_open(self, src: io.BufferedIOBase, progress: Callable[[int], None] | None = None) -> Pending:
        """Hash and copy an already opened file (the caller decided how it may be opened)."""
        return self._pend(self._copy(src, progress, None, None))

    def new_file(self) -> Path:
        """A fresh path in the scratch folder to write a file at, then `adopt`."""
        return self._scratch_path("new")

    def adopt(self, path: Path) -> Pending:
        """Hash a file written at a `new_file()` path; it is placed without a copy."""
        digest, size = hash_file(path)
        return self._pend(Pending(digest, size, Path(path)))

    def _pend(self, pending: Pending) -> Pending:
        self.pending.append(pending)
        return pending

    def _copy(self, src: io.BufferedIOBase, progress, source: Path | None, identity) -> Pending:
        path = self._scratch_path()
        with open(path, "wb") as sink:
            digest, size = _pump(src, sink, progress)
        return Pending(digest, size, path, source, identity)

    def place(self) -> None:
        """Move every staged blob into place, or confirm the store still has it.

        Run it while holding the lock that `collect`'s guard takes, inside the
        transaction that commits the rows: then no collection can come between
        the check here and the commit. A blob that vanished since it was hashed
        is copied again from its source (its digest is updated if the source changed).
        """
        for pending in self.pending:
            if pending.file is not None:
                self.store._move_into_place(pending.file, pending.digest)
                pending.file = None
            elif not self.store._refresh(pending.digest):
                if pending.source is None:
                    raise BlobMissing(pending.digest, "it vanished while being stored")
                with open(pending.source, "rb") as src:
                    again = self._copy(src, None, pending.source, None)
                assert again.file is not None  # _copy always stages into a scratch file
                self.store._move_into_place(again.file, again.digest)
                pending.digest, pending.size = again.digest, again.size
            if pending.identity is not None:
                self.store._seen[pending.identity] = pending.digest


class BlobStore:
    def __init__(self, blob_dir: str | os.PathLike, tmp_dir: str | os.PathLike):
        self.blob_dir = Path(blob_dir)
        self.tmp_dir = Path(tmp_dir)
        # Files this store has already taken in, by identity: (device, inode, size, mtime).
        self._seen: dict[tuple[int, int, int, int], str] = {}
        self._scratch_guard = threading.Lock()
        self._scratch_state: tuple[Path | None, int, int] = (None, -1, 0)  # (folder, locked fd, pid)
        self._release: Callable[[], Any] = lambda: None

    def path(self, digest: str) -> Path:
        check_digest(digest)
        return self.blob_dir / digest[:2] / digest

    def exists(self, digest: str) -> bool:
        return self.path(digest).is_file()

    # ------------------------------------------------------------ writing

    @contextlib.contextmanager
    def batch(self) -> Iterator[Batch]:
        """A `Batch` in this process's locked scratch folder; what was not placed is removed at the end."""
        batch = Batch(self)
        try:
            yield batch
        finally:
            batch.discard()

    def put(self, source: str | os.PathLike,
            progress: Callable[[int], None] | None = None) -> tuple[str, int]:
        """Store a file's bytes at once; return (sha256, size). Identical bytes are stored once.

        No row is committed with it here: a caller that records the blob should
        use `batch()` and place it inside the committing transaction.
        """
        with self.batch() as batch:
            pending = batch.add(source, progress)
            batch.place()
        return pending.digest, pending.size

    @contextlib.contextmanager
    def new_file(self) -> Iterator[Path]:
        """A fresh path in a locked scratch folder to write at (and `adopt`); removed if not adopted."""
        with self.batch() as batch:
            yield batch.new_file()

    def adopt(self, tmp_path: Path) -> tuple[str, int]:
        """Hash a file written at a `new_file()` path and move it into place (no copy)."""
        digest, size = hash_file(tmp_path)
        self._move_into_place(Path(tmp_path), digest)
        return digest, size

    def _scratch(self) -> Path:
        """This process's scratch folder under tmp/, made once and flock-ed while the process lives,
        so `collect` never takes bytes in flight; once the process is gone it is collectable."""
        with self._scratch_guard:
            folder, fd, pid = self._scratch_state
            if folder is not None and pid == os.getpid():
                try:
                    if os.stat(folder).st_ino == os.fstat(fd).st_ino:
                        return folder
                except FileNotFoundError:
                    pass  # removed by hand: make another
            if folder is not None and pid == os.getpid():
                self._release()
            self.tmp_dir.mkdir(parents=True, exist_ok=True)
            while True:
                folder = Path(tempfile.mkdtemp(dir=self.tmp_dir, prefix=SCRATCH_PREFIX))
                try:
                    fd = os.open(folder, os.O_RDONLY)
                except FileNotFoundError:  # taken by `collect` before we could lock it
                    continue
                fcntl.flock(fd, fcntl.LOCK_EX)
                # `collect` may have taken the folder between mkdtemp and flock: then make another.
                try:
                    if os.stat(folder).st_ino == os.fstat(fd).st_ino:
                        break
                except FileNotFoundError:
                    pass
                os.close(fd)
            self._scratch_state = (folder, fd, os.getpid())
            # Removed when this store is closed, garbage-collected or the interpreter exits.
            self._release = weakref.finalize(self, _release_scratch, folder, fd, os.getpid())
            return folder

    def close(self) -> None:
        """Remove this process's scratch folder (gc would, once the process is gone)."""
        with self._scratch_guard:
            self._release()
            self._scratch_state = (None, -1, 0)

    def _refresh(self, digest: str) -> bool:
        """True if the blob is there, with a fresh mtime so the grace period counts from now."""
        target = self.path(digest)
        try:
            os.utime(target)
        except PermissionError:  # a teammate's blob in a shared folder
            return target.is_file()
        except FileNotFoundError:
            return False
        return True

    def _move_into_place(self, tmp_path: Path, digest: str) -> None:
        if self._refresh(digest):
            tmp_path.unlink()
            return
        target = self.path(digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(tmp_path, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        # Same filesystem (tmp/ sits beside blobs/), so this rename is atomic; if
        # another process stored the same bytes meanwhile, replacing is harmless.
        os.replace(tmp_path, target)

    # ------------------------------------------------------------ reading

    def copy_to(self, digest: str, destination: str | os.PathLike, context: str = "",
                progress: Callable[[int], None] | None = None) -> Path:
        """Copy a blob to `destination`, verifying its hash on the way.

        The bytes land in a temp file beside the destination and are renamed
        into place only if they hash to `digest`; nothing bad is handed over.
        """
        destination = Path(destination)
        source = self._open(digest, context)
        fd, name = tempfile.mkstemp(dir=destination.parent, prefix=".runelog-", suffix=".part")
        tmp_path = Path(name)
        try:
            with source, os.fdopen(fd, "wb") as sink:
                actual, _ = _pump(source, sink, progress)
            if actual != digest:
                raise BlobCorrupted(digest, actual, context)
            os.replace(tmp_path, destination)
        finally:
            tmp_path.unlink(missing_ok=True)
        return destination

    def verify(self, digest: str, context: str = "") -> None:
        """Raise BlobMissing or BlobCorrupted unless the blob's bytes hash to its name."""
        with self._open(digest, context) as fh:
            actual, _ = _pump(fh, None)
        if actual != digest:
            raise BlobCorrupted(digest, actual, context)

    def _open(self, digest: str, context: str) -> io.BufferedReader:
        try:
            return open(self.path(digest), "rb")
        except FileNotFoundError:
            raise BlobMissing(digest, context) from None

    # ------------------------------------------------------------ housekeeping

    def __iter__(self) -> Iterator[str]:
        if not self.blob_dir.is_dir():
            return
        for shard in sorted(self.blob_dir.iterdir()):
            if shard.is_dir() and len(shard.name) == 2:
                with contextlib.suppress(FileNotFoundError):
                    for blob in sorted(shard.iterdir()):
                        if DIGEST.match(blob.name) and blob.name[:2] == shard.name:
                            yield blob.name

    def collect(self, referenced: set[str], grace_seconds: float = 3600.0,
                dry_run: bool = False, guard: Guard | None = None, progress: Progress | None = None) -> CollectReport:
        """Delete blobs no row references and abandoned temp files older than the grace period (blob_gc)."""
        return collect(self, referenced, grace_seconds, dry_run, guard, progress)


def _release_scratch(folder: Path, fd: int, pid: int) -> None:
    if os.getpid() == pid:  # a forked child leaves its parent's folder alone
        shutil.rmtree(folder, ignore_errors=True)
        with contextlib.suppress(OSError):
            os.close(fd)  # releases the lock, after the folder is gone
