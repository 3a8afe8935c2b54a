"""Errors of `runelog backup` / tracker.backup: refused targets and copies that stopped part-way."""

from __future__ import annotations

from .base import InvalidInput, RunelogException, StoreError
from .disk import StorageError, StoreDiskFull


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


class BackupTargetInsideStore(InvalidInput):
    """`runelog backup .runelog`: a backup inside the folder it copies would copy itself and die with the store."""

    def __init__(self, dest: str, store_folder: str):
        self.dest, self.store_folder = dest, store_folder
        super().__init__(
            f"'{dest}' is inside the folder of the store being backed up ('{store_folder}'); a backup there "
            "would copy itself and be lost with the store. Give a folder outside it, e.g. "
            "`runelog backup ../runelog-backup`.")


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
        """The error for a backup stopped by `cause`: BackupDiskFull when the disk filled up."""
        if isinstance(cause, StoreDiskFull):
            return BackupDiskFull(dest, f"the disk is full ({cause.detail}).", work, removed)
        return cls(dest, f"{cause}", work, removed)


class BackupDiskFull(BackupFailed, StoreDiskFull):
    """No room left where the backup was being written; nothing of it was kept."""

    def __init__(self, dest: str, cause: str, work: str, removed: bool):
        self.detail, self.new = cause, True
        BackupFailed.__init__(self, dest, cause, work, removed)
