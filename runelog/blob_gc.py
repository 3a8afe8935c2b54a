"""Garbage collection of a blob store: blobs no row references, and writers' abandoned scratch files.

Only what is older than the grace period is looked at, but the grace period is
not the safety. Each candidate is checked again by the caller's `guard`, which
holds the lock writers place blobs under while it names the candidates still
unreferenced, and the unlink happens before it lets go. A scratch folder a
live process holds (flock) is never taken.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ContextManager

from .progress import Progress, Reporter

if TYPE_CHECKING:
    from .blobs import BlobStore

SCRATCH_PREFIX = "w-"  # tmp/w-*: a writer's scratch folder, locked while in use
LEGACY_TEMP = "blob-*.part"  # loose temp files of earlier versions
DELETE_BATCH = 256  # candidates re-checked and unlinked per guarded step

# guard(candidates) -> a context manager yielding those still unreferenced, held while they are unlinked
Guard = Callable[[list[str]], ContextManager[set[str]]]


@dataclass
class CollectReport:
    """What `collect` removed (or, in a dry run, would remove)."""

    blobs: list[str] = field(default_factory=list)
    temp_files: list[str] = field(default_factory=list)
    bytes: int = 0


def collect(store: BlobStore, referenced: set[str], grace_seconds: float = 3600.0,
            dry_run: bool = False, guard: Guard | None = None, progress: Progress | None = None) -> CollectReport:
    """Delete blobs no row references and abandoned temp files, if older than the grace period.

    `referenced` is a snapshot, so it is not the safety: each candidate is
    checked again by `guard`, which holds the lock writers place blobs under
    while it says which candidates are still unreferenced, and the unlink
    happens before it lets go. Files that vanish meanwhile are skipped. A
    scratch folder a live process holds is never taken. `dry_run` only reports.
    `progress(done, total)` counts candidate blobs.
    """
    cutoff = time.time() - grace_seconds
    report = CollectReport()
    candidates = []
    for digest in list(store):
        if digest not in referenced:
            info = _stat(store.path(digest))
            if info is not None and info.st_mtime < cutoff:
                candidates.append((digest, info.st_size))
    counter = Reporter(progress, total=len(candidates))
    for start in range(0, len(candidates), DELETE_BATCH):
        chunk = candidates[start:start + DELETE_BATCH]
        if dry_run:
            for digest, size in chunk:
                report.blobs.append(digest)
                report.bytes += size
        else:
            with (guard or _unguarded)([digest for digest, _ in chunk]) as free:
                for digest, _ in chunk:
                    if digest in free:
                        removed = _unlink_if_older(store.path(digest), cutoff)
                        if removed is not None:
                            report.blobs.append(digest)
                            report.bytes += removed
        counter.advance(len(chunk))
    _collect_temp(store, cutoff, dry_run, report)
    return report


def _collect_temp(store: BlobStore, cutoff: float, dry_run: bool, report: CollectReport) -> None:
    if not store.tmp_dir.is_dir():
        return
    for folder in sorted(store.tmp_dir.glob(SCRATCH_PREFIX + "*")):
        info = _stat(folder)
        if info is None or info.st_mtime >= cutoff or not stat.S_ISDIR(info.st_mode):
            continue
        with _try_lock(folder) as locked:
            if locked:  # nobody is using it: a crashed writer's leftovers
                sizes = [_stat(f) for f in folder.rglob("*")]
                report.temp_files.append(str(folder))
                report.bytes += sum(info.st_size for info in sizes if info is not None)
                if not dry_run:
                    shutil.rmtree(folder, ignore_errors=True)
    for leftover in sorted(store.tmp_dir.glob(LEGACY_TEMP)):
        info = _stat(leftover)
        if info is not None and info.st_mtime < cutoff:
            report.temp_files.append(str(leftover))
            report.bytes += info.st_size
            if not dry_run:
                leftover.unlink(missing_ok=True)

def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except FileNotFoundError:
        return None

def _unlink_if_older(path: Path, cutoff: float) -> int | None:
    """Unlink `path` if it is still older than `cutoff` (a writer refreshes what it reuses); its size."""
    info = _stat(path)
    if info is None or info.st_mtime >= cutoff:
        return None
    try:
        path.unlink()
    except FileNotFoundError:
        return None
    return info.st_size


@contextlib.contextmanager
def _unguarded(candidates: list[str]) -> Iterator[set[str]]:
    yield set(candidates)


@contextlib.contextmanager
def _try_lock(folder: Path) -> Iterator[bool]:
    """Hold `folder`'s flock if nobody else does (True), else yield False at once."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except FileNotFoundError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)
