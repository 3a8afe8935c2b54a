"""default experiment on first use

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 04:00:00

runelog 0.2.0 created experiment "0" ("default-experiment") with the first run
that needed it, so a new store listed no experiments. Revision 0001 inserted
it up front; new code creates it on first use. This revision removes the row
from a store that was never used (that row is its only experiment and there
are no runs), so a store made by migrations matches one made by `create_all`.
A store that has been used keeps its row.
"""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

experiments = sa.table("experiments", sa.column("id", sa.Integer), sa.column("name", sa.String),
                       sa.column("created_at", sa.DateTime))
runs = sa.table("runs", sa.column("id", sa.String))


def upgrade() -> None:
    bind = op.get_bind()
    only_default = bind.execute(sa.select(experiments.c.id)).scalars().all() == [0]
    no_runs = bind.execute(sa.select(runs.c.id).limit(1)).first() is None
    if only_default and no_runs:
        op.execute(experiments.delete().where(experiments.c.id == 0, experiments.c.name == "default-experiment"))


def downgrade() -> None:
    # Revision 0003's code expects the row; put it back if it is missing (and its name is free).
    bind = op.get_bind()
    taken = bind.execute(sa.select(experiments.c.id).where(
        sa.or_(experiments.c.id == 0, experiments.c.name == "default-experiment"))).first()
    if taken is None:
        op.bulk_insert(experiments, [{"id": 0, "name": "default-experiment",
                                      "created_at": datetime.now(timezone.utc).replace(tzinfo=None)}])
