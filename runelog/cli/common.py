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
