"""Tile invalidation: the tile change log, and the statement triggers that fill it and NOTIFY onemap_tiles.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

from spatial.sql import read_sql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(read_sql("tile_invalidation.sql"))


def downgrade() -> None:
    for table in ("admin_area", "building", "enterprise", "event", "verification_issue", "layer"):
        for event in ("insert", "update", "delete"):
            prefix = "layer_change" if table == "layer" else "tile_change"
            op.execute(f"DROP TRIGGER IF EXISTS {prefix}_{event} ON onemap.{table}")
    op.execute("DROP FUNCTION IF EXISTS onemap.notify_layer_change()")
    op.execute("DROP FUNCTION IF EXISTS onemap.enable_tile_invalidation(regclass, text)")
    op.execute("DROP FUNCTION IF EXISTS onemap.notify_tile_change()")
    op.execute("DROP FUNCTION IF EXISTS onemap.tile_change_box_limit()")
    op.execute("DROP TABLE IF EXISTS onemap.tile_change")
