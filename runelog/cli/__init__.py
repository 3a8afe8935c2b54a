"""The `runelog` command: a thin shell over the Python API.

Each command parses its arguments, calls the API, and renders the result with
rich. A user error (any RunelogException, or an OSError such as a folder that
is not there) prints one red line and exits 1; usage errors exit 2; `--debug`
shows tracebacks.
"""

from __future__ import annotations

import copy
from typing import Any, Optional

import typer
from rich.markup import escape

from .. import exceptions
from . import examples, experiments, query, registry, runs, schema, store, sweeps, ui
from . import legacy
from .common import check_database_url, console, errors, state

# Options every command accepts after its name too (`runelog ui --store PATH`), as 0.2.0's README shows.
SHARED_OPTIONS = ("--store", "--database-url")


class _Group(typer.core.TyperGroup):
    """The top-level group.

    Built once per run of the command line: it gives every subcommand the
    global --store/--database-url options, drops the `<bool>` placeholder
    from flags in --help, and turns a RunelogException from any command into
    one red line and exit 1.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        shared = [p for p in self.params if p.opts and p.opts[0] in SHARED_OPTIONS]
        _finish(self, shared, top=True)

    def get_params(self, ctx):
        params = super().get_params(ctx)
        for param in params:  # typer adds --install-completion & co. after __init__
            if getattr(param, "is_flag", False):
                param.metavar = ""
        return params

    def parse_args(self, ctx, args):
        # Bytes that are not UTF-8 arrive as lone surrogates, which no database or file accepts.
        for arg in args:
            try:
                arg.encode("utf-8")
            except UnicodeEncodeError:
                raise typer.BadParameter(
                    f"{arg.encode('utf-8', 'surrogateescape')!r} is not valid UTF-8 text; "
                    "names, ids and paths must be UTF-8.") from None
        return super().parse_args(ctx, args)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (exceptions.RunelogException, OSError) as exc:
            if state.debug:
                raise
            message = exc.cli_message() if isinstance(exc, exceptions.RunelogException) else str(exc)
            errors.print(f"[red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None


def _set_shared(ctx: Any, param: Any, value: Any) -> None:
    # Runs after the top-level callback, so a value given after the command name wins.
    if value is not None:
        if param.name == "store":
            state.store = value
        else:
            state.database_url = check_database_url(value)


def _finish(command: Any, shared: list, top: bool = False) -> None:
    """Walk the command tree once: shared options on every command, no placeholder on flags.

    Duck-typed: typer may bring its own copy of click, so click's classes are not imported here.
    """
    if not top:
        taken = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
        for option in shared:
            if option.opts[0] not in taken:
                extra = copy.copy(option)
                extra.envvar, extra.expose_value, extra.callback = None, False, _set_shared
                command.params.append(extra)
    for param in command.params:
        if getattr(param, "is_flag", False):
            param.metavar = ""  # typer would show "<bool>"
    help_option = command.get_help_option(command.context_class(command, help_option_names=["-h", "--help"]))
    if help_option is not None:
        help_option.metavar = ""
    for sub in getattr(command, "commands", {}).values():
        _finish(sub, shared)


app = typer.Typer(cls=_Group, help="runelog: local-first experiment tracking.", no_args_is_help=True,
                  pretty_exceptions_enable=False, context_settings={"help_option_names": ["-h", "--help"]})
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
                                        help="Folder holding .runelog/ (default: the nearest one in this "
                                             "folder or above it, as git finds .git)."),
    database_url: Optional[str] = typer.Option(None, "--database-url", envvar="RUNELOG_DATABASE_URL",
                                               callback=check_database_url,
                                               help="SQLAlchemy URL of the metadata database."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
    version: bool = typer.Option(False, "--version", "-v", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    state.reset(store, database_url, debug)


def main() -> None:
    """Console-script entry point."""
    app()
