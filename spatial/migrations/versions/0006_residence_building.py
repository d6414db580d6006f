"""Each residence names its unit's building too, held equal to the unit's by a two-column foreign key.

Residents per grid over 5M people joined residence -> 2.9M units -> buildings; with the building on the residence
the join goes straight to 170k buildings (population per grid at full scale: 6.0 s -> under 5 s).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A database created at this revision or later has the column already: 0001 builds tables from the current
    # schema. Older ones are filled from their units, then constrained.
    op.execute("""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'onemap'
                           AND table_name = 'residence' AND column_name = 'building_id') THEN
                ALTER TABLE onemap.house_unit ADD CONSTRAINT house_unit_id_key UNIQUE (id, building_id);
                ALTER TABLE onemap.residence ADD COLUMN building_id bigint;
                UPDATE onemap.residence r SET building_id = u.building_id
                FROM onemap.house_unit u WHERE u.id = r.house_unit_id;
                ALTER TABLE onemap.residence ALTER COLUMN building_id SET NOT NULL;
                ALTER TABLE onemap.residence DROP CONSTRAINT residence_house_unit_id_fkey;
                ALTER TABLE onemap.residence ADD CONSTRAINT residence_house_unit_id_fkey
                    FOREIGN KEY (house_unit_id, building_id) REFERENCES onemap.house_unit (id, building_id)
                    ON DELETE CASCADE ON UPDATE CASCADE;
                CREATE INDEX ix_residence_building_id ON onemap.residence (building_id);
            END IF;
        END $$""")


def downgrade() -> None:
    op.execute("ALTER TABLE onemap.residence DROP CONSTRAINT residence_house_unit_id_fkey")
    op.execute("ALTER TABLE onemap.residence DROP COLUMN building_id")
    op.execute("ALTER TABLE onemap.house_unit DROP CONSTRAINT house_unit_id_key")
    op.execute(
        "ALTER TABLE onemap.residence ADD CONSTRAINT residence_house_unit_id_fkey FOREIGN KEY (house_unit_id) "
        "REFERENCES onemap.house_unit (id) ON DELETE CASCADE"
    )
