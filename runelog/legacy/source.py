"""Finding a 0.2.0 store and reading its JSON files and folders.

Anything unusable raises `Unusable` naming its path, so it becomes one failed item and the import goes on.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
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


def read_json(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
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


def entries(folder: Path) -> list[Path]:
    """A folder's entries, sorted, without hidden files (.DS_Store and the like)."""
    try:
        return sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise Unusable(folder, f"cannot list it ({exc.strerror or exc})") from None


def listing(folder: Path, report: ImportReport, kind: str) -> list[Path]:
    """`entries`, reporting a folder that cannot be listed as a failed `kind` and going on."""
    try:
        return entries(folder)
    except Unusable as exc:
        report.add(FAILED, kind, folder.name, folder, f"{exc.reason}; nothing in it was imported")
        return []
