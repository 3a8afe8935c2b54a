"""Errors about artifact, model, dataset and input files: names, reading, downloading, verifying."""

from __future__ import annotations

import pickle as _pickle  # for ModelNotSerialisable's base; stdlib and cheap

from .base import InvalidInput, NotFound, RunelogException
from .runs import InvalidValue


class ArtifactNotFound(NotFound):
    hint = "Check the name with tracker.get_run_details(run_id)['artifacts']."
    hint_cli = "See the run's artifacts with `runelog runs get RUN`."

    def __init__(self, artifact_path: str, run_id: str | None = None):
        self.artifact_path = artifact_path
        self.run_id = run_id
        where = f" in run '{run_id}'" if run_id else ""
        hint = f" {self.hint}" if run_id else " Check that the file exists."
        super().__init__(f"Artifact '{artifact_path}' not found{where}.{hint}")


class InvalidArtifactName(ArtifactNotFound, InvalidInput, ValueError):
    """A name no artifact can have ('..', absolute, NUL); an ArtifactNotFound, as 0.2.0 said on reads."""

    def __init__(self, name: str, reason: str):
        self.name = name
        self.artifact_path, self.run_id = name, None
        RunelogException.__init__(self,
            f"Invalid artifact name {name!r}: {reason}. "
            "Use a relative name such as 'model.joblib' or 'plots/loss.png'."
        )


class ArtifactUnreadable(InvalidInput, OSError):
    """A file given to `log_artifact` could not be read; nothing of that call was recorded.

    An OSError (a PermissionError when that was the cause, see `of`), as 0.2.0 raised.
    """

    def __init__(self, path: str, error: OSError):
        InvalidInput.__init__(
            self, f"Cannot read '{path}' ({error.strerror or error}); nothing of this log_artifact call was "
                  "recorded. Make the file readable (or move it out of the folder) and log again.")
        self.path = path
        self.errno, self.strerror, self.filename = error.errno, error.strerror, path

    def __str__(self) -> str:
        return str(self.args[0])

    @classmethod
    def of(cls, path: str, error: OSError) -> ArtifactUnreadable:
        return ArtifactPermissionDenied(path, error) if isinstance(error, PermissionError) else cls(path, error)


class ArtifactPermissionDenied(ArtifactUnreadable, PermissionError):
    """ArtifactUnreadable because of file permissions."""


class ModelNotSerialisable(InvalidValue, _pickle.PicklingError):
    """`log_model` was given an object joblib cannot pickle (a lambda, a generator, a lock...)."""

    def __init__(self, name: str, error: Exception):
        self.name = name
        super().__init__(
            f"The model for '{name}' cannot be pickled: {error}. Nothing was recorded. Log an object "
            "defined at module level (not a lambda or a local function), or save it yourself and use log_artifact.")


class DownloadBlocked(InvalidInput, FileExistsError):
    """Something in the destination folder stands where a download has to write; nothing was written there."""

    def __init__(self, path: str, problem: str):
        InvalidInput.__init__(
            self, f"Cannot download to '{path}': it {problem}. Move it away or choose another destination folder.")
        self.path = path
        self.filename = path

    def __str__(self) -> str:
        return str(self.args[0])


class DatasetNotFound(NotFound):
    hint = "Check the name with tracker.get_run_details(run_id)['datasets']."
    hint_cli = "See the run's datasets with `runelog runs get RUN`."

    def __init__(self, name: str, run_id: str):
        self.name = name
        self.run_id = run_id
        super().__init__(
            f"Dataset '{name}' was not logged in run '{run_id}'. {self.hint}"
        )


class DatasetMismatch(InvalidInput):
    def __init__(self, name: str, path: str, run_id: str, expected: str, actual: str,
                 expected_size: int | None, actual_size: int):
        self.name, self.path, self.run_id = name, path, run_id
        self.expected, self.actual = expected, actual
        super().__init__(
            f"'{path}' does not match dataset '{name}' recorded by run '{run_id}': "
            f"expected sha256 {expected} ({expected_size} bytes), found {actual} ({actual_size} bytes). "
            "The file changed since it was logged; regenerate it or use the run that logged this version."
        )


class InputNotFound(NotFound):
    hint = "Check the names with tracker.get_run_details(run_id)['inputs']."
    hint_cli = "See the run's inputs with `runelog runs get RUN` or `runelog lineage RUN`."

    def __init__(self, name: str, run_id: str):
        self.name = name
        self.run_id = run_id
        super().__init__(
            f"Run '{run_id}' has no input named '{name}'. {self.hint}"
        )


class InputNotPinned(InvalidInput):
    def __init__(self, name: str, run_id: str):
        super().__init__(
            f"Input '{name}' of run '{run_id}' names a run but no artifact, so there are no bytes to verify. "
            "Log it with log_input_run(name, run_id, artifact_name=...) to pin them."
        )


class DvcFileError(InvalidInput):
    def __init__(self, path: str, reason: str):
        self.path = path
        super().__init__(
            f"Cannot read DVC file '{path}': {reason}. Run `dvc add <data file>` to create it."
        )
