"""The model registry: named models whose versions point at run artifacts by hash."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from . import codec, db, exceptions, runs
from .models import ModelAlias, ModelVersion, RegisteredModel


def register(session: Session, run_id: str, artifact_name: str, model_name: str,
             tags: dict | None = None) -> int:
    """Add the next version of `model_name`, pointing at the run's artifact blob (no copy)."""
    codec.check_key(model_name, "model name")
    encoded_tags = check_tags(tags or {})
    artifact = runs.artifact_row(session, run_id, artifact_name)
    now = datetime.now(timezone.utc)
    db.upsert(session, RegisteredModel.__table__, [{"name": model_name, "created_at": now}],
              keys=["name"], update=[])
    # Lock the model's row so concurrent registrations take turns (a no-op on SQLite,
    # where BEGIN IMMEDIATE already serialises writers); the next version is then safe.
    model_id = session.execute(
        select(RegisteredModel.id).where(RegisteredModel.name == model_name).with_for_update()).scalar_one()
    version = (session.execute(
        select(func.max(ModelVersion.version)).where(ModelVersion.model_id == model_id)).scalar() or 0) + 1
    session.execute(insert(ModelVersion).values(
        model_id=model_id, version=version, run_id=run_id, artifact_name=artifact_name,
        sha256=artifact.sha256, tags=json.dumps(encoded_tags), created_at=now))
    return version


def check_tags(tags: dict) -> dict:
    """A copy of `tags` if every key and value can be stored as a model tag, else raise naming the key."""
    if not isinstance(tags, dict):
        raise TypeError(f"Model tags must be a dict, not {type(tags).__name__}.")
    for key, value in tags.items():
        codec.check_key(key, "tag key")
        codec.encode_value(key, value, "tag")  # raises, naming the key, if it cannot be stored
    return dict(tags)


ALIAS = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,99}$")


def check_alias(alias: Any) -> str:
    if not isinstance(alias, str) or not ALIAS.match(alias) or alias == "latest":
        raise exceptions.InvalidAlias(str(alias))
    return alias


def parse_version(version: Any) -> int | None:
    """None for "latest", else the version number; InvalidModelVersion for anything else."""
    if version is None or version == "latest":
        return None
    if isinstance(version, int) and not isinstance(version, bool):
        text = str(version)
    elif isinstance(version, str):
        text = version.strip()
    else:
        raise exceptions.InvalidModelVersion(repr(version))
    # ASCII digits only: "²".isdigit() is True but int("²") raises ValueError.
    if not _VERSION.match(text) or int(text) < 1:
        raise exceptions.InvalidModelVersion(str(version))
    return int(text)


_VERSION = re.compile(r"^[0-9]{1,9}$")


def model_id_of(session: Session, model_name: str) -> int:
    found = session.execute(
        select(RegisteredModel.id).where(RegisteredModel.name == model_name)).scalar_one_or_none()
    if found is None:
        raise exceptions.ModelNotFound(model_name)
    return found


def get_version(session: Session, model_name: str, version: Any = "latest") -> ModelVersion:
    """A version by number, "latest", or "@alias"."""
    if isinstance(version, str) and version.startswith("@"):
        return _aliased_version(session, model_name, version[1:])
    model_id = model_id_of(session, model_name)  # an unknown model first, as 0.2.0 checked
    number = parse_version(version)
    stmt = select(ModelVersion).where(ModelVersion.model_id == model_id)
    if number is None:
        found = session.execute(stmt.order_by(ModelVersion.version.desc()).limit(1)).scalar_one_or_none()
        if found is None:
            raise exceptions.NoVersionsFound(model_name)
        return found
    found = session.execute(stmt.where(ModelVersion.version == number)).scalar_one_or_none()
    if found is None:
        raise exceptions.ModelVersionNotFound(model_name, str(version))
    return found


def _aliased_version(session: Session, model_name: str, alias: str) -> ModelVersion:
    model_id = model_id_of(session, model_name)
    found = session.execute(
        select(ModelVersion).join(ModelAlias, ModelAlias.version_id == ModelVersion.id)
        .where(ModelAlias.model_id == model_id, ModelAlias.alias == alias)).scalar_one_or_none()
    if found is None:
        raise exceptions.ModelVersionNotFound(model_name, f"@{alias}")
    return found


def set_alias(session: Session, model_name: str, alias: str, version: Any) -> int:
    """Point `alias` at a version (moving it if it pointed elsewhere); return the version number."""
    check_alias(alias)
    row = get_version(session, model_name, version)
    db.upsert(session, ModelAlias.__table__, [{"model_id": row.model_id, "alias": alias, "version_id": row.id,
                                               "updated_at": datetime.now(timezone.utc)}],
              keys=["model_id", "alias"], update=["version_id", "updated_at"])
    return row.version


def delete_alias(session: Session, model_name: str, alias: str) -> None:
    _aliased_version(session, model_name, alias)  # ModelVersionNotFound if there is no such alias
    session.execute(delete(ModelAlias).where(ModelAlias.model_id == model_id_of(session, model_name),
                                             ModelAlias.alias == alias))


def aliases(session: Session, model_name: str) -> dict[str, str]:
    """{alias: version number} of a model."""
    model_id = model_id_of(session, model_name)
    rows = session.execute(
        select(ModelAlias.alias, ModelVersion.version).join(ModelVersion, ModelVersion.id == ModelAlias.version_id)
        .where(ModelAlias.model_id == model_id).order_by(ModelAlias.alias))
    return {alias: str(version) for alias, version in rows}


def add_tags(session: Session, model_name: str, version: Any, tags: dict) -> dict:
    row = get_version(session, model_name, version)
    merged = {**json.loads(row.tags), **check_tags(tags)}
    session.execute(update(ModelVersion).where(ModelVersion.id == row.id).values(tags=json.dumps(merged)))
    return merged


def remove_tags(session: Session, model_name: str, version: Any, keys: list[str]) -> dict:
    row = get_version(session, model_name, version)
    remaining = {k: v for k, v in json.loads(row.tags).items() if k not in set(keys)}
    session.execute(update(ModelVersion).where(ModelVersion.id == row.id).values(tags=json.dumps(remaining)))
    return remaining


def version_dict(model_name: str, row: ModelVersion, alias_names: list[str] | None = None) -> dict[str, Any]:
    """0.2.0's meta.json of a version, plus the artifact it points at and its aliases."""
    return {
        "aliases": alias_names or [],
        "model_name": model_name,
        "version": str(row.version),
        "source_run_id": row.run_id,
        "registration_timestamp": runs.iso(row.created_at),
        "tags": json.loads(row.tags),
        "artifact_name": row.artifact_name,
        "sha256": row.sha256,
    }


def list_models(session: Session, ascending: bool = True) -> list[str]:
    column = RegisteredModel.name
    return list(session.execute(
        select(column).order_by(column.asc() if ascending else column.desc())).scalars())


def versions(session: Session, model_name: str, sort_by: str | None = "version",
             ascending: bool = False) -> list[dict[str, Any]]:
    """Every version of a model as dicts; [] for an unknown model (as in 0.2.0)."""
    try:
        model_id = model_id_of(session, model_name)
    except exceptions.ModelNotFound:
        return []
    rows = session.execute(select(ModelVersion).where(ModelVersion.model_id == model_id)).scalars().all()
    by_version: dict[str, list[str]] = {}
    for alias, number in aliases(session, model_name).items():
        by_version.setdefault(number, []).append(alias)
    found = [version_dict(model_name, row, by_version.get(str(row.version))) for row in rows]
    if sort_by == "version":
        found.sort(key=lambda v: int(v["version"]), reverse=not ascending)
    elif sort_by:
        found.sort(key=lambda v: str(v.get(sort_by) or ""), reverse=not ascending)
    return found
