"""`runelog sweep FILE [--jobs N]` (also 0.2.0's `--config FILE` / `-c FILE`)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from .. import formatting
from ..progress import terminal
from .common import Table, console, fmt, state


def sweep(file: Optional[Path] = typer.Argument(None, show_default=False, help="The sweep's YAML file."),
          config: Optional[Path] = typer.Option(None, "--config", "-c", show_default=False,
                                                help="The sweep's YAML file (runelog 0.2.0's spelling)."),
          jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Runs in parallel processes.")) -> None:
    """Run every run of a sweep file; a failing run is recorded FAILED and the rest go on (exit 1)."""
    from ..sweep import load_config, run_sweep

    given = [p for p in (file, config) if p is not None]
    if len(given) != 1:
        raise typer.BadParameter("give the sweep's YAML file once: `runelog sweep FILE` or `--config FILE`",
                                 param_hint="FILE")
    path = given[0]
    load_config(path)  # a bad file is reported before anything runs
    with terminal("sweep") as progress:
        result = run_sweep(path, jobs=jobs, progress=progress,
                           store=state.store, database_url=state.database_url, raise_on_failure=False)
    metrics = sorted({k for _, _, m in result.finished for k in m})
    table = Table("run", "id", *metrics, title=f"Sweep into '{result.experiment_name}'")
    for spec_id, run_id, values in result.finished:
        table.add_row(spec_id, formatting.short_id(run_id), *[fmt(values.get(k)) for k in metrics])
    console.print(table)
    for spec_id, error in result.failed:
        console.print(f"[red]{escape(spec_id)} failed:[/] {escape(error)}", soft_wrap=True)
    if not result.ok:
        raise typer.Exit(1)
