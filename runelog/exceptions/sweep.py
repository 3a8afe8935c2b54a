"""Errors of a sweep: its YAML file, run_sweep's arguments, and runs that failed."""

from __future__ import annotations

from .base import InvalidInput, NotFound, RunelogException


class SweepConfigError(InvalidInput, ValueError):
    def __init__(self, path: str, where: str, message: str):
        self.path = path
        self.where = where
        location = f"{path}: {where}" if where else path
        super().__init__(f"Invalid sweep config {location}: {message}. Fix the file and run the sweep again.")


class SweepFileNotFound(SweepConfigError, NotFound, FileNotFoundError):
    """A sweep's YAML file or its CSV dataset is not there (0.2.0 raised FileNotFoundError)."""


class SweepOptionError(InvalidInput, ValueError):
    """A bad argument to run_sweep itself (not in the YAML file): the message says which and what to pass."""


class SweepRunsFailed(RunelogException, RuntimeError):
    """Some runs of a sweep failed; every run was still tried and recorded."""

    def __init__(self, experiment_name: str, failed: list[tuple[str, str]], total: int, sweep_result=None):
        self.experiment_name = experiment_name
        self.failed = failed
        self.sweep_result = sweep_result  # run_sweep's SweepResult: which runs finished and which failed
        shown = "; ".join(f"{spec_id}: {error}" for spec_id, error in failed[:5])
        more = f"; and {len(failed) - 5} more" if len(failed) > 5 else ""
        super().__init__(
            f"{len(failed)} of {total} sweep runs failed ({shown}{more}). Every run was recorded in "
            f"experiment '{experiment_name}'; see the failed ones with "
            f"`runelog runs list \"{experiment_name}\" --status FAILED`."
        )
