"""Metric points buffered in the process and written with one executemany per flush.

A flush happens when `max_points` are waiting, when the oldest waiting point
is `interval` seconds old (a timer thread), before any read through the same
tracker, at run end, and at interpreter exit. So a hard kill (SIGKILL, power
loss of the process) loses at most the points of the last `interval` seconds,
and never more than `max_points`. `max_points=0` writes every point at once.
"""

from __future__ import annotations

import atexit
import threading
import time
import warnings
import weakref

from sqlalchemy import Engine

from . import codec, db, liveness, runs

_live: weakref.WeakSet[MetricBuffer] = weakref.WeakSet()


class MetricBuffer:
    def __init__(self, engine: Engine, run_id: str, max_points: int = 1000, interval: float = 1.0):
        self.engine = engine
        self.run_id = run_id
        self.max_points = max_points
        self.interval = interval
        self._rows: list[dict] = []
        self._next_step: dict[str, int] = {}
        self._lock = threading.RLock()
        self._timer: threading.Timer | None = None
        _live.add(self)

    def add(self, key: str, value, step: int | None = None) -> None:
        """Validate one point and queue it; raises before anything is queued."""
        codec.check_key(key, "metric key")
        stored = codec.metric_value(key, value)
        if step is not None:
            if isinstance(step, bool) or not isinstance(step, int) and not hasattr(step, "__index__"):
                raise TypeError(f"The step of metric '{key}' must be an integer, not {type(step).__name__}.")
            step = int(step)
        with self._lock:
            if step is None:
                step = self._next_step.get(key, 0)
            self._next_step[key] = max(self._next_step.get(key, 0), step + 1)
            self._rows.append({"run_id": self.run_id, "key": key, "value": stored,
                               "step": step, "timestamp": time.time()})
            if len(self._rows) >= max(self.max_points, 1):
                self.flush()
            elif self.interval > 0 and self._timer is None:
                self._timer = threading.Timer(self.interval, self._flush_in_background)
                self._timer.daemon = True
                self._timer.start()

    def flush(self) -> None:
        """Write every queued point in one transaction, and refresh the run's heartbeat."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if not self._rows:
                return
            rows, self._rows = self._rows, []
            try:
                with db.write_session(self.engine) as session:
                    runs.write_metrics(session, rows)
                    liveness.beat(session, self.run_id)
            except BaseException:
                self._rows = rows + self._rows  # keep them for the next attempt
                raise

    def _flush_in_background(self) -> None:
        try:
            with self._lock:
                self._timer = None
                self.flush()
        except Exception as exc:  # pragma: no cover - reported, retried on the next flush
            warnings.warn(f"runelog could not write metric points yet ({exc}); will retry.", stacklevel=1)

    def close(self) -> None:
        self.flush()
        _live.discard(self)


@atexit.register
def _flush_all() -> None:
    for buffer in list(_live):
        try:
            buffer.flush()
        except Exception as exc:  # pragma: no cover - nothing left to raise to at exit
            warnings.warn(f"runelog lost buffered metric points at exit: {exc}", stacklevel=1)
