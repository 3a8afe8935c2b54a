"""`runelog experiments ...`"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from .common import confirm, console, fmt_time, print_json, tracker

app = typer.Typer(help="List, inspect, export and delete experiments.", no_args_is_help=True)

SortBy = typer.Option(None, "--sort-by", "-s", help="Field to sort by.")
Desc = typer.Option(False, "--desc", "-d", help="Sort in descending order.")
Json = typer.Option(False, "--json", help="Print one JSON document instead of a table.")


@app.command("list")
def list_experiments(sort_by: Optional[str] = SortBy, desc: bool = Desc, as_json: bool = Json) -> None:
    """Every experiment with its run count and last run (sort by name, num_runs, last_run, ...)."""
    summaries = tracker().get_experiment_summaries(sort_by=sort_by, ascending=not desc)
    if as_json:
        return print_json(summaries)
    table = Table("id", "name", "runs", "last run", "created", title="Experiments")
    for s in summaries:
        table.add_row(s["experiment_id"], s["name"], str(s["num_runs"]), fmt_time(s["last_run"]),
                      fmt_time(s["created_at"]))
    console.print(table)


@app.command("get")
def get_experiment(name_or_id: str = typer.Argument(..., help="Experiment name or id."),
                   sort_by: Optional[str] = SortBy, desc: bool = Desc, as_json: bool = Json) -> None:
    """One experiment's runs with their params and latest metrics."""
    rows = tracker().list_runs(name_or_id, sort_by=sort_by, descending=desc)
    if as_json:
        return print_json(rows)
    from .runs import runs_table

    console.print(runs_table(rows, title=f"Experiment {name_or_id}: {len(rows)} runs"))


@app.command("delete")
def delete_experiment(name_or_id: str = typer.Argument(..., help="Experiment name or id."),
                      yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation.")) -> None:
    """Delete an experiment and all its runs (blobs are freed by `runelog gc`)."""
    t = tracker()
    runs = t.list_runs(name_or_id)
    confirm(f"Delete experiment '{name_or_id}' and its {len(runs)} runs? This cannot be undone.", yes)
    t.delete_experiment(name_or_id)
    console.print(f"Deleted experiment '{name_or_id}' ({len(runs)} runs).")


@app.command("export")
def export_experiment(name_or_id: str = typer.Argument(..., help="Experiment name or id."),
                      output: Optional[Path] = typer.Option(None, "-o", "--output",
                                                            help="File to write (.csv, or .parquet)."),
                      ) -> None:
    """Write one row per run (params, latest metrics) to CSV, or parquet by the file's extension."""
    frame = tracker().load_results(name_or_id)
    target = output or Path(f"{str(name_or_id).replace(' ', '_')}_export.csv")
    if target.suffix.lower() in (".parquet", ".pq"):
        frame.to_parquet(target)
    else:
        frame.to_csv(target)
    console.print(f"Exported {len(frame)} runs to {target}.")
