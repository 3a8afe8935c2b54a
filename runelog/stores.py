"""Finding a store without opening it: which one a command means, whether it is there, its schema.

The command line finds its store as git finds `.git`: an explicit folder (or
$RUNELOG_HOME), else the nearest folder at or above the current one holding
`.runelog/`, else the current folder. Reading commands never create a store,
so "is it there?" is answered here by looking, and "which schema revision?"
without migrating anything. Moved out of the CLI so that any face (and any
script) finds stores the same way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from . import db, exceptions

# How a store was chosen (StoreChoice.chosen_by).
GIVEN, FROM_ENV, FOUND_ABOVE, CURRENT_FOLDER = "given", "RUNELOG_HOME", "found above", "current folder"


def find_store(start: str | os.PathLike | None = None) -> Path | None:
    """The nearest folder, `start` (default: the current folder) or one of its parents, holding `.runelog/`."""
    folder = Path(start if start is not None else Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        if (candidate / ".runelog").is_dir():
            return candidate
    return None


@dataclass(frozen=True)
class StoreChoice:
    """Which store a face uses, how it was chosen, and whether it is there (nothing is opened)."""

    path: str | None  # the folder holding .runelog/ (None: the current folder, where none was found)
    database_url: str | None  # given explicitly (or $RUNELOG_DATABASE_URL); None: the local SQLite file
    chosen_by: str  # GIVEN, FROM_ENV, FOUND_ABOVE or CURRENT_FOLDER
    location: db.StoreLocation

    @property
    def exists(self) -> bool:
        """Whether the store is there (a server database always counts as there)."""
        sqlite_path = self.location.sqlite_path
        return sqlite_path is None or sqlite_path.is_file()

    @property
    def shown(self) -> str:
        """The database URL (password hidden) or the store's `.runelog/` folder, for messages."""
        if self.database_url:
            from sqlalchemy.engine import make_url

            return make_url(self.database_url).render_as_string(hide_password=True)
        return str(self.location.home)

    def describe(self, given_as: str = "--store") -> str:
        """One line: which store, and how it was chosen (`given_as` names an explicit path's source)."""
        if self.database_url:
            how = "from --database-url or RUNELOG_DATABASE_URL" + (
                f"; blobs in {self.location.blob_dir}" if self.location.sqlite_path is None else "")
        else:
            how = {GIVEN: f"from {given_as}", FROM_ENV: "from RUNELOG_HOME",
                   FOUND_ABOVE: "the nearest .runelog/ above the current folder",
                   CURRENT_FOLDER: "none found: the current folder"}[self.chosen_by]
        return f"store: {self.shown} ({how})"

    def require(self) -> StoreChoice:
        """Self, or StoreNotFound (NoStoreFound when nothing was found searching upwards)."""
        if self.exists:
            return self
        if self.database_url:  # a sqlite:/// URL to a file that is not there
            raise exceptions.StoreNotFound(str(self.location.sqlite_path))
        if self.chosen_by == CURRENT_FOLDER:
            raise exceptions.NoStoreFound(str(Path.cwd()))
        raise exceptions.StoreNotFound(str(Path(self.path or ".").resolve()))


def choose_store(path: str | os.PathLike | None = None, database_url: str | None = None) -> StoreChoice:
    """The store `path` names; else $RUNELOG_HOME's; else the nearest above the current folder; else
    the current folder. `database_url` (or $RUNELOG_DATABASE_URL) puts the metadata elsewhere."""
    if path is not None:
        folder: str | None = str(path)
        chosen_by = FROM_ENV if os.environ.get("RUNELOG_HOME") == folder else GIVEN
    elif os.environ.get("RUNELOG_HOME"):
        folder, chosen_by = os.environ["RUNELOG_HOME"], FROM_ENV
    else:
        found = find_store()
        folder, chosen_by = (str(found), FOUND_ABOVE) if found is not None else (None, CURRENT_FOLDER)
    url = database_url or os.environ.get("RUNELOG_DATABASE_URL") or None
    return StoreChoice(folder, url, chosen_by, db.locate(folder, url))


def check_database_url(url: str) -> str:
    """`url` if runelog can use it; else InvalidDatabaseUrl (DatabaseDriverNotInstalled for a missing driver)."""
    db.check_database_url(url)
    return url


def schema_status(choice: StoreChoice) -> tuple[str | None, str]:
    """(the store's schema revision, the one this runelog needs), changing nothing."""
    return db.schema_status(choice.location)


def upgrade_schema(choice: StoreChoice) -> tuple[str | None, str]:
    """Migrate the store to the newest schema (a local SQLite store is backed up first): (before, after)."""
    return db.upgrade_store(choice.location)


def schema_history() -> list[tuple[str, str | None, str]]:
    """(revision, down revision, description) of every schema revision, oldest first."""
    return db.history()
