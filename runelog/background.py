"""One background thread per process for timed work (flushing metric buffers, heartbeats).

Starting a thread per run (or per flush) costs more than the work itself when
scripts start thousands of short runs; one scheduler thread, started on first
use, runs every job at its due time instead.
"""

from __future__ import annotations

import os
import threading
import time
import warnings
from collections.abc import Callable, Hashable


class Scheduler:
    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._wake = threading.Condition()
        self._jobs: dict[Hashable, tuple[float, Callable[[], None]]] = {}
        self._thread: threading.Thread | None = None

    def at(self, key: Hashable, delay: float, job: Callable[[], None]) -> None:
        """Run `job` once, `delay` seconds from now (replacing any job already under `key`)."""
        with self._wake:
            self._jobs[key] = (time.monotonic() + delay, job)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="runelog-background", daemon=True)
                self._thread.start()
            self._wake.notify()

    def cancel(self, key: Hashable) -> None:
        with self._wake:
            self._jobs.pop(key, None)

    def _loop(self) -> None:
        while True:
            with self._wake:
                if not self._jobs:
                    self._wake.wait()
                    continue
                key, (due, job) = min(self._jobs.items(), key=lambda item: item[1][0])
                wait = due - time.monotonic()
                if wait > 0:
                    self._wake.wait(wait)
                    continue
                del self._jobs[key]
            try:
                job()
            except Exception as exc:  # pragma: no cover - reported; the job's owner retries
                warnings.warn(f"runelog background job failed: {exc}", stacklevel=1)


scheduler = Scheduler()
# A forked child has no scheduler thread, and its copy of the lock may be held: start afresh.
os.register_at_fork(after_in_child=scheduler._reset)
