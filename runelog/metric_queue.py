"""Metric points waiting in the process for their write, in the order they were logged.

Thread-safe: the logging thread queues points while the store's background
thread may be taking them for a write. The lock is held for microseconds,
never during a write; points a failed write took go back in front, in order.
"""

from __future__ import annotations

import threading
from typing import Any

from . import codec


class MetricQueue:
    """The waiting points of one run, each a row for the metrics table; steps counted per key."""

    def __init__(self, run_id: str):
        self.run_id = run_id
        self._rows: list[dict] = []
        self._oldest = 0.0  # monotonic time the oldest waiting point was queued
        self._next_step: dict[str, int] = {}  # the default step of each key's next point
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._rows)

    def put(self, checked: list[tuple[str, float | None]], step: int | None, now: float,
            moment: float) -> tuple[int, float]:
        """Queue checked (key, value) pairs at `step` (default: each key's next); return (waiting, oldest).

        Raises (queueing nothing) when a default step would pass codec.MAX_STEP.
        """
        with self._lock:
            next_step = self._next_step
            new: list[dict[str, Any]] = []
            for key, value in checked:
                at = next_step.get(key, 0) if step is None else step
                if at > codec.MAX_STEP:  # only a default step can get here: one past a step at the limit
                    raise codec.step_out_of_range(key, at)
                new.append({"run_id": self.run_id, "key": key, "value": value, "step": at, "timestamp": now})
            for row in new:
                if row["step"] >= next_step.get(row["key"], 0):
                    next_step[row["key"]] = row["step"] + 1
            if not self._rows:
                self._oldest = moment
            self._rows.extend(new)
            return len(self._rows), self._oldest

    def oldest(self) -> float | None:
        """When the oldest waiting point was queued (monotonic), or None if none waits."""
        with self._lock:
            return self._oldest if self._rows else None

    def take(self) -> tuple[list[dict], float]:
        """Every waiting point, for one write, and when the oldest was queued."""
        with self._lock:
            rows, self._rows = self._rows, []
            return rows, self._oldest

    def put_back(self, rows: list[dict], oldest: float) -> None:
        """Points a write took and could not commit: back in front of anything queued meanwhile."""
        if not rows:
            return
        with self._lock:
            self._rows[:0] = rows
            self._oldest = oldest

    def drop(self) -> int:
        """Forget every waiting point; return how many there were."""
        with self._lock:
            dropped, self._rows = len(self._rows), []
            return dropped
