"""Errors about experiments, runs, and the keys and values logged into them."""

from __future__ import annotations

from .base import InvalidInput, NotFound, RunelogException


class ExperimentNotFound(NotFound):
    hint = "List the experiments with tracker.list_experiments()."
    hint_cli = "List the experiments with `runelog experiments list`."

    def __init__(self, experiment_id: str):
        self.experiment_id = experiment_id
        super().__init__(f"Experiment '{experiment_id}' not found. {self.hint}")


class InvalidExperimentId(InvalidInput):
    def __init__(self, experiment_id: str):
        self.experiment_id = experiment_id
        super().__init__(
            f"Invalid experiment ID format: '{experiment_id}'. Experiment ids are whole numbers such as '0'."
        )


class RunNotFound(NotFound):
    def __init__(self, run_id: str, why: str | None = None):
        self.run_id = run_id
        super().__init__(
            f"Run '{run_id}' not found" + (f": {why}" if why else
                                           ". Pass a full run id or a unique prefix of at least 6 characters.")
        )


class AmbiguousRunId(RunNotFound, InvalidInput):
    """A prefix matching several runs: no run has that id, as 0.2.0 would have said (RunNotFound)."""

    def __init__(self, prefix: str, candidates: list[str]):
        self.prefix = prefix
        self.candidates = candidates
        shown = ", ".join(candidates[:5]) + (", ..." if len(candidates) > 5 else "")
        self.run_id = prefix
        RunelogException.__init__(self,
            f"Run id prefix '{prefix}' matches {len(candidates)} runs ({shown}). "
            "Give more characters of the run id."
        )


class InvalidRunId(RunNotFound, InvalidInput):
    """A run id that cannot be one ("..", "/"): no run has it, so it is a RunNotFound, as in 0.2.0."""

    def __init__(self, run_id: str):
        self.run_id = run_id
        RunelogException.__init__(self,
            f"Run '{run_id}' not found: that is not a run id (run ids are hexadecimal). "
            "Give the full id or a unique prefix of at least 6 characters."
        )


class NoActiveRun(InvalidInput):
    def __init__(self):
        super().__init__(
            "No active run. Log inside `with tracker.start_run():`."
        )


class RunAlreadyActive(InvalidInput):
    def __init__(self, run_id: str):
        self.run_id = run_id
        super().__init__(
            f"Run '{run_id}' is already active in this tracker. "
            "Finish it (leave its `with` block) before starting another."
        )


class RunEnded(InvalidInput):
    """A Run handle used after its `with` block ended."""

    def __init__(self, run_id: str):
        self.run_id = run_id
        super().__init__(f"Run {run_id} has ended; log inside its `with tracker.run(...)` block, "
                         "or start a new run.")


class RunIsActive(InvalidInput):
    """Deleting the run this tracker has open."""

    def __init__(self, run_id: str):
        self.run_id = run_id
        super().__init__(f"Run {run_id} is active; finish it (leave its `with` block) before deleting it.")


class ExperimentHasActiveRun(InvalidInput):
    """Deleting the experiment that holds this tracker's open run."""

    def __init__(self, experiment: str, run_id: str):
        self.experiment, self.run_id = experiment, run_id
        super().__init__(f"Experiment '{experiment}' holds the active run {run_id}; "
                         "finish the run before deleting the experiment.")


class RunDeleted(RunNotFound):
    """The active run was deleted (by `runelog runs delete` or delete_run, maybe in another process)
    while this process was still logging into it."""

    def __init__(self, run_id: str, dropped: int = 0):
        self.run_id = run_id
        self.dropped = dropped
        lost = f" {dropped} waiting metric points were dropped." if dropped else ""
        RunelogException.__init__(
            self, f"Run '{run_id}' was deleted while it was still open, so nothing more can be logged into it."
                  f"{lost} Start a new run to go on logging; leaving the `with` block ends this one quietly.")


class RunTerminated(SystemExit):
    """SIGTERM arrived while a run was open: the run is recorded KILLED and the process exits.

    A SystemExit (exit status 128 + signal), so `except Exception` in user code
    does not swallow it.
    """

    def __init__(self, signum: int):
        super().__init__(128 + signum)
        self.signum = signum


class InvalidKey(InvalidInput, ValueError):
    """A param, metric or tag key that is empty, too long or not a string."""


class InvalidValue(InvalidInput, ValueError, TypeError):
    """A value that cannot be stored.

    Also a TypeError: 0.2.0 let json.dump raise TypeError for a param it could not write.
    """


class InvalidExperimentName(InvalidKey, ExperimentNotFound):
    """An empty or blank experiment name: refused when creating, and no experiment has it when reading."""

    def __init__(self, name: str):
        self.experiment_id = name
        RunelogException.__init__(
            self, f"The experiment name {name!r} is empty or blank; give the experiment a name "
                  "(or leave experiment_name out to use the default experiment).")
