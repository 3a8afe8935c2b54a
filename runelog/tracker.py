"""RuneLog: the user API. It holds the active run and delegates everything else.

Every call of runelog 0.2.0 is here with the same name, arguments and return
shape; the work happens in the service modules over one SQLite (or
PostgreSQL) database and a content-addressed blob store.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import warnings
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import (capture, codec, datasets, db, exceptions, interrupts, lineage, liveness, maintenance, progress,
               registry, results, runs)
from .blobs import BlobStore, CollectReport, check_digest, hash_file
from .run_writer import RunWriter

log = logging.getLogger("runelog")


class RuneLog:
    """A tracker bound to one store.

    Args:
        path: folder holding `.runelog/` (default: $RUNELOG_HOME, else ".").
        database_url: SQLAlchemy URL for the metadata (default: the local SQLite file).
        artifact_root: folder for blobs (default: `.runelog/blobs`).
        metric_buffer: metric points held in memory before a write; 0 writes each at once.
        flush_interval: seconds after which waiting metric points are written regardless.
        heartbeat_interval: seconds between refreshes of an open run's heartbeat.
        read_only: never create, migrate or write (for viewers such as the UI).
    """

    def __init__(self, path: str | os.PathLike | None = None, *, database_url: str | None = None,
                 artifact_root: str | os.PathLike | None = None, metric_buffer: int = 1000,
                 flush_interval: float = 1.0, heartbeat_interval: float = liveness.HEARTBEAT_SECONDS,
                 read_only: bool = False):
        self.location = db.locate(path, database_url, artifact_root)
        self.root_path = str(Path(path if path is not None else os.environ.get("RUNELOG_HOME", ".")).resolve())
        self._engine = db.open_database(self.location, read_only=read_only)
        self.read_only = read_only
        self._blobs = BlobStore(self.location.blob_dir, self.location.tmp_dir)
        self._metric_buffer_size = metric_buffer
        self._flush_interval = flush_interval
        self._heartbeat_interval = heartbeat_interval
        self._active_run_id: str | None = None
        self._active_experiment_id: str | None = None
        self._buffer: RunWriter | None = None
        self._experiment_ids: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"RuneLog({self.location.database_url!r})"

    # ------------------------------------------------------------ plumbing

    @contextlib.contextmanager
    def _write(self) -> Iterator[Session]:
        if self.read_only:
            raise exceptions.ReadOnlyStore()
        try:
            with interrupts.deferred(), db.write_session(self._engine) as session:  # no signal half-way through
                yield session
        except IntegrityError:
            # The active run's row may have been deleted (by another process): say so, not a raw error.
            run_id = self._active_run_id
            if run_id is not None and self.get_run(run_id) is None:
                raise exceptions.RunDeleted(run_id) from None
            raise

    @contextlib.contextmanager
    def _read(self) -> Iterator[Session]:
        self.flush()  # a read sees everything this tracker has logged
        with db.read_session(self._engine) as session:
            yield session

    def _run(self) -> str:
        if not self._active_run_id:
            raise exceptions.NoActiveRun()
        return self._active_run_id

    def flush(self) -> None:
        """Write buffered metric points now."""
        if self._buffer is not None:
            self._buffer.flush()

    def close(self) -> None:
        """Flush, checkpoint the WAL into runelog.db and release the database connections.

        After close() (and after any normal interpreter exit) runelog.db alone is the whole store.
        """
        self.flush()
        db.close_engine(self._engine, checkpoint_first=not self.read_only)

    def backup(self, dest: str | os.PathLike, blobs: bool = True):
        """Copy this store, safely while other processes write to it, into the new folder `dest`.

        The copy is a store of its own: `dest/.runelog/runelog.db` (one consistent
        snapshot, by SQLite's online backup API) and, unless `blobs=False`, the blobs
        its rows reference, re-hashed on the way. Open it with get_tracker(dest).
        All or nothing: built in a temp folder and renamed to `dest` once whole and
        checked; on a failure (BackupFailed, BackupDiskFull) or Ctrl-C the partial
        copy is removed. Raises BackupTargetExists if `dest` holds a store,
        BackupTargetInsideStore if it lies inside this store's folder or artifact
        root, and BackupNotSupported on PostgreSQL (use pg_dump).
        Returns a `runelog.backup.BackupReport`.

            report = tracker.backup("/mnt/backups/runelog-2026-06-01")
            print(report.runs, report.blobs, report.problems)
        """
        from . import backup

        self.flush()
        return backup.backup_store(self.location, self._blobs, dest, copy_blobs=blobs)

    # ------------------------------------------------------------ experiments

    def get_or_create_experiment(self, name: str) -> str:
        with self._write() as s:
            return str(runs.get_or_create_experiment(s, name))

    def list_experiments(self) -> list[dict]:
        with self._read() as s:
            return [{"experiment_id": e["experiment_id"], "name": e["name"]}
                    for e in results.experiment_summaries(s)]

    def get_experiment(self, experiment_id: str) -> dict | None:
        """An experiment's id and name, or None if there is none with that id."""
        with self._read() as s:
            return runs.experiment_by_id(s, experiment_id)

    def delete_experiment(self, experiment_name_or_id: str) -> None:
        """Delete an experiment with all its runs. Their blobs go at the next `gc()`."""
        with self._write() as s:
            experiment = runs.resolve_experiment(s, experiment_name_or_id)
            if self._active_experiment_id == str(experiment.id):
                raise exceptions.RunelogException(
                    f"Experiment '{experiment.name}' holds the active run {self._active_run_id}; "
                    "finish the run before deleting the experiment.")
            runs.delete_experiment(s, experiment)
        self._experiment_ids.clear()

    def get_experiment_runs(self, experiment_id: str, sort_by: str | None = "timestamp",
                            ascending: bool = True) -> list[dict]:
        with self._read() as s:
            return results.experiment_runs(s, experiment_id, sort_by, ascending)

    def get_experiment_summaries(self, sort_by: str | None = None, ascending: bool = True) -> list[dict]:
        with self._read() as s:
            return results.experiment_summaries(s, sort_by, ascending)

    # ------------------------------------------------------------ runs

    @contextlib.contextmanager
    def start_run(self, experiment_name: str | None = None, experiment_id: str = "0",
                  log_git_meta: bool = True, log_env: bool = False, log_code: bool = True,
                  run_name: str | None = None) -> Iterator[str]:
        """Start a run as a context manager that yields its id.

        A normal exit records FINISHED; an exception records FAILED with its type
        and message (and propagates); KeyboardInterrupt and SIGTERM record KILLED.
        While the run is open a heartbeat thread refreshes `heartbeat_at`.
        """
        if self._active_run_id:
            raise exceptions.RunAlreadyActive(self._active_run_id)
        if self.read_only:
            raise exceptions.ReadOnlyStore()
        if run_name is not None:
            codec.check_key(run_name, "run name")
        git = capture.git_state() if log_git_meta else capture.GitState()
        environment = capture.environment() if log_env else None
        columns = dict(name=run_name, host=capture.host(), pid=os.getpid(), git_commit=git.commit,
                       git_branch=git.branch, git_dirty=git.dirty,
                       environment=json.dumps(environment) if environment else None)
        run_id = runs.new_run_id()
        writer = RunWriter(self._engine, run_id, self._metric_buffer_size, self._flush_interval)

        def create(connection) -> int:
            experiment = self._experiment_for(connection, experiment_name, experiment_id)
            runs.create_run(connection, run_id, experiment, **columns)
            return experiment

        try:
            try:
                experiment = writer.write(create, "the new run")
            except IntegrityError:  # a remembered experiment was deleted meanwhile: look it up afresh
                self._experiment_ids.clear()
                experiment = writer.write(create, "the new run")
        except BaseException:
            writer.discard()
            raise
        self._active_run_id, self._active_experiment_id = run_id, str(experiment)
        self._buffer = writer
        # From here SIGTERM and Ctrl-C end the run KILLED (one handler for every open run: interrupts).
        writer.open(heartbeat=self._heartbeat_interval)
        status, error = "FINISHED", None
        try:
            if environment:
                self._log_requirements(environment)
            if log_code:
                self._log_code()
            yield run_id
        except KeyboardInterrupt:
            status, error = "KILLED", "KeyboardInterrupt"
            raise
        except exceptions.RunTerminated as exc:
            status, error = "KILLED", interrupts.SIGNAL_ERRORS.get(exc.signum, f"signal {exc.signum}")
            raise
        except SystemExit as exc:
            if exc.code not in (None, 0):
                status, error = "FAILED", f"SystemExit: {exc.code}"
            raise
        except BaseException as exc:
            status, error = "FAILED", f"{type(exc).__name__}: {exc}"
            raise
        finally:
            self._buffer = None
            try:
                writer.end(status, error)  # the waiting points and the status, in one transaction
            except exceptions.MetricsNotStored as exc:
                if status == "FINISHED":
                    raise
                warnings.warn(str(exc), RuntimeWarning, stacklevel=3)  # do not hide the exception ending the run
            finally:
                self._active_run_id = self._active_experiment_id = None
                db.checkpoint_after_run(self._engine)  # runelog.db stays the whole store between runs

    def _experiment_for(self, connection, experiment_name: str | None, experiment_id: Any) -> int:
        """The experiment id for a new run; remembered, so a loop of runs asks the database once."""
        key = f"#{experiment_id}" if experiment_name is None else f"name:{experiment_name}"  # "" is refused
        if key not in self._experiment_ids:
            self._experiment_ids[key] = runs.experiment_id_for(connection, experiment_name, experiment_id)
        return self._experiment_ids[key]

    def _log_requirements(self, environment: dict) -> None:
        with self._blobs.new_file() as tmp:
            tmp.write_text(capture.requirements_txt(environment))
            self._store_artifact(tmp, "requirements.txt", adopt=True)

    def _log_code(self) -> None:
        if "ipykernel" in sys.modules:
            warnings.warn(
                "runelog cannot log a notebook's code by itself; log it with "
                "tracker.log_artifact('path/to/notebook.ipynb').", stacklevel=3)
            return
        script = capture.script_path()
        if script:
            self.log_artifact(script)

    def get_run(self, run_id: str) -> dict | None:
        """A run's meta, `param_`-prefixed params and latest metric values; None if unknown."""
        try:
            with self._read() as s:
                run = runs.get_run_row(s, runs.resolve_run_id(s, run_id))
                params = {f"param_{k}": v for k, v in runs.params_of(s, run.id).items()}
                meta = dict(runs.run_meta(run), tags=runs.tags_of(s, run.id))
                return {**meta, **params, **runs.latest_metrics_of(s, run.id)}
        except exceptions.AmbiguousRunId:
            raise  # a prefix of several runs: say so rather than pretend there is none
        except exceptions.RunNotFound:  # unknown or malformed ("..", "/"): None, as in 0.2.0
            return None

    def get_run_details(self, run_id: str) -> dict | None:
        """meta, params, metrics (latest values), artifacts (names), datasets, inputs; None if unknown."""
        try:
            with self._read() as s:
                run = runs.get_run_row(s, runs.resolve_run_id(s, run_id))
                details = {
                    "meta": dict(runs.run_meta(run), tags=runs.tags_of(s, run.id)),
                    "params": runs.params_of(s, run.id),
                    "metrics": runs.latest_metrics_of(s, run.id),
                    "artifacts": [a["name"] for a in runs.artifacts_of(s, run.id)],
                    "datasets": datasets.datasets_of(s, run.id),
                    "inputs": lineage.inputs_of(s, run.id),
                }
                environment = runs.environment_of(run)
                if environment:
                    details["environment"] = environment
                return details
        except exceptions.AmbiguousRunId:
            raise
        except exceptions.RunNotFound:
            return None

    def list_artifacts(self, run_id: str) -> list[dict]:
        """Name, sha256, size and time of each artifact of a run."""
        with self._read() as s:
            return runs.artifacts_of(s, runs.resolve_run_id(s, run_id))

    def delete_run(self, run_id: str) -> None:
        """Delete a run and its records. Its blobs go at the next `gc()` if nothing else uses them."""
        with self._write() as s:
            full_id = runs.resolve_run_id(s, run_id)
            if full_id == self._active_run_id:
                raise exceptions.RunelogException(
                    f"Run {full_id} is active; finish it before deleting it.")
            runs.delete_run(s, full_id)

    def find_runs(self, experiment: str, tags: dict | None = None, status: str | list[str] | None = None,
                  order_by: str = "start_time", descending: bool = True,
                  limit: int | None = None) -> list[dict]:
        """Runs of an experiment matching every tag given, newest first: one SQL query."""
        if order_by not in results.RUN_ORDER_COLUMNS:
            raise exceptions.InvalidSortKey(order_by, sorted(results.RUN_ORDER_COLUMNS))
        with self._read() as s:
            return results.find_runs(s, experiment, tags=tags, status=status, order_by=order_by,
                                     descending=descending, limit=limit)

    def latest_run(self, experiment: str, tags: dict | None = None,
                   status: str | list[str] | None = "FINISHED") -> str | None:
        """Id of the newest run of `experiment` carrying every tag given (FINISHED ones by default)."""
        self.flush()
        with db.read_connection(self._engine) as connection:
            return results.latest_run_id(connection, experiment, tags, status)

    def load_results(self, experiment_name_or_id: str, sort_by: str | None = None,
                     ascending: bool = True):
        """A DataFrame indexed by run_id: experiment_id, status, start/end time, param_*, metrics."""
        self.flush()
        with db.read_connection(self._engine) as connection:
            return results.load_results(connection, experiment_name_or_id, sort_by, ascending)

    def list_runs(self, experiment: str, tags: dict | None = None, status: str | list[str] | None = None,
                  sort_by: str | None = None, descending: bool = False,
                  limit: int | None = None) -> list[dict]:
        """Runs with their params and latest metrics as dicts (no pandas), filtered and sorted.

        `sort_by` is a run column (start_time, status, ...), `param_<key>`, or a metric key of the
        experiment; anything else raises InvalidSortKey (a ValueError) listing the valid choices.
        """
        with self._read() as s:
            rows = results.run_table(s, experiment, tags=tags, status=status, sort_by=sort_by,
                                     descending=descending, limit=limit)
            if sort_by is None or sort_by in results.RUN_ORDER_COLUMNS or _sort_keys(rows) >= {sort_by}:
                return rows
            # Not among these runs: valid if another run of the experiment has it (a filter hid it).
            everyone = results.run_table(s, experiment) if (tags or status) else rows
            choices = _sort_keys(everyone)
            if everyone and sort_by not in choices:  # an experiment with no runs has nothing to sort
                raise exceptions.InvalidSortKey(sort_by, sorted(results.RUN_ORDER_COLUMNS) + sorted(choices))
            return rows

    def experiment_overview(self, metric: str | None = None, lower_is_better: bool = False) -> list[dict]:
        """Every experiment with run counts by status, last run time, and its best value of `metric`."""
        with self._read() as s:
            return results.experiment_overview(s, metric, lower_is_better)

    def list_metric_keys(self, experiment: str | None = None) -> list[str]:
        """Metric keys logged in an experiment (or in the whole store)."""
        with self._read() as s:
            return results.metric_keys(s, experiment)

    def get_metric_summary(self, run_id: str) -> list[dict]:
        """Each metric of a run: latest value, its step, and the number of points."""
        with self._read() as s:
            return results.metric_summary(s, runs.resolve_run_id(s, run_id))

    def get_metric_history(self, run_id: str, key: str):
        """Every point of a metric: a DataFrame of step, value, timestamp."""
        with self._read() as s:
            return results.metric_history(s, runs.resolve_run_id(s, run_id), key)

    # ------------------------------------------------------------ logging

    def log_param(self, key: str, value: Any) -> None:
        self.log_params({key: value})

    log_parameter = log_param  # the name the 0.2.0 docs used

    def log_params(self, params: dict[str, Any]) -> None:
        run_id = self._run()
        encoded = {codec.check_key(k, "param key"): codec.encode_value(k, v, "param")
                   for k, v in params.items()}
        self._buffer.write(lambda c: runs.write_params(c, run_id, encoded), "the params")

    def log_metric(self, key: str, value: float, step: int | None = None) -> None:
        """Log one metric point; `step` defaults to one past this key's last step."""
        self._run()
        self._buffer.add({key: value}, step)

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        self._run()
        self._buffer.add(metrics, step)  # all are checked before any is queued

    def set_tag(self, key: str, value: Any) -> None:
        run_id = self._run()
        encoded = {codec.check_key(key, "tag key"): codec.encode_value(key, value, "tag")}
        self._buffer.write(lambda c: runs.write_tags(c, run_id, encoded), "the tag")

    def set_run_tags(self, tags: dict[str, Any]) -> None:
        """Replace all tags of the active run with `tags`."""
        run_id = self._run()
        encoded = {codec.check_key(k, "tag key"): codec.encode_value(k, v, "tag") for k, v in tags.items()}
        self._buffer.write(lambda c: runs.write_tags(c, run_id, encoded, replace=True), "the tags")

    def get_run_tags(self, run_id: str | None = None) -> dict:
        """Tags of a run (the active one by default)."""
        with self._read() as s:
            return runs.tags_of(s, self._run() if run_id is None else runs.resolve_run_id(s, run_id))

    def log_artifact(self, local_path: str | os.PathLike, name: str | None = None) -> None:
        """Store a file (or every file under a folder) in the blob store, named for the run.

        A file is named by its basename and a folder's files by `<folder>/<relative path>`,
        unless `name` is given. A folder is logged whole or not at all: if any file
        cannot be read, ArtifactUnreadable is raised and nothing of the call is recorded.
        """
        run_id = self._run()
        source = Path(local_path)
        if source.is_dir():
            base = codec.check_artifact_name(name or source.resolve().name, new=True)
            files = sorted(p for p in source.rglob("*") if p.is_file())
            pairs = [(p, f"{base}/{p.relative_to(source).as_posix()}") for p in files]
        elif source.is_file():
            pairs = [(source, name or source.name)]
        else:
            raise exceptions.ArtifactNotFound(str(local_path))
        for _, artifact_name in pairs:
            codec.check_artifact_name(artifact_name, new=True)
        self._store_artifacts(pairs, run_id)

    def _store_artifact(self, path: Path, name: str, adopt: bool = False, run_id: str | None = None) -> str:
        codec.check_artifact_name(name, new=True)
        return self._store_artifacts([(Path(path), name)], run_id or self._run(), adopt=adopt)[0]

    def _store_artifacts(self, pairs: list[tuple[Path, str]], run_id: str, adopt: bool = False) -> list[str]:
        """Record files as artifacts, all or nothing; returns their digests.

        Every file is read and hashed into a scratch folder first, so a file that
        cannot be read fails the call before anything is recorded. Then one
        transaction, holding the blob lock that gc needs to delete, moves the
        blobs into place (or confirms the store still has them) and commits every
        row: a blob is never collected between being placed and being referenced.
        `adopt`: the paths are `new_file()`s written for this, moved in without a copy.
        """
        with self._blobs.batch() as batch:
            staged = []
            for path, name in pairs:
                if adopt:
                    staged.append(batch.adopt(path))
                    continue
                try:
                    size = path.stat().st_size
                    with progress.bar(size, f"logging {name}", progress.BIG_FILE, in_bytes=True) as advance:
                        staged.append(batch.add(path, advance))
                except OSError as exc:
                    raise exceptions.ArtifactUnreadable.of(str(path), exc) from exc
            with self._write() as s:
                maintenance.hold_blobs(s)
                batch.place()
                runs.write_artifacts(s, run_id, [(name, blob.digest, blob.size)
                                                 for (_, name), blob in zip(pairs, staged)])
        return [blob.digest for blob in staged]

    def log_model(self, model: Any, name: str, compress: int = 3) -> None:
        """Pickle a model with joblib straight into the blob store, as artifact `name`.

        An object that cannot be pickled (a lambda, a local function, a generator)
        raises ModelNotSerialisable (a PicklingError, as in 0.2.0) and records nothing.
        """
        import pickle

        import joblib

        run_id = self._run()
        codec.check_artifact_name(name, new=True)
        with self._blobs.new_file() as tmp:
            try:
                joblib.dump(model, tmp, compress=compress)
            except (pickle.PicklingError, TypeError, AttributeError) as exc:
                raise exceptions.ModelNotSerialisable(name, exc) from exc
            self._store_artifacts([(tmp, name)], run_id, adopt=True)

    def log_dataset(self, data_path: str | os.PathLike, name: str) -> None:
        """Record a file's fingerprint (hash, size; rows, columns, schema for parquet) without copying it."""
        if not Path(data_path).is_file():  # checked before the active run, as 0.2.0 did
            raise exceptions.ArtifactNotFound(str(data_path))
        run_id = self._run()
        found = datasets.fingerprint(data_path)
        with self._write() as s:
            datasets.record(s, run_id, name, "file", found)

    def log_dvc_input(self, data_path: str | os.PathLike, name: str) -> None:
        """Record the md5 DVC keeps for `data_path` in `<data_path>.dvc`.

        Without a .dvc file it warns (a UserWarning, as 0.2.0 did) and the run goes
        on; if the data file itself is there, it is recorded by its SHA-256
        fingerprint (as log_dataset does), so the run's lineage is not lost.
        """
        if not datasets.dvc_file_for(data_path).is_file():
            found = None
            if self._active_run_id and Path(data_path).is_file():
                found = datasets.fingerprint(data_path)
                with self._write() as s:
                    datasets.record(s, self._active_run_id, name, "file", found)
            warnings.warn(datasets.missing_dvc_file_warning(data_path, found is not None), UserWarning,
                          stacklevel=2)
            return
        run_id = self._run()
        found = datasets.read_dvc_file(data_path)
        with self._write() as s:
            datasets.record(s, run_id, name, "dvc", found)

    def log_input_run(self, name: str, run_id: str, artifact_name: str | None = None) -> None:
        """Link the active run to a run it used, pinning the artifact's SHA-256 when named."""
        active = self._run()
        with self._write() as s:
            lineage.record_input(s, active, name, runs.resolve_run_id(s, run_id), artifact_name)

    def verify_dataset(self, run_id: str, name: str, local_path: str | os.PathLike) -> dict:
        """Re-hash `local_path` against the fingerprint `run_id` logged as `name`; DatasetMismatch if not equal."""
        with self._read() as s:
            row = datasets.get_fingerprint(s, runs.resolve_run_id(s, run_id), name)
        return datasets.verify_file(row, local_path)

    def verify_input(self, run_id: str, name: str, local_path: str | os.PathLike | None = None) -> dict:
        """Check the bytes an input link pinned: a local copy if given, else the stored blob.

        Raises DatasetMismatch (local file differs), BlobCorrupted or BlobMissing.
        """
        with self._read() as s:
            link = lineage.input_link(s, runs.resolve_run_id(s, run_id), name)
            size = runs.artifact_size(s, link.source_run_id, link.artifact_name, link.sha256)
        if link.sha256 is None:
            raise exceptions.InputNotPinned(name, link.run_id)
        if local_path is None:
            self._blobs.verify(link.sha256, f"input '{name}' of run {link.run_id}")
        else:
            actual, actual_size = hash_file(local_path) if Path(local_path).is_file() else (None, None)
            if actual is None:
                raise exceptions.ArtifactNotFound(str(local_path))
            if actual != link.sha256:
                raise exceptions.DatasetMismatch(name, str(local_path), link.source_run_id or "(deleted)",
                                                 link.sha256, actual, size, actual_size)
        return {"name": link.name, "run_id": link.run_id, "source_run_id": link.source_run_id,
                "artifact_name": link.artifact_name, "sha256": link.sha256}

    # ------------------------------------------------------------ lineage queries

    def get_lineage(self, run_id: str, direction: str = "upstream", depth: int | None = None) -> list[dict]:
        """Runs upstream (what it used) or downstream (what used it) of a run, through any number of hops."""
        with self._read() as s:
            return lineage.get_lineage(s, runs.resolve_run_id(s, run_id), direction, depth)

    def runs_using(self, sha256: str) -> list[dict]:
        """Every run that logged, fingerprinted or consumed the bytes with this SHA-256."""
        with self._read() as s:
            return lineage.runs_using(s, check_digest(sha256))

    def models_trained_on(self, run_id_or_sha256: str | None = None, *,
                          path: str | os.PathLike | None = None) -> list[dict]:
        """Model versions trained downstream of a run, or on a file's exact bytes (a SHA-256 or a path)."""
        if path is not None:
            run_id_or_sha256 = hash_file(path)[0]
        if not isinstance(run_id_or_sha256, str):
            raise TypeError("Give a run id, a SHA-256, or path=.")
        with self._read() as s:
            if len(run_id_or_sha256) == 64:
                return lineage.models_trained_on(s, sha256=check_digest(run_id_or_sha256))
            return lineage.models_trained_on(s, run_id=runs.resolve_run_id(s, run_id_or_sha256))

    # ------------------------------------------------------------ artifacts out

    def _artifact(self, run_id: str, artifact_name: str) -> tuple[str, str, int]:
        """(full run id, sha256, size) of a run's artifact."""
        with self._read() as s:
            full_id = runs.resolve_run_id(s, run_id)  # the run first: 0.2.0 said RunNotFound before anything
            codec.check_artifact_name(artifact_name)
            row = runs.artifact_row(s, full_id, artifact_name)
            return full_id, row.sha256, row.size

    def get_artifact_abspath(self, run_id: str, artifact_name: str) -> str:
        """Path of the artifact's (read-only) blob, after checking its bytes."""
        full_id, digest, _ = self._artifact(run_id, artifact_name)
        self._blobs.verify(digest, f"artifact '{artifact_name}' of run {full_id}")
        return str(self._blobs.path(digest))

    def download_artifact(self, run_id: str, artifact_name: str, destination_path: str = ".") -> str:
        """Copy an artifact to `destination_path/artifact_name`, verifying its hash on the way.

        The name of a folder logged with `log_artifact(folder)` downloads the whole
        folder (every artifact under `<name>/`) and returns the folder's path.
        Every target path is resolved and checked before anything is created: a
        symlink in the destination that leads outside it is refused.
        """
        name = artifact_name.rstrip("/") if isinstance(artifact_name, str) and artifact_name != "/" else artifact_name
        codec.check_artifact_name(name)
        with self._read() as s:
            full_id = runs.resolve_run_id(s, run_id)
            try:
                rows = [runs.artifact_row(s, full_id, name)]
            except exceptions.ArtifactNotFound:  # a folder logged with log_artifact(folder)
                rows = runs.artifact_rows(s, full_id, runs.artifacts_under(s, full_id, name))
                if not rows:
                    raise
            found = [(row.name, row.sha256, row.size) for row in rows]
        root = Path(destination_path).resolve()
        targets = [_download_target(root, item) for item, _, _ in found]  # all checked, nothing made yet
        for (item, digest, size), target in zip(found, targets):
            target.parent.mkdir(parents=True, exist_ok=True)
            _download_target(root, item)  # again, now that the folders exist
            with progress.bar(size, f"downloading {item}", progress.BIG_FILE, in_bytes=True) as advance:
                self._blobs.copy_to(digest, target, f"artifact '{item}' of run {full_id}", advance)
        return str(root.joinpath(*name.split("/")))  # the path as asked for, as 0.2.0 returned it

    def delete_artifact(self, run_id: str, artifact_name: str) -> None:
        """Forget an artifact of a run. Its blob goes at the next `gc()` if nothing else uses it."""
        codec.check_artifact_name(artifact_name)
        with self._write() as s:
            runs.delete_artifact(s, runs.resolve_run_id(s, run_id), artifact_name)

    # ------------------------------------------------------------ registry

    def register_model(self, run_id: str, artifact_name: str, model_name: str,
                       tags: dict | None = None) -> str:
        """Register a run's artifact as the next version of `model_name`; returns the version."""
        with self._write() as s:
            full_id = runs.resolve_run_id(s, run_id)  # the run first, then the artifact, as 0.2.0 checked
            codec.check_artifact_name(artifact_name)
            version = registry.register(s, full_id, artifact_name, model_name, tags)
        log.info("Registered model '%s' version %s.", model_name, version)
        return str(version)

    def load_registered_model(self, model_name: str, version: str = "latest") -> Any:
        """Unpickle a registered model ("latest", a number, or "@alias"), only after its bytes
        are verified against the registry."""
        import joblib

        with self._read() as s:
            row = registry.get_version(s, model_name, version)
            digest, number = row.sha256, row.version
        with self._blobs.new_file() as tmp:
            self._blobs.copy_to(digest, tmp, f"model '{model_name}' version {number}")
            return joblib.load(tmp)

    def add_model_tags(self, model_name: str, version: str, tags: dict) -> dict:
        with self._write() as s:
            return registry.add_tags(s, model_name, version, tags)

    def remove_model_tags(self, model_name: str, version: str, keys: list[str]) -> dict:
        with self._write() as s:
            return registry.remove_tags(s, model_name, version, keys)

    def get_model_tags(self, model_name: str, version: str) -> dict:
        with self._read() as s:
            return registry.version_dict(model_name, registry.get_version(s, model_name, version))["tags"]

    def set_model_alias(self, model_name: str, alias: str, version: str) -> str:
        """Point an alias ("champion") at a version; load it with version="@champion"."""
        with self._write() as s:
            return str(registry.set_alias(s, model_name, alias, version))

    def delete_model_alias(self, model_name: str, alias: str) -> None:
        with self._write() as s:
            registry.delete_alias(s, model_name, alias)

    def get_model_aliases(self, model_name: str) -> dict[str, str]:
        """{alias: version} of a registered model."""
        with self._read() as s:
            return registry.aliases(s, model_name)

    def list_registered_models(self, ascending: bool = True) -> list[str]:
        with self._read() as s:
            return registry.list_models(s, ascending)

    def get_model_versions(self, model_name: str, sort_by: str | None = "version",
                           ascending: bool = False) -> list[dict]:
        with self._read() as s:
            return registry.versions(s, model_name, sort_by, ascending)

    # ------------------------------------------------------------ housekeeping

    def gc(self, grace_seconds: float = 3600.0, dry_run: bool = False) -> CollectReport:
        """Delete blobs no artifact or model version references, and abandoned temp files,
        once older than the grace period. Safe with any grace, even 0: each blob is checked
        again under the lock writers commit under, just before it is unlinked."""
        return maintenance.collect(self._blobs, self._write, self._read, grace_seconds, dry_run)

    def reap_runs(self, stale_after: float = liveness.STALE_AFTER_SECONDS, dry_run: bool = False,
                  run_ids: Collection[str] | None = None) -> list[str]:
        """Mark KILLED the RUNNING runs whose process is gone from this host, or whose
        heartbeat is older than `stale_after` seconds; return their ids (`dry_run`: only list them).
        `run_ids`: look at these runs only (a sweep reaps its own dead worker's run, nothing else)."""
        with self._write() as s:
            exclude = {self._active_run_id} - {None}
            if run_ids is not None:
                from sqlalchemy import select

                from .models import Run

                running = s.execute(select(Run.id).where(Run.status == "RUNNING")).scalars()
                exclude |= set(running) - set(run_ids)
            return liveness.reap(s, stale_after, exclude=exclude, dry_run=dry_run)

    def verify(self, run_id: str | None = None,
               on_blob: Callable[[str], None] | None = None) -> maintenance.VerifyReport:
        """Re-hash every blob rows point at (or one run's); report missing and corrupt ones."""
        with self._read() as s:
            refs = maintenance.blob_references(s, None if run_id is None else runs.resolve_run_id(s, run_id))
        report = maintenance.verify(self._blobs, refs, on_blob)
        if any(p.problem == "missing" for p in report.problems):
            # A row deleted (and its blob collected) while verify ran is no problem: ask again.
            with self._read() as s:
                named = maintenance.referenced_among(s, [p.sha256 for p in report.problems])
            report.problems = [p for p in report.problems if p.problem != "missing" or p.sha256 in named]
        return report

    def import_legacy(self, root: str | os.PathLike, dry_run: bool = False,
                      progress: Callable[[int, int], None] | None = None):
        """Bring a runelog 0.2.0 store (`root/.mlruns`, `root/.registry`) into this one.

        Experiments, runs, params, metrics, tags, artifacts, git and environment
        records, dataset fingerprints, DVC inputs, lineage links and registered
        models come in; the source is only read. What is already here is
        skipped, so running it again imports only runs that are new. A file that
        cannot be used is reported with its path and the rest goes on
        (`report.ok` is False). `dry_run` reports what would be imported;
        `progress(done, total)` is called as runs and model versions are done.
        Returns a `runelog.legacy.ImportReport`.

            report = tracker.import_legacy("path/to/old/project")
            print(report.imported, report.skipped, report.failed)
        """
        from . import legacy

        return legacy.import_store(root, self._blobs, self._write, self._read, dry_run, progress)


def _sort_keys(rows: list[dict]) -> set[str]:
    """The value keys list_runs can sort these runs by: `param_<key>` and metric keys."""
    return {f"param_{k}" for r in rows for k in r["params"]} | {k for r in rows for k in r["metrics"]}


def _download_target(root: Path, name: str) -> Path:
    """Where artifact `name` lands under `root`, resolved through any symlinks; creates nothing.

    Refused (InvalidArtifactName) if a symlink leads it outside `root`;
    DownloadBlocked if a file stands where a folder is needed, or a folder where the file goes.
    """
    wanted = root.joinpath(*name.split("/"))
    target = Path(os.path.realpath(wanted))
    if not target.is_relative_to(root):
        raise exceptions.InvalidArtifactName(
            name, f"a symlink under {root} would take it outside that folder (to {target}); nothing was written")
    for folder in reversed(target.parents):
        if folder.is_relative_to(root) and folder.exists() and not folder.is_dir():
            raise exceptions.DownloadBlocked(str(folder), "is a file where the download needs a folder")
    if target.is_dir():
        raise exceptions.DownloadBlocked(str(target), "is a folder where the download needs to write a file")
    return target
