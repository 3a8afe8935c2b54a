"""`runelog experiments ...`"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from .common import Table, confirm, console, fmt_time, literal, print_json, show, tracker, tracker_if_any

app = typer.Typer(help="List, inspect, export and delete experiments.", no_args_is_help=True)

SortBy = typer.Option(None, "--sort-by", "-s", help="Field to sort by.")
Desc = typer.Option(False, "--desc", "-d", help="Sort in descending order.")
Json = typer.Option(False, "--json", help="Print one JSON document instead of a table.")


@app.command("list")
def list_experiments(sort_by: Optional[str] = SortBy, desc: bool = Desc, as_json: bool = Json) -> None:
    """Every experiment with its run count and last run (sort by name, num_runs, last_run, ...)."""
    t = tracker_if_any()
    summaries = t.get_experiment_summaries(sort_by=sort_by, ascending=not desc) if t else []
    if as_json:
        return print_json(summaries)
    if not summaries:
        where = "" if t else " (there is no .runelog/ store in this folder or above it yet)"
        console.print(f"No experiments found{where}; a run creates its experiment when it starts "
                      "(`runelog examples minimal` logs one).", style="yellow")
        return
    table = Table("id", "name", "runs", "last run", "created", title="Experiments")
    for s in summaries:
        table.add_row(s["experiment_id"], s["name"], str(s["num_runs"]), fmt_time(s["last_run"]),
                      fmt_time(s["created_at"]))
    show(table)


def experiment_of(t, name_or_id: str, rows: list[dict]) -> dict:
    """{experiment_id, name} of the experiment `rows` came from (list_runs has already resolved it)."""
    summaries = t.list_experiments()
    if rows:
        return next(e for e in summaries if e["experiment_id"] == rows[0]["experiment_id"])
    by_name = [e for e in summaries if e["name"] == name_or_id]
    by_id = [e for e in summaries if e["experiment_id"] == name_or_id]
    return (by_name or by_id or [{"experiment_id": "?", "name": name_or_id}])[0]


@app.command("get")
def get_experiment(name_or_id: str = typer.Argument(..., help="Experiment name or id."),
                   sort_by: Optional[str] = SortBy, desc: bool = Desc, as_json: bool = Json) -> None:
    """One experiment's runs with their params and latest metrics."""
    from .runs import list_or_usage_error, runs_table

    t = tracker()
    rows = list_or_usage_error(t, name_or_id, sort_by=sort_by, descending=desc)
    if as_json:
        return print_json(rows)
    experiment = experiment_of(t, name_or_id, rows)
    title = f"Experiment {experiment['name']} (id {experiment['experiment_id']})"
    if not rows:
        console.print(f"{literal(title)} has no runs.", style="yellow")
        return
    show(runs_table(rows, title=f"{title}: {len(rows)} runs"))


@app.command("delete")
def delete_experiment(name_or_id: str = typer.Argument(..., help="Experiment name or id."),
                      yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation.")) -> None:
    """Delete an experiment and all its runs (blobs are freed by `runelog gc`)."""
    t = tracker()
    runs = t.list_runs(name_or_id)
    confirm(f"Delete experiment '{name_or_id}' and its {len(runs)} runs? This cannot be undone.", yes)
    t.delete_experiment(name_or_id)
    console.print(f"Deleted experiment '{literal(name_or_id)}' ({len(runs)} runs).")


@app.command("export")
def export_experiment(name_or_id: str = typer.Argument(..., help="Experiment name or id."),
                      output: Optional[Path] = typer.Option(
                          None, "-o", "--output",
                          help="File to write: .csv, .json or .parquet, by its suffix "
                               "(default: <experiment name>_export.csv)."),
                      ) -> None:
    """Write one row per run (name, status, times, params, tags, latest metrics), oldest first."""
    from ..exceptions import InvalidValue

    t = tracker()
    try:
        target, count = t.export_runs(name_or_id, output)
    except InvalidValue as exc:  # a suffix that is no format: a usage error, nothing was read
        raise typer.BadParameter(str(exc), param_hint="'-o' / '--output'") from None
    if not count:
        console.print(f"Experiment '{literal(name_or_id)}' has no runs to export; no file was written.", style="yellow")
        return
    console.print(f"Exported {count} runs to {literal(target)}.")
