"""run_sweep: check the file, run every run (here, or in worker processes), and report the failures."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import interrupts
from ..exceptions import SweepOptionError, SweepRunsFailed
from ..progress import Progress, Reporter
from .config import load_config
from .evaluation import _once, _Outcome, _run_one, load_dataset
from .workers import _signals_held, _Workers

if TYPE_CHECKING:
    from .. import RuneLog


@dataclass
class SweepResult:
    experiment_name: str
    finished: list[tuple[str, str, dict]] = field(default_factory=list)  # (spec id, run id, metrics)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (spec id, error)

    @property
    def ok(self) -> bool:
        return not self.failed


@contextlib.contextmanager
def _safe_path_for_children() -> Iterator[None]:
    """While runs train in this process, Python processes they start (joblib's loky workers,
    `python -m ...`) do not put the current folder on their import path (PYTHONSAFEPATH, 3.11+)."""
    before = os.environ.get("PYTHONSAFEPATH")
    os.environ["PYTHONSAFEPATH"] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("PYTHONSAFEPATH", None)
        else:
            os.environ["PYTHONSAFEPATH"] = before


def _silent(message: str) -> None:
    """The default progress handler (as in 0.2.0): says nothing."""


def run_sweep(config_path: str | Path, progress_handler: Callable[[str], Any] | None = None, *,
              jobs: int = 1, progress: Progress | None = None,
              store: str | None = None, database_url: str | None = None,
              tracker: RuneLog | None = None, raise_on_failure: bool = True) -> SweepResult:
    """Check the config, then run every run (in `jobs` processes) and record each as a runelog run.

    `run_sweep(path)` and `run_sweep(path, print)` work as in runelog 0.2.0:
    `progress_handler` gets text messages. `progress(done, total)` counts runs,
    the one progress signature of every long call (runelog.progress). The runs go to `tracker`, or to the store at
    `store` / `database_url` (default: here, or $RUNELOG_HOME).

    Workers (jobs > 1) start isolated, in an empty folder, and never import from
    the current folder; while runs train in this process, PYTHONSAFEPATH=1 is set
    so the processes they start (joblib's) do not either.

    A run that fails is recorded FAILED and the others still run. At the end,
    if any failed and `raise_on_failure` is true: with jobs=1 the first failed
    run's own exception is raised again (as 0.2.0 raised it), otherwise
    SweepRunsFailed; either carries the result as `.sweep_result`.
    """
    say = progress_handler or _silent
    config = load_config(config_path)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise SweepOptionError(f"jobs must be a whole number of at least 1, not {jobs!r}.")
    if tracker is not None and jobs > 1:
        raise SweepOptionError("With jobs > 1 each worker process opens the store itself: pass store= or "
                               "database_url= instead of tracker=.")
    result = SweepResult(config.experiment_name)
    outcomes: list[_Outcome] = []
    say(f"Running sweep for experiment: '{config.experiment_name}'")

    counter = Reporter(progress, total=len(config.runs))

    def record(outcome: _Outcome) -> None:
        outcomes.append(outcome)
        if outcome.error is None:
            result.finished.append((outcome.spec_id, outcome.run_id, outcome.metrics or {}))  # set when no error
        else:
            result.failed.append((outcome.spec_id, outcome.error))
        counter.advance()

    if jobs == 1:
        from .. import get_tracker

        own = tracker is None
        active = get_tracker(store, database_url=database_url) if tracker is None else tracker

        def load():
            X, y = load_dataset(config.dataset, csv_path=config.csv_path)
            say(f"Dataset '{config.dataset['source']}' loaded successfully. Shape: {getattr(X, 'shape', '?')}")
            return X, y

        data = _once(load)
        try:
            with _safe_path_for_children():
                for spec in config.runs:
                    record(_run_one(active, config, spec, data, say))
        finally:
            if own:
                active.close()
    else:
        # Each parallel run is a fresh, isolated worker process: nothing (open connections,
        # the caller's __main__, the current folder's modules) is inherited, and a crash
        # stays in its run.
        import tempfile

        with tempfile.TemporaryDirectory(prefix="runelog-sweep-") as folder:
            workers = _Workers(config, store, database_url, folder)
            pool = ThreadPoolExecutor(max_workers=jobs)
            try:
                with interrupts.sigterm_raises():
                    waiting = {pool.submit(workers.run, spec) for spec in config.runs}
                    while waiting:
                        done, waiting = wait(waiting, timeout=0.2, return_when=FIRST_COMPLETED)
                        for future in done:
                            outcome = future.result()
                            if outcome is None:  # the sweep was stopped before this run started
                                continue
                            say(f"run '{outcome.spec_id}' " + ("finished" if outcome.error is None else
                                                                f"FAILED while {outcome.error}"))
                            record(outcome)
            except BaseException as exc:
                # Ctrl-C or SIGTERM (or an error here): no new run starts, the running ones end KILLED.
                signum = signal.SIGINT if isinstance(exc, KeyboardInterrupt) else signal.SIGTERM
                with _signals_held():
                    pool.shutdown(wait=False, cancel_futures=True)
                    workers.stop(signum)
                    pool.shutdown(wait=True)
                raise
            pool.shutdown(wait=True)
    order = {spec.id: i for i, spec in enumerate(config.runs)}
    result.finished.sort(key=lambda r: order[r[0]])
    result.failed.sort(key=lambda r: order[r[0]])
    if result.failed and raise_on_failure:
        _raise_failure(result, outcomes, order)
    return result


def _raise_failure(result: SweepResult, outcomes: list[_Outcome], order: dict[str, int]) -> None:
    first = min((o for o in outcomes if o.error is not None), key=lambda o: order[o.spec_id])
    if first.exception is None:
        raise SweepRunsFailed(result.experiment_name, result.failed, len(order), result)
    summary = SweepRunsFailed(result.experiment_name, result.failed, len(order), result)
    error = first.exception
    try:
        error.sweep_result = result  # type: ignore[attr-defined]  # any exception type carries it, as documented
    except AttributeError:
        pass
    if hasattr(error, "add_note"):  # 3.11+: the traceback says the other runs were recorded
        error.add_note(str(summary))
    raise error
