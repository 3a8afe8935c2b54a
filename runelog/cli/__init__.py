"""The `runelog` command: a thin shell over the Python API.

Each command parses its arguments, calls the API, and renders the result with
rich. A user error (any RunelogException) prints one red line and exits 1;
usage errors exit 2; `--debug` shows tracebacks.
"""

from __future__ import annotations

from typing import Optional

import typer
from rich.markup import escape

from .. import exceptions
from . import examples, experiments, query, registry, runs, schema, store, sweeps, ui
from . import legacy
from .common import console, errors, state



class _Group(typer.core.TyperGroup):
    """The top-level group: a RunelogException from any command becomes one red line and exit 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except exceptions.RunelogException as exc:
            if state.debug:
                raise
            errors.print(f"[red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None


app = typer.Typer(cls=_Group, help="runelog: local-first experiment tracking.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
app.add_typer(experiments.app, name="experiments")
app.add_typer(runs.app, name="runs")
app.add_typer(registry.app, name="registry")
app.add_typer(schema.app, name="db")
app.add_typer(examples.app, name="examples")
app.command("sql")(query.sql)
app.command("lineage")(query.lineage)
app.command("verify")(store.verify)
app.command("gc")(store.gc)
app.command("backup")(store.backup)
app.command("sweep")(sweeps.sweep)
app.command("ui")(ui.ui)
app.command("import-legacy")(legacy.import_legacy)


def _version(value: bool) -> None:
    if value:
        from .. import __version__

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


def main() -> None:
    """Console-script entry point."""
    app()
