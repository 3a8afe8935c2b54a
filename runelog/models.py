"""The ORM classes: the schema, nothing else.

The schema is a public interface (people query it with plain SQL), so names
are plural snake_case tables and plain-English columns. Every timestamp is
UTC. Alembic revisions in `migrations/versions/` must agree with this file;
a test runs them and compares.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import cast

from sqlalchemy import (
    DDL,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only makes a rowid alias (fast, compact) out of a column typed exactly INTEGER.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator):
    """A DateTime that is stored as naive UTC and always read back timezone-aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None:
            value = value.replace(tzinfo=timezone.utc)
        return value


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def table_of(model: type[Base]) -> Table:
    """The Table a class is mapped to, for Core insert/update statements.

    SQLAlchemy types `__table__` as any FromClause; every class here maps to a plain Table.
    """
    return cast(Table, model.__table__)


class Experiment(Base):
    __tablename__ = "experiments"
    # SQLite: AUTOINCREMENT, so a deleted experiment's id is never given to a new one
    # (a plain INTEGER PRIMARY KEY reuses the highest; 0.2.0's bug). Revision 0005.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(250), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    runs: Mapped[list[Run]] = relationship(back_populates="experiment", passive_deletes=True)


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (Index(None, "experiment_id", "start_time"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE")
    )
    name: Mapped[str | None] = mapped_column(String(250))
    status: Mapped[str] = mapped_column(String(16), default="RUNNING")
    start_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    end_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None] = mapped_column(Integer)
    git_commit: Mapped[str | None] = mapped_column(String(64))
    git_branch: Mapped[str | None] = mapped_column(String(255))
    git_dirty: Mapped[bool | None] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)
    environment: Mapped[str | None] = mapped_column(Text)  # JSON: python, platform, packages

    experiment: Mapped[Experiment] = relationship(back_populates="runs")


class Param(Base):
    __tablename__ = "params"

    run_id: Mapped[str] = mapped_column(
        ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)  # JSON


class Tag(Base):
    __tablename__ = "tags"
    __table_args__ = (Index(None, "key", "value"),)

    run_id: Mapped[str] = mapped_column(
        ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)  # JSON


class Metric(Base):
    __tablename__ = "metrics"
    __table_args__ = (Index(None, "run_id", "key", "step"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(250))
    value: Mapped[float | None] = mapped_column(Float)  # NULL stands for NaN
    step: Mapped[int] = mapped_column(BigInteger)
    timestamp: Mapped[float] = mapped_column(Float)  # Unix seconds, UTC


class Artifact(Base):
    __tablename__ = "artifacts"
    __table_args__ = (UniqueConstraint("run_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(1000))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DatasetFingerprint(Base):
    """A file a run used or produced, identified by its bytes but not copied."""

    __tablename__ = "dataset_fingerprints"
    __table_args__ = (UniqueConstraint("run_id", "kind", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(250))
    kind: Mapped[str] = mapped_column(String(16), default="file")  # "file" or "dvc"
    filename: Mapped[str] = mapped_column(String(1000))
    path: Mapped[str] = mapped_column(Text)
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    md5: Mapped[str | None] = mapped_column(String(64))  # DVC's content hash
    row_count: Mapped[int | None] = mapped_column(BigInteger)
    column_count: Mapped[int | None] = mapped_column(Integer)
    data_schema: Mapped[str | None] = mapped_column(Text)  # JSON: [{"name", "type"}]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InputLink(Base):
    """Run `run_id` consumed run `source_run_id` (and, optionally, one of its artifacts).

    If the source run is deleted the link stays, with its name and hash, so a
    model still records the exact bytes it was trained on.
    """

    __tablename__ = "input_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(250))
    source_run_id: Mapped[str | None] = mapped_column(
        ForeignKey("runs.id", ondelete="SET NULL"), index=True
    )
    artifact_name: Mapped[str | None] = mapped_column(String(1000))
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RegisteredModel(Base):
    __tablename__ = "registered_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(250), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    versions: Mapped[list[ModelVersion]] = relationship(
        back_populates="model", passive_deletes=True
    )


class ModelVersion(Base):
    """A registered version points at the run's blob by hash: no copy is made,
    and the version stays loadable even if its source run is deleted."""

    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("model_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model_id: Mapped[int] = mapped_column(
        ForeignKey("registered_models.id", ondelete="CASCADE")
    )
    version: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[str | None] = mapped_column(
        ForeignKey("runs.id", ondelete="SET NULL"), index=True
    )
    artifact_name: Mapped[str] = mapped_column(String(1000))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    tags: Mapped[str] = mapped_column(Text, default="{}")  # JSON object
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    model: Mapped[RegisteredModel] = relationship(back_populates="versions")


class ModelAlias(Base):
    """A movable name for one version of a model, e.g. "champion" -> version 3."""

    __tablename__ = "model_aliases"

    model_id: Mapped[int] = mapped_column(
        ForeignKey("registered_models.id", ondelete="CASCADE"), primary_key=True
    )
    alias: Mapped[str] = mapped_column(String(250), primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# ---------------------------------------------------------------- views for ad-hoc SQL
# Read-only conveniences over the tables, created with the schema (and by
# revision 0002 for older stores). Tags come back as one JSON object; the only
# per-dialect difference is the JSON aggregate.

_TAGS_JSON = {
    "sqlite": "(SELECT json_group_object(t.key, json(t.value)) FROM tags t WHERE t.run_id = r.id)",
    "postgresql": "(SELECT json_object_agg(t.key, t.value::json) FROM tags t WHERE t.run_id = r.id)::text",
}

VIEWS: dict[str, str] = {
    "run_summary": """
        SELECT r.id AS run_id, r.name AS run_name, r.experiment_id, e.name AS experiment_name,
               r.status, r.start_time, r.end_time, r.heartbeat_at, r.host, r.pid, r.git_commit,
               COALESCE({tags_json}, '{{}}') AS tags
        FROM runs r JOIN experiments e ON e.id = r.experiment_id""",
    "latest_metrics": """
        SELECT ranked.run_id, ranked.key, ranked.value, ranked.step, ranked.timestamp
        FROM (SELECT m.run_id, m.key, m.value, m.step, m.timestamp,
                     ROW_NUMBER() OVER (PARTITION BY m.run_id, m.key ORDER BY m.step DESC, m.id DESC) AS rn
              FROM metrics m) ranked
        WHERE ranked.rn = 1""",
    "lineage_edges": """
        SELECT l.id AS link_id, l.run_id, r.name AS run_name, e.name AS experiment_name,
               l.source_run_id, sr.name AS source_run_name, se.name AS source_experiment_name,
               l.name AS input_name, l.artifact_name, l.sha256, l.created_at
        FROM input_links l
        JOIN runs r ON r.id = l.run_id
        JOIN experiments e ON e.id = r.experiment_id
        LEFT JOIN runs sr ON sr.id = l.source_run_id
        LEFT JOIN experiments se ON se.id = sr.experiment_id""",
    "dataset_files": """
        SELECT d.id AS fingerprint_id, d.run_id, r.status AS run_status, e.name AS experiment_name,
               d.name, d.kind, d.filename, d.path, d.size, d.sha256, d.md5,
               d.row_count, d.column_count, d.created_at
        FROM dataset_fingerprints d
        JOIN runs r ON r.id = d.run_id
        JOIN experiments e ON e.id = r.experiment_id""",
}


def view_sql(name: str, dialect: str) -> str:
    """The CREATE VIEW statement for one view on one dialect."""
    body = VIEWS[name].format(tags_json=_TAGS_JSON["postgresql" if dialect == "postgresql" else "sqlite"])
    return f"CREATE VIEW {name} AS{body}"


for _name in VIEWS:
    for _dialect in ("sqlite", "postgresql"):
        event.listen(Base.metadata, "after_create",
                     DDL(view_sql(_name, _dialect).replace("%", "%%")).execute_if(dialect=_dialect))
    event.listen(Base.metadata, "before_drop", DDL(f"DROP VIEW IF EXISTS {_name}"))
