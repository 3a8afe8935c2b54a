"""`runelog runs ...`"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.text import Text

from .. import formatting
from ..exceptions import InvalidSortKey, RunNotFound
from ..types import RUN_STATUSES
from .common import (Table, cell, confirm, console, fmt, fmt_size, fmt_time, literal, parse_pairs, print_json, short,
                     show, tracker, tracker_if_any)

app = typer.Typer(help="List, inspect, compare, download from and delete runs.", no_args_is_help=True)

Json = typer.Option(False, "--json", help="Print one JSON document instead of tables.")
STATUS_COLOURS = {"FINISHED": "green", "FAILED": "red", "KILLED": "yellow", "RUNNING": "blue"}
OLDEST_FIRST = "attributes.start_time ASC"  # `runs list`'s one default order, as 0.2.0's
Status = Enum("Status", {s: s for s in RUN_STATUSES}, type=str)  # type: ignore[misc]  # --status choices, checked by click


def status_cell(status: str) -> Text:
    return Text(status, style=STATUS_COLOURS.get(status, "white"))


def runs_table(rows: list[dict], title: str, width: int | None = None, wide: bool = False) -> Table:
    """Runs as a table that fits the terminal.

    The run id is never cut: it is shown as its 8-character prefix (the whole
    id with `wide`), and columns are left out, most dispensable first, until
    the rest fits: params that differ between runs, then the start time,
    metrics, the name. The caption says what was left out (`--json` has all).
    """
    width = width or console.width
    metrics = sorted({k for r in rows for k in r["metrics"]})
    varying = sorted(k for k in {k for r in rows for k in r["params"]}
                     if len(rows) == 1 or len({fmt(r["params"].get(k)) for r in rows}) > 1)
    fixed = {"run", "name", "status", "started"}
    # A param named like a metric or a fixed column gets the name --sort-by knows it by.
    param_header = {p: f"param_{p}" if p in fixed or p in metrics else p for p in varying}
    ids = [r["run_id"] if wide else short(r["run_id"]) for r in rows]
    columns: dict[str, tuple[list[Text], int | None, str]] = {  # header -> (cells, cap, kind), display order
        "run": ([cell(i) for i in ids], None, "id"),
        "name": ([cell(r["run_name"] or "") for r in rows], 20, "name"),
        "status": ([Text.assemble(status_cell(r["status"]), (" (stale)", "yellow") if r.get("stale") else "")
                    for r in rows],
                   None, "status"),
        "started": ([cell(fmt_time(r["start_time"])[5:16]) for r in rows], None, "started"),
        **{m: ([cell(r["metrics"].get(m)) for r in rows], 12, "metric") for m in metrics},
        **{param_header[p]: ([cell(r["params"].get(p)) for r in rows], 16, "param") for p in varying},
    }

    def cost(header: str) -> int:
        values, cap, _ = columns[header]
        natural = max([len(header)] + [v.cell_len for v in values])
        return (natural if cap is None else min(cap, natural)) + 3  # padding and border

    priority = ["run", "status", "name", *metrics, "started", *(param_header[p] for p in varying)]
    used, shown = 1, set()
    for header in priority:
        if header == "run" or used + cost(header) <= width:
            shown.add(header)
            used += cost(header)
    left_out = [h for h in priority if h not in shown]
    notes = (["params in cyan"] if any(columns[h][2] == "param" for h in shown) else [])
    if left_out:
        counted = {kind: sum(columns[h][2] == kind for h in left_out) for kind in ("metric", "param")}
        named = [h for h in left_out if columns[h][2] not in counted]
        parts = named + [f"{n} {kind}{'s' if n > 1 else ''}" for kind, n in counted.items() if n]
        notes.append(f"not shown at this width: {', '.join(parts)} (see --json or `runelog runs get`)")
    table = Table(title=title, caption="; ".join(notes) or None)
    for header, (values, cap, kind) in columns.items():
        if header not in shown:
            continue
        if kind == "id":
            table.add_column(header, no_wrap=True, min_width=values[0].cell_len if values else 8)
        elif kind == "param":
            table.add_column(header, header_style="bold cyan", style="cyan", no_wrap=True, overflow="ellipsis",
                             max_width=cap)
        else:
            table.add_column(header, no_wrap=True, overflow="ellipsis", max_width=cap,
                             justify="right" if kind == "metric" else "left")
    for i in range(len(rows)):
        table.add_row(*[values[i] for header, (values, _, _) in columns.items() if header in shown])
    return table


def list_or_usage_error(t, experiment: str, **query) -> list[dict]:
    """tracker.list_runs, with a sort key that names nothing reported as a usage error (exit 2)."""
    try:
        return t.list_runs(experiment, **query)
    except InvalidSortKey as exc:
        raise typer.BadParameter(str(exc), param_hint="'--sort-by'") from None


def _details(t, run: str) -> dict:
    details = t.get_run_details(run)
    if details is None:  # the API keeps 0.2.0's None; the command line says so plainly
        raise RunNotFound(run)
    return details


@app.command("list")
def list_runs(
    experiment: str = typer.Argument(..., help="Experiment name or id."),
    filter_text: Optional[str] = typer.Option(
        None, "--filter", metavar="FILTER",
        help="Only runs matching this filter, in MLflow's syntax: \"metrics.acc > 0.9 and params.lr < 0.1 and "
             "tags.stage = 'prod' and attributes.status = 'FINISHED'\" (see docs/querying.md)."),
    order_by: Optional[str] = typer.Option(
        None, "--order-by", metavar="TERMS",
        help="Sort terms, most important first: \"metrics.acc DESC, params.lr\" (default: oldest first, "
             "with or without --filter, as 0.2.0 listed runs)."),
    sort_by: Optional[str] = typer.Option(None, "--sort-by", "-s",
                                          help="start_time, status, run_name, param_<key> or a metric key."),
    desc: bool = typer.Option(False, "--desc", "-d", help="Sort in descending order."),
    status: Optional[list[Status]] = typer.Option(None, "--status", case_sensitive=False, metavar="STATUS",
                                                  help=f"Only runs with this status: {', '.join(RUN_STATUSES)} "
                                                       "(any case; repeatable)."),
    tag: Optional[list[str]] = typer.Option(None, "--tag", metavar="KEY=VALUE",
                                            help="Only runs with this tag (repeatable); VALUE is JSON "
                                                 "(true, 3, '\"text\"'), True/False/None, or text."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="At most this many runs."),
    wide: bool = typer.Option(False, "--wide", "-w", help="Show whole run ids."),
    as_json: bool = Json,
) -> None:
    """The runs of an experiment with their params, tags and latest metric values.

    --filter and --order-by speak the API's query language (tracker.find_runs); --tag and --status narrow either way; --sort-by and --desc are the older sort, kept as it was.
    Runs are listed oldest first unless --order-by, or --sort-by/--desc, says otherwise; a filter never changes the order.
    """
    tags = parse_pairs(tag, "--tag")
    statuses = [s.value for s in status] if status else None
    if filter_text is not None or order_by is not None:
        if sort_by or desc:
            given = "--sort-by/--desc" if sort_by and desc else ("--sort-by" if sort_by else "--desc")
            used = " and ".join(f"--{o}" for o, v in (("filter", filter_text), ("order-by", order_by)) if v is not None)
            raise typer.BadParameter(
                f"give {used} or {given}, not both: to sort filtered runs, use --order-by "
                "(\"metrics.acc DESC\")", param_hint=f"'{given}'")
        found = tracker().find_runs(experiment, filter_text, order_by or OLDEST_FIRST, limit, tags=tags,
                                    status=statuses)
        rows = [run.as_dict() for run in found]
    else:
        rows = list_or_usage_error(tracker(), experiment, tags=tags, status=statuses, sort_by=sort_by,
                                   descending=desc, limit=limit)
    if as_json:
        return print_json(rows)
    if not rows:
        which = " match these filters" if (tag or status or filter_text) else " found"
        console.print(f"No runs{which} in experiment '{literal(experiment)}'.", style="yellow")
        return
    show(runs_table(rows, title=f"Runs of {experiment}", wide=wide))


@app.command("get")
def get_run(run: str = typer.Argument(..., help="Run id or unique prefix."), as_json: bool = Json) -> None:
    """Everything about one run: params, metrics, tags, artifacts, datasets, inputs."""
    t = tracker_if_any()
    if t is None:
        raise RunNotFound(run, "there is no .runelog/ store in this folder or any folder above it.")
    details = _details(t, run)
    run_id = details["meta"]["run_id"]
    metrics = t.get_metric_summary(run_id)
    artifacts = t.list_artifacts(run_id)
    meta = details["meta"]
    experiment = t.get_experiment(meta["experiment_id"]) or {"name": "?"}
    if as_json:
        return print_json({**details, "experiment_name": experiment["name"], "metrics": metrics,
                           "artifacts": [a.as_dict() for a in artifacts]})
    console.print(Text.assemble((f"run {run_id}", "bold"), " ", cell(meta["run_name"] or ""), "  ",
                                status_cell(meta["status"])))
    console.print(cell(f"experiment {experiment['name']} (id {meta['experiment_id']})  "
                       f"started {fmt_time(meta['start_time'])}  "
                       f"ended {fmt_time(meta['end_time'])}  host {meta['host']} pid {meta['pid']}"))
    if meta["git_commit"]:
        console.print(cell(f"git {formatting.short_hash(meta['git_commit'])} on {meta['git_branch']}"
                           f"{' (dirty)' if meta['git_dirty'] else ''}"))
    if meta["error"]:
        console.print(cell(f"error: {meta['error']}", "red"))
    sections: list[tuple[str, list[str], list[tuple[str, ...]]]] = [
        ("Params", ["key", "value"], [(k, fmt(v)) for k, v in details["params"].items()]),
        ("Metrics", ["key", "last value", "step", "points"],
         [(m["key"], fmt(m["value"]), str(m["step"]), str(m["count"])) for m in metrics]),
        ("Tags", ["key", "value"], [(k, fmt(v)) for k, v in meta["tags"].items()]),
        ("Artifacts", ["name", "size", "sha256"],
         [(a.name, fmt_size(a.size), formatting.short_hash(a.sha256)) for a in artifacts]),
        ("Datasets", ["name", "kind", "file", "rows", "hash"],
         [(d["name"], d["kind"], d["filename"], fmt(d["row_count"]), formatting.short_hash(d["sha256"] or d["md5"]))
          for d in details["datasets"]]),
        ("Inputs", ["name", "run", "artifact", "sha256"],
         [(i["name"], short(i["run_id"]), i["artifact_name"] or "", formatting.short_hash(i["artifact_hash_sha256"]))
          for i in details["inputs"]]),
    ]
    for title, columns, rows in sections:
        if rows:
            table = Table(*columns, title=title, title_justify="left")
            for row in rows:
                table.add_row(*row)
            show(table, console)


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
    console.print(cell(f"Downloaded {name} to {path}"), highlight=False, soft_wrap=True)


@app.command("compare")
def compare_runs(
    runs: list[str] = typer.Argument(..., help="Two or more run ids or prefixes."),
    lower_is_better: Optional[list[str]] = typer.Option(
        None, "--lower-is-better", help="A metric where lower wins, such as a loss (repeatable)."),
    higher_is_better: Optional[list[str]] = typer.Option(
        None, "--higher-is-better", help="A metric where higher wins, such as accuracy (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Print each run's details as one JSON list (as before)."),
    as_comparison: bool = typer.Option(
        False, "--comparison",
        help="Print the comparison itself as JSON (tracker.compare_runs(...).as_dict(): run_ids, params, "
             "metrics, differing_params, best_run_ids, ...; NaN and infinities as strings)."),
) -> None:
    """Params and latest metrics side by side (tracker.compare_runs): differing params in yellow, and the
    best value of a metric in green when its direction is known (a flag, or a name such as loss or error).

    --json keeps its old meaning, each run's details; --comparison (with or without --json) prints the
    comparison the tables show."""
    if len(runs) < 2:
        raise typer.BadParameter("give at least two runs", param_hint="RUNS")
    clash = set(lower_is_better or []) & set(higher_is_better or [])
    if clash:
        raise typer.BadParameter(f"{', '.join(sorted(clash))} cannot be both lower- and higher-is-better",
                                 param_hint="'--lower-is-better' / '--higher-is-better'")
    t = tracker()
    if as_json and not as_comparison:
        return print_json([_details(t, run) for run in runs])
    told = {**{key: True for key in lower_is_better or []}, **{key: False for key in higher_is_better or []}}
    comparison = t.compare_runs(runs, told or None)
    if as_comparison:
        return print_json(comparison.as_dict())
    ids = [short(run_id) for run_id in comparison.run_ids]
    params = Table("param", *ids, title="Params")
    for key, values in comparison.params.items():
        cells = [fmt(v) for v in values]
        differ = key in comparison.differing_params
        params.add_row(key, *[cell(v, "yellow" if differ else "") for v in cells])
    metrics = Table("metric", *ids, "best is", title="Metrics",
                    caption="The best value is green only where the direction is known: --lower-is-better, "
                            "--higher-is-better, or a name such as loss or error (lower).")
    for key, values in comparison.metrics.items():
        direction = "lower" if comparison.lower_is_better[key] else "higher"
        source = comparison.direction_source[key]
        known = source != "default"  # a guess (higher) is not shown as a winner
        best = set(comparison.best_run_ids[key]) if known else set()
        shown = [cell(v, "bold green" if run_id in best else "")
                 for run_id, v in zip(comparison.run_ids, values, strict=True)]
        metrics.add_row(key, *shown, f"{direction} ({_why(key, direction, source)})" if known else cell("unknown", "dim"))
    show(params, console)
    show(metrics, console)


def _why(key: str, direction: str, source: str) -> str:
    """Why a metric's direction is what it is, in words for the table."""
    if source == "caller":
        return f"--{direction}-is-better"
    suffix = next((end for end in ("loss", "error") if key.lower().endswith(end)), None)
    return f"name ends in {suffix}" if suffix else "by its name"


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
