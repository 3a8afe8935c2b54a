"""What a run records about where it ran: host, pid, git state, environment, script.

Each probe runs once per process (and per working folder for git): starting
2,000 runs should not start 6,000 git processes.
"""

from __future__ import annotations

import functools
import os
import platform
import socket
import subprocess
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class GitState:
    commit: str | None = None
    branch: str | None = None
    dirty: bool | None = None


def _git(*args: str, cwd: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=30
    ).stdout.strip()


@functools.lru_cache(maxsize=8)
def _git_state(cwd: str) -> GitState:
    try:
        commit = _git("rev-parse", "HEAD", cwd=cwd)
        branch = _git("rev-parse", "--abbrev-ref", "HEAD", cwd=cwd)
        dirty = bool(_git("status", "--porcelain", cwd=cwd))
    except (OSError, subprocess.SubprocessError):
        return GitState()  # not a repository, no commits yet, or no git at all
    return GitState(commit, branch, dirty)


def git_state() -> GitState:
    """Commit, branch and dirty flag of the repository holding the working folder."""
    return _git_state(os.getcwd())


@functools.lru_cache(maxsize=1)
def host() -> str:
    return socket.gethostname()


@functools.lru_cache(maxsize=1)
def environment() -> dict:
    """Python version, platform and installed packages (from package metadata, no pip call)."""
    from importlib.metadata import distributions

    packages = {}
    for dist in distributions():
        name = dist.metadata["Name"]
        if name:
            packages[name] = dist.version
    return {
        "python_version": sys.version,
        "platform": {"system": platform.system(), "release": platform.release()},
        "packages": dict(sorted(packages.items(), key=lambda kv: kv[0].lower())),
    }


def requirements_txt(env: dict) -> str:
    return "\n".join(f"{name}=={ver}" for name, ver in env["packages"].items()) + "\n"


def script_path() -> str | None:
    """The running script, if there is one (not in a notebook or `python -c`)."""
    if "ipykernel" in sys.modules:
        return None
    argv0 = sys.argv[0] if sys.argv else ""
    if not argv0 or argv0 == "-c":
        return None
    path = os.path.abspath(argv0)
    return path if os.path.isfile(path) else None
