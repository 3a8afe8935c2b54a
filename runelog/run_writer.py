"""The active run's writer: one held connection, and metric points buffered in the process.

Holding one connection for the run makes every write just BEGIN, statements,
COMMIT (no session or pool work), which keeps short runs and `max_points=0`
(a commit per point) fast. Metric points are written with one executemany per flush.

The flush bound. Waiting points are written when `max_points` are waiting
(by the logging call that queues the last of them), when the oldest is
`interval` seconds old (by a timer on the store's own background thread, and
also by the next logging call after that moment, so the bound does not rest
on that thread alone), before any read through the same tracker, at run end
and at interpreter exit. So a process killed outright (SIGKILL, the OOM
killer) loses at most the points it logged in the `interval` seconds before
the kill, and never more than `max_points`, with two exceptions:

- a write in progress at the kill (it needs the store's lock and a commit:
  milliseconds, or as long as another program holds the lock);
- time in which no Python code of the process can run: one long C call that
  holds the GIL (say a 6 s call into a library that does not release it)
  stops the timer thread too, so points logged just before it wait for it to
  end; the first logging call after it writes them at once.

While the store cannot be written (its lock held by another program for
longer than a write waits, a full disk) the points are kept in the process,
in order, and retried every `interval` (at most every 0.25 s); the error is
logged once per outage, and the recovery once. A flush never drops a point
it could not write: a transient failure keeps them all, a point the database
refuses (say a trigger of the user's) is dropped alone, with a warning, after
the others are written. Values are checked when logged (codec), so this is a
last line of defence. Beyond `max_held()` waiting points, logging calls raise
MetricsNotStored.

Signals: every transaction runs inside `interrupts.deferred()`, so Ctrl-C or
SIGTERM never lands half-way through one; a wait for the lock is made of
short attempts that give way to a noted signal.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import warnings
from collections.abc import Callable
from typing import TypeVar, overload

from sqlalchemy import Connection, Engine, exc as sa_exc, select

from . import background, codec, db, exceptions, interrupts, runs
from .held_connection import ROW_ERRORS, HeldConnection, describe, is_busy, write_each
from .metric_queue import MetricQueue
from .models import Run

T = TypeVar("T")
log = logging.getLogger("runelog")

BACKGROUND_WAIT_SECONDS = 0.25  # a background write waits no longer for a lock: the thread serves the store
RETRY_SECONDS = 0.25  # the shortest pause between attempts while the store cannot be written


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
        self.killed_by: int | None = None  # set by the SIGTERM handler (interrupts)
        self.deleted = False  # the run's row is gone (deleted by someone else)
        self.ended = False
        self._opened = False  # the run's row exists (set by open())
        self._points = MetricQueue(run_id)
        self._in_flight = 0.0  # the same for the points a write has taken and not yet committed (0: none)
        self._io = threading.RLock()  # one transaction at a time on the held connection
        self._held = HeldConnection(engine)  # one connection for the run, taken on first write
        self._scheduler = background.for_store(str(engine.url))
        self._armed = False
        self._failure: str | None = None  # the error of the current outage, logged once
        self._last_attempt = 0.0
        self._deletion_reported = False
        self._dropped = 0  # points dropped because the run was deleted
        self._refused = self._refused_told = 0  # points the database refused, and how many a warning named
        self._heartbeat: float | None = None

    # ------------------------------------------------------------ the run's life

    def open(self, heartbeat: float | None = None) -> None:
        """The run's row exists: protect it from signals and keep its heartbeat every `heartbeat` s."""
        self._opened = True
        interrupts.opened(self)
        if heartbeat:
            self._heartbeat = heartbeat
            self._scheduler.at((self, "beat"), heartbeat, self._beat)

    def end(self, status: str, error: str | None, wait: float | None = None) -> None:
        """Write the waiting points and the run's end status in one transaction, then let go.

        Called once by the run's `with` block (or at exit); later calls do nothing.
        Raises MetricsNotStored if the points and status could not be written.
        """
        with self._io:
            if self.ended:
                return
            self.ended = True
        self._scheduler.cancel(self)
        self._scheduler.cancel((self, "beat"))
        try:
            if self.deleted:
                self._report_deletion(warn=True)
                return
            wait = db.BUSY_TIMEOUT_SECONDS if wait is None else wait
            try:
                if not self._commit_queued(lambda c: runs.end_run(c, self.run_id, status, error), wait):
                    self._report_deletion(warn=True)  # no row to end: deleted meanwhile
            except exceptions.RunDeleted:
                self._report_deletion(warn=True)
            except Exception as exc:
                self._end_without_points(status, error, exc, wait)
        finally:
            self._release()
            interrupts.closed(self)  # only now: a signal during the last write still finds its handler
        if self._refused > self._refused_told:
            warnings.warn(f"runelog: in all, the database refused {self._refused} metric points of run "
                          f"{self.run_id}; they were dropped.", RuntimeWarning, stacklevel=3)

    def _end_without_points(self, status: str, error: str | None, cause: Exception, wait: float) -> None:
        """The points could not go in: record at least how the run ended, and say what was lost."""
        lost = self._points.drop()
        with contextlib.suppress(Exception):
            self._commit_queued(lambda c: runs.end_run(c, self.run_id, status, error), wait)
        if lost:
            raise exceptions.MetricsNotStored(self.run_id, lost, describe(cause), lost=True) from cause
        raise cause

    def discard(self) -> None:
        """Let the connection go without writing anything (the run was never created)."""
        self.ended = True
        self._release()

    # ------------------------------------------------------------ logging

    def add(self, points: dict, step: int | None = None) -> None:
        """Validate points {key: value} and queue them; raises before anything is queued."""
        self._usable()
        checked = [(codec.check_key(key, "metric key"), codec.metric_value(key, value))
                   for key, value in points.items()]
        if step is not None:
            step = codec.metric_step(checked[0][0] if checked else "?", step)
        moment = time.monotonic()
        waiting, oldest = self._points.put(checked, step, time.time(), moment)
        in_flight = self._in_flight  # a timer's write under way: when it started late, wait for it too
        if waiting >= max(self.max_points, 1):
            self._flush_from_call(waiting, db.BUSY_TIMEOUT_SECONDS)  # full: wait for the lock, as any write
        elif self.interval > 0 and (moment - oldest >= self.interval
                                    or (in_flight and moment - in_flight >= self.interval)):
            self._flush_from_call(waiting, BACKGROUND_WAIT_SECONDS)  # due, and the timer has not done it
        elif not self._armed and self.interval > 0:
            self._arm(self.interval - (moment - oldest))

    def write(self, work: Callable[[Connection], T], what: str = "the call") -> T:
        """Run `work(connection)` now, with the waiting points, in one transaction; return what it returns."""
        self._usable()
        try:
            return self._commit_queued(work, db.BUSY_TIMEOUT_SECONDS, what)
        except exceptions.RunDeleted:
            self._report_deletion(raise_it=True)
            raise  # pragma: no cover - _report_deletion raised

    def flush(self) -> None:
        """Write every waiting point now (waiting for the store's lock as long as any write does).

        Raises MetricsNotStored (the points stay queued) if the store cannot take them.
        """
        if self.ended or self.deleted:
            return
        try:
            self._commit_queued(None, db.BUSY_TIMEOUT_SECONDS)
        except exceptions.RunDeleted:
            self._report_deletion(raise_it=True)
        except Exception as exc:
            self._note_failure(exc, db.BUSY_TIMEOUT_SECONDS)
            self._rearm(failed=True)
            raise exceptions.MetricsNotStored(self.run_id, len(self._points), describe(exc), lost=False) from exc
        else:
            self._note_success()

    def _usable(self) -> None:
        if self.killed_by is not None:
            raise exceptions.RunTerminated(self.killed_by)
        if self.deleted:
            self._report_deletion(raise_it=True)

    def _flush_from_call(self, waiting: int, wait: float) -> None:
        """A logging call found the points due: write them, unless the store is known to be failing."""
        if self._failure is None or time.monotonic() - self._last_attempt >= self._retry_pause():
            # In an outage, one short try: the timer keeps retrying, the training loop keeps going.
            self._try_flush(wait if self._failure is None else BACKGROUND_WAIT_SECONDS, from_call=True)
        if self._failure is not None and waiting > self.max_held():
            raise exceptions.MetricsNotStored(self.run_id, waiting, self._failure, lost=False)

    def max_held(self) -> int:
        """How many points may wait in memory while the store cannot be written."""
        return max(100 * self.max_points, 100_000)

    # ------------------------------------------------------------ the background thread

    def _arm(self, delay: float) -> None:
        self._armed = True
        self._scheduler.at(self, max(delay, 0.0), self._flush_in_background)

    def _flush_in_background(self) -> None:
        self._armed = False
        if self.ended or self.deleted:
            return
        if not self._io.acquire(blocking=False):  # the logging thread is writing them right now
            self._arm(self._retry_pause())
            return
        try:
            self._try_flush(BACKGROUND_WAIT_SECONDS)
        finally:
            self._io.release()

    def _try_flush(self, wait: float, from_call: bool = False) -> None:
        """Write the waiting points; on failure keep them, log once, and retry on the timer."""
        try:
            self._commit_queued(None, wait)
        except exceptions.RunDeleted:
            self._report_deletion(raise_it=from_call)  # a logging call hears of it at once
            return
        except Exception as exc:
            self._note_failure(exc, wait)
            self._rearm(failed=True)
        else:
            self._note_success()
            self._rearm(failed=False)

    def _rearm(self, failed: bool) -> None:
        """Time the points still waiting: a retry after a failure, else the interval of the oldest."""
        oldest = self._points.oldest()
        if oldest is None or self.ended or self.deleted:
            return
        if failed:
            self._arm(self._retry_pause())
        elif self.interval > 0:
            self._arm(self.interval - (time.monotonic() - oldest))

    def _retry_pause(self) -> float:
        return max(min(self.interval, 1.0), RETRY_SECONDS) if self.interval > 0 else RETRY_SECONDS

    def _beat(self) -> None:
        """Refresh the run's heartbeat, with any waiting points; skipped (not waited for) if busy."""
        if self.ended or self.deleted or self._heartbeat is None:
            return
        from . import liveness

        if self._io.acquire(blocking=False):
            try:
                self._commit_queued(lambda c: liveness.beat(c, self.run_id), BACKGROUND_WAIT_SECONDS)
            except exceptions.RunDeleted:
                self._report_deletion()
            except Exception as exc:  # a busy moment is fine; the next beat will do
                log.debug("runelog heartbeat of run %s skipped: %s", self.run_id, exc)
                self._rearm(failed=True)  # the points it carried wait for the flush timer
            finally:
                self._io.release()
        if not (self.ended or self.deleted):
            self._scheduler.at((self, "beat"), self._heartbeat, self._beat)

    def _note_failure(self, exc: BaseException, wait: float) -> None:
        self._last_attempt = time.monotonic()
        if isinstance(exc, exceptions.StoreBusy) and wait < db.BUSY_TIMEOUT_SECONDS and self._failure is None:
            return  # a lock held a moment longer than a short try waits: not worth a word yet
        text = f"{type(exc).__name__}: {exc}"
        if self._failure is None:  # once per outage, not once per retry
            waiting = len(self._points)
            warnings.warn(f"runelog cannot write the metric points of run {self.run_id} yet ({text}); the "
                          f"{waiting} waiting points are kept, in order, and retried every "
                          f"{self._retry_pause():g} s.", RuntimeWarning, stacklevel=2)
        self._failure = text

    def _note_success(self) -> None:
        if self._failure is not None:
            self._failure = None
            warnings.warn(f"runelog could write the metric points of run {self.run_id} again; none were lost.",
                          RuntimeWarning, stacklevel=2)

    def _report_deletion(self, raise_it: bool = False, warn: bool = False) -> None:
        """The run's row is gone: drop what waits and stop. The user hears of it once: as
        RunDeleted from their next logging call (`raise_it`), or else as a warning when the run ends."""
        self.deleted = True
        self._dropped += self._points.drop()
        self._scheduler.cancel(self)
        self._scheduler.cancel((self, "beat"))
        if raise_it:
            self._deletion_reported = True
            raise exceptions.RunDeleted(self.run_id, self._dropped)
        if warn and not self._deletion_reported:
            self._deletion_reported = True
            warnings.warn(str(exceptions.RunDeleted(self.run_id, self._dropped)), RuntimeWarning, stacklevel=3)

    # ------------------------------------------------------------ transactions

    @overload
    def _commit_queued(self, work: Callable[[Connection], T], wait: float, what: str = ...) -> T: ...
    @overload
    def _commit_queued(self, work: None, wait: float, what: str = ...) -> None: ...

    def _commit_queued(self, work: Callable[[Connection], T] | None, wait: float,
                       what: str = "metric points") -> T | None:
        """The waiting points, then `work`, in one transaction; the points stay queued if it fails."""
        with interrupts.deferred(), self._io:  # a signal waits until this transaction is over
            rows, oldest = self._points.take()
            if not rows and work is None:
                return None
            self._in_flight = oldest if rows else 0.0
            try:
                return self._commit(rows, work, wait, what)
            except BaseException:
                self._points.put_back(rows, oldest)  # in front of anything queued meanwhile, in order
                raise
            finally:
                self._in_flight = 0.0

    def _commit(self, rows: list[dict], work: Callable[[Connection], T] | None, wait: float,
                what: str = "metric points") -> T | None:
        try:
            return self._transaction(rows, work, wait, what)
        except sa_exc.OperationalError as exc:  # the store, not the rows: leave the points queued
            if is_busy(exc):
                raise exceptions.StoreBusy(what, round(wait, 2), str(exc.orig)) from None
            raise
        except ROW_ERRORS as exc:
            if isinstance(exc, sa_exc.OperationalError) or (
                    isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated):
                raise  # the store, not the rows
            if self._opened and not self._run_exists():
                raise exceptions.RunDeleted(self.run_id, len(rows)) from None
            if not rows:
                raise
            return self._transaction(rows, work, wait, what, one_by_one=True)

    def _transaction(self, rows: list[dict], work, wait: float, what: str, one_by_one: bool = False):
        held = self._held
        connection = held.connect()
        try:
            transaction = held.begin(connection, wait, what)
        except exceptions.StoreBusy:
            raise
        except BaseException:  # whatever state BEGIN left, a closed connection holds no lock
            held.invalidate(connection)
            raise
        try:
            if one_by_one:
                self._note_refused(write_each(connection, rows, runs.write_metrics))
            else:
                runs.write_metrics(connection, rows)
            result = None if work is None else work(connection)
            transaction.commit()
            return result
        except BaseException:
            held.abandon(connection, transaction)
            raise

    def _note_refused(self, refused: list[tuple[dict, str]]) -> None:
        """Points the database refused were dropped alone: say so the first time, count them after."""
        if refused and not self._refused:  # the first time: say what and why; later ones are counted
            row, reason = refused[0]
            more = f" ({len(refused) - 1} more in the same write)" if len(refused) > 1 else ""
            warnings.warn(f"runelog: the database refused metric '{row['key']}' = {row['value']} at step "
                          f"{row['step']} of run {self.run_id} ({reason}){more}; such points are dropped and "
                          "every other point is written.", RuntimeWarning, stacklevel=2)
            self._refused_told = len(refused)
        self._refused += len(refused)

    def _run_exists(self) -> bool:
        try:
            with db.read_connection(self.engine) as connection:
                return connection.execute(select(Run.id).where(Run.id == self.run_id)).first() is not None
        except Exception:
            return True  # cannot tell: assume it is there, and keep the points

    def _release(self) -> None:
        self._held.release()
