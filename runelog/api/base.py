"""StoreHandle: one open store (database + blobs) and the sessions every API call uses."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import db, exceptions, interrupts, liveness, runs
from ..blobs import BlobStore

if TYPE_CHECKING:
    from ..run import Run


class StoreHandle:
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
        self._active: Run | None = None
        self._experiment_ids: dict[str, int] = {}  # remembered, so a loop of runs asks the database once

    def __repr__(self) -> str:
        return f"RuneLog({self.location.shown_url!r})"  # never a password

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[Session]:
        if self.read_only:
            raise exceptions.ReadOnlyStore()
        try:
            with interrupts.deferred(), db.write_session(self._engine) as session:  # no signal half-way through
                yield session
        except IntegrityError:
            # The active run's row may have been deleted (by another process): say so, not a raw error.
            run_id = self._active.id if self._active is not None else None
            if run_id is not None and not self._run_exists(run_id):
                raise exceptions.RunDeleted(run_id) from None
            raise

    def _run_exists(self, run_id: str) -> bool:
        with db.read_session(self._engine) as session:
            try:
                runs.get_run_row(session, run_id)
                return True
            except exceptions.RunNotFound:
                return False

    @contextlib.contextmanager
    def _read(self) -> Iterator[Session]:
        self.flush()  # a read sees everything this tracker has logged
        with db.read_session(self._engine) as session:
            yield session

    @contextlib.contextmanager
    def _connection(self) -> Iterator[Connection]:
        """A Core connection for the fast read paths (no ORM objects)."""
        self.flush()
        with db.read_connection(self._engine) as connection:
            yield connection

    def _active_run(self) -> Run:
        if self._active is None:
            raise exceptions.NoActiveRun()
        return self._active

    @property
    def active_run_id(self) -> str | None:
        """Id of the run open in this tracker, or None."""
        return self._active.id if self._active is not None else None

    def flush(self) -> None:
        """Write buffered metric points now."""
        if self._active is not None:
            self._active.flush()

    def close(self) -> None:
        """Flush, checkpoint the WAL into runelog.db and release the database connections.

        After close() (and after any normal interpreter exit) runelog.db alone is the whole store.
        """
        self.flush()
        db.close_engine(self._engine, checkpoint_first=not self.read_only)
