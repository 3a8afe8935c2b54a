"""SIGINT and SIGTERM while runs are open: one handler for the whole process, never inside a write.

Python runs a signal handler in the main thread between two bytecodes, so an
exception it raises can land anywhere, including half-way through a database
transaction. There it can leave a connection that still holds SQLite's write
lock, which the run's own last write (recording KILLED) then waits for: the
process hung for 120 s and the store stayed locked. So:

- While the main thread is inside a write (`deferred()`), the handler only
  notes the signal; the write commits or rolls back, and the signal is raised
  as the outermost such block ends. Waits for a lock check for a noted signal
  between short attempts (`raise_pending`), so a signal never waits on a lock.
  A second signal while one is noted is raised at once (press Ctrl-C twice to
  force).
- One handler serves every open run of every tracker. It is installed when a
  run opens on the main thread and the previous handler is put back when the
  last run ends, so runs that end out of order never leave another run
  unprotected. SIGINT is only taken over while Python's default handler is in
  place. SIGTERM raises RunTerminated (a SystemExit) and marks every open run
  killed, so a run logging from another thread ends at its next logging call.
- Runs still open at interpreter exit (after SIGTERM, or entered by hand and
  never left) are recorded KILLED there.

Open runs are registered as objects with a `killed_by` attribute and an
`end(status, error)` method (run_writer.RunWriter); this module knows nothing
of databases.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from typing import Any, Protocol

from . import exceptions


class OpenRun(Protocol):
    killed_by: int | None

    def end(self, status: str, error: str | None, wait: float | None = None) -> None: ...


_open: dict[int, OpenRun] = {}
_previous: dict[int, Any] = {}  # signal -> the handler ours replaced
_depth = 0  # how many deferred() blocks the main thread is inside
_pending: int | None = None  # a signal noted inside a deferred() block
_received: int | None = None  # the last signal handled while runs were open
_guard = threading.RLock()

SIGNAL_ERRORS: dict[int, str] = {signal.SIGINT: "KeyboardInterrupt", signal.SIGTERM: "SIGTERM"}


def exception_for(signum: int) -> BaseException:
    return KeyboardInterrupt() if signum == signal.SIGINT else exceptions.RunTerminated(signum)


def _on_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


# ---------------------------------------------------------------- writes that signals wait for


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """A block a signal does not interrupt: it is raised when the block ends (on the main thread)."""
    global _depth, _pending
    if not _on_main_thread():
        yield
        return
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0 and _pending is not None:
            signum, _pending = _pending, None
            raise exception_for(signum)


def raise_pending() -> None:
    """Raise a signal noted during a deferred block now: call it where nothing is half-done (a lock wait)."""
    global _pending
    if _pending is not None and _on_main_thread():
        signum, _pending = _pending, None
        raise exception_for(signum)


def _handle(signum: int, frame) -> None:
    global _pending, _received
    if not _open:  # no run open (the handler could not be removed from a thread): behave as before
        _pass_on(signum, frame)
        return
    _received = signum
    if signum != signal.SIGINT:  # Ctrl-C may be caught to stop training early; SIGTERM ends every run
        for run in list(_open.values()):
            run.killed_by = run.killed_by or signum
    if _depth and _pending is None:
        _pending = signum
        return
    _pending = None
    raise exception_for(signum)


def _pass_on(signum: int, frame) -> None:
    previous = _previous.get(signum, signal.SIG_DFL)
    if callable(previous):
        previous(signum, frame)
    elif previous == signal.SIG_DFL:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


# ---------------------------------------------------------------- the open runs


def opened(run: OpenRun) -> None:
    """Register an open run; installs the handler when called on the main thread."""
    with _guard:
        _open[id(run)] = run
        if _on_main_thread() and not _previous:
            _install()


def closed(run: OpenRun) -> None:
    """Forget a run; the last one out puts the previous handlers back (on the main thread)."""
    global _received
    with _guard:
        _open.pop(id(run), None)
        if not _open and _on_main_thread():
            _uninstall()
            _received = None


def open_runs() -> list[OpenRun]:
    return list(_open.values())


def _install() -> None:
    for signum in (signal.SIGTERM, signal.SIGINT):
        current = signal.getsignal(signum)
        if signum == signal.SIGINT and current is not signal.default_int_handler:
            continue  # someone chose their own Ctrl-C handling: leave it
        _previous[signum] = current
        signal.signal(signum, _handle)


def _uninstall() -> None:
    for signum, previous in list(_previous.items()):
        if signal.getsignal(signum) is _handle:
            signal.signal(signum, previous if previous is not None else signal.SIG_DFL)
    _previous.clear()


def _forget_after_fork() -> None:
    # A forked child has its parent's runs in memory but not their ownership: never end them.
    global _depth, _pending, _received
    _open.clear()
    _depth, _pending, _received = 0, None, None


os.register_at_fork(after_in_child=_forget_after_fork)


@atexit.register
def _end_open_runs() -> None:
    """Record runs still open at interpreter exit KILLED (their buffered points are written first)."""
    reason = SIGNAL_ERRORS.get(_received, f"signal {_received}") if _received else \
        "the process exited while the run was still open"
    for run in open_runs():
        try:
            run.end("KILLED", reason, wait=5.0)
        except BaseException as exc:  # nothing left to raise to at exit
            import warnings

            warnings.warn(f"runelog could not record the end of a run at exit: {exc}", stacklevel=1)


@contextlib.contextmanager
def sigterm_raises() -> Iterator[None]:
    """While a long command runs (a sweep, a backup), SIGTERM raises RunTerminated as Ctrl-C raises
    KeyboardInterrupt, so the command can clean up. Only on the main thread, and only where SIGTERM
    still has its default action (an open run's handler, or the user's, is left alone)."""
    if not _on_main_thread() or signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, None):
        yield
        return

    def handle(signum, frame):
        raise exceptions.RunTerminated(signum)

    signal.signal(signal.SIGTERM, handle)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
