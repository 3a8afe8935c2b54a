"""What every command shares: global options, finding and opening the store, consoles, rendering."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from rich.console import Console

from .. import db, exceptions

console = Console()
errors = Console(stderr=True)


class State:
    """Global options, set by the app callback (or the same options after a command's name)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self, store: Optional[str] = None, database_url: Optional[str] = None, debug: bool = False) -> None:
        self.explicit_store, self.database_url, self.debug = store, database_url, debug

    @property
    def store(self) -> Optional[str]:
        """The folder holding the store: --store / $RUNELOG_HOME, else the nearest one found
        upwards from the current folder (as git finds .git), else None (the current folder)."""
        if self.explicit_store is not None:
            return self.explicit_store
        found = find_store(Path.cwd())
        return str(found) if found is not None else None

    @store.setter
    def store(self, value: Optional[str]) -> None:
        self.explicit_store = value


state = State()


def find_store(start: Path) -> Path | None:
    """The nearest folder, `start` or one of its parents, that holds a `.runelog/` folder."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / ".runelog").is_dir():
            return folder
    return None


def location() -> db.StoreLocation:
    """Where the selected store is (it may not exist yet)."""
    return db.locate(state.store, state.database_url)


def describe_store() -> str:
    """One line saying which store the command line uses and how it was chosen."""
    where = location()
    if state.database_url:
        from sqlalchemy.engine import make_url

        shown = make_url(state.database_url).render_as_string(hide_password=True)
        how = "from --database-url or RUNELOG_DATABASE_URL" + (
            f"; blobs in {where.blob_dir}" if where.sqlite_path is None else "")
    else:
        shown = str(where.home)
        if state.explicit_store is not None:
            how = "from RUNELOG_HOME" if os.environ.get("RUNELOG_HOME") == state.explicit_store else "from --store"
        elif state.store is not None:
            how = "the nearest .runelog/ above the current folder"
        else:
            how = "none found: the current folder"
    return f"store: {shown} ({how})"


def store_exists() -> bool:
    """Whether the selected store is there (a server database always counts as there)."""
    where = location()
    return where.sqlite_path is None or where.sqlite_path.is_file()


def require_store() -> db.StoreLocation:
    """The selected store's location, or StoreNotFound: reading commands never create a store."""
    where = location()
    if not store_exists():
        if state.database_url:  # a sqlite:/// URL to a file that is not there
            raise exceptions.StoreNotFound(str(where.sqlite_path))
        if state.explicit_store is None and state.store is None:
            raise exceptions.NoStoreFound(str(Path.cwd()))
        raise exceptions.StoreNotFound(str(Path(state.store or ".").resolve()))
    return where


def check_database_url(url: Optional[str]) -> Optional[str]:
    """A --database-url that names no database runelog can reach is a usage error (exit 2), not a traceback."""
    if url is None:
        return None
    import typer
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(url).get_dialect().import_dbapi()
    except (ArgumentError, ValueError) as exc:
        raise typer.BadParameter(f"'{url}' is not a database URL runelog can use ({exc}); write it like "
                                 "postgresql+psycopg://user@host/dbname or sqlite:////path/to/runelog.db") from None
    except ImportError as exc:
        raise typer.BadParameter(f"the database driver for '{url}' is not installed ({exc}); for PostgreSQL: "
                                 'pip install "runelog[postgres]"') from None
    return url


def tracker(create: bool = False):
    """The tracker for the selected store (opened, and upgraded if local and older).

    Only commands that write new records pass `create=True`; a mistyped --store
    then makes a store there, as `get_tracker` would. Every other command says
    that no store is there, and changes nothing.
    """
    from .. import get_tracker

    if not create:
        require_store()
    return get_tracker(state.store, database_url=state.database_url)


def tracker_if_any():
    """The tracker, or None when no store was asked for and none is found here or above.

    For listing commands: as in 0.2.0, a project with no store yet simply has
    nothing in it (exit 0), and nothing is created. A mistyped --store or
    RUNELOG_HOME is still an error.
    """
    try:
        return tracker()
    except exceptions.NoStoreFound:
        return None


def short(run_id: str | None) -> str:
    """Run ids are shown as 8-character prefixes (accepted back anywhere a run id is)."""
    return run_id[:8] if run_id else "(deleted)"


# ------------------------------------------------------------ parsing and rendering helpers


def parse_pairs(pairs: list[str] | None, option: str) -> dict:
    """`KEY=VALUE` options into a dict, by the one parser the UI uses too (codec.parse_assignment)."""
    import typer

    from ..codec import parse_assignment

    parsed = {}
    for pair in pairs or []:
        try:
            key, value = parse_assignment(pair)
        except exceptions.RunelogException as exc:
            raise typer.BadParameter(str(exc), param_hint=option) from None
        parsed[key] = value
    return parsed


# NaN and ±inf are not JSON: every --json output writes them as these strings
# (float() reads each back), never as the bare Infinity/NaN strict parsers reject.
NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def print_json(document) -> None:
    """One strict JSON document on stdout, unwrapped (for scripts and jq); non-finite
    numbers (float, numpy or Decimal) become "NaN", "Infinity" or "-Infinity"."""
    import json
    import math
    import numbers
    from decimal import Decimal

    def clean(value):
        if isinstance(value, Decimal):  # PostgreSQL numeric; a finite one keeps its digits (as text)
            if value.is_nan():
                return NON_FINITE["nan"]
            return NON_FINITE["-inf" if value < 0 else "inf"] if value.is_infinite() else value
        if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
            number = float(value)  # numpy floats too
            return number if math.isfinite(number) else NON_FINITE[str(number)]
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        return value

    print(json.dumps(clean(document), default=str, allow_nan=False))


def show(table, out: Console | None = None) -> None:
    """Print a table without ever cutting a cell below its longest word (a run id stays whole).

    Rich squeezes a table that is wider than the terminal by wrapping, then by
    cutting every column evenly; the cut is what shortens ids to "fcff7…". So
    when even the wrapped table is too wide, it is printed at its own minimum
    width and the terminal wraps the lines instead.
    """
    from rich.measure import Measurement

    out = out or console
    needed = Measurement.get(out, out.options.update_width(100_000), table).minimum
    if needed <= out.width:
        out.print(table)
        return
    saved = out._width  # rich has no per-call way to print wider than the console
    out.width = needed
    try:
        out.print(table)
    finally:
        out._width = saved


def fmt(value) -> str:
    """A cell: floats to 4 significant decimals, None as an em dash, the rest as text."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e-3 or abs(value) >= 1e6 else f"{value:.4f}"
    return str(value)


def fmt_time(iso: str | None) -> str:
    return iso[:19].replace("T", " ") if iso else "—"


def confirm(message: str, yes: bool) -> None:
    """Ask before destroying anything; `--yes` answers for scripts. "No" is not an error (exit 0)."""
    import typer

    if not yes and not typer.confirm(message):
        console.print("Cancelled; nothing was changed.")
        raise typer.Exit(0)
