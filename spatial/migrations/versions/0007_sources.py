"""The source catalogue (three lists: functions, matters, systems and their data items), deliveries and their
rejected rows, and how fusion resolved records without a key; source records name the delivery they came in.

Revision ID: 0007
Revises: 0009
"""

from __future__ import annotations

from alembic import op

from spatial.schema import (
    source_delivery,
    source_function,
    source_item,
    source_matter,
    source_rejection,
    source_resolution,
    source_system,
)

revision = "0007"
down_revision = "0009"  # after cases (0008) and screens (0009), which landed first
branch_labels = None
depends_on = None

# Declared once in spatial/schema.py; created from there at this revision (they are new tables).
TABLES = (
    source_function,
    source_matter,
    source_system,
    source_item,
    source_delivery,
    source_rejection,
    source_resolution,
)


def upgrade() -> None:
    bind = op.get_bind()
    for table in TABLES:
        table.create(bind)
    # A database created at this revision or later has the column already (0001 builds from the metadata).
    op.execute("ALTER TABLE onemap.source_record ADD COLUMN IF NOT EXISTS delivery_id bigint")
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_source_record_delivery_id ON onemap.source_record (delivery_id)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS onemap.ix_source_record_delivery_id")
    op.execute("ALTER TABLE onemap.source_record DROP COLUMN IF EXISTS delivery_id")
    for table in reversed(TABLES):
        op.drop_table(table.name, schema=table.schema)
