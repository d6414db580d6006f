"""The initial schema: archives, sources, verification, events, catalog, keys, audit, history.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from alembic import op

from spatial.schema import VERSIONED_TABLES, metadata
from spatial.sql import read_sql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


# The tables of this revision. Later revisions add theirs, so this list must not grow.
INITIAL_TABLES = (
    "admin_area", "building", "house_unit", "person", "residence", "enterprise", "source_record",
    "planted_disagreement", "verification_issue", "event", "layer", "api_key", "audit_log", "load_progress",
)


def upgrade() -> None:
    bind = op.get_bind()
    # The first revision builds straight from the declared tables so they are written once; later revisions
    # change them with explicit operations.
    metadata.create_all(bind, tables=[metadata.tables[f"onemap.{name}"] for name in INITIAL_TABLES])
    op.execute(read_sql("history.sql"))
    op.execute(read_sql("masking.sql"))
    for table in VERSIONED_TABLES:
        op.execute(f"SELECT onemap.enable_history('onemap.{table}')")
    op.execute(
        "CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON onemap.audit_log "
        "FOR EACH ROW EXECUTE FUNCTION onemap.refuse_change()"
    )


def downgrade() -> None:
    op.execute("DROP SCHEMA onemap CASCADE")
