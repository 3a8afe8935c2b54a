"""Errors in finding and opening a store: missing, not a runelog store, damaged, schema too old or new."""

from __future__ import annotations

from .base import InvalidInput, NotFound, RunelogException, StoreError


class StoreNotFound(NotFound):
    def __init__(self, path: str):
        self.path = path
        super().__init__(
            f"There is no runelog store at '{path}' yet. Log a run there first, "
            "or point runelog at the folder that holds .runelog/ (--store or RUNELOG_HOME)."
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


class StorePathNotAFolder(StoreUnreadable, NotADirectoryError):
    """Part of the store's path is a file (get_tracker("notes.txt")); 0.2.0 raised NotADirectoryError."""


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


class ReadOnlyStore(StoreError):
    def __init__(self):
        super().__init__("This tracker was opened read-only; open it with get_tracker(...) to log or change runs.")


class CorruptedMetadata(StoreError):
    """0.2.0's name, kept so code importing it runs; never raised: metadata lives in SQLite now, and a
    damaged store raises StoreUnreadable (StoreDamaged)."""

    def __init__(self, file_path: str):
        self.file_path = file_path
        super().__init__(f"Corrupted or unreadable metadata file: {file_path}")


class LegacyStoreNotFound(NotFound):
    def __init__(self, path: str):
        self.path = path
        super().__init__(
            f"No runelog 0.2.0 store at '{path}': it has neither a .mlruns nor a .registry folder. "
            "Give the folder runelog 0.2.0 was pointed at (the one holding .mlruns/)."
        )


class InvalidDatabaseUrl(InvalidInput, ValueError):
    """A database URL that names no database runelog can use (not a URL, or an unknown dialect or driver)."""

    def __init__(self, url: str, reason: str):
        self.url, self.reason = url, reason
        super().__init__(
            f"'{url}' is not a database URL runelog can use ({reason}). Write it like "
            "postgresql+psycopg://user@host/dbname or sqlite:////absolute/path/to/runelog.db.")


class DatabaseDriverNotInstalled(InvalidDatabaseUrl, ImportError):
    """A valid database URL whose Python driver (e.g. psycopg) is not installed."""

    def __init__(self, url: str, driver: str, reason: str):
        self.url, self.reason, self.driver, self.name = url, reason, driver, driver
        InvalidInput.__init__(
            self, f"The database driver '{driver}' for '{url}' is not installed ({reason}). runelog reaches "
                  'PostgreSQL through psycopg 3: pip install "runelog[postgres]", and write the URL as '
                  "postgresql+psycopg://user@host/dbname.")

    def __str__(self) -> str:
        return str(self.args[0])
