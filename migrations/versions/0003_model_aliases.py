"""model aliases

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 11:44:29

Movable names for model versions ("champion" -> version 3).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_aliases",
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("alias", sa.String(length=250), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["model_id"], ["registered_models.id"],
                                name=op.f("fk_model_aliases_model_id_registered_models"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["version_id"], ["model_versions.id"],
                                name=op.f("fk_model_aliases_version_id_model_versions"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("model_id", "alias", name=op.f("pk_model_aliases")),
    )
    op.create_index(op.f("ix_model_aliases_version_id"), "model_aliases", ["version_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_model_aliases_version_id"), table_name="model_aliases")
    op.drop_table("model_aliases")
