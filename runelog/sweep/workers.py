"""Parallel sweeps (jobs > 1): each run in a fresh, isolated worker process, and stopping them all.

A worker whose parent dies ends its run KILLED; a worker that dies (SIGKILL)
has its run reaped by the parent; Ctrl-C or SIGTERM reach the parent only,
which passes them on once.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from .config import RunSpec, SweepConfig, load_config
from .evaluation import _Outcome, _run_one, load_dataset

_RESULT_MARK = "RUNELOG-SWEEP-RESULT "
STOP_GRACE_SECONDS = 5.0  # after Ctrl-C/SIGTERM, how long workers get to record KILLED before SIGKILL


# The worker starts isolated (-I: no current folder, no PYTHON* variables, no user
# site) and then takes the parent's import path minus the current folder and the
# config's folder, before it imports anything else; so a `yaml.py` or `sklearn.py`
# lying next to the config is never run. Works the same on 3.10 (which has no -P).
# It also runs in an empty folder of its own, with PYTHONSAFEPATH=1, so the processes
# it starts in turn (joblib's loky workers run `python -m ...`) cannot import from
# the user's folder either; and whatever an estimator writes to relative paths
# lands there and is removed with it.
_BOOTSTRAP = (
    "import sys\n"
    "sys.path[:] = [p for p in sys.path if p not in ('', '.')]\n"
    "import json\n"
    "sys.path[:] = json.loads(sys.argv[1])\n"
    "from runelog.sweep.workers import _worker_main\n"
    "_worker_main(sys.argv[2:])\n"
)


def _worker_path(config: SweepConfig) -> list[str]:
    """The parent's sys.path without the current folder or the config's folder (resolved)."""
    def resolved(entry: str) -> Path | None:
        try:
            return Path(entry).resolve()
        except (OSError, RuntimeError):
            return None

    banned = {Path.cwd().resolve(), Path(config.path).resolve().parent}
    # Absolute, because the worker runs in another folder.
    kept = [os.path.abspath(entry) for entry in sys.path if entry and resolved(entry) not in banned | {None}]
    package_root = Path(__file__).resolve().parents[2]  # the folder holding runelog/
    if package_root in banned:  # runelog runs from a checkout there: keep it reachable, after everything else
        kept.append(str(package_root))
    return kept


class _Workers:
    """Runs sweep runs in worker processes (one thread each waits for its worker) and can stop them all.

    Each worker gets its own session, so a terminal's Ctrl-C reaches only this
    process, which passes the signal on once (`stop`); and each holds the read
    end of a pipe whose write end only this process has: when this process dies,
    however it dies, the worker sees the pipe close and ends its run KILLED.
    A worker that dies without reporting (SIGKILL, the OOM killer) leaves its
    run RUNNING; the run is reaped here, by the worker's pid.
    """

    def __init__(self, config: SweepConfig, store: str | None, database_url: str | None, folder: str):
        self.config, self.database_url, self.folder = config, database_url, folder
        self.store = str(Path(store if store is not None else os.environ.get("RUNELOG_HOME", ".")).resolve())
        self._lock = threading.Lock()
        self._running: dict[str, subprocess.Popen] = {}
        self.stopping = False

    def run(self, spec: RunSpec) -> _Outcome | None:
        """One run in a fresh worker started in `folder` (empty); None if the sweep was stopped first."""
        command = [sys.executable, "-I", "-c", _BOOTSTRAP, json.dumps(_worker_path(self.config)),
                   str(Path(self.config.path).resolve()), spec.id, "--store", self.store,
                   "--workdir", str(Path.cwd())]
        if self.database_url is not None:
            command += ["--database-url", self.database_url]
        with self._lock:  # stop() sees every worker started, and none starts after it
            if self.stopping:
                return None
            watched, parent_end = os.pipe()
            try:
                worker = subprocess.Popen(command + ["--parent-pipe", str(watched)], pass_fds=(watched,),
                                          start_new_session=True, stdin=subprocess.DEVNULL,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                          cwd=self.folder, env={**os.environ, "PYTHONSAFEPATH": "1"})
            except BaseException:
                os.close(parent_end)
                raise
            finally:
                os.close(watched)
            self._running[spec.id] = worker
        try:
            out, err = worker.communicate()
        finally:
            os.close(parent_end)
            with self._lock:
                self._running.pop(spec.id, None)
        for line in reversed(out.splitlines()):
            if line.startswith(_RESULT_MARK):
                found = json.loads(line[len(_RESULT_MARK):])
                return _Outcome(found["spec_id"], found["run_id"], found["metrics"], found["error"])
        code = worker.returncode
        how = f"was killed by signal {-code} ({_signal_name(-code)})" if code < 0 else f"exited with status {code}"
        tail = (err.strip().splitlines() or ["no output"])[-1]
        reaped = self._reap(spec, worker.pid)
        left = f"; its run {reaped[0][:8]} is recorded KILLED" if reaped else ""
        return _Outcome(spec.id, reaped[0] if reaped else "", None,
                        f"the worker process {how}{left}: {tail}")

    def _reap(self, spec: RunSpec, pid: int) -> list[str]:
        """Mark KILLED the run the dead worker `pid` left RUNNING (it cannot record its end itself)."""
        from .. import get_tracker

        tracker = get_tracker(self.store, database_url=self.database_url)
        try:
            mine = [r.run_id for r in tracker.find_runs(self.config.experiment_name, status="RUNNING")
                    if r.pid == pid and r.run_name == spec.id]
            return tracker.reap_runs(stale_after=float("inf"), run_ids=mine) if mine else []
        finally:
            tracker.close()

    def stop(self, signum: int, grace: float = STOP_GRACE_SECONDS) -> None:
        """Start no more workers; pass `signum` to the running ones, and SIGKILL any still alive after `grace`."""
        with self._lock:
            self.stopping = True
            running = list(self._running.values())
        for worker in running:
            with contextlib.suppress(ProcessLookupError):
                worker.send_signal(signum)
        deadline = time.monotonic() + grace
        for worker in running:
            while worker.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            if worker.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    worker.kill()  # its thread then reaps its run


def _worker_main(argv: list[str] | None = None) -> None:
    """A worker: one run of CONFIG; prints its outcome as one marked JSON line."""
    import argparse

    from .. import get_tracker

    parser = argparse.ArgumentParser(prog="runelog sweep worker")
    parser.add_argument("config")
    parser.add_argument("spec_id")
    parser.add_argument("--store")
    parser.add_argument("--database-url")
    parser.add_argument("--workdir")
    parser.add_argument("--parent-pipe", type=int)
    args = parser.parse_args(argv)
    if args.parent_pipe is not None:
        _end_when_parent_dies(args.parent_pipe)
    config = load_config(args.config, workdir=args.workdir)
    spec = next(s for s in config.runs if s.id == args.spec_id)
    tracker = get_tracker(args.store, database_url=args.database_url)
    try:
        data = lambda: load_dataset(config.dataset, csv_path=config.csv_path)  # noqa: E731
        outcome = _run_one(tracker, config, spec, data, lambda message: None)
    finally:
        tracker.close()
    print(_RESULT_MARK + json.dumps({"spec_id": outcome.spec_id, "run_id": outcome.run_id,
                                     "metrics": outcome.metrics, "error": outcome.error}))


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return "unknown signal"


def _end_when_parent_dies(fd: int) -> None:
    """Watch the pipe only the parent writes to: at EOF the parent is gone, so end this worker
    with SIGTERM (its open run is recorded KILLED). Portable, unlike PR_SET_PDEATHSIG."""
    def watch():
        try:
            while os.read(fd, 1024):
                pass
        except OSError:
            pass
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="runelog-sweep-parent-watch", daemon=True).start()


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """While the workers are being stopped, a further Ctrl-C/SIGTERM does not cut that short."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
