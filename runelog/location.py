"""Where a store is: its database URL (checked), its blob folder, its temp folder.

One place turns `get_tracker`'s arguments and the RUNELOG_* environment
variables into a `StoreLocation`, and refuses a database URL runelog cannot use
before anything connects: not a URL, a database other than SQLite or
PostgreSQL, or a driver that is not installed. URLs are read by SQLAlchemy's
`make_url`, never by slicing strings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from . import exceptions

# The databases runelog's schema and migrations are tested on.
SUPPORTED_BACKENDS = ("sqlite", "postgresql")


def check_database_url(url: str | URL) -> URL:
    """The parsed URL, if runelog can use it; else InvalidDatabaseUrl (or DatabaseDriverNotInstalled).

    Imports the URL's driver (cheap for SQLite; psycopg for PostgreSQL), so a
    missing one is reported here and not as a traceback on first connect.

        >>> check_database_url("postgresql+psycopg://me@db.example/runs").get_backend_name()
        'postgresql'
    """
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError, TypeError) as exc:
        raise exceptions.InvalidDatabaseUrl(str(url), str(exc).rstrip(".")) from None
    shown = parsed.render_as_string(hide_password=True)
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise exceptions.InvalidDatabaseUrl(
            shown, f"runelog keeps its metadata in SQLite or PostgreSQL, not '{backend}'")
    try:
        parsed.get_dialect().import_dbapi()
    except ArgumentError as exc:  # NoSuchModuleError: a driver name SQLAlchemy does not know
        raise exceptions.InvalidDatabaseUrl(shown, f"unknown driver '{parsed.drivername}': {exc}") from None
    except ImportError as exc:
        raise exceptions.DatabaseDriverNotInstalled(shown, getattr(exc, "name", None) or parsed.drivername,
                                                    str(exc)) from None
    return parsed


@dataclass(frozen=True)
class StoreLocation:
    """Where a store's metadata and blobs live."""

    database_url: str
    blob_dir: Path
    tmp_dir: Path
    home: Path | None  # the .runelog folder of a local store; None for a server database

    @property
    def url(self) -> URL:
        return make_url(self.database_url)

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file of a local store; None for a server database (or an in-memory SQLite one)."""
        url = self.url
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            return Path(url.database)
        return None

    @property
    def shown_url(self) -> str:
        """The database URL with any password hidden, for messages and `runelog info`."""
        return self.url.render_as_string(hide_password=True)


def locate(path: str | os.PathLike | None = None, database_url: str | URL | None = None,
           artifact_root: str | os.PathLike | None = None) -> StoreLocation:
    """Resolve arguments and environment variables into a StoreLocation.

    `path` (or $RUNELOG_HOME, default ".") holds `.runelog/`; `database_url`
    (or $RUNELOG_DATABASE_URL) puts the metadata elsewhere; `artifact_root`
    (or $RUNELOG_ARTIFACT_ROOT) puts the blobs elsewhere. A database URL
    runelog cannot use raises InvalidDatabaseUrl here.
    """
    root = Path(path if path is not None else os.environ.get("RUNELOG_HOME", ".")).resolve()
    home = root / ".runelog"
    url = database_url or os.environ.get("RUNELOG_DATABASE_URL")
    blob_root = artifact_root or os.environ.get("RUNELOG_ARTIFACT_ROOT")
    if url is None:
        parsed = URL.create("sqlite", database=str(home / "runelog.db"))
    else:
        parsed = check_database_url(url)
    if blob_root is not None:
        blob_dir = Path(blob_root).resolve()
        tmp_dir = blob_dir / "tmp"
        blob_dir = blob_dir / "blobs"
    else:
        blob_dir, tmp_dir = home / "blobs", home / "tmp"
    local_home = home if parsed.get_backend_name() == "sqlite" or blob_root is None else None
    text = url if isinstance(url, str) else parsed.render_as_string(hide_password=False)
    return StoreLocation(text, blob_dir, tmp_dir, local_home)
