"""Fusion: rule overrides, provenance per attribute, runs and rejections, declarations, monitoring warnings.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

from spatial.fusion.sql import read_sql
from spatial.potential import view_sql
from spatial.schema import (
    attribute_provenance,
    declaration,
    fusion_rejection,
    fusion_rule,
    fusion_run,
    warning,
)

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Declared once in spatial/schema.py; created from there at this revision (they are new tables).
TABLES = (fusion_rule, attribute_provenance, fusion_run, fusion_rejection, declaration, warning)


def upgrade() -> None:
    bind = op.get_bind()
    # Levenshtein for fuzzy name and address rules; contrib ships with every PostGIS install.
    op.execute("CREATE EXTENSION IF NOT EXISTS fuzzystrmatch SCHEMA public")
    for table in TABLES:
        table.create(bind)
    op.execute(read_sql("functions.sql"))
    op.execute(view_sql())


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS onemap.economic_potential")
    op.execute("DROP FUNCTION IF EXISTS onemap.fusion_agrees(text, text, text, double precision)")
    op.execute("DROP FUNCTION IF EXISTS onemap.fusion_normalise(text, text)")
    op.execute("DROP FUNCTION IF EXISTS onemap.try_date(text)")
    op.execute("DROP FUNCTION IF EXISTS onemap.try_int(text)")
    for table in reversed(TABLES):
        op.drop_table(table.name, schema=table.schema)
