"""runelog: local-first experiment tracking.

    from runelog import get_tracker

    tracker = get_tracker()
    with tracker.start_run(experiment_name="demo"):
        tracker.log_param("lr", 0.01)
        tracker.log_metric("loss", 0.3, step=1)

`import runelog` stays fast: SQLAlchemy and the tracker load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import exceptions

# The exception classes 0.2.0 re-exported here (`from runelog import RunNotFound`), and the bases.
from .exceptions import (  # noqa: F401
    ArtifactNotFound,
    CorruptedMetadata,
    DuplicateModelRegistration,
    ExperimentNotFound,
    InsufficientPermissions,
    InvalidExperimentId,
    InvalidInput,
    InvalidModelVersion,
    InvalidRunId,
    ModelNotFound,
    ModelVersionNotFound,
    NoActiveRun,
    NotFound,
    NoVersionsFound,
    RegistryError,
    RunelogException,
    RunNotFound,
    StorageError,
    StoreError,
)

if TYPE_CHECKING:
    from .tracker import RuneLog


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("runelog")
    except PackageNotFoundError:  # running from a checkout that is not installed
        return "0.0.0+unknown"


def get_tracker(path: str | None = None, *, database_url: str | None = None,
                artifact_root: str | None = None, **options) -> RuneLog:
    """Open (creating or upgrading if needed) the store and return a tracker.

    `path` holds `.runelog/` (default: $RUNELOG_HOME, else the current folder).
    `database_url` / `artifact_root` (or $RUNELOG_DATABASE_URL /
    $RUNELOG_ARTIFACT_ROOT) put metadata and blobs elsewhere, e.g. PostgreSQL
    and a shared folder. Other keyword options go to `RuneLog`.
    """
    from .tracker import RuneLog

    return RuneLog(path, database_url=database_url, artifact_root=artifact_root, **options)


# Finding and describing stores without opening one (the CLI's --store, `runelog db`).
_FROM_STORES = ("find_store", "choose_store", "StoreChoice", "check_database_url", "schema_status",
                "upgrade_schema", "schema_history")


def __getattr__(name: str):
    # Looked up on first use: reading package metadata and importing SQLAlchemy cost
    # more than the rest of `import runelog` together.
    if name == "__version__":
        return _package_version()
    if name == "RuneLog":
        from .tracker import RuneLog

        return RuneLog
    if name in _FROM_STORES:
        from . import stores

        return getattr(stores, name)
    raise AttributeError(f"module 'runelog' has no attribute {name!r}")


__all__ = ["get_tracker", "RuneLog", "exceptions", "__version__", *_FROM_STORES]
