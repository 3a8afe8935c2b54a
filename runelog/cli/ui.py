"""`runelog ui`: serve the Streamlit UI for the selected store, as this very process (exec)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import typer

from .. import exceptions
from .common import cell, console, state


def ui(port: int = typer.Option(8501, "--port", min=1, max=65535, help="Port to serve on."),
       address: str = typer.Option("127.0.0.1", "--address", help="Interface to listen on.")) -> None:
    """Open the web UI: experiments, runs, a run's lineage, the registry (needs the `ui` extra)."""
    if importlib.util.find_spec("streamlit") is None:  # found, not imported: the server process imports it
        raise exceptions.ExtraNotInstalled("The UI", "Streamlit", "ui")
    # Found, not imported: the UI is a face of its own, and the server process loads it.
    spec = importlib.util.find_spec("runelog.ui.app")
    assert spec is not None and spec.origin is not None  # part of this package
    app = spec.origin

    env = dict(os.environ)
    if state.store:
        env["RUNELOG_HOME"] = str(Path(state.store).resolve())
    if state.database_url:
        env["RUNELOG_DATABASE_URL"] = state.database_url
    console.print(cell(f"runelog UI on http://{address}:{port} (Ctrl-C to stop)"))
    # -P (Python 3.11+): `-m` would otherwise import modules from the current folder first.
    safe_path = ["-P"] if sys.version_info >= (3, 11) else []
    command = [sys.executable, *safe_path, "-m", "streamlit", "run", str(app), "--server.port", str(port),
               "--server.address", address, "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    if hasattr(os, "execve"):
        # Become Streamlit (same process id): SIGTERM, SIGINT and SIGHUP reach the server itself,
        # so stopping `runelog ui` stops the server and frees the port; no child is left behind.
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(sys.executable, command, env)
    try:  # no exec (Windows): run it as a child and wait; Ctrl-C reaches both
        raise typer.Exit(subprocess.run(command, env=env).returncode)
    except KeyboardInterrupt:
        raise typer.Exit(0) from None
