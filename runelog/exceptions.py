"""Every error a user can cause, as a `RunelogException` subclass.

The names and constructor arguments of runelog 0.2.0 are kept so existing
`except` clauses keep working; each message says what went wrong and what to do.
"""

from __future__ import annotations


class RunelogException(Exception):
    """Base class for all runelog errors.

    A message may end with advice for Python callers (`hint`); a class that also
    sets `hint_cli` gives the command line's advice instead, through cli_message().
    """

    hint = ""
    hint_cli = ""

    def cli_message(self) -> str:
        """The message as the command line shows it: CLI commands in place of Python calls."""
        text = str(self)
        if self.hint and self.hint_cli and self.hint in text:
            return text.replace(self.hint, self.hint_cli)
        return text


class ExperimentNotFound(RunelogException):
    hint = "List the experiments with tracker.list_experiments()."
    hint_cli = "List the experiments with `runelog experiments list`."

    def __init__(self, experiment_id: str):
        self.experiment_id = experiment_id
        super().__init__(f"Experiment '{experiment_id}' not found. {self.hint}")


class RunNotFound(RunelogException):
    def __init__(self, run_id: str):
        self.run_id = run_id
        super().__init__(
            f"Run '{run_id}' not found. Pass a full run id or a unique prefix of at least 6 characters."
        )


class AmbiguousRunId(RunelogException):
    def __init__(self, prefix: str, candidates: list[str]):
        self.prefix = prefix
        self.candidates = candidates
        shown = ", ".join(candidates[:5]) + (", ..." if len(candidates) > 5 else "")
        super().__init__(
            f"Run id prefix '{prefix}' matches {len(candidates)} runs ({shown}). "
            "Give more characters of the run id."
        )


class ModelNotFound(RunelogException):
    hint = "Register it first with tracker.register_model(run_id, artifact_name, model_name)."
    hint_cli = "See the registered models with `runelog registry list`; register one with `runelog registry register`."

    def __init__(self, model_name: str):
        self.model_name = model_name
        super().__init__(
            f"Model '{model_name}' not found in registry. {self.hint}"
        )


class ModelVersionNotFound(RunelogException):
    hint = "List its versions with tracker.get_model_versions(name)."
    hint_cli = "List its versions with `runelog registry get-versions NAME`."

    def __init__(self, model_name: str, version: str):
        self.model_name = model_name
        self.version = version
        super().__init__(
            f"Model '{model_name}' version '{version}' not found. {self.hint}"
        )


class ArtifactNotFound(RunelogException):
    hint = "Check the name with tracker.get_run_details(run_id)['artifacts']."
    hint_cli = "See the run's artifacts with `runelog runs get RUN`."

    def __init__(self, artifact_path: str, run_id: str | None = None):
        self.artifact_path = artifact_path
        self.run_id = run_id
        where = f" in run '{run_id}'" if run_id else ""
        hint = f" {self.hint}" if run_id else " Check that the file exists."
        super().__init__(f"Artifact '{artifact_path}' not found{where}.{hint}")


class NoActiveRun(RunelogException):
    def __init__(self):
        super().__init__(
            "No active run. Log inside `with tracker.start_run():`."
        )


class RunAlreadyActive(RunelogException):
    def __init__(self, run_id: str):
        self.run_id = run_id
        super().__init__(
            f"Run '{run_id}' is already active in this tracker. "
            "Finish it (leave its `with` block) before starting another."
        )


class InvalidExperimentId(RunelogException):
    def __init__(self, experiment_id: str):
        self.experiment_id = experiment_id
        super().__init__(
            f"Invalid experiment ID format: '{experiment_id}'. Experiment ids are whole numbers such as '0'."
        )


class InvalidRunId(RunelogException):
    def __init__(self, run_id: str):
        self.run_id = run_id
        super().__init__(
            f"Invalid run ID format: '{run_id}'. "
            "Run ids are hexadecimal; give the full id or a prefix of at least 6 characters."
        )


class InvalidKey(RunelogException, ValueError):
    """A param, metric or tag key that is empty, too long or not a string."""


class InvalidValue(RunelogException, ValueError):
    """A param or tag value that cannot be stored as JSON."""


class InvalidArtifactName(RunelogException, ValueError):
    def __init__(self, name: str, reason: str):
        self.name = name
        super().__init__(
            f"Invalid artifact name {name!r}: {reason}. "
            "Use a relative name such as 'model.joblib' or 'plots/loss.png'."
        )


class RegistryError(RunelogException):
    pass


class DuplicateModelRegistration(RegistryError):
    def __init__(self, model_name: str, version: str):
        self.model_name = model_name
        self.version = version
        super().__init__(f"Model '{model_name}' version '{version}' already exists.")


class InvalidModelVersion(RegistryError):
    def __init__(self, version: str):
        self.version = version
        super().__init__(
            f"Invalid model version format: '{version}'. Use a whole number such as '1', or 'latest'."
        )


class NoVersionsFound(ModelNotFound):
    hint = "Register one with tracker.register_model()."
    hint_cli = "Register one with `runelog registry register RUN ARTIFACT NAME`."

    def __init__(self, model_name: str):
        self.model_name = model_name
        RunelogException.__init__(self, f"No versions found for model '{model_name}'. {self.hint}")


class CorruptedMetadata(RunelogException):
    def __init__(self, file_path: str):
        self.file_path = file_path
        super().__init__(f"Corrupted or unreadable metadata file: {file_path}")


class InsufficientPermissions(RunelogException):
    def __init__(self, path: str, operation: str):
        self.path = path
        self.operation = operation
        super().__init__(
            f"Insufficient permissions to {operation} at: {path}. Check the folder's owner and mode."
        )


class StorageError(RunelogException):
    def __init__(self, operation: str, path: str, original_error: Exception | None = None):
        self.operation = operation
        self.path = path
        self.original_error = original_error
        details = f": {original_error}" if original_error else ""
        super().__init__(f"Storage error during {operation} at {path}{details}")


class StoreUnreadable(RunelogException):
    """The metadata database exists but is not a runelog store (or is damaged)."""

    def __init__(self, path: str, reason: str):
        self.path = path
        super().__init__(
            f"Cannot open the runelog database '{path}': {reason}. "
            "Nothing was changed; restore it from .runelog/backups/ or point runelog at another folder."
        )


class SchemaTooNew(RunelogException):
    def __init__(self, found: str, known: str):
        self.found = found
        self.known = known
        super().__init__(
            f"This store's schema is at revision '{found}', which this runelog does not know "
            f"(it knows up to '{known}'). Upgrade runelog: pip install -U runelog."
        )


class SchemaOutdated(RunelogException):
    def __init__(self, found: str | None, required: str):
        self.found = found
        self.required = required
        have = f"revision '{found}'" if found else "no runelog schema"
        super().__init__(
            f"The database has {have}; this runelog needs revision '{required}'. "
            "Run `runelog db upgrade` to migrate it."
        )


class MigrationFailed(RunelogException):
    def __init__(self, error: Exception, backup: str | None):
        self.backup = backup
        where = f" A copy of the database from before the upgrade is at {backup}." if backup else ""
        super().__init__(f"Upgrading the store's schema failed: {error}.{where}")


class BlobCorrupted(RunelogException):
    def __init__(self, sha256: str, actual: str | None = None, context: str = ""):
        self.sha256 = sha256
        self.actual = actual
        got = f" (its bytes now hash to {actual})" if actual else ""
        ctx = f" for {context}" if context else ""
        super().__init__(
            f"Blob {sha256}{ctx} is corrupted{got}; refusing to hand over its bytes. "
            "Run `runelog verify` and log the file again."
        )


class BlobMissing(RunelogException):
    def __init__(self, sha256: str, context: str = ""):
        self.sha256 = sha256
        ctx = f" for {context}" if context else ""
        super().__init__(
            f"Blob {sha256}{ctx} is missing from the blob store. "
            "Restore the blobs folder from a backup, or log the file again."
        )


class DvcFileError(RunelogException):
    def __init__(self, path: str, reason: str):
        self.path = path
        super().__init__(
            f"Cannot read DVC file '{path}': {reason}. Run `dvc add <data file>` to create it."
        )


class DatasetNotFound(RunelogException):
    hint = "Check the name with tracker.get_run_details(run_id)['datasets']."
    hint_cli = "See the run's datasets with `runelog runs get RUN`."

    def __init__(self, name: str, run_id: str):
        self.name = name
        self.run_id = run_id
        super().__init__(
            f"Dataset '{name}' was not logged in run '{run_id}'. {self.hint}"
        )


class DatasetMismatch(RunelogException):
    def __init__(self, name: str, path: str, run_id: str, expected: str, actual: str,
                 expected_size: int | None, actual_size: int):
        self.name, self.path, self.run_id = name, path, run_id
        self.expected, self.actual = expected, actual
        super().__init__(
            f"'{path}' does not match dataset '{name}' recorded by run '{run_id}': "
            f"expected sha256 {expected} ({expected_size} bytes), found {actual} ({actual_size} bytes). "
            "The file changed since it was logged; regenerate it or use the run that logged this version."
        )


class InputNotFound(RunelogException):
    hint = "Check the names with tracker.get_run_details(run_id)['inputs']."
    hint_cli = "See the run's inputs with `runelog runs get RUN` or `runelog lineage RUN`."

    def __init__(self, name: str, run_id: str):
        self.name = name
        self.run_id = run_id
        super().__init__(
            f"Run '{run_id}' has no input named '{name}'. {self.hint}"
        )


class InputNotPinned(RunelogException):
    def __init__(self, name: str, run_id: str):
        super().__init__(
            f"Input '{name}' of run '{run_id}' names a run but no artifact, so there are no bytes to verify. "
            "Log it with log_input_run(name, run_id, artifact_name=...) to pin them."
        )


class QueryFailed(RunelogException):
    def __init__(self, statement: str, reason: str):
        self.statement = statement
        short = " ".join(statement.split())
        super().__init__(
            f"The query failed: {reason}. Query: {short[:200]}. "
            "Ad-hoc SQL is read-only; see docs/sql.md for the tables and views."
        )


class SweepConfigError(RunelogException, ValueError):
    def __init__(self, path: str, where: str, message: str):
        self.path = path
        self.where = where
        location = f"{path}: {where}" if where else path
        super().__init__(f"Invalid sweep config {location}: {message}. Fix the file and run the sweep again.")


class RunTerminated(SystemExit):
    """SIGTERM arrived while a run was open: the run is recorded KILLED and the process exits.

    A SystemExit (exit status 128 + signal), so `except Exception` in user code
    does not swallow it.
    """

    def __init__(self, signum: int):
        super().__init__(128 + signum)
        self.signum = signum


class LegacyStoreNotFound(RunelogException):
    def __init__(self, path: str):
        self.path = path
        super().__init__(
            f"No runelog 0.2.0 store at '{path}': it has neither a .mlruns nor a .registry folder. "
            "Give the folder runelog 0.2.0 was pointed at (the one holding .mlruns/)."
        )


class StoreNotFound(RunelogException):
    def __init__(self, path: str):
        self.path = path
        super().__init__(
            f"There is no runelog store at '{path}' yet. Log a run there first, "
            "or point runelog at the folder that holds .runelog/ (--store or RUNELOG_HOME)."
        )


class ReadOnlyStore(RunelogException):
    def __init__(self):
        super().__init__("This tracker was opened read-only; open it with get_tracker(...) to log or change runs.")


class InvalidAlias(RunelogException, ValueError):
    def __init__(self, alias: str):
        self.alias = alias
        super().__init__(
            f"'{alias}' cannot be a model alias: start with a letter, then use letters, digits, '_', '-' or '.' "
            "(up to 100 characters; 'latest' is reserved)."
        )


class NoStoreFound(StoreNotFound):
    """No `.runelog/` in a folder or any folder above it (how the command line finds its store)."""

    def __init__(self, start: str):
        self.path = start
        RunelogException.__init__(
            self,
            f"No runelog store in '{start}' or any folder above it (looked for a .runelog/ folder). "
            "Run the command inside a project that has logged runs, or point at one with --store PATH "
            "or RUNELOG_HOME.",
        )


class InvalidSortKey(InvalidValue):
    """A sort key that names no column, param or metric: refused instead of silently ignored."""

    def __init__(self, sort_by: str, choices: list[str]):
        self.sort_by = sort_by
        self.choices = list(choices)
        shown = ", ".join(self.choices[:30]) + (", ..." if len(self.choices) > 30 else "")
        super().__init__(f"Cannot sort by '{sort_by}': no run column, param or metric has that name. "
                         f"Valid choices: {shown}.")
