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


class NotFound(RunelogException):
    """Base of every "no such thing" error: experiment, run, artifact, model, dataset, store."""


class InvalidInput(RunelogException):
    """Base of every "the call was wrong" error: a bad argument, or a call made at the wrong time."""


class StoreError(RunelogException):
    """Base of every "the store itself is the problem" error: unreadable, damaged, too new, read-only."""


class ExperimentNotFound(NotFound):
    hint = "List the experiments with tracker.list_experiments()."
    hint_cli = "List the experiments with `runelog experiments list`."

    def __init__(self, experiment_id: str):
        self.experiment_id = experiment_id
        super().__init__(f"Experiment '{experiment_id}' not found. {self.hint}")


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


class ModelVersionNotFound(NotFound):
    hint = "List its versions with tracker.get_model_versions(name)."
    hint_cli = "List its versions with `runelog registry get-versions NAME`."

    def __init__(self, model_name: str, version: str):
        self.model_name = model_name
        self.version = version
        super().__init__(
            f"Model '{model_name}' version '{version}' not found. {self.hint}"
        )


class ModelNotFound(ModelVersionNotFound):
    """An unknown model, which has no versions either.

    0.2.0 raised ModelNotFound for it in load_registered_model and
    ModelVersionNotFound in add_model_tags/get_model_tags; one class that is
    both keeps either `except` clause working.
    """

    hint = "Register it first with tracker.register_model(run_id, artifact_name, model_name)."
    hint_cli = "See the registered models with `runelog registry list`; register one with `runelog registry register`."

    def __init__(self, model_name: str):
        self.model_name = model_name
        self.version = None
        RunelogException.__init__(self,
            f"Model '{model_name}' not found in registry. {self.hint}"
        )


class ArtifactNotFound(NotFound):
    hint = "Check the name with tracker.get_run_details(run_id)['artifacts']."
    hint_cli = "See the run's artifacts with `runelog runs get RUN`."

    def __init__(self, artifact_path: str, run_id: str | None = None):
        self.artifact_path = artifact_path
        self.run_id = run_id
        where = f" in run '{run_id}'" if run_id else ""
        hint = f" {self.hint}" if run_id else " Check that the file exists."
        super().__init__(f"Artifact '{artifact_path}' not found{where}.{hint}")


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


class InvalidExperimentId(InvalidInput):
    def __init__(self, experiment_id: str):
        self.experiment_id = experiment_id
        super().__init__(
            f"Invalid experiment ID format: '{experiment_id}'. Experiment ids are whole numbers such as '0'."
        )


class InvalidRunId(RunNotFound, InvalidInput):
    """A run id that cannot be one ("..", "/"): no run has it, so it is a RunNotFound, as in 0.2.0."""

    def __init__(self, run_id: str):
        self.run_id = run_id
        RunelogException.__init__(self,
            f"Run '{run_id}' not found: that is not a run id (run ids are hexadecimal). "
            "Give the full id or a unique prefix of at least 6 characters."
        )


class InvalidKey(InvalidInput, ValueError):
    """A param, metric or tag key that is empty, too long or not a string."""


class InvalidValue(InvalidInput, ValueError, TypeError):
    """A value that cannot be stored.

    Also a TypeError: 0.2.0 let json.dump raise TypeError for a param it could not write.
    """


class InvalidArtifactName(ArtifactNotFound, InvalidInput, ValueError):
    """A name no artifact can have ('..', absolute, NUL); an ArtifactNotFound, as 0.2.0 said on reads."""

    def __init__(self, name: str, reason: str):
        self.name = name
        self.artifact_path, self.run_id = name, None
        RunelogException.__init__(self,
            f"Invalid artifact name {name!r}: {reason}. "
            "Use a relative name such as 'model.joblib' or 'plots/loss.png'."
        )


class RegistryError(RunelogException):
    pass


class DuplicateModelRegistration(RegistryError, InvalidInput):
    def __init__(self, model_name: str, version: str):
        self.model_name = model_name
        self.version = version
        super().__init__(f"Model '{model_name}' version '{version}' already exists.")


class InvalidModelVersion(RegistryError, ModelVersionNotFound, InvalidInput):
    """A version that is no whole number ("abc", "0", "²"): 0.2.0 said ModelVersionNotFound for it."""

    def __init__(self, version: str):
        self.version = version
        self.model_name = None
        RunelogException.__init__(self,
            f"Invalid model version format: '{version}'. Use a whole number such as '1', or 'latest'."
        )


class NoVersionsFound(ModelNotFound):
    version = "latest"

    hint = "Register one with tracker.register_model()."
    hint_cli = "Register one with `runelog registry register RUN ARTIFACT NAME`."

    def __init__(self, model_name: str):
        self.model_name = model_name
        RunelogException.__init__(self, f"No versions found for model '{model_name}'. {self.hint}")


class CorruptedMetadata(StoreError):
    def __init__(self, file_path: str):
        self.file_path = file_path
        super().__init__(f"Corrupted or unreadable metadata file: {file_path}")


class InsufficientPermissions(StoreError, PermissionError):
    """Also a PermissionError, which 0.2.0 raised where the filesystem said no."""

    def __init__(self, path: str, operation: str):
        self.path = path
        self.operation = operation
        super().__init__(
            f"Insufficient permissions to {operation} at: {path}. Check the folder's owner and mode."
        )


class StorageError(StoreError, OSError):
    """A filesystem operation failed; also an OSError, as 0.2.0's file operations raised."""

    def __init__(self, operation: str, path: str, original_error: Exception | None = None):
        self.operation = operation
        self.path = path
        self.original_error = original_error
        details = f": {original_error}" if original_error else ""
        super().__init__(f"Storage error during {operation} at {path}{details}")


class StoreUnreadable(StoreError):
    """The metadata database exists but is not a runelog store (or is damaged)."""

    def __init__(self, path: str, reason: str, advice: str | None = None):
        self.path = path
        self.reason = reason
        # Restoring from .runelog/backups/ is only advised by the caller, when copies are there.
        super().__init__(
            f"Cannot open the runelog database '{path}': {reason}. Nothing was changed. "
            + (advice or "Point runelog at another folder, or restore the file from a copy if you have one.")
        )


class SchemaTooNew(StoreError):
    def __init__(self, found: str, known: str):
        self.found = found
        self.known = known
        super().__init__(
            f"This store's schema is at revision '{found}', which this runelog does not know "
            f"(it knows up to '{known}'). Upgrade runelog: pip install -U runelog."
        )


class SchemaOutdated(StoreError):
    def __init__(self, found: str | None, required: str):
        self.found = found
        self.required = required
        have = f"revision '{found}'" if found else "no runelog schema"
        super().__init__(
            f"The database has {have}; this runelog needs revision '{required}'. "
            "Run `runelog db upgrade` to migrate it."
        )


class MigrationFailed(StoreError):
    def __init__(self, error: Exception, backup: str | None):
        self.backup = backup
        where = f" A copy of the database from before the upgrade is at {backup}." if backup else ""
        super().__init__(f"Upgrading the store's schema failed: {error}.{where}")


class BlobCorrupted(StoreError):
    def __init__(self, sha256: str, actual: str | None = None, context: str = ""):
        self.sha256 = sha256
        self.actual = actual
        got = f" (its bytes now hash to {actual})" if actual else ""
        ctx = f" for {context}" if context else ""
        super().__init__(
            f"Blob {sha256}{ctx} is corrupted{got}; refusing to hand over its bytes. "
            "Run `runelog verify` and log the file again."
        )


class BlobMissing(StoreError):
    def __init__(self, sha256: str, context: str = ""):
        self.sha256 = sha256
        ctx = f" for {context}" if context else ""
        super().__init__(
            f"Blob {sha256}{ctx} is missing from the blob store. "
            "Restore the blobs folder from a backup, or log the file again."
        )


class DvcFileError(InvalidInput):
    def __init__(self, path: str, reason: str):
        self.path = path
        super().__init__(
            f"Cannot read DVC file '{path}': {reason}. Run `dvc add <data file>` to create it."
        )


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


class QueryFailed(InvalidInput):
    def __init__(self, statement: str, reason: str):
        self.statement = statement
        short = " ".join(statement.split())
        super().__init__(
            f"The query failed: {reason}. Query: {short[:200]}. "
            "Ad-hoc SQL is read-only; see docs/sql.md for the tables and views."
        )


class SweepConfigError(InvalidInput, ValueError):
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


class LegacyStoreNotFound(NotFound):
    def __init__(self, path: str):
        self.path = path
        super().__init__(
            f"No runelog 0.2.0 store at '{path}': it has neither a .mlruns nor a .registry folder. "
            "Give the folder runelog 0.2.0 was pointed at (the one holding .mlruns/)."
        )


class StoreNotFound(NotFound):
    def __init__(self, path: str):
        self.path = path
        super().__init__(
            f"There is no runelog store at '{path}' yet. Log a run there first, "
            "or point runelog at the folder that holds .runelog/ (--store or RUNELOG_HOME)."
        )


class ReadOnlyStore(StoreError):
    def __init__(self):
        super().__init__("This tracker was opened read-only; open it with get_tracker(...) to log or change runs.")


class InvalidAlias(InvalidInput, ValueError):
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
        super().__init__(f"Cannot sort runs by '{sort_by}'; valid choices: {shown}.")


class InvalidFilter(InvalidInput, ValueError):
    """A run filter or order_by text that does not parse: the message points a caret at the problem."""

    def __init__(self, text: str, reason: str, position: int | None = None):
        self.filter = text
        self.reason = reason
        self.position = position  # 0-based offset into `text`, or None when the whole text is at fault
        shown = text
        where = ""
        if position is not None:
            line_start = text.rfind("\n", 0, position) + 1
            line_end = text.find("\n", position)
            shown = text[line_start:line_end if line_end != -1 else len(text)]
            where = f" at column {position - line_start + 1}"
            shown += "\n    " + " " * (position - line_start) + "^"
        super().__init__(
            f"Invalid filter{where}: {reason}.\n    {shown}\n"
            "Write comparisons like metrics.val_acc > 0.9 and params.lr < 0.1 and tags.stage = 'prod' "
            "(see docs/querying.md)."
        )


class SweepFileNotFound(SweepConfigError, NotFound, FileNotFoundError):
    """A sweep's YAML file or its CSV dataset is not there (0.2.0 raised FileNotFoundError)."""


class SweepRunsFailed(RunelogException, RuntimeError):
    """Some runs of a sweep failed; every run was still tried and recorded."""

    def __init__(self, experiment_name: str, failed: list[tuple[str, str]], total: int):
        self.experiment_name = experiment_name
        self.failed = failed
        shown = "; ".join(f"{spec_id}: {error}" for spec_id, error in failed[:5])
        more = f"; and {len(failed) - 5} more" if len(failed) > 5 else ""
        super().__init__(
            f"{len(failed)} of {total} sweep runs failed ({shown}{more}). Every run was recorded in "
            f"experiment '{experiment_name}'; see the failed ones with "
            f"`runelog runs list \"{experiment_name}\" --status FAILED`."
        )


class StoreEmpty(StoreUnreadable):
    """runelog.db exists but has no bytes: not a store, and never silently made into a new one."""

    def __init__(self, path: str, advice: str | None = None):
        StoreUnreadable.__init__(
            self, path, "the file is empty (0 bytes), so it holds no runs",
            advice or "If it was created by mistake, delete it and runelog will make a new store; "
                      "if runs should be in it, restore it from a copy (one made with `runelog backup`).")


class StoreDamaged(StoreUnreadable):
    """SQLite found a damaged page (or a file that stopped being a database) while reading."""

    def __init__(self, path: str, detail: str, advice: str | None = None):
        StoreUnreadable.__init__(
            self, path, f"SQLite reports the file is damaged ({detail})",
            advice or "Save what can be read with `sqlite3 runelog.db .recover > recovered.sql`, "
                      "or restore the file from a copy (one made with `runelog backup`).")


class StoreNotWritable(StorageError):
    """The store's file, folder or filesystem is read-only: reads may work, writes cannot."""

    def __init__(self, path: str, detail: str):
        self.operation, self.path, self.original_error = "write", path, None
        RunelogException.__init__(
            self, f"Cannot write to the runelog store '{path}': {detail}. Nothing was written. "
                  "Make the folder and runelog.db writable (or mount the filesystem read-write), "
                  "or copy the .runelog folder somewhere writable and use the copy.")


class StoreDiskFull(StorageError):
    """The disk (or quota) holding the store is full; the failed transaction was rolled back."""

    def __init__(self, path: str, detail: str = "database or disk is full", new: bool = False):
        self.operation, self.path, self.original_error = "write", path, None
        self.detail, self.new = detail, new
        outcome = ("No store was created." if new else
                   "Whatever failed was rolled back; what was stored before is intact.")
        RunelogException.__init__(
            self, f"The disk holding the runelog store '{path}' is full ({detail}). {outcome} "
                  "Free some space and try again.")


class StoreIOError(StorageError):
    """The operating system reported an I/O error under the store."""

    def __init__(self, path: str, detail: str):
        self.operation, self.path, self.original_error = "I/O", path, None
        RunelogException.__init__(
            self, f"A disk error occurred on the runelog store '{path}' ({detail}). Whatever failed "
                  "was rolled back. Check the disk (dmesg, free space), then try again.")


class BackupNotSupported(StoreError):
    def __init__(self, database_url: str):
        self.database_url = database_url
        super().__init__(
            f"tracker.backup / `runelog backup` copies a local SQLite store; this store's metadata is in "
            f"a server database ({database_url}). Back it up with the server's tool, e.g. "
            "`pg_dump --format=custom --file runelog.dump DBNAME`, and copy the artifact folder "
            "(see docs/team.md).")


class BackupTargetExists(InvalidInput):
    def __init__(self, path: str):
        self.path = path
        super().__init__(
            f"'{path}' already holds a runelog store; a backup never overwrites one. "
            "Give a new (or empty) folder, or delete the old backup first.")


class SqlNotAllowed(QueryFailed):
    """Ad-hoc SQL (`runelog sql`) that is not one reading statement: refused, nothing was run or changed."""

    def __init__(self, statement: str, reason: str):
        self.statement = statement
        self.reason = reason
        short = " ".join(statement.split())
        RunelogException.__init__(
            self,
            f"Refused: {reason}. runelog sql runs exactly one reading statement per call (SELECT, "
            f"WITH ... SELECT, VALUES, or EXPLAIN of one) on a read-only connection, so nothing was changed. "
            f"Query: {short[:200]}. Change a store through the runelog API or commands; see docs/sql.md.",
        )


import pickle as _pickle  # noqa: E402  (for ModelNotSerialisable's base; pickle is stdlib and cheap)


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


class InvalidExperimentName(InvalidKey, ExperimentNotFound):
    """An empty or blank experiment name: refused when creating, and no experiment has it when reading."""

    def __init__(self, name: str):
        self.experiment_id = name
        RunelogException.__init__(
            self, f"The experiment name {name!r} is empty or blank; give the experiment a name "
                  "(or leave experiment_name out to use the default experiment).")


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


class StoreBusy(StoreError):
    """Another connection held the store's write lock for longer than runelog waits for it."""

    def __init__(self, what: str, seconds: float, detail: str = ""):
        self.seconds = seconds
        why = f" ({detail})" if detail else ""
        RunelogException.__init__(
            self, f"The store stayed locked by another program for {seconds:g} s{why}, so {what} could not be "
                  "written yet. Find the process holding a long write transaction on the store (a `sqlite3` shell "
                  "inside BEGIN, another tool), let it finish, and try again.")


class MetricsNotStored(StoreError):
    """Metric points could not be written to the store (kept in memory and retried, or lost at run end)."""

    def __init__(self, run_id: str, count: int, cause: object, lost: bool):
        self.run_id, self.count, self.lost = run_id, count, lost
        fate = ("They are lost: the run ended before the store could take them."
                if lost else "They are kept in memory, in order, and retried in the background.")
        RunelogException.__init__(
            self, f"{count} metric points of run '{run_id}' could not be written to the store ({cause}). {fate} "
                  "Fix what stops the store from being written (free disk space, end the program holding its "
                  "lock); tracker.flush() tries again at once.")


class SweepOptionError(InvalidInput, ValueError):
    """A bad argument to run_sweep itself (not in the YAML file): the message says which and what to pass."""


class StorePathNotAFolder(StoreUnreadable, NotADirectoryError):
    """Part of the store's path is a file (get_tracker("notes.txt")); 0.2.0 raised NotADirectoryError."""


class BackupFailed(StorageError):
    """A backup stopped part-way (full disk, I/O error): its temp folder was removed and DEST left as it was."""

    def __init__(self, dest: str, cause: str, work: str, removed: bool):
        self.operation, self.path, self.original_error = "backup", dest, None
        self.dest, self.work, self.removed = dest, work, removed
        RunelogException.__init__(self, f"The backup to '{dest}' failed: {cause} {self.outcome(dest, work, removed)}")

    @staticmethod
    def outcome(dest: str, work: str, removed: bool, again: str = "Fix the cause and run the backup again.") -> str:
        kept = ("The partial copy was removed" if removed else
                f"The partial copy could not be removed: delete the folder '{work}'")
        return f"{kept}; nothing was written to '{dest}', and the store being backed up was not changed. {again}"

    @classmethod
    def of(cls, cause: Exception, dest: str, work: str, removed: bool) -> BackupFailed:
        kind = BackupDiskFull if isinstance(cause, StoreDiskFull) else cls
        text = getattr(cause, "detail", None) if isinstance(cause, StoreDiskFull) else None
        return kind(dest, f"the disk is full ({text})." if text else f"{cause}", work, removed)


class BackupDiskFull(BackupFailed, StoreDiskFull):
    """No room left where the backup was being written; nothing of it was kept."""

    def __init__(self, dest: str, cause: str, work: str, removed: bool):
        self.detail, self.new = cause, True
        BackupFailed.__init__(self, dest, cause, work, removed)


class BackupTargetInsideStore(InvalidInput):
    """`runelog backup .runelog`: a backup inside the folder it copies would copy itself and die with the store."""

    def __init__(self, dest: str, store_folder: str):
        self.dest, self.store_folder = dest, store_folder
        super().__init__(
            f"'{dest}' is inside the folder of the store being backed up ('{store_folder}'); a backup there "
            "would copy itself and be lost with the store. Give a folder outside it, e.g. "
            "`runelog backup ../runelog-backup`.")
