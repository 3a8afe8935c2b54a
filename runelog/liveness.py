"""Knowing whether a RUNNING run is still alive: heartbeats and dead processes.

A run records its host and pid, and a heartbeat time that its writer
refreshes (on the store's background thread) while the run is open. A process
that dies without closing its run (SIGKILL, power loss) leaves it RUNNING;
such a run is *stale* when its process is gone from this host or its
heartbeat is older than a limit, and `reap_runs` marks it KILLED. Signals
(SIGTERM, Ctrl-C) are handled in `interrupts`.
"""

from __future__ import annotations

from collections.abc import Collection

import os
from datetime import datetime, timedelta, timezone

from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session

from . import capture
from .models import Run, table_of

HEARTBEAT_SECONDS = 30.0
STALE_AFTER_SECONDS = 300.0

_BEAT = update(table_of(Run))


def beat(executor: Session | Connection, run_id: str) -> None:
    executor.execute(_BEAT.where(Run.__table__.c.id == run_id).values(heartbeat_at=datetime.now(timezone.utc)))


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


def reap(session: Session, stale_after: float = STALE_AFTER_SECONDS, exclude: Collection[str] = frozenset(),
         dry_run: bool = False, only: Collection[str] | None = None) -> list[str]:
    """Mark stale RUNNING runs KILLED (ended at their last heartbeat); return their ids.

    `only`: look at these runs alone (a sweep reaps its own dead worker's run, nothing else).
    """
    now = datetime.now(timezone.utc)
    query = select(Run).where(Run.status == "RUNNING")
    if only is not None:
        query = query.where(Run.id.in_(list(only)))
    running = session.execute(query).scalars().all()
    stale = {run: reason for run in running
             if run.id not in exclude and (reason := stale_reason(run, stale_after, now))}
    for run, reason in ({} if dry_run else stale).items():
        session.execute(update(Run).where(Run.id == run.id, Run.status == "RUNNING").values(
            status="KILLED", end_time=run.heartbeat_at or run.start_time, error=f"reaped: {reason}"))
    return [run.id for run in stale]
