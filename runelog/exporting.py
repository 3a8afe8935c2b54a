"""An experiment's runs written to a file: one row per run, CSV, JSON or Parquet by the suffix.

The frame is load_results' (0.2.0's columns and types) plus `run_name` and a
`tag_<key>` column per tag, ordered by start time. Moved out of the CLI so the
API can offer it (`tracker.export_runs(experiment, path)`) and any face writes
the same file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .exceptions import InvalidValue

# The file's suffix picks the format.
FORMATS = {".csv": "csv", ".json": "json", ".parquet": "parquet", ".pq": "parquet"}

# ±inf as JSON text, as every --json output of the CLI writes them (pandas would write null).
_INFINITE_AS_TEXT = {float("inf"): "Infinity", float("-inf"): "-Infinity"}


def format_of(path: str | os.PathLike[str]) -> str:
    """"csv", "json" or "parquet", from the file's suffix; InvalidValue for any other suffix."""
    kind = FORMATS.get(Path(path).suffix.lower())
    if kind is None:
        raise InvalidValue(f"Cannot tell the format of '{path}' from its suffix; use one of "
                           f"{', '.join(sorted(FORMATS))}.")
    return kind


def runs_frame(results, rows: list[dict[str, Any]]):
    """load_results' frame plus run_name and `tag_<key>` columns (from list_runs' rows), by start time."""
    import pandas as pd

    names = pd.Series({r["run_id"]: r["run_name"] for r in rows}, name="run_name")
    tags = pd.DataFrame.from_dict({r["run_id"]: {f"tag_{k}": v for k, v in r["tags"].items()} for r in rows},
                                  orient="index")
    frame = results.join(names)
    frame = frame[["run_name", *[c for c in frame.columns if c != "run_name"]]]
    if not tags.empty:
        frame = frame.join(tags[sorted(tags.columns)])
    frame.index.name = "run_id"
    return frame.sort_values("start_time", kind="stable")


def write_frame(frame, target: str | os.PathLike[str]) -> None:
    """Write the frame in the format the suffix names. NaN and missing values are null in JSON."""
    kind = format_of(target)
    if kind == "csv":
        frame.to_csv(target)
    elif kind == "json":
        frame.reset_index().replace(_INFINITE_AS_TEXT).to_json(target, orient="records", date_format="iso",
                                                                indent=1)
    else:
        _parquet_safe(frame).to_parquet(target)


def _parquet_safe(frame):
    """Parquet needs one type per column: a column mixing types (a param that was 1 in one run and
    "auto" in another) is written as JSON text."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object:
            kinds = {type(v) for v in out[column] if v is not None and v == v}
            if len(kinds) > 1 or kinds & {list, dict}:
                out[column] = [None if v is None else json.dumps(v, default=str) for v in out[column]]
    return out
