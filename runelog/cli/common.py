"""What every command shares: global options, finding and opening the store, consoles, rendering."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from rich import table as rich_table
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from .. import exceptions, formatting

if TYPE_CHECKING:
    from ..stores import StoreChoice

# emoji=False: a stored name such as ":fire:" is printed as typed, not as a picture.
console = Console(emoji=False)
errors = Console(stderr=True, emoji=False)


class State:
    """Global options, set by the app callback (or the same options after a command's name)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self, store: Optional[str] = None, database_url: Optional[str] = None, debug: bool = False) -> None:
        self.explicit_store, self.database_url, self.debug = store, database_url, debug

    def choice(self) -> StoreChoice:
        """The store the options name: --store / $RUNELOG_HOME, else the nearest one found upwards
        from the current folder (as git finds .git), else the current folder."""
        from .. import choose_store

        return choose_store(self.explicit_store, self.database_url)

    @property
    def store(self) -> Optional[str]:
        """The folder holding the store, or None (the current folder, where none was found)."""
        return self.choice().path

    @store.setter
    def store(self, value: Optional[str]) -> None:
        self.explicit_store = value


state = State()


def store_exists() -> bool:
    """Whether the selected store is there (a server database always counts as there)."""
    return state.choice().exists


def require_store() -> StoreChoice:
    """The selected store, or StoreNotFound: reading commands never create a store."""
    return state.choice().require()


def check_database_url(url: Optional[str]) -> Optional[str]:
    """A --database-url that names no database runelog can reach is a usage error (exit 2), not a traceback."""
    if url is None:
        return None
    import typer

    from .. import check_database_url as check

    try:
        return check(url)
    except exceptions.InvalidInput as exc:
        raise typer.BadParameter(str(exc)) from None


def tracker(create: bool = False):
    """The tracker for the selected store (opened, and upgraded if local and older).

    Only commands that write new records pass `create=True`; a mistyped --store
    then makes a store there, as `get_tracker` would. Every other command says
    that no store is there, and changes nothing.
    """
    from .. import get_tracker

    choice = state.choice() if create else require_store()
    return get_tracker(choice.path, database_url=state.database_url)


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


short = formatting.short_id  # run ids as 8-character prefixes, accepted back anywhere a run id is
fmt = formatting.value  # a table cell
fmt_size = formatting.size


def fmt_time(iso) -> str:
    return formatting.timestamp(iso)


# ------------------------------------------------------------ parsing and rendering helpers


def cell(item, style: str = "") -> Text:
    """A value from the store or the user as printable text, shown exactly as stored.

    Rich reads "[bold]" or "[/x]" in a plain string as markup, which would
    restyle, hide or crash on stored names; a Text is never parsed. Numbers and
    None are formatted as table cells (formatting.value). A Text passes through.
    """
    if isinstance(item, Text):
        return item
    return Text(item if isinstance(item, str) else fmt(item), style=style)


def literal(item) -> str:
    """A stored value inside a markup string (console.print(f"...{literal(name)}...")): its brackets escaped.

    Not directly before a markup tag: rich's escape doubles a trailing backslash for that case, which
    would print twice here, so the doubling is undone (a backslash escapes only a following "[").
    """
    return escape(f"{item}.")[:-1]  # the "." keeps escape from doubling a trailing backslash


class Table(rich_table.Table):
    """A rich Table whose headers, cells, title and caption given as strings are printed literally.

    Every CLI table of stored values is one of these, so no stored text is ever
    read as markup; a styled cell is passed as `cell(value, style)`.
    """

    def __init__(self, *headers, title=None, caption=None, **options) -> None:
        super().__init__(*headers, title=_annotation(title, "table.title"),
                         caption=_annotation(caption, "table.caption"), **options)

    def add_column(self, header="", *args, **options) -> None:
        super().add_column(cell(header), *args, **options)

    def add_row(self, *cells, **options) -> None:
        super().add_row(*(None if c is None else cell(c) for c in cells), **options)


def _annotation(text, style: str):
    return Text(text, style=style) if isinstance(text, str) else text


def parse_pairs(pairs: list[str] | None, option: str) -> dict:
    """`KEY=VALUE` options into a dict, by the one parser of what people type (formatting.parse_assignment)."""
    import typer

    parsed = {}
    for pair in pairs or []:
        try:
            key, value = formatting.parse_assignment(pair)
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


def confirm(message: str, yes: bool) -> None:
    """Ask before destroying anything; `--yes` answers for scripts. "No" is not an error (exit 0)."""
    import typer

    if not yes and not typer.confirm(message):
        console.print("Cancelled; nothing was changed.")
        raise typer.Exit(0)
