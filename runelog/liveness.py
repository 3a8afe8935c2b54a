"""Knowing whether a RUNNING run is still alive: heartbeats, SIGTERM, and dead processes.

A run records its host and pid, and a heartbeat time that a background thread
refreshes while the run is open. A process that dies without closing its run
(SIGKILL, power loss) leaves it RUNNING; such a run is *stale* when its process
is gone from this host or its heartbeat is older than a limit, and
`reap_runs` marks it KILLED.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from . import capture, db, exceptions
from .background import scheduler
from .models import Run

HEARTBEAT_SECONDS = 30.0
STALE_AFTER_SECONDS = 300.0


def beat(session: Session, run_id: str) -> None:
    session.execute(update(Run).where(Run.id == run_id).values(heartbeat_at=datetime.now(timezone.utc)))


class Heartbeat:
    """Refresh a run's heartbeat every `interval` seconds until stopped (on the background scheduler)."""

    def __init__(self, engine: Engine, run_id: str, interval: float = HEARTBEAT_SECONDS):
        self._engine, self._run_id, self._interval = engine, run_id, interval
        self._stopped = False
        scheduler.at(self, interval, self._beat)

    def _beat(self) -> None:
        if self._stopped:
            return
        with contextlib.suppress(Exception):  # a busy moment is fine; the next beat will do
            with db.write_session(self._engine) as session:
                beat(session, self._run_id)
        if not self._stopped:
            scheduler.at(self, self._interval, self._beat)

    def stop(self) -> None:
        self._stopped = True
        scheduler.cancel(self)


def _raise_terminated(signum, frame):
    raise exceptions.RunTerminated(signum)


@contextlib.contextmanager
def sigterm_ends_run() -> Iterator[None]:
    """While a run is open, SIGTERM unwinds it (recorded KILLED) instead of killing the process.

    Only the main thread can own signal handlers; elsewhere this does nothing.
    The previous handler is restored afterwards.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def process_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def stale_reason(run: Run, stale_after: float = STALE_AFTER_SECONDS, now: datetime | None = None) -> str | None:
    """Why a RUNNING run is presumed dead (its process is gone from this host, or its
    heartbeat is too old), or None if it is not."""
    if run.status != "RUNNING":
        return None
    if run.host == capture.host() and not process_alive(run.pid):
        return f"process {run.pid} is gone"
    last = run.heartbeat_at or run.start_time
    now = now or datetime.now(timezone.utc)
    if last is None or now - last > timedelta(seconds=stale_after):
        return f"no heartbeat since {last}"
    return None


def is_stale(run: Run, stale_after: float = STALE_AFTER_SECONDS) -> bool:
    return stale_reason(run, stale_after) is not None


def reap(session: Session, stale_after: float = STALE_AFTER_SECONDS, exclude: set[str] = frozenset(),
         dry_run: bool = False) -> list[str]:
    """Mark stale RUNNING runs KILLED (ended at their last heartbeat); return their ids."""
    now = datetime.now(timezone.utc)
    running = session.execute(select(Run).where(Run.status == "RUNNING")).scalars().all()
    stale = {run: reason for run in running
             if run.id not in exclude and (reason := stale_reason(run, stale_after, now))}
    for run, reason in ({} if dry_run else stale).items():
        session.execute(update(Run).where(Run.id == run.id, Run.status == "RUNNING").values(
            status="KILLED", end_time=run.heartbeat_at or run.start_time, error=f"reaped: {reason}"))
    return [run.id for run in stale]
