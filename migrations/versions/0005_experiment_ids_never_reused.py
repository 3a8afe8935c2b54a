"""experiment ids never reused on SQLite

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 04:40:00

On SQLite `experiments.id` was a plain INTEGER PRIMARY KEY, so once the
highest-numbered experiment was deleted its id went to the next new one
(runelog 0.2.0's id-reuse bug, issue 13). This revision rebuilds the table as
INTEGER PRIMARY KEY AUTOINCREMENT, keeping every row and id, and seeds
sqlite_sequence with the highest id, so no id is handed out twice from now on
(ids deleted before this upgrade cannot be known any more). PostgreSQL's
sequence never reuses an id: nothing to do there.

The views of revision 0002 name `experiments`, and SQLite's ALTER TABLE RENAME
(the last step of a batch rebuild) refuses to run while a view names a missing
table, so they are dropped and re-created around the rebuild with 0002's SQL.
env.py turns foreign keys off meanwhile, so dropping the old copy deletes no runs.
"""
from __future__ import annotations

import os

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _experiments() -> sa.Table:
    """The table as revision 0001 made it (frozen here: the models may change later)."""
    return sa.Table(
        "experiments", sa.MetaData(),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_experiments"),
        sa.UniqueConstraint("name", name="uq_experiments_name"),
    )


def _views_0002():
    """Revision 0002's module (its view SQL), as Alembic loaded it."""
    script = op.get_context().script
    if script is not None:
        return script.get_revision("0002").module
    from alembic.util import load_python_file

    return load_python_file(os.path.dirname(__file__), "0002_views.py")


def _rebuild_experiments(autoincrement: bool) -> None:
    views = _views_0002()
    views.downgrade()
    with op.batch_alter_table("experiments", recreate="always", copy_from=_experiments(),
                              table_kwargs={"sqlite_autoincrement": autoincrement}):
        pass
    views.upgrade()


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _rebuild_experiments(autoincrement=True)
    # The copy already set it; said outright so the high-water mark never depends on batch internals.
    op.execute("DELETE FROM sqlite_sequence WHERE name = 'experiments'")
    op.execute("INSERT INTO sqlite_sequence (name, seq) SELECT 'experiments', MAX(id) FROM experiments "
               "HAVING MAX(id) IS NOT NULL")


def downgrade() -> None:
    # Back to a plain INTEGER PRIMARY KEY (dropping the AUTOINCREMENT table drops its
    # sqlite_sequence row; the empty sqlite_sequence table itself cannot be dropped).
    if op.get_bind().dialect.name != "sqlite":
        return
    _rebuild_experiments(autoincrement=False)
