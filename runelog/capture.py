"""What a run records about where it ran: host, pid, git state, environment, script.

Host and environment are read once per process. Git state is read for every
run (a notebook or a sweep commits and edits between runs), but cheaply: the
answer is reused while .git/HEAD, the current ref, packed-refs, the index and
the tracked files (and their folders) keep their size and mtime, so a loop of
2,000 runs on an unchanged tree starts no git process at all.
"""

from __future__ import annotations

import functools
import os
import platform
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class GitState:
    commit: str | None = None
    branch: str | None = None
    dirty: bool | None = None


MAX_WATCHED_FILES = 20_000  # above this, stat-ing every tracked file costs more than asking git


def _git(*args: str, cwd: str | Path) -> str:
    # --no-optional-locks: `status` must not rewrite the index (that would change our own cache key).
    return subprocess.run(
        ["git", "--no-optional-locks", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=30
    ).stdout


def _find_repository(start: Path) -> tuple[Path, Path, Path] | None:
    """(work tree top, git dir, common git dir) of the repository holding `start`, or None."""
    for folder in (start, *start.parents):
        dot_git = folder / ".git"
        if dot_git.is_dir():
            git_dir = dot_git
        elif dot_git.is_file():  # a worktree or submodule: "gitdir: <path>"
            try:
                text = dot_git.read_text().strip()
            except OSError:
                return None
            if not text.startswith("gitdir:"):
                return None
            git_dir = (folder / text[len("gitdir:"):].strip()).resolve()
        else:
            continue
        common = git_dir
        try:
            common = (git_dir / (git_dir / "commondir").read_text().strip()).resolve()
        except OSError:
            pass
        return folder, git_dir, common
    return None


def _stat(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


def _refs_key(git_dir: Path, common: Path) -> tuple:
    """What names the current commit: HEAD's text, the loose ref it points at, packed-refs, the index."""
    try:
        head = (git_dir / "HEAD").read_text().strip()
    except OSError:
        head = None
    ref = _stat(common / head[5:].strip()) if head and head.startswith("ref:") else None
    return head, ref, _stat(common / "packed-refs"), _stat(git_dir / "index")


def _tree_key(top: Path, tracked: tuple[str, ...] | None) -> tuple | None:
    """Size and mtime of every tracked file and of the folders holding them (new files change those)."""
    if tracked is None:
        return None
    folders = {top} | {(top / name).parent for name in tracked}
    return tuple(_stat(top / name) for name in tracked) + tuple(_stat(f) for f in sorted(folders))


@dataclass
class _Cached:
    refs: tuple
    tracked: tuple[str, ...] | None
    tree: tuple | None
    state: GitState


_cache: dict[Path, _Cached] = {}
_lock = threading.Lock()


def _ask_git(top: Path) -> GitState:
    """One `git status` answers all three: commit, branch, and whether anything differs from HEAD."""
    out = _git("status", "--porcelain=v2", "--branch", "-z", cwd=top)
    commit = branch = None
    dirty = False
    for entry in out.split("\0"):
        if entry.startswith("# branch.oid "):
            commit = entry[len("# branch.oid "):]
        elif entry.startswith("# branch.head "):
            branch = entry[len("# branch.head "):]
        elif entry and not entry.startswith("#"):
            dirty = True  # a changed, staged, unmerged or untracked path, as 0.2.0's `git status --porcelain`
    if not commit or commit == "(initial)":
        return GitState()  # no commit yet: 0.2.0 recorded nothing either
    return GitState(commit, "HEAD" if branch == "(detached)" else branch, dirty)


def _tracked_files(top: Path) -> tuple[str, ...] | None:
    names = tuple(n for n in _git("ls-files", "-z", cwd=top).split("\0") if n)
    return names if len(names) <= MAX_WATCHED_FILES else None


def git_state(cwd: str | os.PathLike | None = None) -> GitState:
    """Commit, branch and dirty flag of the repository holding the working folder, as of now."""
    found = _find_repository(Path(cwd if cwd is not None else os.getcwd()).resolve())
    if found is None:
        return GitState()
    top, git_dir, common = found
    with _lock:
        cached = _cache.get(top)
        # Keys are taken before git is asked, so a change made while it runs shows up next time.
        refs = _refs_key(git_dir, common)
        if cached is not None and cached.refs == refs and cached.tree is not None \
                and cached.tree == _tree_key(top, cached.tracked):
            return cached.state
        try:
            tracked = cached.tracked if cached is not None and cached.refs[3] == refs[3] else _tracked_files(top)
            tree = _tree_key(top, tracked)
            state = _ask_git(top)
        except (OSError, subprocess.SubprocessError):
            _cache.pop(top, None)
            return GitState()  # no git, or git refuses this repository
        _cache[top] = _Cached(refs, tracked, tree, state)
        return state


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
