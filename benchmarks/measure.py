"""Measuring helpers shared by every engine: timers, disk usage, peak RSS, test files.

Standard library only, so that importing it costs a measured process nothing.
"""

from __future__ import annotations

import contextlib
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

# Set by the runner for `--profile`: the timed regions of a child are profiled into this file.
PROFILE_ENV = "RUNELOG_BENCH_PROFILE"
_profiler = None


class Timer:
    seconds: float = 0.0


def _profiler_if_asked():
    global _profiler
    if _profiler is None and os.environ.get(PROFILE_ENV):
        import cProfile

        _profiler = cProfile.Profile()
    return _profiler


@contextlib.contextmanager
def timer() -> Iterator[Timer]:
    """Wall time of the block; under --profile only these blocks are profiled, not the setup."""
    result = Timer()
    profiler = _profiler_if_asked()
    start = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    try:
        yield result
    finally:
        if profiler is not None:
            profiler.disable()
        result.seconds = time.perf_counter() - start


def dump_profile() -> None:
    if _profiler is not None:
        _profiler.dump_stats(os.environ[PROFILE_ENV])


def median_call_ms(call: Callable[[], object], calls: int, warmup: int = 3, budget_s: float = 3.0,
                   min_calls: int = 5) -> float:
    """Median wall time of one call, in ms: a query is timed many times, not once.

    Stops early (after at least `min_calls` calls) once `budget_s` is spent, so a slow
    query at 200,000 runs does not take minutes to time.
    """
    for _ in range(warmup):
        call()
    samples: list[float] = []
    spent = 0.0
    while len(samples) < calls and (spent < budget_s or len(samples) < min_calls):
        with timer() as t:
            call()
        samples.append(t.seconds * 1000)
        spent += t.seconds
    return statistics.median(samples)


def disk_bytes(path: str | os.PathLike) -> int:
    """Bytes allocated on disk under `path` (blocks, not apparent sizes)."""
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(FileNotFoundError):
                total += os.lstat(os.path.join(folder, name)).st_blocks * 512
    return total


def peak_rss_mb() -> float:
    """This process's peak resident set size (Linux reports ru_maxrss in KiB), in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def write_random_file(path: str | os.PathLike, mib: int) -> Path:
    """A file of random bytes (nothing compresses or dedups it), written 1 MiB at a time.

    Synced before returning: otherwise the kernel writes it back while the
    first measurement runs, and that engine pays for it.
    """
    path = Path(path)
    with open(path, "wb") as fh:
        fh.writelines(os.urandom(1 << 20) for _ in range(mib))
        fh.flush()
        os.fsync(fh.fileno())
    return path


def time_python(code: str, cwd: str | os.PathLike) -> float:
    """Wall time of `python -c code` in a new process, start-up included."""
    from .child import environment

    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=environment(),
                          capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"python -c failed: {done.stderr.strip()[-500:]}")
    return seconds


def sqlite_health(path: str | os.PathLike, versioned: bool = True) -> dict:
    """Whether a SQLite file passes integrity_check and (if versioned) holds one schema revision."""
    if not Path(path).exists():
        return {"schema_ok": False, "schema": "no database file"}
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60)
    try:
        integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
        revisions = con.execute("SELECT version_num FROM alembic_version").fetchall() if versioned else [("-",)]
    except sqlite3.DatabaseError as exc:
        return {"schema_ok": False, "schema": f"unreadable: {exc}"}
    finally:
        con.close()
    ok = integrity == "ok" and len(revisions) == 1
    described = f"integrity {integrity}" + (f", {len(revisions)} revision row(s)" if versioned else "")
    return {"schema_ok": ok, "schema": described}


def checkpointed_db_bytes(path: str | os.PathLike) -> int:
    """Bytes of a SQLite database file plus its WAL, after the WAL is checkpointed into the file.

    What a store costs on disk once writers are done, indexes included. The
    caller closes its own connections first; a TRUNCATE checkpoint then leaves
    an empty WAL (its size is still counted, in case a reader held it open).
    """
    path = Path(path)
    con = sqlite3.connect(path, timeout=60)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        con.close()
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def count_latest(path: str | os.PathLike, table: str, calls: int) -> dict:
    """Median ms of `SELECT count(*) FROM <table>` on a database opened read-only with sqlite3.

    The first call (cold, in this fresh process) is one of the samples; a slow
    query (seconds, at W9L's size) is timed twice, a fast one up to `calls` times.
    """
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60)
    try:
        statement = f"SELECT count(*) FROM {table}"  # noqa: S608  a fixed name chosen by the harness
        with timer() as first:
            found = con.execute(statement).fetchone()[0]
        rest = median_call_ms(lambda: con.execute(statement).fetchone(), calls - 1, warmup=0, min_calls=1)
        samples = [first.seconds * 1000, rest] if first.seconds > 1 else [rest]
    finally:
        con.close()
    return {"ms": statistics.median(samples), "first_ms": first.seconds * 1000, "rows": found}
