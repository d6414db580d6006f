"""Cases: the grid worker a case is assigned to, on its timeline (the ``assign`` action).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0008 creates case_transition from spatial.schema, which now has the column: a new database has it already.
    op.execute("ALTER TABLE onemap.case_transition ADD COLUMN IF NOT EXISTS assignee text")


def downgrade() -> None:
    op.execute("ALTER TABLE onemap.case_transition DROP COLUMN IF EXISTS assignee")
