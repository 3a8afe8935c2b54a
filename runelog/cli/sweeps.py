"""`runelog sweep CONFIG.yaml [--jobs N]`"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from ..progress import bar
from .common import console, fmt, state


def sweep(config: Path = typer.Argument(..., help="The sweep's YAML file."),
          jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Runs in parallel processes.")) -> None:
    """Run every run of a sweep file; a failing run is recorded FAILED and the rest go on (exit 1)."""
    from ..sweep import load_config, run_sweep

    total = len(load_config(config).runs)  # a bad file is reported before anything runs
    with bar(total=total, description="sweep") as advance:
        result = run_sweep(config, jobs=jobs, progress=lambda spec, error: advance(),
                           store=state.store, database_url=state.database_url)
    metrics = sorted({k for _, _, m in result.finished for k in m})
    table = Table("run", "id", *metrics, title=f"Sweep into '{result.experiment_name}'")
    for spec_id, run_id, values in result.finished:
        table.add_row(spec_id, run_id[:8], *[fmt(values.get(k)) for k in metrics])
    console.print(table)
    for spec_id, error in result.failed:
        console.print(f"[red]{spec_id} failed:[/] {error}")
    if not result.ok:
        raise typer.Exit(1)
