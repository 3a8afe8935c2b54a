"""What every command shares: global options, consoles, and opening the store."""

from __future__ import annotations

from typing import Optional

from rich.console import Console

from .. import db

console = Console()
errors = Console(stderr=True)


class State:
    """Global options, set by the app callback before any command runs."""

    store: Optional[str] = None
    database_url: Optional[str] = None
    debug: bool = False


state = State()


def location() -> db.StoreLocation:
    return db.locate(state.store, state.database_url)


def tracker():
    """The tracker for the selected store (opened, and created or upgraded if local)."""
    from .. import get_tracker

    return get_tracker(state.store, database_url=state.database_url)


def short(run_id: str | None) -> str:
    """Run ids are shown as 8-character prefixes (accepted back anywhere a run id is)."""
    return run_id[:8] if run_id else "(deleted)"


# ------------------------------------------------------------ parsing and rendering helpers


def parse_pairs(pairs: list[str] | None, option: str) -> dict:
    """`KEY=VALUE` options into a dict; VALUE is read as JSON when it is JSON (true, 3, [1,2]), else text."""
    import json

    import typer

    parsed = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"'{pair}' is not KEY=VALUE", param_hint=option)
        try:
            parsed[key] = json.loads(value)
        except ValueError:
            parsed[key] = value
    return parsed


def print_json(document) -> None:
    """One JSON document on stdout, unwrapped (for scripts and jq)."""
    import json
    import math

    def clean(value):
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)  # NaN and ±inf are not JSON
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        return value

    print(json.dumps(clean(document), default=str))


def fmt(value) -> str:
    """A cell: floats to 4 significant decimals, None as an em dash, the rest as text."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e-3 or abs(value) >= 1e6 else f"{value:.4f}"
    return str(value)


def fmt_time(iso: str | None) -> str:
    return iso[:19].replace("T", " ") if iso else "—"


def confirm(message: str, yes: bool) -> None:
    """Ask before destroying anything; `--yes` answers for scripts."""
    import typer

    if not yes and not typer.confirm(message):
        console.print("Cancelled; nothing was changed.")
        raise typer.Exit(1)
