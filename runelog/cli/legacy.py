"""`runelog import-legacy ROOT [--dry-run] [--json]`: bring a runelog 0.2.0 store across."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import typer

from ..progress import terminal
from .common import Table, console, literal, print_json, store_exists, tracker

KINDS = ("experiment", "run", "model version")


def import_legacy(
    root: Path = typer.Argument(..., help="The folder runelog 0.2.0 used: the one holding .mlruns/ and .registry/."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only report what would be imported."),
    as_json: bool = typer.Option(False, "--json", help="Print the report (every item) as JSON."),
) -> None:
    """Import a runelog 0.2.0 store into this one; the source is only read. Exit 1 if anything failed."""
    with contextlib.ExitStack() as stack:
        if dry_run and not store_exists():
            # No store here yet: compare with an empty one made aside, so a dry run creates nothing.
            from .. import get_tracker

            t = get_tracker(stack.enter_context(tempfile.TemporaryDirectory(prefix="runelog-dry-run-")))
            stack.callback(t.close)
        else:
            t = tracker(create=True)
        with terminal("importing" if not dry_run else "checking") as progress:
            report = t.import_legacy(root, dry_run=dry_run, progress=progress)
    if as_json:
        print_json(report.as_dict())
    else:
        _render(report)
    if not report.ok:
        raise typer.Exit(1)


def _render(report) -> None:
    counts = report.counts()
    verb = "would import" if report.dry_run else "imported"
    table = Table("", verb, "already here", title=f"runelog 0.2.0 store {report.root}")
    for kind in KINDS:
        found = counts.get(kind, {})
        table.add_row(f"{kind}s", str(found.get("imported", 0)), str(found.get("skipped", 0)))
    console.print(table)
    for item in report.items:
        if item.outcome == "failed":
            console.print(f"[red]failed[/] {literal(item.path)}: {literal(item.message)}", highlight=False, soft_wrap=True)
        elif item.outcome == "note":
            console.print(f"[yellow]note[/] {literal(item.path)}: {literal(item.message)}", highlight=False, soft_wrap=True)
    done = "Dry run: nothing was changed." if report.dry_run else "Done."
    imported = "to import" if report.dry_run else "imported"
    failed = f" [red]{report.failed} failed[/] (listed above)." if report.failed else ""
    console.print(f"{done} {report.imported} {imported}, {report.skipped} already here.{failed}", highlight=False)
