"""The model registry: named models whose versions point at run artifacts by hash.

A model reference is one string, read the same way by the API, the CLI and the UI:

    name          the newest version
    name/3        version 3
    name@alias    the version the alias points at
    name@latest   the newest version ("latest" is never an alias)

The rule is by syntax alone, never by what the store holds: a reference that
ends in `/` and digits names a version, one whose last `@` is followed by text
without `/` names an alias, and anything else is a bare model name. Whatever
comes before the selector is the model name, taken literally, so every name is
reachable: a model named `team@x` or `x/3` is `team@x@latest` or `x/3@latest`.
The 0.2.0 pair form `(model_name, version)`, where version is "latest", a
number or "@alias", always takes the name literally.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from . import codec, db, exceptions, runs
from .models import ModelAlias, ModelVersion, RegisteredModel
from .types import ModelVersionInfo


def register(session: Session, run_id: str, artifact_name: str, model_name: str,
             tags: dict | None = None) -> int:
    """Add the next version of `model_name`, pointing at the run's artifact blob (no copy)."""
    check_model_name(model_name)
    encoded_tags = encode_tags(tags or {})
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
        sha256=artifact.sha256, tags=encoded_tags, created_at=now))
    return version


def check_model_name(name: Any) -> str:
    """A name for a new model: any key codec takes, except blank ones and ones with control characters."""
    codec.check_key(name, "model name")
    if not name.strip():
        raise exceptions.InvalidModelName(name, "is blank")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise exceptions.InvalidModelName(name, "holds a control character (a newline, a tab)")
    return name


# ---------------------------------------------------------------- tags


def encode_tags(tags: dict) -> str:
    """The JSON object stored for a version's tags, each value encoded by codec (as set_tag does).

    So a model tag accepts exactly what a run tag accepts (numpy scalars and
    arrays, sets, nested lists and dicts) and reads back the same.
    """
    if not isinstance(tags, dict):
        raise TypeError(f"Model tags must be a dict, not {type(tags).__name__}.")
    pieces = [f"{json.dumps(codec.check_key(key, 'tag key'), ensure_ascii=False)}:"
              f"{codec.encode_value(key, value, 'model tag')}" for key, value in tags.items()]
    return "{" + ",".join(pieces) + "}"


def check_tags(tags: dict) -> dict:
    """`tags` as they read back once stored (numpy values become plain ones); raises naming a bad key."""
    return decode_tags(encode_tags(tags))


def decode_tags(text: str | None) -> dict[str, Any]:
    return codec.decode_value(text) or {}


# ---------------------------------------------------------------- aliases and versions


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
_NUMBERED = re.compile(r"^(.+)/([0-9]+)$", re.DOTALL)
_ALIASED = re.compile(r"^(.+)@([^@/]*)$", re.DOTALL)


@dataclass(frozen=True)
class ModelRef:
    """A parsed model reference: the model's name and one of a version number or an alias (neither: newest)."""

    name: str
    number: int | None = None
    alias: str | None = None


def parse_reference(reference: Any, version: Any = None) -> ModelRef:
    """Read `name`, `name/3`, `name@alias`, `name@latest`; or, given `version`, the 0.2.0 pair.

    The pair form takes `reference` as the model name literally, and `version` as
    "latest", a number, or "@alias". No store is consulted: the same text always
    means the same thing.
    """
    if version is not None:  # as 0.2.0: the name as given; an alias is looked up as written
        if isinstance(version, str) and version.startswith("@"):
            selector = version[1:]
            return ModelRef(reference) if selector == "latest" else ModelRef(reference, alias=selector)
        return ModelRef(reference, number=parse_version(version))
    name, number, alias = split_reference(reference)
    if number is not None:
        return ModelRef(name, number=parse_version(number))
    if alias is not None and alias != "latest":
        return ModelRef(name, alias=_alias_in(alias))
    return ModelRef(name)


def split_reference(reference: Any) -> tuple[str, str | None, str | None]:
    """(name, version digits or None, alias text or None) of a reference, by syntax alone, unchecked."""
    codec.check_key(reference, "model reference")
    numbered = _NUMBERED.match(reference)
    if numbered:
        return numbered.group(1), numbered.group(2), None
    aliased = _ALIASED.match(reference)
    if aliased:
        return aliased.group(1), None, aliased.group(2)
    return reference, None, None


def _alias_in(selector: str) -> str:
    if not ALIAS.match(selector):  # "clf@3" is not version 3: that is written "clf/3"
        raise exceptions.InvalidAlias(selector)
    return selector


def model_id_of(session: Session, model_name: str) -> int:
    found = session.execute(
        select(RegisteredModel.id).where(RegisteredModel.name == model_name)).scalar_one_or_none()
    if found is None:
        raise exceptions.ModelNotFound(model_name)
    return found


def resolve(session: Session, reference: Any, version: Any = None) -> ModelVersion:
    """The version row a reference (or a 0.2.0 name-and-version pair) points at.

    Raises ModelNotFound (no such model), NoVersionsFound (a model without
    versions), ModelVersionNotFound (no such number, or no such alias: its
    `version` is "@alias"), InvalidModelVersion or InvalidAlias (malformed).
    """
    # An unknown model is reported before a malformed version or alias, as 0.2.0 checked.
    model_id = model_id_of(session, reference if version is not None else split_reference(reference)[0])
    ref = parse_reference(reference, version)
    stmt = select(ModelVersion).where(ModelVersion.model_id == model_id)
    if ref.alias is not None:
        stmt = stmt.join(ModelAlias, ModelAlias.version_id == ModelVersion.id).where(ModelAlias.alias == ref.alias)
    elif ref.number is not None:
        stmt = stmt.where(ModelVersion.version == ref.number)
    else:
        stmt = stmt.order_by(ModelVersion.version.desc()).limit(1)
    found = session.execute(stmt).scalar_one_or_none()
    if found is None:
        if ref.alias is None and ref.number is None:
            raise exceptions.NoVersionsFound(ref.name)
        raise exceptions.ModelVersionNotFound(ref.name, f"@{ref.alias}" if ref.alias is not None else str(ref.number))
    return found


def get_version(session: Session, model_name: str, version: Any = "latest") -> ModelVersion:
    """The 0.2.0 pair form: a version by number, "latest", or "@alias" of the model named literally."""
    return resolve(session, model_name, "latest" if version is None else version)


def get_info(session: Session, reference: Any, version: Any = None) -> ModelVersionInfo:
    """The ModelVersionInfo a reference points at (with its tags and aliases)."""
    row = resolve(session, reference, version)
    return infos(session, [row])[0]


_CHUNK = 500  # ids bound per IN (...): far below SQLite's and PostgreSQL's caps on bound values


def infos(session: Session, rows: list[ModelVersion]) -> list[ModelVersionInfo]:
    """Typed versions for rows, their names and aliases read in one query each per 500 rows (not one per row)."""
    names: dict[int, str] = {}
    by_version: dict[int, list[str]] = {}
    for at in range(0, len(rows), _CHUNK):
        chunk = rows[at:at + _CHUNK]
        names.update(session.execute(select(RegisteredModel.id, RegisteredModel.name)
                                     .where(RegisteredModel.id.in_({row.model_id for row in chunk}))).all())
        for version_id, alias in session.execute(select(ModelAlias.version_id, ModelAlias.alias).where(
                ModelAlias.version_id.in_([row.id for row in chunk])).order_by(ModelAlias.alias)):
            by_version.setdefault(version_id, []).append(alias)
    return [_info(row, names[row.model_id], by_version.get(row.id, [])) for row in rows]


def _info(row: ModelVersion, model_name: str, alias_names: list[str]) -> ModelVersionInfo:
    return ModelVersionInfo(model_name=model_name, version=row.version, run_id=row.run_id,
                            artifact_name=row.artifact_name, sha256=row.sha256, created_at=row.created_at,
                            tags=decode_tags(row.tags), aliases=tuple(alias_names))


def latest_versions(session: Session) -> list[ModelVersionInfo]:
    """Every model's newest version with its aliases, by model name: two queries, whatever the number of models."""
    newest = select(ModelVersion.model_id, func.max(ModelVersion.version).label("version")) \
        .group_by(ModelVersion.model_id).subquery()
    is_newest = (newest.c.model_id == ModelVersion.model_id) & (newest.c.version == ModelVersion.version)
    rows = session.execute(select(ModelVersion, RegisteredModel.name).join(newest, is_newest)
                           .join(RegisteredModel, RegisteredModel.id == ModelVersion.model_id)).all()
    by_version: dict[int, list[str]] = {}
    for version_id, alias in session.execute(
            select(ModelAlias.version_id, ModelAlias.alias).join(ModelVersion, ModelVersion.id == ModelAlias.version_id)
            .join(newest, is_newest).order_by(ModelAlias.alias)):
        by_version.setdefault(version_id, []).append(alias)
    return sorted((_info(row, name, by_version.get(row.id, [])) for row, name in rows), key=lambda v: v.model_name)


def set_alias(session: Session, model_name: str, alias: str, version: Any) -> int:
    """Point `alias` at a version (moving it if it pointed elsewhere); return the version number."""
    check_alias(alias)
    row = get_version(session, model_name, version)
    db.upsert(session, ModelAlias.__table__, [{"model_id": row.model_id, "alias": alias, "version_id": row.id,
                                               "updated_at": datetime.now(timezone.utc)}],
              keys=["model_id", "alias"], update=["version_id", "updated_at"])
    return row.version


def delete_alias(session: Session, model_name: str, alias: str) -> None:
    row = get_version(session, model_name, f"@{alias}")  # ModelVersionNotFound if there is no such alias
    session.execute(delete(ModelAlias).where(ModelAlias.model_id == row.model_id, ModelAlias.alias == alias))


def alias_infos(session: Session, model_name: str) -> dict[str, ModelVersionInfo]:
    """{alias: the version it points at} of a model, in alias order."""
    model_id = model_id_of(session, model_name)
    rows = session.execute(
        select(ModelAlias.alias, ModelVersion).join(ModelVersion, ModelVersion.id == ModelAlias.version_id)
        .where(ModelAlias.model_id == model_id).order_by(ModelAlias.alias)).all()
    typed = infos(session, [row for _, row in rows])
    return {alias: info for (alias, _), info in zip(rows, typed, strict=True)}


def add_tags(session: Session, model_name: str, version: Any, tags: dict) -> dict:
    row = get_version(session, model_name, version)
    merged = {**decode_tags(row.tags), **check_tags(tags)}
    session.execute(update(ModelVersion).where(ModelVersion.id == row.id).values(tags=encode_tags(merged)))
    return merged


def remove_tags(session: Session, model_name: str, version: Any, keys: list[str]) -> dict:
    row = get_version(session, model_name, version)
    remaining = {k: v for k, v in decode_tags(row.tags).items() if k not in set(keys)}
    session.execute(update(ModelVersion).where(ModelVersion.id == row.id).values(tags=encode_tags(remaining)))
    return remaining


def list_models(session: Session, ascending: bool = True) -> list[str]:
    column = RegisteredModel.name
    return list(session.execute(
        select(column).order_by(column.asc() if ascending else column.desc())).scalars())


def version_infos(session: Session, model_name: str) -> list[ModelVersionInfo]:
    """Every version of a model, newest first; [] for an unknown model (as in 0.2.0)."""
    try:
        model_id = model_id_of(session, model_name)
    except exceptions.ModelNotFound:
        return []
    rows = session.execute(select(ModelVersion).where(ModelVersion.model_id == model_id)
                           .order_by(ModelVersion.version.desc())).scalars().all()
    return infos(session, list(rows))


def versions(session: Session, model_name: str, sort_by: str | None = "version",
             ascending: bool = False) -> list[dict[str, Any]]:
    """0.2.0's get_model_versions: every version of a model as dicts, sorted; [] for an unknown model."""
    found = [info.as_dict() for info in version_infos(session, model_name)]
    if sort_by == "version":
        found.sort(key=lambda v: int(v["version"]), reverse=not ascending)
    elif sort_by:
        found.sort(key=lambda v: str(v.get(sort_by) or ""), reverse=not ascending)
    return found
