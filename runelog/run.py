"""Run: the handle of one open run. `with tracker.run(...) as run:` yields it.

It owns the run's writer (one held connection, buffered metric points), its
heartbeat and its status: FINISHED on a normal exit, FAILED with the
exception's type and message, KILLED on Ctrl-C or SIGTERM. The flat 0.2.0
calls (`tracker.log_metric`, ...) act on the tracker's active Run.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from . import artifacts, capture, codec, datasets, db, exceptions, interrupts, lineage, runs
from .run_writer import RunWriter

if TYPE_CHECKING:
    from .api.base import StoreHandle


class Run:
    """An open run of a tracker. Its calls write at once (metric points are buffered, see RunWriter)."""

    def __init__(self, store: StoreHandle, run_id: str, experiment_id: str, writer: RunWriter):
        self._store = store
        self.id = run_id
        self.experiment_id = experiment_id
        self._writer = writer

    def __repr__(self) -> str:
        return f"Run({self.id!r}, experiment_id={self.experiment_id!r})"

    @property
    def run_id(self) -> str:
        return self.id

    @property
    def ended(self) -> bool:
        return self._writer.ended

    def flush(self) -> None:
        """Write buffered metric points now."""
        self._writer.flush()

    def _open(self) -> RunWriter:
        if self._writer.ended:
            raise exceptions.RunEnded(self.id)
        return self._writer

    def _live_id(self) -> str:
        """This run's id, once it is known to be still open."""
        self._open()
        return self.id

    # ------------------------------------------------------------ values

    def log_param(self, key: str, value: Any) -> None:
        self.log_params({key: value})

    def log_params(self, params: dict[str, Any]) -> None:
        encoded = {codec.check_key(k, "param key"): codec.encode_value(k, v, "param") for k, v in params.items()}
        self._open().write(lambda c: runs.write_params(c, self.id, encoded), "the params")

    def log_metric(self, key: str, value: float, step: int | None = None) -> None:
        """Log one metric point; `step` defaults to one past this key's last step."""
        writer = self._writer  # the hot path: checked inline rather than through _open()
        if writer.ended:
            raise exceptions.RunEnded(self.id)
        writer.add({key: value}, step)

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        writer = self._writer
        if writer.ended:
            raise exceptions.RunEnded(self.id)
        writer.add(metrics, step)  # all are checked before any is queued

    def set_tag(self, key: str, value: Any) -> None:
        self.set_tags({key: value})

    def set_tags(self, tags: dict[str, Any], replace: bool = False) -> None:
        """Add or change tags; `replace=True` makes `tags` the run's only tags."""
        encoded = {codec.check_key(k, "tag key"): codec.encode_value(k, v, "tag") for k, v in tags.items()}
        self._open().write(lambda c: runs.write_tags(c, self.id, encoded, replace=replace), "the tags")

    # ------------------------------------------------------------ files

    def log_artifact(self, local_path: str | os.PathLike, name: str | None = None) -> None:
        """Store a file (or every file under a folder, all or nothing) as artifacts of this run."""
        artifacts.store(self._store._blobs, self._store._write, self._live_id(), artifacts.files_to_log(local_path, name))

    def log_text(self, text: str, name: str) -> None:
        """Store `text` as the artifact `name`."""
        artifacts.store_text(self._store._blobs, self._store._write, self._live_id(), text, name)

    def log_model(self, model: Any, name: str, compress: int = 3) -> None:
        """Pickle a model with joblib into the blob store, as artifact `name`.

        An object that cannot be pickled raises ModelNotSerialisable (a PicklingError) and records nothing.
        """
        artifacts.store_model(self._store._blobs, self._store._write, self._live_id(), model, name, compress)

    def log_dataset(self, data_path: str | os.PathLike, name: str) -> None:
        """Record a file's fingerprint (hash, size; rows, columns, schema for parquet) without copying it."""
        if not Path(data_path).is_file():
            raise exceptions.ArtifactNotFound(str(data_path))
        found = datasets.fingerprint(data_path)
        with self._store._write() as s:
            datasets.record(s, self._live_id(), name, "file", found)

    def log_dvc_input(self, data_path: str | os.PathLike, name: str) -> None:
        """Record the md5 DVC keeps for `data_path` in `<data_path>.dvc`.

        Without a .dvc file it warns (a UserWarning, as 0.2.0 did); if the data file
        itself is there, it is recorded by its SHA-256 fingerprint instead, so the
        run's lineage is not lost.
        """
        if not datasets.dvc_file_for(data_path).is_file():
            fingerprinted = Path(data_path).is_file()
            if fingerprinted:
                self.log_dataset(data_path, name)
            warnings.warn(datasets.missing_dvc_file_warning(data_path, fingerprinted), UserWarning, stacklevel=3)
            return
        found = datasets.read_dvc_file(data_path)
        with self._store._write() as s:
            datasets.record(s, self._live_id(), name, "dvc", found)

    def log_input(self, name: str, run_id: str, artifact_name: str | None = None) -> None:
        """Link this run to a run it used, pinning the artifact's SHA-256 when one is named."""
        with self._store._write() as s:
            lineage.record_input(s, self._live_id(), name, runs.resolve_run_id(s, run_id), artifact_name)

    log_input_run = log_input  # the 0.2.0 name


@contextlib.contextmanager
def open_run(store: StoreHandle, experiment: str | None = None, name: str | None = None,
             tags: dict[str, Any] | None = None, *, experiment_id: Any = "0", log_git_meta: bool = True,
             log_env: bool = False, log_code: bool = True) -> Iterator[Run]:
    """Create a run, make it the store's active run, and end it with the status its block earned."""
    if store._active is not None:
        raise exceptions.RunAlreadyActive(store._active.id)
    if store.read_only:
        raise exceptions.ReadOnlyStore()
    if name is not None:
        codec.check_key(name, "run name")
    encoded_tags = {codec.check_key(k, "tag key"): codec.encode_value(k, v, "tag") for k, v in (tags or {}).items()}
    git = capture.git_state() if log_git_meta else capture.GitState()
    environment = capture.environment() if log_env else None
    columns = dict(name=name, host=capture.host(), pid=os.getpid(), git_commit=git.commit,
                   git_branch=git.branch, git_dirty=git.dirty,
                   environment=json.dumps(environment) if environment else None)
    run_id = runs.new_run_id()
    writer = RunWriter(store._engine, run_id, store._metric_buffer_size, store._flush_interval)

    def create(connection) -> int:
        found = _experiment_for(store, connection, experiment, experiment_id)
        runs.create_run(connection, run_id, found, **columns)
        if encoded_tags:
            runs.write_tags(connection, run_id, encoded_tags)
        return found

    try:
        try:
            created_in = writer.write(create, "the new run")
        except IntegrityError:  # a remembered experiment was deleted meanwhile: look it up afresh
            store._experiment_ids.clear()
            created_in = writer.write(create, "the new run")
    except BaseException:
        writer.discard()
        raise
    run = Run(store, run_id, str(created_in), writer)
    status, error = "FINISHED", None
    try:
        store._active = run
        # From here SIGTERM and Ctrl-C end the run KILLED (one handler for every open run: interrupts).
        writer.open(heartbeat=store._heartbeat_interval)
        if environment:
            run.log_text(capture.requirements_txt(environment), "requirements.txt")
        if log_code:
            _log_code(run)
        yield run
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
        try:
            writer.end(status, error)  # the waiting points and the status, in one transaction
        except Exception as exc:
            if status == "FINISHED":
                raise
            # The block already ends with its own exception: say what else went wrong, do not replace it.
            warnings.warn(f"runelog could not record how run {run_id} ended: {exc}", RuntimeWarning, stacklevel=3)
        finally:
            store._active = None
            db.checkpoint_after_run(store._engine)  # runelog.db stays the whole store between runs


def _experiment_for(store: StoreHandle, connection, experiment: str | None, experiment_id: Any) -> int:
    """The experiment id for a new run; remembered, so a loop of runs asks the database once."""
    key = f"#{experiment_id}" if experiment is None else f"name:{experiment}"  # "" is refused
    if key not in store._experiment_ids:
        store._experiment_ids[key] = runs.experiment_id_for(connection, experiment, experiment_id)
    return store._experiment_ids[key]


def _log_code(run: Run) -> None:
    if "ipykernel" in sys.modules:
        warnings.warn(
            "runelog cannot log a notebook's code by itself; log it with "
            "tracker.log_artifact('path/to/notebook.ipynb').", stacklevel=4)
        return
    script = capture.script_path()
    if script:
        run.log_artifact(script)
