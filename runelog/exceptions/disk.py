"""Errors from the disk or the lock under an open store: read-only, full, I/O, busy, blobs gone bad."""

from __future__ import annotations

from .base import RunelogException, StoreError


class StorageError(StoreError, OSError):
    """A filesystem operation failed; also an OSError, as 0.2.0's file operations raised."""

    def __init__(self, operation: str, path: str, original_error: Exception | None = None):
        self.operation = operation
        self.path = path
        self.original_error = original_error
        details = f": {original_error}" if original_error else ""
        super().__init__(f"Storage error during {operation} at {path}{details}")


class InsufficientPermissions(StoreError, PermissionError):
    """Also a PermissionError, which 0.2.0 raised where the filesystem said no."""

    def __init__(self, path: str, operation: str):
        self.path = path
        self.operation = operation
        super().__init__(
            f"Insufficient permissions to {operation} at: {path}. Check the folder's owner and mode."
        )


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
