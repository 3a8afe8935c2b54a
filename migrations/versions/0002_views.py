"""views for ad-hoc SQL

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 11:00:00

run_summary, latest_metrics, lineage_edges and dataset_files: read-only
conveniences for people who query runelog.db directly. The SQL is frozen here
as it was at this revision; `runelog.models.VIEWS` is the current truth and a
test proves the two agree.
"""
from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TAGS_JSON = {
    "sqlite": "(SELECT json_group_object(t.key, json(t.value)) FROM tags t WHERE t.run_id = r.id)",
    "postgresql": "(SELECT json_object_agg(t.key, t.value::json) FROM tags t WHERE t.run_id = r.id)::text",
}

VIEWS = {
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


def upgrade() -> None:
    dialect = "postgresql" if op.get_bind().dialect.name == "postgresql" else "sqlite"
    for name, body in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS{body.format(tags_json=TAGS_JSON[dialect])}")


def downgrade() -> None:
    for name in reversed(list(VIEWS)):
        op.execute(f"DROP VIEW IF EXISTS {name}")
