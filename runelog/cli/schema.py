"""`runelog db ...`: the store's schema, through Alembic."""

from __future__ import annotations

import typer
from rich.table import Table

from .common import cell, console, state

app = typer.Typer(help="The store's schema (Alembic revisions).", no_args_is_help=True)


@app.command("current")
def current() -> None:
    """Show the store's schema revision and the one this runelog needs."""
    from .. import schema_status

    choice = state.choice()
    console.print(cell(choice.describe("--store")), highlight=False, soft_wrap=True)
    revision, head = schema_status(choice)
    mark = "[green]up to date[/]" if revision == head else "[yellow]needs `runelog db upgrade`[/]"
    console.print(f"current: {revision or '(empty)'}  head: {head}  {mark}")


@app.command("upgrade")
def upgrade() -> None:
    """Migrate the store to the newest schema (a local SQLite store is backed up first)."""
    from .. import upgrade_schema

    before, after = upgrade_schema(state.choice())
    if before == after:
        console.print(f"Already at {after}.")
    else:
        console.print(f"Upgraded from {before or '(empty)'} to {after}.")


@app.command("history")
def history() -> None:
    """List the schema revisions, oldest first."""
    table = Table("revision", "down revision", "description")
    from .. import schema_history

    for revision, down, doc in schema_history():
        table.add_row(revision, down or "", doc or "")
    console.print(table)
