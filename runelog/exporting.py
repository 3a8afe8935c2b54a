"""An experiment's runs written to a file: one row per run, CSV, JSON or Parquet by the suffix.

The frame is load_results' (0.2.0's columns and types) plus `run_name` and a
`tag_<key>` column per tag, ordered by start time. Moved out of the CLI so the
API can offer it (`tracker.export_runs(experiment, path)`) and any face writes
the same file.

Each format keeps values apart that a frame would blur:
- times carry their UTC offset (`2024-06-01T10:00:00.5+00:00`), in every format;
- JSON writes a metric logged as NaN as "NaN" and ±inf as "Infinity"/"-Infinity",
  as every --json output does; a missing value is null;
- CSV writes params and tags as their JSON text (`true`, `{"k": 1}`, `0.1`, and
  `"0.1"` with its quotes for the string), so a bool, a dict, a number and a
  string stay different; a run without the param has an empty cell. Numbers
  still read back as numbers (pandas.read_csv gives 0.1 for `0.1`).
"""

from __future__ import annotations

import json
import math
import os
import re
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
    frame = frame.sort_values("start_time", kind="stable")
    for column in ("start_time", "end_time"):
        if column in frame.columns:
            frame[column] = [_with_utc_offset(v) for v in frame[column]]
    # What the rows hold, for writers that must tell apart what the frame's cells blur (NaN vs missing, 0.1 vs "0.1").
    frame.attrs["stored"] = {r["run_id"]: {"params": r["params"], "tags": r["tags"], "metrics": r["metrics"]}
                             for r in rows}
    return frame


_OFFSET = re.compile(r"(Z|[+-]\d\d:?\d\d)$")


def _with_utc_offset(value):
    """A stored time (UTC, written without an offset by load_results) with its +00:00."""
    if isinstance(value, str) and value and not _OFFSET.search(value):
        return value + "+00:00"
    return value


def write_frame(frame, target: str | os.PathLike[str]) -> None:
    """Write the frame in the format the suffix names. NaN and missing values are null in JSON."""
    kind = format_of(target)
    if kind == "csv":
        _csv_ready(frame).to_csv(target)
    elif kind == "json":
        text = frame.reset_index().replace(_INFINITE_AS_TEXT).to_json(orient="records", date_format="iso")
        records = _logged_nan_as_text(json.loads(text), frame.attrs.get("stored", {}))
        Path(target).write_text(json.dumps(records, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    else:
        _parquet_safe(frame).to_parquet(target)


def _csv_ready(frame):
    """Params and tags as their JSON text, from the stored rows (an empty cell where a run has none)."""
    stored = frame.attrs.get("stored")
    if not stored:
        return frame
    out = frame.copy()
    for kind, prefix in (("params", "param_"), ("tags", "tag_")):
        keys = {k for run in stored.values() for k in run[kind]}
        for key in keys:
            column = prefix + key
            if column in out.columns:
                values = [stored.get(run_id, {}).get(kind, {}) for run_id in out.index]
                out[column] = [json.dumps(v[key], ensure_ascii=False) if key in v else None for v in values]
    return out


def _logged_nan_as_text(records: list[dict], stored: dict) -> list[dict]:
    """A metric a run logged as NaN becomes "NaN" (null stays for a metric the run never logged)."""
    for record in records:
        metrics = stored.get(record.get("run_id"), {}).get("metrics", {})
        for key, value in metrics.items():
            if isinstance(value, float) and math.isnan(value) and record.get(key) is None and key in record:
                record[key] = "NaN"
    return records


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
