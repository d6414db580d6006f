"""Masked ID numbers hide the area code too: onemap.mask_id_number keeps 0 leading characters by default.

Revision ID: 0010
Revises: 0006
"""

from __future__ import annotations

from alembic import op

from spatial.sql import read_sql

revision = "0010"
down_revision = "0006"
branch_labels = None
depends_on = None

SIGNATURE = "onemap.mask_id_number(text, int, int)"


def upgrade() -> None:
    # A changed default is a changed signature for CREATE OR REPLACE: drop first (nothing depends on it by OID:
    # the SQL that calls it is sent by the application).
    op.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")
    op.execute(read_sql("masking.sql"))


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")
    op.execute(read_sql("masking.sql").replace("keep_prefix int DEFAULT 0", "keep_prefix int DEFAULT 6"))
