"""Fusion's date parser, safe in parallel queries and fast: the exception-block version failed any fusion step
whose plan went parallel ("cannot start subtransactions during a parallel operation"), and regexp_match's groups
cost 14 us a call; see ``spatial/fusion/sql/functions.sql``.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

from alembic import op

from spatial.fusion.sql import read_sql

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(read_sql("functions.sql"))  # every statement in it is CREATE OR REPLACE


def downgrade() -> None:
    # The new parser accepts what the old one was used for (checked ISO dates and an ID number's birth date); the
    # old one cannot be restored without failing parallel fusion steps again.
    pass
