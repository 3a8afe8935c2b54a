"""A content-addressed blob store: bytes are named by their SHA-256.

Knows nothing of runs or SQL. The only route from a name to a path is
`path()`, which accepts nothing but a validated 64-hex digest, so no
user-supplied string can ever become part of a blob path.

Writes go to `tmp/` first and are renamed into `blobs/<2 hex>/<64 hex>`;
rename is atomic on one filesystem, so a reader sees a whole blob or none.
Reads re-hash while copying out and refuse bytes that do not match.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from .exceptions import BlobCorrupted, BlobMissing, InvalidArtifactName

CHUNK_SIZE = 1 << 20
DIGEST = re.compile(r"^[0-9a-f]{64}$")


def check_digest(digest: str) -> str:
    if not isinstance(digest, str) or not DIGEST.match(digest):
        raise InvalidArtifactName(str(digest), "a blob digest must be 64 lowercase hex characters")
    return digest


def _pump(source: BinaryIO, sink: BinaryIO | None,
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


class BlobStore:
    def __init__(self, blob_dir: str | os.PathLike, tmp_dir: str | os.PathLike):
        self.blob_dir = Path(blob_dir)
        self.tmp_dir = Path(tmp_dir)
        # Files this store has already taken in, by identity: (device, inode, size, mtime).
        self._seen: dict[tuple[int, int, int, int], str] = {}

    def path(self, digest: str) -> Path:
        check_digest(digest)
        return self.blob_dir / digest[:2] / digest

    def exists(self, digest: str) -> bool:
        return self.path(digest).is_file()

    # ------------------------------------------------------------ writing

    def put(self, source: str | os.PathLike,
            progress: Callable[[int], None] | None = None) -> tuple[str, int]:
        """Store a file's bytes; return (sha256, size). Identical bytes are stored once.

        A file this store took in before, unchanged by the look of it, is only
        re-hashed (no copy) and, if its bytes are still the blob's, not written again.
        """
        info = os.stat(source)
        identity = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)
        known = self._seen.get(identity)
        if known is not None and self.exists(known):
            with open(source, "rb") as src:
                digest, size = _pump(src, None, progress)
            if digest == known:
                with contextlib.suppress(PermissionError):  # fresh mtime, as in _move_into_place
                    os.utime(self.path(digest))
                return digest, size
        with open(source, "rb") as src, self._tmp_file() as (tmp, tmp_path):
            digest, size = _pump(src, tmp, progress)
            tmp.close()
            self._move_into_place(tmp_path, digest)
        self._seen[identity] = digest
        return digest, size

    @contextlib.contextmanager
    def new_file(self) -> Iterator[Path]:
        """A fresh path under tmp/ to write a file at and then `adopt`; removed if not adopted."""
        with self._tmp_file() as (tmp, tmp_path):
            tmp.close()
            yield tmp_path

    def adopt(self, tmp_path: Path) -> tuple[str, int]:
        """Hash a file written under tmp/ and move it into place (no copy)."""
        digest, size = hash_file(tmp_path)
        self._move_into_place(tmp_path, digest)
        return digest, size

    @contextlib.contextmanager
    def _tmp_file(self):
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.tmp_dir, prefix="blob-", suffix=".part")
        tmp_path = Path(name)
        try:
            with os.fdopen(fd, "wb") as fh:
                yield fh, tmp_path
        finally:
            # Gone if it was moved into place; removed here if anything failed.
            tmp_path.unlink(missing_ok=True)

    def _move_into_place(self, tmp_path: Path, digest: str) -> None:
        target = self.path(digest)
        if target.is_file():
            tmp_path.unlink()
            # Fresh mtime: `collect` must not take a blob that a new row is about to name.
            with contextlib.suppress(PermissionError):  # a teammate's blob in a shared folder
                os.utime(target)
            return
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
        fd, name = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.", suffix=".part")
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

    def _open(self, digest: str, context: str) -> BinaryIO:
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
                for blob in sorted(shard.iterdir()):
                    if DIGEST.match(blob.name) and blob.name[:2] == shard.name:
                        yield blob.name

    def collect(self, referenced: set[str], grace_seconds: float = 3600.0,
                dry_run: bool = False) -> CollectReport:
        """Delete blobs no row references and leftover temp files, if older than the grace period.

        The grace period protects writes in flight: a blob is renamed into place
        before the row naming it is committed. `dry_run` only reports.
        """
        cutoff = time.time() - grace_seconds
        report = CollectReport()
        for digest in list(self):
            blob = self.path(digest)
            info = blob.stat()
            if digest not in referenced and info.st_mtime < cutoff:
                report.blobs.append(digest)
                report.bytes += info.st_size
                if not dry_run:
                    blob.unlink(missing_ok=True)
        if self.tmp_dir.is_dir():
            for leftover in self.tmp_dir.glob("blob-*.part"):
                info = leftover.stat()
                if info.st_mtime < cutoff:
                    report.temp_files.append(str(leftover))
                    report.bytes += info.st_size
                    if not dry_run:
                        leftover.unlink(missing_ok=True)
        return report


@dataclass
class CollectReport:
    """What `collect` removed (or, in a dry run, would remove)."""

    blobs: list[str] = field(default_factory=list)
    temp_files: list[str] = field(default_factory=list)
    bytes: int = 0
