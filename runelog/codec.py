"""The one place values are checked and encoded for the database.

Params and tags are stored as JSON text so that `True`, `0.5`, `"x"` and
`[1000, 20]` come back exactly as they went in; what is stored is always
valid JSON that both databases' JSON functions read (the views depend on it),
so NaN and ±inf, text that is not UTF-8 and nesting deeper than
`MAX_DEPTH` are refused. Metric values are 64-bit floats: NaN is stored as
SQL NULL (SQLite turns NaN into NULL anyway), so both backends agree and
`avg(value)` in plain SQL skips it; ±inf are stored as infinities (both
backends have them). Steps are 64-bit integers (BIGINT on both backends).
Values are checked when they are logged, so a flush never meets one the
database cannot store.
"""

from __future__ import annotations

import json
import math
import numbers
from typing import Any

from .exceptions import InvalidArtifactName, InvalidKey, InvalidValue

MAX_KEY_LENGTH = 250
MAX_DEPTH = 100  # nesting of a param or tag value: far below what json, SQLite's json() and PostgreSQL read
MIN_STEP, MAX_STEP = -2**63, 2**63 - 1  # BIGINT on SQLite and PostgreSQL


def check_key(key: Any, what: str = "key") -> str:
    """Return `key` if it is a usable name, else raise InvalidKey."""
    if type(key) is str and 0 < len(key) <= MAX_KEY_LENGTH and "\x00" not in key and (key.isascii() or _utf8(key)):
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
    if not _utf8(key):
        raise InvalidKey(f"The {what} {key!r} is not valid Unicode text (a lone surrogate); "
                         "decode it properly, e.g. with errors='replace'.")
    return key


def _utf8(text: str) -> bool:
    """Whether `text` can be stored (a lone surrogate from a bad decode cannot)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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
    """JSON-encode a param or tag value, naming the key when it cannot be stored.

    Strict JSON only: NaN and ±inf (at any depth) have no JSON form, and
    writing them as `NaN` would break every JSON reader of the store, so they
    are refused, like values nested more than MAX_DEPTH levels deep.
    """
    try:
        text = json.dumps(value, default=_json_default, ensure_ascii=False, allow_nan=False)
    except RecursionError:
        raise _unstorable(what, key, f"it is nested too deeply (more than {MAX_DEPTH} levels)") from None
    except ValueError as exc:
        if "Out of range float" in str(exc):
            raise _unstorable(what, key, "it is or contains NaN or infinity, which JSON cannot hold",
                              "Log it as a metric, or as a string such as 'nan'.") from None
        raise _unstorable(what, key, str(exc)) from None
    except TypeError as exc:
        raise _unstorable(what, key, str(exc)) from None
    if not (text.isascii() or _utf8(text)):
        raise _unstorable(what, key, "it contains text that is not valid Unicode (a lone surrogate)")
    if text.count("[") + text.count("{") > MAX_DEPTH and _depth(value) > MAX_DEPTH:
        raise _unstorable(what, key, f"it is nested more than {MAX_DEPTH} levels deep")
    if "{" in text:  # a dict: its keys must stay distinct as JSON text
        try:
            json.loads(text, object_pairs_hook=_unique_keys)
        except ValueError as exc:
            raise _unstorable(what, key, str(exc)) from None
    return text


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict:
    # JSON keys are strings: {1: "a", "1": "b"} would be stored with one key twice, one value lost.
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        twice = sorted({k for k in keys if keys.count(k) > 1})
        raise ValueError(f"its dict has keys that are the same once written as JSON text ({twice}); "
                         "JSON keys are strings, so one value would be lost")
    return dict(pairs)


def _unstorable(what: str, key: str, reason: str, advice: str | None = None) -> InvalidValue:
    return InvalidValue(
        f"The value of {what} '{key}' cannot be stored: {reason}. Nothing was recorded. "
        + (advice or "Use a string, number, bool, None, or a list/dict of those.")
    )


def _depth(value: Any) -> int:
    """How deeply lists and dicts nest in `value` (without recursion, so any depth can be measured)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        elif not isinstance(item, (list, tuple)):
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in item)
    return deepest


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

    Raises TypeError naming the key for anything that is not a real number,
    and InvalidValue (also a ValueError) for a finite number too large for a
    64-bit float, such as 10**400: it would otherwise be stored as infinity
    or fail the flush.
    """
    kind = type(value)
    if kind is float:
        return None if value != value else value  # NaN is the only value unequal to itself
    if not isinstance(value, numbers.Real):  # int, float, bool, Fraction and numpy scalars are Real
        raise TypeError(
            f"Metric '{key}' must be a real number, not {type(value).__name__} ({value!r:.60})."
        )
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if math.isinf(number) and not (kind is not int and value == number):  # a finite value that overflowed
        raise InvalidValue(
            f"Metric '{key}' = {_short(value)} is too large to store: metric values are 64-bit floats "
            f"(at most about 1.8e308 in size; NaN and ±inf are allowed). Nothing was recorded; "
            "log its logarithm, or a scaled value.")
    return None if math.isnan(number) else number


def metric_step(key: str, step: Any) -> int:
    """Return `step` as an int if it is one both backends can store (a signed 64-bit integer)."""
    if type(step) is int and MIN_STEP <= step <= MAX_STEP:
        return step  # the common case
    if isinstance(step, bool) or not hasattr(step, "__index__"):
        raise TypeError(f"The step of metric '{key}' must be an integer, not {type(step).__name__} "
                        f"({step!r:.60}).")
    step = step.__index__()
    if not MIN_STEP <= step <= MAX_STEP:
        raise step_out_of_range(key, step)
    return step


def step_out_of_range(key: str, step: int) -> InvalidValue:
    return InvalidValue(
        f"The step of metric '{key}' ({_short(step)}) is out of range: steps are 64-bit integers, "
        f"from {MIN_STEP} to {MAX_STEP}. Nothing was recorded; use a smaller step.")


def _short(value: Any) -> str:
    """A value for a message: huge integers by their size (repr of 10**5000 itself raises)."""
    if isinstance(value, int) and abs(value) >= 10**40:
        return f"{'-' if value < 0 else ''}an integer of {int(abs(value).bit_length() * 0.30103) + 1} digits"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def metric_from_db(value: float | None) -> float:
    """A stored metric value as logged: NULL is NaN; -0.0 reads as 0.0 on every backend (PostgreSQL kept the sign)."""
    return math.nan if value is None else value + 0.0


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
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # a file name's bytes that are not UTF-8 (os.fsdecode's lone surrogates)
        shown = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        raise InvalidArtifactName(shown, "it is not valid UTF-8; rename the file or give name=...") from None
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
