"""Every error a user can cause, as a `RunelogException` subclass.

Catch one of three bases: `NotFound` (no such experiment, run, artifact, model,
store), `InvalidInput` (the call was wrong, or made at the wrong time) or
`StoreError` (the store itself is the problem). Every message says what went
wrong and what to do.

The names and constructor arguments of runelog 0.2.0 are kept, each placed
under the base it fits, so existing `except` clauses keep working. Two of them
are no longer raised and stay only so that 0.2.0 code importing them still
runs: `CorruptedMetadata` (metadata now lives in SQLite; a damaged store
raises StoreUnreadable) and `DuplicateModelRegistration` (registering always
makes a new version).

The classes are defined by area in the modules of this package; import them
from here (`from runelog.exceptions import RunNotFound`), which is their public
name (`__module__`) too.
"""

from __future__ import annotations

from .base import ExtraNotInstalled, InvalidInput, NotFound, RunelogException, StoreError
from .runs import (AmbiguousRunId, ExperimentHasActiveRun, ExperimentNotFound, InvalidExperimentId,
                   InvalidExperimentName, InvalidKey, InvalidRunId, InvalidValue, NoActiveRun, RunAlreadyActive,
                   RunDeleted, RunEnded, RunIsActive, RunNotFound, RunTerminated)
from .artifacts import (ArtifactNotFound, ArtifactPermissionDenied, ArtifactUnreadable, DatasetMismatch,
                        DatasetNotFound, DownloadBlocked, DvcFileError, InputNotFound, InputNotPinned,
                        InvalidArtifactName, ModelNotSerialisable)
from .registry import (DuplicateModelRegistration, InvalidAlias, InvalidModelName, InvalidModelVersion, ModelNotFound,
                       ModelSourceRunDeleted, ModelVersionNotFound, NoVersionsFound, RegistryError)
from .store import (CorruptedMetadata, DatabaseDriverNotInstalled, InvalidDatabaseUrl, LegacyStoreNotFound,
                    MigrationFailed, NoStoreFound, ReadOnlyStore, SchemaOutdated, SchemaTooNew, StoreDamaged,
                    StoreEmpty, StoreNotFound, StorePathNotAFolder, StoreUnreadable)
from .disk import (BlobCorrupted, BlobMissing, InsufficientPermissions, MetricsNotStored, StorageError, StoreBusy,
                   StoreDiskFull, StoreIOError, StoreNotWritable)
from .backup import BackupDiskFull, BackupFailed, BackupNotSupported, BackupTargetExists, BackupTargetInsideStore
from .queries import InvalidFilter, InvalidSortKey, QueryFailed, SqlFileNotFound, SqlFileNotText, SqlNotAllowed
from .sweep import SweepConfigError, SweepFileNotFound, SweepOptionError, SweepRunsFailed

__all__ = [name for name, value in list(globals().items())
           if isinstance(value, type) and issubclass(value, BaseException)]

# One public name per class: tracebacks, pickles and `repr` say runelog.exceptions.RunNotFound,
# as in 0.2.0, whichever module of this package defines it.
for _name in __all__:
    globals()[_name].__module__ = __name__
del _name
