"""Dataset fingerprints: identify a file by its bytes without copying it."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import blobs, codec, db, exceptions
from .models import DatasetFingerprint
from .types import DatasetInfo

PARQUET_MAGIC = b"PAR1"


def fingerprint(path: str | os.PathLike) -> dict[str, Any]:
    """Name, location, size and SHA-256 of a file; rows, columns and schema for parquet."""
    path = Path(path)
    if not path.is_file():
        raise exceptions.ArtifactNotFound(str(path))
    sha256, size = blobs.hash_file(path)
    found = {"filename": path.name, "path": str(path.resolve()), "size": size, "sha256": sha256,
             "row_count": None, "column_count": None, "data_schema": None}
    if _is_parquet(path):
        found.update(_parquet_shape(path))
    return found


def _is_parquet(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(4) == PARQUET_MAGIC


def _parquet_shape(path: Path) -> dict[str, Any]:
    """Row count, column count and schema from the parquet footer (the data is not read)."""
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception:  # a file that starts like parquet but is not: keep the hash only
        return {}
    schema = parquet.schema_arrow
    columns = [{"name": field.name, "type": str(field.type)} for field in schema
               if not field.name.startswith("__index_level_")]
    return {"row_count": parquet.metadata.num_rows, "column_count": len(columns),
            "data_schema": json.dumps(columns)}


def dvc_file_for(data_path: str | os.PathLike) -> Path:
    """Where DVC keeps the record of `data_path`: `<data_path>.dvc`."""
    return Path(f"{os.fspath(data_path)}.dvc")


def missing_dvc_file_warning(data_path: str | os.PathLike, recorded: bool) -> str:
    """What log_dvc_input says when there is no .dvc file (0.2.0 warned and went on)."""
    what = (f"Recorded '{os.fspath(data_path)}' by its SHA-256 fingerprint instead, so the lineage is kept."
            if recorded else "Nothing was recorded for it.")
    return (f"DVC file not found at {dvc_file_for(data_path)}: skipping DVC logging. "
            f"Run `dvc add {os.fspath(data_path)}` to version the data with DVC. {what}")


def read_dvc_file(data_path: str | os.PathLike) -> dict[str, Any]:
    """The md5 (and size) DVC recorded for `data_path` in `<data_path>.dvc`."""
    import yaml

    dvc_file = dvc_file_for(data_path)
    if not dvc_file.is_file():
        raise exceptions.DvcFileError(str(dvc_file), "the file does not exist")
    try:
        meta = yaml.safe_load(dvc_file.read_text())
        out = meta["outs"][0]
        md5 = out["md5"]
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise exceptions.DvcFileError(str(dvc_file), f"it is not valid YAML ({exc.__class__.__name__})") from None
    except (KeyError, IndexError, TypeError):
        raise exceptions.DvcFileError(str(dvc_file), "it has no 'outs' entry with an 'md5'") from None
    if not isinstance(md5, str) or not md5:
        raise exceptions.DvcFileError(str(dvc_file), "its md5 is empty")
    size = out.get("size")
    return {"filename": Path(data_path).name, "path": str(Path(data_path).resolve()),
            "md5": md5, "size": size if isinstance(size, int) else None,
            "dvc_file": str(dvc_file.resolve())}


def record(session: Session, run_id: str, name: str, kind: str, found: dict[str, Any]) -> None:
    codec.check_key(name, "dataset name")
    columns = {c: found.get(c) for c in ("filename", "path", "size", "sha256", "md5",
                                          "row_count", "column_count", "data_schema")}
    db.upsert(session, DatasetFingerprint.__table__, [{
        "run_id": run_id, "name": name, "kind": kind, "created_at": datetime.now(timezone.utc),
        **columns}], keys=["run_id", "kind", "name"], update=[*columns, "created_at"])


def dataset_infos(session: Session, run_id: str) -> list[DatasetInfo]:
    """The fingerprints a run recorded, by kind then name."""
    rows = session.execute(select(DatasetFingerprint).where(DatasetFingerprint.run_id == run_id)
                           .order_by(DatasetFingerprint.kind, DatasetFingerprint.name)).scalars()
    return [info(row) for row in rows]


def datasets_of(session: Session, run_id: str) -> list[dict[str, Any]]:
    """get_run_details' "datasets": each DatasetInfo as a dict."""
    return [found.as_dict() for found in dataset_infos(session, run_id)]


def info(row: DatasetFingerprint) -> DatasetInfo:
    return DatasetInfo(
        run_id=row.run_id, name=row.name, kind=row.kind, filename=row.filename, path=row.path, size=row.size,
        sha256=row.sha256, md5=row.md5, row_count=row.row_count, column_count=row.column_count,
        schema=json.loads(row.data_schema) if row.data_schema else None, created_at=row.created_at)


def get_fingerprint(session: Session, run_id: str, name: str) -> DatasetFingerprint:
    row = session.execute(select(DatasetFingerprint).where(
        DatasetFingerprint.run_id == run_id, DatasetFingerprint.name == name,
        DatasetFingerprint.kind == "file")).scalar_one_or_none()
    if row is None:
        raise exceptions.DatasetNotFound(name, run_id)
    return row


def verify_file(row: DatasetFingerprint, local_path: str | os.PathLike) -> dict[str, Any]:
    """Re-hash `local_path`; DatasetMismatch unless it has the recorded bytes."""
    path = Path(local_path)
    if not path.is_file():
        raise exceptions.ArtifactNotFound(str(path))
    actual, size = blobs.hash_file(path)
    if actual != row.sha256:
        raise exceptions.DatasetMismatch(row.name, str(path), row.run_id, row.sha256 or "(none)", actual, row.size, size)
    return info(row).as_dict()
