"""House units delivered by housing (the survey's 房屋单元 table): ``house_unit`` joins the kinds of source
record and of catalogue data item, and a catalogue that lists the housing survey's buildings gets its house
units too (the packaged fusion rules name housing as their authority; a run is refused without the item).

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# The constraints are written out here, not read from spatial/schema.py: a revision states the schema of its
# time, whatever the kinds become later.
BEFORE = ("person", "enterprise", "building", "residence")
AFTER = (*BEFORE, "house_unit")
CONSTRAINTS = (("source_record", "source_record_kind_allowed"), ("source_item", "source_item_entity_kind_allowed"))


def _allow(kinds: tuple[str, ...]) -> None:
    listed = ", ".join(f"'{kind}'" for kind in kinds)
    for table, name in CONSTRAINTS:
        op.execute(f"ALTER TABLE onemap.{table} DROP CONSTRAINT IF EXISTS {name}")
        op.execute(f"ALTER TABLE onemap.{table} ADD CONSTRAINT {name} CHECK (entity_kind IN ({listed}))")


def upgrade() -> None:
    _allow(AFTER)
    op.execute(
        """
        INSERT INTO onemap.source_item (department, system_name, name, entity_kind, authoritative_for, frequency,
                                        format, contact)
        SELECT department, system_name, '房屋单元', 'house_unit',
               ARRAY['building_code', 'unit_no', 'room_no', 'floor', 'area_m2', 'use'], frequency, 'CSV (GBK)',
               contact
        FROM onemap.source_item
        WHERE department = 'housing' AND entity_kind = 'building'
        ORDER BY id
        LIMIT 1
        ON CONFLICT (department, entity_kind, name) DO NOTHING
        """
    )


def downgrade() -> None:
    op.execute("DELETE FROM onemap.source_record WHERE entity_kind = 'house_unit'")
    op.execute("DELETE FROM onemap.source_item WHERE entity_kind = 'house_unit'")
    _allow(BEFORE)
