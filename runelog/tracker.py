"""RuneLog: the user API. One class, made of the mixins in runelog/api/.

Every call of runelog 0.2.0 is here with the same name, arguments and return
shape. Two spellings of a run work alike:

    with tracker.run("iris", name="baseline", tags={"stage": "dev"}) as run:
        run.log_param("lr", 0.01)           # the Run handle
        run.log_metric("acc", 0.93, step=1)

    with tracker.start_run(experiment_name="iris") as run_id:   # 0.2.0: yields the id
        tracker.log_param("lr", 0.01)       # flat calls act on the active run
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import datasets, runs
from .exceptions import ArtifactNotFound, NoActiveRun
from .api.artifacts import ArtifactsAPI
from .api.experiments import ExperimentsAPI
from .api.lineage import LineageAPI
from .api.queries import QueriesAPI
from .api.registry import RegistryAPI
from .api.store import StoreAPI
from .run import Run, open_run


class RuneLog(ExperimentsAPI, QueriesAPI, ArtifactsAPI, LineageAPI, RegistryAPI, StoreAPI):
    """A tracker bound to one store: `get_tracker()` returns one. See StoreHandle for the options."""

    def run(self, experiment: str | None = None, name: str | None = None, tags: dict[str, Any] | None = None,
            *, log_git_meta: bool = True, log_env: bool = False,
            log_code: bool = True) -> contextlib.AbstractContextManager[Run]:
        """Start a run of `experiment` (created if new; the Default experiment if None) and yield its Run.

        A normal exit records FINISHED; an exception records FAILED with its type
        and message (and propagates); KeyboardInterrupt and SIGTERM record KILLED.
        While the run is open a heartbeat refreshes `heartbeat_at`. `tags` are
        set when the run is created. The flat calls (`tracker.log_metric`) act on it too.
        """
        return open_run(self, experiment, name, tags, log_git_meta=log_git_meta, log_env=log_env,
                        log_code=log_code)

    @contextlib.contextmanager
    def start_run(self, experiment_name: str | None = None, experiment_id: str = "0",
                  log_git_meta: bool = True, log_env: bool = False, log_code: bool = True,
                  run_name: str | None = None) -> Iterator[str]:
        """0.2.0's run context: like `run()`, but yields the run's id."""
        with open_run(self, experiment_name, run_name, experiment_id=experiment_id, log_git_meta=log_git_meta,
                      log_env=log_env, log_code=log_code) as run:
            yield run.id

    # ------------------------------------------------------------ flat calls on the active run

    def log_param(self, key: str, value: Any) -> None:
        self._active_run().log_param(key, value)

    log_parameter = log_param  # the name the 0.2.0 docs used

    def log_params(self, params: dict[str, Any]) -> None:
        self._active_run().log_params(params)

    def log_metric(self, key: str, value: float, step: int | None = None) -> None:
        """Log one metric point; `step` defaults to one past this key's last step."""
        run = self._active  # the hot path (W1): no call more than it needs
        if run is None:
            raise NoActiveRun()
        run._writer.add({key: value}, step)  # the active run is open: it stops being active as it ends

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        run = self._active
        if run is None:
            raise NoActiveRun()
        run._writer.add(metrics, step)

    def set_tag(self, key: str, value: Any) -> None:
        self._active_run().set_tag(key, value)

    def set_run_tags(self, tags: dict[str, Any]) -> None:
        """Replace all tags of the active run with `tags`."""
        self._active_run().set_tags(tags, replace=True)

    def get_run_tags(self, run_id: str | None = None) -> dict:
        """Tags of a run (the active one by default)."""
        run_id = self._active_run().id if run_id is None else run_id
        with self._read() as s:
            return runs.tags_of(s, runs.resolve_run_id(s, run_id))

    def log_artifact(self, local_path: str | os.PathLike, name: str | None = None) -> None:
        """Store a file (or every file under a folder) in the blob store, named for the run.

        A file is named by its basename and a folder's files by `<folder>/<relative path>`,
        unless `name` is given. A folder is logged whole or not at all: if any file
        cannot be read, ArtifactUnreadable is raised and nothing of the call is recorded.
        """
        self._active_run().log_artifact(local_path, name)

    def log_model(self, model: Any, name: str, compress: int = 3) -> None:
        """Pickle a model with joblib straight into the blob store, as artifact `name`.

        An object that cannot be pickled (a lambda, a local function, a generator)
        raises ModelNotSerialisable (a PicklingError, as in 0.2.0) and records nothing.
        """
        self._active_run().log_model(model, name, compress)

    def log_dataset(self, data_path: str | os.PathLike, name: str) -> None:
        """Record a file's fingerprint (hash, size; rows, columns, schema for parquet) without copying it."""
        if not Path(data_path).is_file():  # checked before the active run, as 0.2.0 did
            raise ArtifactNotFound(str(data_path))
        self._active_run().log_dataset(data_path, name)

    def log_dvc_input(self, data_path: str | os.PathLike, name: str) -> None:
        """Record the md5 DVC keeps for `data_path` in `<data_path>.dvc`.

        Without a .dvc file it warns (a UserWarning, as 0.2.0 did) and the run goes
        on, even with no active run; if the data file is there and a run is active,
        it is recorded by its SHA-256 fingerprint, so the run's lineage is not lost.
        """
        if self._active is None and not datasets.dvc_file_for(data_path).is_file():
            warnings.warn(datasets.missing_dvc_file_warning(data_path, False), UserWarning, stacklevel=2)
            return
        self._active_run().log_dvc_input(data_path, name)

    def log_input_run(self, name: str, run_id: str, artifact_name: str | None = None) -> None:
        """Link the active run to a run it used, pinning the artifact's SHA-256 when named."""
        self._active_run().log_input(name, run_id, artifact_name)
