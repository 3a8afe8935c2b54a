"""The `runelog` command: a thin shell over the Python API.

Each command parses its arguments, calls the API, and renders the result.
User errors (any RunelogException) print one red line and exit 1; `--debug`
shows the traceback instead.
"""

from __future__ import annotations

import sys
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from . import db, exceptions

app = typer.Typer(help="runelog: local-first experiment tracking.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
db_app = typer.Typer(help="The store's schema (Alembic revisions).", no_args_is_help=True)
app.add_typer(db_app, name="db")

console = Console()
errors = Console(stderr=True)


class _State:
    store: Optional[str] = None
    database_url: Optional[str] = None
    debug: bool = False


state = _State()


def _version(value: bool) -> None:
    if value:
        from . import __version__

        console.print(f"runelog {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    store: Optional[str] = typer.Option(None, "--store", envvar="RUNELOG_HOME",
                                        help="Folder holding .runelog/ (default: current folder)."),
    database_url: Optional[str] = typer.Option(None, "--database-url", envvar="RUNELOG_DATABASE_URL",
                                               help="SQLAlchemy URL of the metadata database."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    state.store, state.database_url, state.debug = store, database_url, debug


def _location() -> db.StoreLocation:
    return db.locate(state.store, state.database_url)


@db_app.command("current")
def db_current() -> None:
    """Show the store's schema revision and the one this runelog needs."""
    current, head = db.schema_status(_location())
    mark = "[green]up to date[/]" if current == head else "[yellow]needs `runelog db upgrade`[/]"
    console.print(f"current: {current or '(empty)'}  head: {head}  {mark}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the store to the newest schema (backs up a local SQLite store first)."""
    before, after = db.upgrade_store(_location())
    if before == after:
        console.print(f"Already at {after}.")
    else:
        console.print(f"Upgraded from {before or '(empty)'} to {after}.")


@db_app.command("history")
def db_history() -> None:
    """List the schema revisions, oldest first."""
    table = Table("revision", "down revision", "description")
    for revision, down, doc in db.history():
        table.add_row(revision, down or "", doc or "")
    console.print(table)


def main() -> None:
    """Entry point: run the app, turning user errors into one red line (exit 1)."""
    try:
        app()
    except exceptions.RunelogException as exc:
        if state.debug:
            raise
        errors.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)
