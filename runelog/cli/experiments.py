"""`runelog experiments ...`"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from .common import NON_FINITE, confirm, console, fmt_time, print_json, show, tracker, tracker_if_any

app = typer.Typer(help="List, inspect, export and delete experiments.", no_args_is_help=True)

SortBy = typer.Option(None, "--sort-by", "-s", help="Field to sort by.")
Desc = typer.Option(False, "--desc", "-d", help="Sort in descending order.")
Json = typer.Option(False, "--json", help="Print one JSON document instead of a table.")

# `experiments export -o FILE`: the file's suffix picks the format.
EXPORT_FORMATS = {".csv": "csv", ".json": "json", ".parquet": "parquet", ".pq": "parquet"}


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
        console.print(f"{title} has no runs.", style="yellow")
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
    console.print(f"Deleted experiment '{name_or_id}' ({len(runs)} runs).")


@app.command("export")
def export_experiment(name_or_id: str = typer.Argument(..., help="Experiment name or id."),
                      output: Optional[Path] = typer.Option(
                          None, "-o", "--output",
                          help="File to write: .csv, .json or .parquet, by its suffix "
                               "(default: <experiment name>_export.csv)."),
                      ) -> None:
    """Write one row per run (name, status, times, params, tags, latest metrics), oldest first."""
    if output is not None and output.suffix.lower() not in EXPORT_FORMATS:
        raise typer.BadParameter(
            f"cannot tell the format of '{output}' from its suffix; use one of "
            f"{', '.join(sorted(EXPORT_FORMATS))}", param_hint="'-o' / '--output'")
    t = tracker()
    rows = t.list_runs(name_or_id)
    experiment = experiment_of(t, name_or_id, rows)
    if not rows:
        console.print(f"Experiment '{experiment['name']}' has no runs to export; no file was written.",
                      style="yellow")
        return
    frame = _export_frame(t.load_results(name_or_id), rows)
    target = output or Path(f"{experiment['name'].replace(' ', '_').replace('/', '_')}_export.csv")
    kind = EXPORT_FORMATS[target.suffix.lower()]
    if kind == "csv":
        frame.to_csv(target)
    elif kind == "json":
        # ±inf as "Infinity"/"-Infinity", as every --json output writes them (to_json would write
        # null, like a missing value); NaN and missing values stay null.
        infinite = {float("inf"): NON_FINITE["inf"], float("-inf"): NON_FINITE["-inf"]}
        frame.reset_index().replace(infinite).to_json(target, orient="records", date_format="iso", indent=1)
    else:
        _parquet_safe(frame).to_parquet(target)
    console.print(f"Exported {len(frame)} runs to {target}.")


def _export_frame(results, rows: list[dict]):
    """load_results' frame (0.2.0's columns and types) plus run_name and `tag_<key>` columns,
    ordered by start time."""
    import pandas as pd

    names = pd.Series({r["run_id"]: r["run_name"] for r in rows}, name="run_name")
    tags = pd.DataFrame.from_dict({r["run_id"]: {f"tag_{k}": v for k, v in r["tags"].items()} for r in rows},
                                  orient="index")
    frame = results.join(names)
    frame = frame[["run_name", *[c for c in frame.columns if c != "run_name"]]]
    if not tags.empty:
        frame = frame.join(tags[sorted(tags.columns)])
    frame.index.name = "run_id"
    return frame.sort_values("start_time", kind="stable")


def _parquet_safe(frame):
    """Parquet needs one type per column: a column mixing types (a param that was 1 in one run and
    "auto" in another) is written as JSON text."""
    import json

    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object:
            kinds = {type(v) for v in out[column] if v is not None and v == v}
            if len(kinds) > 1 or kinds & {list, dict}:
                out[column] = [None if v is None else json.dumps(v, default=str) for v in out[column]]
    return out
