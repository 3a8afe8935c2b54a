"""Finding a 0.2.0 store and reading its JSON files and folders.

Anything unusable raises `Unusable` naming its path, so it becomes one failed item and the import goes on.

Nothing is read from outside the source tree. The store's folder is resolved
once; every path below it is built from names listed in it or fixed by the
format, so a path that resolves to anything but itself (`inside`) has a
symlink on the way: it is reported and skipped, whatever it points at. Files
are opened without following a last-moment symlink (O_NOFOLLOW), and only
regular files are read (a FIFO or a device would hang or never end).
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .. import exceptions
from .report import FAILED, ImportReport

MLRUNS, REGISTRY = ".mlruns", ".registry"


class Unusable(Exception):
    """A 0.2.0 file or folder that cannot be imported; becomes a failed item naming it."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def find_store(root: str | os.PathLike) -> Path:
    """The folder holding `.mlruns/` and `.registry/` (given it, or `.mlruns` itself)."""
    path = Path(root).expanduser().resolve()
    if path.name in (MLRUNS, REGISTRY) and not (path / MLRUNS).is_dir():
        path = path.parent
    if not (path / MLRUNS).is_dir() and not (path / REGISTRY).is_dir():
        raise exceptions.LegacyStoreNotFound(str(path))
    return path


def legacy_time(value: Any) -> datetime:
    """A 0.2.0 timestamp as an aware UTC datetime.

    0.2.0 wrote `datetime.now().isoformat()`: naive local time. It is read as
    the local time of the machine doing the import.

    >>> legacy_time("2024-03-01T12:00:00+00:00")
    datetime.datetime(2024, 3, 1, 12, 0, tzinfo=datetime.timezone.utc)
    """
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not an ISO date and time")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.astimezone()  # a naive datetime is taken as this machine's local time
    return moment.astimezone(timezone.utc)


def modified_at(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)


SYMLINK = "a symbolic link; not followed, nothing outside the source tree is imported"


def inside(path: Path) -> Path:
    """`path` if it is no symlink and has none on its way from the source folder, else Unusable."""
    if path.is_symlink():
        raise Unusable(path, f"{SYMLINK} (it points to {os.readlink(path)})")
    real = os.path.realpath(path)
    if real != str(path):
        raise Unusable(path, f"it resolves to {real} through a symbolic link; not followed, "
                             "nothing outside the source tree is imported")
    return path


def present(path: Path) -> bool:
    """True if anything is at `path`, a dangling symlink included (so it is reported, not missed)."""
    return os.path.lexists(path)


def open_regular(path: Path):
    """Open a file of the source tree for reading in binary: no symlink, nothing but a regular file."""
    inside(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == 40:  # ELOOP: it became a symlink after the check
            raise Unusable(path, SYMLINK) from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise Unusable(path, "not a regular file (a FIFO, socket or device); not imported")
    return os.fdopen(fd, "rb")


def read_json(path: Path) -> Any:
    try:
        with open_regular(path) as fh:
            return json.loads(fh.read().decode("utf-8"))
    except FileNotFoundError:
        raise Unusable(path, "the file is missing") from None
    except OSError as exc:
        raise Unusable(path, f"cannot read it ({exc.strerror or exc})") from None
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise Unusable(path, f"it is not valid JSON ({exc})") from None


def read_object(path: Path, fields: set[str], required: Iterable[str] = ()) -> tuple[dict, list[str]]:
    """A JSON object with the `required` keys; also returns its keys outside `fields`."""
    data = read_json(path)
    if not isinstance(data, dict):
        raise Unusable(path, f"it holds a JSON {type(data).__name__}, not an object")
    missing = [key for key in required if key not in data]
    if missing:
        raise Unusable(path, f"it has no {', '.join(repr(k) for k in missing)}")
    return data, sorted(set(data) - fields)


def unknown_fields(unknown: list[str]) -> str:
    listed = ", ".join(repr(k) for k in unknown)
    return f"{'field' if len(unknown) == 1 else 'fields'} {listed} {'is' if len(unknown) == 1 else 'are'} " \
           "not part of runelog 0.2.0's format; not imported"


def entries(folder: Path, skipped: Callable[[Unusable], None]) -> list[Path]:
    """A folder's entries, sorted, without hidden files (.DS_Store and the like).

    A symlink among them is passed to `skipped` and left out; a folder that is
    itself a symlink (or behind one) raises Unusable.
    """
    inside(folder)
    try:
        found = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise Unusable(folder, f"cannot list it ({exc.strerror or exc})") from None
    kept = []
    for path in found:
        try:
            kept.append(inside(path))
        except Unusable as exc:
            skipped(exc)
    return kept


def listing(folder: Path, report: ImportReport, kind: str) -> list[Path]:
    """`entries`, reporting a folder that cannot be listed as a failed `kind` and going on."""

    def skipped(exc: Unusable) -> None:
        report.add(FAILED, "symlink", exc.path.name, exc.path, exc.reason)

    try:
        return entries(folder, skipped)
    except Unusable as exc:
        report.add(FAILED, kind, folder.name, folder, f"{exc.reason}; nothing in it was imported")
        return []
