"""`runelog sql` and `runelog lineage`: asking the store questions."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.tree import Tree

from .. import exceptions, formatting
from .common import Table, console, errors, print_json, require_store, short, state, tracker


def sql(
    query: Optional[str] = typer.Argument(None, help="One reading SQL statement."),
    file: Optional[Path] = typer.Option(None, "--file", "-f", help="Read the statement from a file."),
    as_csv: bool = typer.Option(False, "--csv", help="Write CSV to stdout."),
    as_json: bool = typer.Option(False, "--json", help="Write a JSON list of objects to stdout."),
) -> None:
    """Run one reading SQL statement on the store (SELECT, WITH ... SELECT, VALUES, EXPLAIN).

    Anything else is refused before it runs, and the database connection is
    read-only as well (docs/sql.md). With --json, a column name that repeats
    gets a suffix (a, a_2, a_3) so that no column is lost; CSV and the table
    keep the names as they are. Ctrl-C stops a running query (exit 130).
    """
    if query is None and file is None:
        raise typer.BadParameter("give a query (SELECT ...) or --file FILE holding one")
    if query is not None and file is not None:
        raise typer.BadParameter("give a query or --file, not both")
    if file is not None:
        if file.is_dir():
            raise typer.BadParameter(f"{file} is a folder; give the file that holds the statement",
                                     param_hint="'--file'")
        if not file.is_file():
            raise exceptions.SqlFileNotFound(str(file))
        try:
            query = file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise exceptions.SqlFileNotText(str(file)) from None
    try:
        columns, rows = _reader().sql(query)
    except (KeyboardInterrupt, exceptions.RunTerminated) as exc:  # Ctrl-C or SIGTERM: the query was stopped
        errors.print("interrupted: the query was stopped; nothing was changed.", highlight=False)
        raise typer.Exit(130 if isinstance(exc, KeyboardInterrupt) else 128 + exc.signum) from None
    if as_json:
        keys = unique_names(columns)
        print_json([dict(zip(keys, row, strict=True)) for row in rows])
    elif as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows(rows)
    else:
        table = Table(*columns)
        for row in rows:
            table.add_row(*("" if v is None else str(v) for v in row))
        console.print(table)


def unique_names(columns: list[str]) -> list[str]:
    """Column names made unique for JSON objects: a repeated name gets _2, _3, ..., skipping names the
    statement itself gives a column, so that no value is lost."""
    taken, seen, names = set(columns), set(), []
    for name in columns:
        unique, n = name, 1
        while unique in seen or (unique != name and unique in taken):
            n += 1
            unique = f"{name}_{n}"
        seen.add(unique)
        names.append(unique)
    return names


def _reader():
    """The selected store opened read-only: `runelog sql` never creates, upgrades or writes to it."""
    from .. import get_tracker

    return get_tracker(require_store().path, database_url=state.database_url, read_only=True)


def lineage(
    run: Optional[str] = typer.Argument(None, help="Run id or unique prefix."),
    model: Optional[str] = typer.Option(None, "--model", metavar="MODEL",
                                        help="Start from a registered model version: NAME (newest), NAME/3, "
                                             "NAME@ALIAS or NAME@latest."),
    downstream: bool = typer.Option(False, "--downstream", help="Show what used the run instead of what it used."),
    depth: Optional[int] = typer.Option(None, "--depth", min=1, help="At most this many hops."),
    as_json: bool = typer.Option(False, "--json", help="Write the edges as JSON."),
) -> None:
    """Show a run's lineage as a tree: the runs and exact artifacts it used (or that used it)."""
    if run is None and model is None:
        raise typer.BadParameter("give the RUN to start from, or --model MODEL")
    if run is not None and model is not None:
        raise typer.BadParameter("give a RUN or --model, not both")
    t = tracker()
    if model is not None:
        version = t.get_model_version(model)
        if version.run_id is None:
            raise exceptions.ModelSourceRunDeleted(version.model_name, str(version.version))
        run = version.run_id
    direction = "downstream" if downstream else "upstream"
    edges = t.get_lineage(run, direction, depth)
    if as_json:
        print_json([e.as_dict() for e in edges])
        return
    root_run = t.get_run(run)
    tree = Tree(_label(root_run["run_id"], _experiment_name(t, root_run), root_run.get("run_name"), root_run["status"]))
    branches = {root_run["run_id"]: tree}
    for edge in edges:  # nearest first, so a parent is always placed before its children
        parent = branches.get(edge.via_run_id)
        if parent is None:
            continue
        sha = formatting.short_hash(edge.sha256, "no artifact pinned")
        via = f"[cyan]{escape(edge.input_name)}[/]: {escape(edge.artifact_name or '(whole run)')} [dim]{sha}[/]"
        arrow = "→" if downstream else "←"
        node = parent.add(f"{via}  {arrow}  " + _label(edge.run_id, edge.experiment, edge.run_name, edge.status))
        if edge.run_id and edge.run_id not in branches:
            branches[edge.run_id] = node
    console.print(tree)
    if not edges:
        console.print(f"[dim]No {direction} runs.[/]")


def _experiment_name(t, run: dict) -> str:
    found = t.get_experiment(run["experiment_id"])
    return found["name"] if found else run["experiment_id"]


def _label(run_id, experiment, run_name, status) -> str:
    if run_id is None:
        return "[red](deleted run)[/]"
    colour = {"FINISHED": "green", "FAILED": "red", "KILLED": "yellow"}.get(status, "blue")
    name = f" {escape(run_name)}" if run_name else ""
    return f"[bold]{escape(str(experiment))}[/]{name} [dim]{short(run_id)}[/] [{colour}]{status}[/]"
