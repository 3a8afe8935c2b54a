"""`runelog runs ...`"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table
from rich.text import Text

from ..exceptions import RunNotFound
from .common import confirm, console, fmt, fmt_time, parse_pairs, print_json, short, tracker

app = typer.Typer(help="List, inspect, compare, download from and delete runs.", no_args_is_help=True)

Json = typer.Option(False, "--json", help="Print one JSON document instead of tables.")
STATUS_COLOURS = {"FINISHED": "green", "FAILED": "red", "KILLED": "yellow", "RUNNING": "blue"}


def status_cell(status: str) -> str:
    return f"[{STATUS_COLOURS.get(status, 'white')}]{status}[/]"


def runs_table(rows: list[dict], title: str, width: int | None = None) -> Table:
    """Runs as a table that fits the terminal: id prefix, name, status, start and metrics,
    then as many of the params that differ between runs as there is room for (`--json` has all)."""
    width = width or console.width
    metrics = sorted({k for r in rows for k in r["metrics"]})
    varying = sorted(k for k in {k for r in rows for k in r["params"]}
                     if len(rows) == 1 or len({fmt(r["params"].get(k)) for r in rows}) > 1)
    cells = {
        "run": [short(r["run_id"]) for r in rows],
        "name": [r["run_name"] or "" for r in rows],
        "status": [status_cell(r["status"]) + (" [yellow](stale)[/]" if r.get("stale") else "") for r in rows],
        "started": [fmt_time(r["start_time"])[5:16] for r in rows],
        **{m: [fmt(r["metrics"].get(m)) for r in rows] for m in metrics},
    }
    params = {p: [fmt(r["params"].get(p)) for r in rows] for p in varying}

    def needed(header, values, cap):
        return min(cap, max([len(header)] + [len(Text.from_markup(v).plain) for v in values])) + 3

    used = 1 + sum(needed(h, v, 20) for h, v in cells.items())
    shown = []
    for name, values in params.items():
        cost = needed(name, values, 16)
        if used + cost > width:
            break
        shown.append(name)
        used += cost
    hidden = len(params) - len(shown)
    notes = (["params in cyan"] if shown else []) + (
        [f"{hidden} {'more ' if shown else ''}params differ: see --json or `runelog runs get`"] if hidden else [])
    table = Table(title=title, caption="; ".join(notes) or None)
    for header in cells:
        table.add_column(header, no_wrap=True, overflow="ellipsis", max_width=20,
                         justify="right" if header in metrics else "left")
    for name in shown:
        table.add_column(name, header_style="bold cyan", style="cyan", no_wrap=True, overflow="ellipsis",
                         max_width=16)
    for i in range(len(rows)):
        table.add_row(*[v[i] for v in cells.values()], *[params[p][i] for p in shown])
    return table


def _details(t, run: str) -> dict:
    details = t.get_run_details(run)
    if details is None:  # the API keeps 0.2.0's None; the command line says so plainly
        raise RunNotFound(run)
    return details


@app.command("list")
def list_runs(
    experiment: str = typer.Argument(..., help="Experiment name or id."),
    sort_by: Optional[str] = typer.Option(None, "--sort-by", "-s",
                                          help="start_time, status, run_name, param_<key> or a metric key."),
    desc: bool = typer.Option(False, "--desc", "-d", help="Sort in descending order."),
    status: Optional[list[str]] = typer.Option(None, "--status", help="Only runs with this status (repeatable)."),
    tag: Optional[list[str]] = typer.Option(None, "--tag", help="Only runs with tag KEY=VALUE (repeatable)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="At most this many runs."),
    as_json: bool = Json,
) -> None:
    """The runs of an experiment with their params and latest metric values."""
    rows = tracker().list_runs(experiment, tags=parse_pairs(tag, "--tag"),
                               status=[s.upper() for s in status] if status else None,
                               sort_by=sort_by, descending=desc, limit=limit)
    if as_json:
        return print_json(rows)
    if not rows:
        console.print(f"No runs in '{experiment}' match.")
        return
    console.print(runs_table(rows, title=f"Runs of {experiment}"))


@app.command("get")
def get_run(run: str = typer.Argument(..., help="Run id or unique prefix."), as_json: bool = Json) -> None:
    """Everything about one run: params, metrics, tags, artifacts, datasets, inputs."""
    t = tracker()
    details = _details(t, run)
    run_id = details["meta"]["run_id"]
    metrics = t.get_metric_summary(run_id)
    artifacts = t.list_artifacts(run_id)
    if as_json:
        return print_json({**details, "metrics": metrics, "artifacts": artifacts})
    meta = details["meta"]
    console.print(f"[bold]run {run_id}[/] {meta['run_name'] or ''}  {status_cell(meta['status'])}")
    console.print(f"experiment {meta['experiment_id']}  started {fmt_time(meta['start_time'])}  "
                  f"ended {fmt_time(meta['end_time'])}  host {meta['host']} pid {meta['pid']}")
    if meta["git_commit"]:
        console.print(f"git {meta['git_commit'][:12]} on {meta['git_branch']}{' (dirty)' if meta['git_dirty'] else ''}")
    if meta["error"]:
        console.print(f"[red]error: {meta['error']}[/]")
    sections = [
        ("Params", ["key", "value"], [(k, fmt(v)) for k, v in details["params"].items()]),
        ("Metrics", ["key", "last value", "step", "points"],
         [(m["key"], fmt(m["value"]), str(m["step"]), str(m["count"])) for m in metrics]),
        ("Tags", ["key", "value"], [(k, fmt(v)) for k, v in meta["tags"].items()]),
        ("Artifacts", ["name", "size", "sha256"],
         [(a["name"], _size(a["size"]), a["sha256"][:12]) for a in artifacts]),
        ("Datasets", ["name", "kind", "file", "rows", "hash"],
         [(d["name"], d["kind"], d["filename"], fmt(d["row_count"]), (d["sha256"] or d["md5"] or "")[:12])
          for d in details["datasets"]]),
        ("Inputs", ["name", "run", "artifact", "sha256"],
         [(i["name"], short(i["run_id"]), i["artifact_name"] or "", (i["artifact_hash_sha256"] or "")[:12])
          for i in details["inputs"]]),
    ]
    for title, columns, rows in sections:
        if rows:
            table = Table(*columns, title=title, title_justify="left")
            for row in rows:
                table.add_row(*row)
            console.print(table)


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


@app.command("delete")
def delete_run(run: str = typer.Argument(..., help="Run id or unique prefix."),
               yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation.")) -> None:
    """Delete a run and its records (blobs are freed by `runelog gc`)."""
    t = tracker()
    details = _details(t, run)
    run_id = details["meta"]["run_id"]
    confirm(f"Delete run {run_id}? This cannot be undone.", yes)
    t.delete_run(run_id)
    console.print(f"Deleted run {run_id}.")


@app.command("download-artifact")
def download_artifact(run: str = typer.Argument(..., help="Run id or unique prefix."),
                      name: str = typer.Argument(..., help="Artifact name, or the name of a logged folder."),
                      output: Path = typer.Option(Path("."), "-o", "--output-path", help="Folder to write into.")) -> None:
    """Copy an artifact, or a whole logged folder, out of the store (every hash is checked on the way)."""
    path = tracker().download_artifact(run, name, str(output))
    console.print(f"Downloaded {name} to {path}", highlight=False, soft_wrap=True)


@app.command("compare")
def compare_runs(
    runs: list[str] = typer.Argument(..., help="Two or more run ids or prefixes."),
    lower_is_better: Optional[list[str]] = typer.Option(
        None, "--lower-is-better", help="A metric where lower wins, such as a loss (repeatable)."),
    as_json: bool = Json,
) -> None:
    """Params and latest metrics side by side: differing params in yellow, the best metric in green."""
    if len(runs) < 2:
        raise typer.BadParameter("give at least two runs", param_hint="RUNS")
    t = tracker()
    details = []
    for run in runs:
        details.append(_details(t, run))
    if as_json:
        return print_json(details)
    ids = [short(d["meta"]["run_id"]) for d in details]
    params = Table("param", *ids, title="Params")
    for key in sorted({k for d in details for k in d["params"]}):
        values = [fmt(d["params"].get(key)) for d in details]
        differ = len(set(values)) > 1
        params.add_row(key, *[f"[yellow]{v}[/]" if differ else v for v in values])
    metrics = Table("metric", *ids, title="Metrics")
    lower = set(lower_is_better or [])
    for key in sorted({k for d in details for k in d["metrics"]}):
        values = [d["metrics"].get(key) for d in details]
        usable = [v for v in values if v is not None and not math.isnan(v)]
        best = (min(usable) if key in lower else max(usable)) if usable else None
        metrics.add_row(key, *[f"[bold green]{fmt(v)}[/]" if v is not None and v == best else fmt(v) for v in values])
    console.print(params)
    console.print(metrics)


@app.command("reap")
def reap(stale_after: str = typer.Option("5m", "--stale-after",
                                         help="Heartbeat age that counts as dead (90s, 5m, 1h)."),
         yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
         as_json: bool = Json) -> None:
    """Mark KILLED the RUNNING runs whose process died (this host) or whose heartbeat is too old."""
    from .store import parse_duration

    seconds = parse_duration(stale_after, "--stale-after")
    t = tracker()
    planned = t.reap_runs(seconds, dry_run=True)
    if planned:
        confirm(f"Mark {len(planned)} stale runs KILLED ({', '.join(short(r) for r in planned[:5])})?", yes)
    reaped = t.reap_runs(seconds) if planned else []
    if as_json:
        return print_json(reaped)
    console.print(f"Marked {len(reaped)} runs KILLED." + "".join(f"\n  {short(r)}" for r in reaped))
