"""Text for people: how the CLI and the UI show values, sizes, times and run ids, and read
back what people type (`key=value`, `90s`).

One implementation of each, so a run id, a size or a time looks the same in a terminal
table, a `runelog runs get` page and the web UI. Imports nothing but the exceptions, so
every layer may use it.

    >>> value(0.912345), value(None), size(1536), duration(3725), short_id("3fa9c0d2e1b4")
    ('0.9123', '—', '1.5 KiB', '1h 2m 5s', '3fa9c0d2')
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime
from typing import Any

from .exceptions import InvalidKey, InvalidValue

EMPTY = "—"  # a missing value in a table cell
SHORT_ID_LENGTH = 8  # a run id shown short; any unique prefix is accepted back


def short_id(run_id: str | None) -> str:
    """A run id as its 8-character prefix, which every command and page accepts back;
    a run that no longer exists (a deleted source run) as "(deleted)"."""
    return run_id[:SHORT_ID_LENGTH] if run_id else "(deleted)"


SHORT_HASH_LENGTH = 12


def short_hash(sha256: str | None, missing: str = "") -> str:
    """A SHA-256 as its first 12 hex digits (enough to tell blobs apart by eye); `missing` for None."""
    return sha256[:SHORT_HASH_LENGTH] if sha256 else missing


def value(item: Any) -> str:
    """A table cell: a float with 4 decimals (4 significant digits when tiny or huge),
    None as an em dash, the rest as text."""
    if item is None:
        return EMPTY
    if isinstance(item, float):
        return f"{item:.4g}" if abs(item) < 1e-3 or abs(item) >= 1e6 else f"{item:.4f}"
    return str(item)


def size(n_bytes: int | None) -> str:
    """Bytes in binary units, as `ls -h` and the progress bars show them: 512 B, 1.5 KiB, 3.2 GiB."""
    if n_bytes is None:
        return EMPTY
    amount = float(n_bytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(amount) < 1024 or unit == "TiB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    raise AssertionError("unreachable")


def duration(seconds: float | None) -> str:
    """Seconds as `850 ms`, `42.1 s`, `3m 20s`, `1h 2m 5s` or `2d 3h`."""
    if seconds is None:
        return EMPTY
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = int(round(seconds))
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m {secs}s"
    return f"{minutes}m {secs}s"


def timestamp(when: str | datetime | None, empty: str = EMPTY) -> str:
    """A time as `2026-06-01 14:03:07` (UTC, as stored; no time zone suffix, no fraction)."""
    if when is None or when == "":
        return empty
    text = when.isoformat() if isinstance(when, datetime) else str(when)
    return text[:19].replace("T", " ")


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")
_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """`90s`, `30m`, `1h`, `2d` or a plain number of seconds, into seconds (InvalidValue if not)."""
    match = _DURATION.match(text.strip())
    if not match:
        raise InvalidValue(f"'{text}' is not a duration like 90s, 30m, 1h or 2d")
    return float(match.group(1)) * _SECONDS[match.group(2)]


_PYTHON_CONSTANTS = {"True": True, "False": False, "None": None}


def parse_assignment(text: str) -> tuple[str, Any]:
    """One `key=value` a person typed (a CLI option, the UI's filter box) into (key, value).

    The value is read by `parse_value`, so `--tag candidate=true`, the UI's
    `candidate=True` and the API's `tags={"candidate": True}` mean the same.
    Only the first `=` splits (`url=a=b` is ("url", "a=b")). The key is checked
    for being there; the API checks it fully where it is used.
    """
    if not isinstance(text, str) or "=" not in text:
        raise InvalidValue(f"{text!r} is not KEY=VALUE; write it as key=value, e.g. stage=prod or candidate=true.")
    key, _, raw = text.partition("=")
    key = key.strip()
    if not key:
        raise InvalidKey(f"{text!r} has no key before '='; write it as key=value, e.g. stage=prod.")
    return key, parse_value(raw)


def parse_value(raw: str) -> Any:
    """What a person typed as a value: JSON when it parses as JSON (`true`, `3`, `0.5`, `null`,
    `[1, 2]`, `"true"`), Python's `True`/`False`/`None`, and otherwise the text itself.

    So `true` is the boolean and `'"true"'` (JSON quotes) the string; `prod` is the string.
    NaN and Infinity stay text, since a param or tag cannot hold them. The value half of
    `parse_assignment`, the one `key=value` parser.
    """
    raw = raw.strip()
    if raw in _PYTHON_CONSTANTS:
        return _PYTHON_CONSTANTS[raw]

    def refuse_constant(name: str):
        raise ValueError(name)

    try:
        value = json.loads(raw, parse_constant=refuse_constant)
    except ValueError:
        return raw
    return value if _finite(value) else raw  # 1e999 overflows to inf: text, like NaN


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    return all(_finite(v) for v in value) if isinstance(value, list) else True
