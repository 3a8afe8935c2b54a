"""The active run's writer: one held connection, and metric points buffered in the process.

Holding one connection for the run makes every write just BEGIN, statements,
COMMIT (no session or pool work), which keeps short runs and `max_points=0`
(a commit per point) fast. Metric points are written with one executemany per flush.

A flush happens when `max_points` are waiting, when the oldest waiting point
is `interval` seconds old (the background scheduler), before any read through the same
tracker, at run end, and at interpreter exit. So a hard kill (SIGKILL, power
loss of the process) loses at most the points of the last `interval` seconds,
and never more than `max_points`. `max_points=0` writes every point at once.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable
from typing import TypeVar
import time
import warnings
import weakref

from sqlalchemy import Connection, Engine

from . import codec, runs
from .background import scheduler

T = TypeVar("T")
_live: weakref.WeakSet[RunWriter] = weakref.WeakSet()


class RunWriter:
    """All writes of one active run, on one connection held for the run.

    Params and tags are written at once (each call is one short transaction);
    metric points are buffered as the module docstring says. The final flush and
    the run's end status share one transaction.
    """

    def __init__(self, engine: Engine, run_id: str, max_points: int = 1000, interval: float = 1.0):
        self.engine = engine
        self.run_id = run_id
        self.max_points = max_points
        self.interval = interval
        self._rows: list[dict] = []
        self._next_step: dict[str, int] = {}
        self._lock = threading.RLock()
        self._connection: Connection | None = None
        _live.add(self)

    def add(self, points: dict, step: int | None = None) -> None:
        """Validate points {key: value} and queue them; raises before anything is queued."""
        checked = [(codec.check_key(key, "metric key"), codec.metric_value(key, value))
                   for key, value in points.items()]
        if step is not None:
            if isinstance(step, bool) or not isinstance(step, int) and not hasattr(step, "__index__"):
                raise TypeError(f"The step of metric '{next(iter(points))}' must be an integer, "
                                f"not {type(step).__name__}.")
            step = int(step)
        now = time.time()
        with self._lock:
            was_empty = not self._rows
            for key, value in checked:
                at = self._next_step.get(key, 0) if step is None else step
                self._next_step[key] = max(self._next_step.get(key, 0), at + 1)
                self._rows.append({"run_id": self.run_id, "key": key, "value": value, "step": at, "timestamp": now})
            if len(self._rows) >= max(self.max_points, 1):
                self.flush()
            elif self.interval > 0 and was_empty and self._rows:  # the oldest waiting point: time it
                scheduler.at(self, self.interval, self._flush_in_background)

    def write(self, work: Callable[[Connection], T]) -> T:
        """Run `work(connection)` now, in one transaction of its own; return what it returns."""
        with self._lock:
            return self._transaction(work)

    def flush(self) -> None:
        """Write every queued point in one transaction."""
        with self._lock:
            self._transaction(None)

    def close(self, final: Callable[[Connection], None] | None) -> None:
        """Write the queued points and `final` (the run's end) together, then let the connection go."""
        try:
            with self._lock:
                self._transaction(final)
        finally:
            self._release()
            _live.discard(self)

    def _transaction(self, work: Callable[[Connection], T] | None) -> T | None:
        """Queued points, then `work`, in one transaction on the held connection."""
        scheduler.cancel(self)
        rows, self._rows = self._rows, []
        if not rows and work is None:
            return None
        try:
            if self._connection is None:
                self._connection = self.engine.connect()
            with self._connection.begin():
                runs.write_metrics(self._connection, rows)
                return None if work is None else work(self._connection)
        except BaseException:
            self._rows = rows + self._rows  # keep them for the next attempt
            self._release()  # a broken connection is not reused
            raise

    def _flush_in_background(self) -> None:
        try:
            self.flush()
        except Exception as exc:  # reported, and retried a moment later
            warnings.warn(f"runelog could not write metric points yet ({exc}); will retry.", stacklevel=1)
            scheduler.at(self, self.interval, self._flush_in_background)

    def _release(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.close()


@atexit.register
def _flush_all() -> None:
    for buffer in list(_live):
        try:
            buffer.flush()
        except Exception as exc:  # pragma: no cover - nothing left to raise to at exit
            warnings.warn(f"runelog lost buffered metric points at exit: {exc}", stacklevel=1)
