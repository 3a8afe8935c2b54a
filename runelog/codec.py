"""The one place values are checked and encoded for the database.

Params and tags are stored as JSON text so that `True`, `0.5`, `"x"` and
`[1000, 20]` come back exactly as they went in. Metric values are floats;
NaN is stored as SQL NULL (SQLite turns NaN into NULL anyway), so both
backends agree and `avg(value)` in plain SQL skips it.
"""

from __future__ import annotations

import json
import math
import numbers
from typing import Any

from .exceptions import InvalidArtifactName, InvalidKey, InvalidValue

MAX_KEY_LENGTH = 250


def check_key(key: Any, what: str = "key") -> str:
    """Return `key` if it is a usable name, else raise InvalidKey."""
    if type(key) is str and 0 < len(key) <= MAX_KEY_LENGTH and "\x00" not in key:
        return key  # the common case, checked first: this runs for every metric point
    if not isinstance(key, str):
        raise InvalidKey(f"The {what} {key!r} is a {type(key).__name__}; use a string.")
    if not key:
        raise InvalidKey(f"The {what} is empty; give it a name.")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidKey(
            f"The {what} '{key[:40]}...' has {len(key)} characters; the limit is {MAX_KEY_LENGTH}."
        )
    if "\x00" in key:
        raise InvalidKey(f"The {what} {key!r} contains a NUL character; remove it.")
    return key


def _json_default(value: Any) -> Any:
    # numpy scalars and 0-d arrays carry .item(); sets have no JSON form but a list.
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def encode_value(key: str, value: Any, what: str = "param") -> str:
    """JSON-encode a param or tag value, naming the key when it cannot be stored."""
    try:
        return json.dumps(value, default=_json_default, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise InvalidValue(
            f"The value of {what} '{key}' cannot be stored: {exc}. "
            "Use a string, number, bool, None, or a list/dict of those."
        ) from None


def decode_value(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def decode_many(texts: list[str | None]) -> list[Any]:
    """Decode many stored values in one parse (10x faster than one `loads` each for a results frame)."""
    try:
        return json.loads("[" + ",".join("null" if t is None else t for t in texts) + "]")
    except ValueError:  # a value written by hand that is not JSON: say which
        return [decode_value(t) for t in texts]


def metric_value(key: str, value: Any) -> float | None:
    """Return the value to store for a metric point (None stands for NaN).

    Raises TypeError naming the key for anything that is not a real number.
    """
    kind = type(value)
    if kind is float:
        return None if value != value else value  # NaN is the only value unequal to itself
    if kind is int:
        return float(value)
    if isinstance(value, numbers.Real):  # int, float, bool and numpy scalars
        number = float(value)
    else:
        raise TypeError(
            f"Metric '{key}' must be a real number, not {type(value).__name__} ({value!r:.60})."
        )
    return None if math.isnan(number) else number


def metric_from_db(value: float | None) -> float:
    return math.nan if value is None else value


MAX_ARTIFACT_NAME_LENGTH = 1000


MAX_PATH_PART_BYTES = 255  # NAME_MAX of common filesystems (ext4, APFS, NTFS in UTF-16 aside): a download must work


def check_artifact_name(name: Any, new: bool = False) -> str:
    """Return a safe logical artifact name, or raise InvalidArtifactName.

    Names are relative, '/'-separated, and can never climb out of a folder:
    no '..', no absolute path, no drive letter, no NUL, no backslash. A `new`
    name (one being logged) must also be downloadable: no part longer than
    255 bytes in UTF-8. Names already stored are not held to that, so they
    can still be read and deleted.
    """
    if not isinstance(name, str) or not name:
        raise InvalidArtifactName(str(name), "it must be a non-empty string")
    if "\x00" in name:
        raise InvalidArtifactName(name, "it contains a NUL character")
    if "\\" in name:
        raise InvalidArtifactName(name, "it contains a backslash")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise InvalidArtifactName(name, "it is an absolute path")
    if len(name) > MAX_ARTIFACT_NAME_LENGTH:
        raise InvalidArtifactName(name[:60] + "...", f"it is longer than {MAX_ARTIFACT_NAME_LENGTH} characters")
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise InvalidArtifactName(name, "it has an empty, '.' or '..' path component")
    if new:
        for part in parts:
            size = len(part.encode("utf-8", "surrogatepass"))
            if size > MAX_PATH_PART_BYTES:
                raise InvalidArtifactName(
                    name[:60] + ("..." if len(name) > 60 else ""),
                    f"its part '{part[:30]}...' is {size} bytes in UTF-8, and a file name can have at most "
                    f"{MAX_PATH_PART_BYTES}, so it could not be downloaded; give it a shorter name (name=...)")
    return name


_PYTHON_CONSTANTS = {"True": True, "False": False, "None": None}


def parse_assignment(text: str) -> tuple[str, Any]:
    """Read one `key=value` (a CLI option, the UI's filter box) into (key, value).

    The one parser of `key=value` for every face, so `--tag candidate=true`,
    the UI's `candidate=True` and the API's `tags={"candidate": True}` mean the
    same. The value is JSON when it parses as JSON (`true`, `3`, `0.5`, `null`,
    `[1, 2]`, `"true"`), Python's `True`/`False`/`None`, and otherwise the text
    itself. So `candidate=true` is the boolean and `candidate='"true"'` (JSON
    quotes) the string "true"; `stage=prod` is the string "prod". NaN and
    Infinity stay text, since a param or tag cannot hold them.
    """
    if not isinstance(text, str) or "=" not in text:
        raise InvalidValue(f"{text!r} is not KEY=VALUE; write it as key=value, e.g. stage=prod or candidate=true.")
    key, _, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    check_key(key, "key")
    if raw in _PYTHON_CONSTANTS:
        return key, _PYTHON_CONSTANTS[raw]

    def refuse_constant(name: str):
        raise ValueError(name)

    try:
        return key, json.loads(raw, parse_constant=refuse_constant)
    except ValueError:
        return key, raw
