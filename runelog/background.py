"""Background threads for timed work (flushing metric buffers, heartbeats): one per store.

Starting a thread per run (or per flush) costs more than the work itself when
scripts start thousands of short runs, so one thread per store runs every job
of that store at its due time. Per store, not per process: a store whose lock
another program holds must not delay the flushes of a tracker on another store.
The jobs themselves never wait long (run_writer gives a background write a
short lock timeout), so a busy store delays its own jobs by a fraction of a
second at most. A thread with nothing to do for a while ends; the next job
starts a new one.
"""

from __future__ import annotations

import os
import threading
import time
import warnings
from collections.abc import Callable, Hashable

IDLE_SECONDS = 5.0  # a thread with no job for this long ends


class Scheduler:
    """Runs jobs at their due time on one thread of its own, started on first use."""

    def __init__(self, name: str = "runelog-background") -> None:
        self._name = name
        self._reset()

    def _reset(self) -> None:
        self._wake = threading.Condition()
        self._jobs: dict[Hashable, tuple[float, Callable[[], None]]] = {}
        self._thread: threading.Thread | None = None

    def at(self, key: Hashable, delay: float, job: Callable[[], None]) -> None:
        """Run `job` once, `delay` seconds from now (replacing any job already under `key`)."""
        with self._wake:
            self._jobs[key] = (time.monotonic() + delay, job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                self._thread.start()
            self._wake.notify()

    def cancel(self, key: Hashable) -> None:
        with self._wake:
            self._jobs.pop(key, None)

    def _loop(self) -> None:
        while True:
            with self._wake:
                if not self._jobs:
                    self._wake.wait(IDLE_SECONDS)
                    if not self._jobs:  # idle: end; `at` starts a new thread when needed
                        self._thread = None
                        return
                    continue
                key, (due, job) = min(self._jobs.items(), key=lambda item: item[1][0])
                wait = due - time.monotonic()
                if wait > 0:
                    self._wake.wait(wait)
                    continue
                del self._jobs[key]
            try:
                job()
            except Exception as exc:  # pragma: no cover - jobs report their own errors; this is a last resort
                warnings.warn(f"runelog background job failed: {exc}", stacklevel=1)


_schedulers: dict[str, Scheduler] = {}
_guard = threading.Lock()


def for_store(store: str) -> Scheduler:
    """The scheduler of one store (`store`: its database URL)."""
    with _guard:
        scheduler = _schedulers.get(store)
        if scheduler is None:
            scheduler = _schedulers[store] = Scheduler(f"runelog-background {len(_schedulers)}")
        return scheduler


def _after_fork() -> None:
    # A forked child has none of the parent's threads, and a copied lock may be held: start afresh.
    global _guard
    _guard = threading.Lock()
    for scheduler in _schedulers.values():
        scheduler._reset()


os.register_at_fork(after_in_child=_after_fork)
