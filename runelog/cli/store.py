"""`runelog verify` and `runelog gc`: the blob store's health and housekeeping."""

from __future__ import annotations

from typing import Optional

import typer
from rich.markup import escape

from .. import exceptions, formatting
from ..progress import terminal
from .common import Table, cell, confirm, console, errors, literal, print_json, tracker


def parse_duration(text: str, option: str = "--grace") -> float:
    """formatting.parse_duration, a bad one as a usage error (exit 2)."""
    try:
        return formatting.parse_duration(text)
    except exceptions.InvalidInput as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


def verify(run: Optional[str] = typer.Option(None, "--run", help="Only this run's blobs."),
           as_json: bool = typer.Option(False, "--json", help="Print the report as JSON.")) -> None:
    """Re-hash every blob the store references; report missing and corrupt ones (exit 1 if any)."""
    t = tracker()
    with terminal("verifying blobs") as progress:
        report = t.verify(run, progress=progress)
    if as_json:
        print_json({"checked": report.checked, "problems": [p.__dict__ for p in report.problems]})
    elif report.ok:
        console.print(f"[green]All {report.checked} blobs verified.[/]")
    else:
        table = Table("blob", "problem", "referenced by", title=f"{len(report.problems)} of {report.checked} blobs are bad")
        for p in report.problems:
            table.add_row(p.sha256[:16], cell(p.problem, "red"), "\n".join(p.references))
        console.print(table)
    if not report.ok:
        raise typer.Exit(1)


def gc(dry_run: bool = typer.Option(False, "--dry-run", help="Only report what would be deleted."),
       grace: str = typer.Option("1h", "--grace", help="Keep anything younger than this (90s, 30m, 1h, 2d)."),
       yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
       as_json: bool = typer.Option(False, "--json", help="Print the report as JSON.")) -> None:
    """Delete blobs no run or model references, and stray temp files, older than the grace period."""
    t, seconds = tracker(), parse_duration(grace)
    if not dry_run:
        planned = t.gc(seconds, dry_run=True)
        if planned.blobs or planned.temp_files:
            confirm(f"Delete {len(planned.blobs)} blobs and {len(planned.temp_files)} temp files "
                    f"({planned.bytes} bytes)?", yes)
    with terminal("collecting blobs") as progress:
        report = t.gc(seconds, dry_run=dry_run, progress=progress)
    if as_json:
        return print_json({"dry_run": dry_run, **report.__dict__})
    verb = "Would free" if dry_run else "Freed"
    console.print(f"{verb} {report.bytes} bytes: {len(report.blobs)} blobs, {len(report.temp_files)} temp files.")


def backup(dest: str = typer.Argument(..., help="A new folder for the copy; it becomes a store (DEST/.runelog/)."),
           no_blobs: bool = typer.Option(False, "--no-blobs", help="Copy only the database, not the artifact files."),
           as_json: bool = typer.Option(False, "--json", help="Print the report as JSON.")) -> None:
    """Copy the store safely while scripts write to it: the database (SQLite's online backup API)
    and the blobs it references, all or nothing: DEST appears only once the copy is whole and checked.
    On PostgreSQL, use pg_dump instead."""
    t = tracker()
    try:
        with terminal("copying blobs") as progress:
            report = t.backup(dest, blobs=not no_blobs, progress=progress)
    except (KeyboardInterrupt, SystemExit) as exc:  # Ctrl-C, SIGTERM: say what became of the partial copy
        for note in getattr(exc, "__notes__", []):
            errors.print(f"[red]interrupted:[/] {escape(note)}", highlight=False, soft_wrap=True)
        code = exc.code if isinstance(exc, SystemExit) and isinstance(exc.code, int) else 1
        raise typer.Exit(130 if isinstance(exc, KeyboardInterrupt) else code) from None
    if as_json:
        print_json({**{k: v for k, v in report.__dict__.items() if k != "problems"},
                    "problems": [p.__dict__ for p in report.problems]})
    else:
        console.print(f"Backed up {report.runs} runs to {literal(report.database)}.")
        if report.blobs_skipped:
            console.print(f"Blobs were not copied: the artifact files stay in {literal(t.location.blob_dir)}; copy "
                          f"that folder to {literal(report.store)}/.runelog/blobs to make the copy whole.")
        else:
            console.print(f"Copied {report.blobs} blobs ({report.bytes} bytes) to {literal(report.store)}/.runelog/blobs.")
        console.print(cell(f"Open the copy with `runelog --store {report.store} ...` or get_tracker({report.store!r})."))
        if report.problems:
            table = Table("blob", "problem", "referenced by",
                          title=f"{len(report.problems)} blobs could not be copied")
            for p in report.problems:
                table.add_row(p.sha256[:16], cell(p.problem, "red"), "\n".join(p.references))
            console.print(table)
    if report.problems:
        raise typer.Exit(1)
