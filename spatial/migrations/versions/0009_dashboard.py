"""Screens: roles scoped to a community or a street, the figures' pre-aggregates (kept stale-aware by triggers),
saved one-map modes and grid workers' tasks.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from spatial.migrations.sql import read_migration_sql
from spatial.schema import ROLES, grid_task, saved_map

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# The population pre-aggregate as this revision made it (0013 replaces it with spatial.schema.kpi_daily).
_aggregates = sa.MetaData(schema="onemap")
kpi_population_daily = sa.Table(
    "kpi_population_daily", _aggregates,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("grid_code", sa.Text, primary_key=True),
    sa.Column("registered", sa.Integer, nullable=False),
    sa.Column("actual", sa.Integer, nullable=False),
)
kpi_aggregate = sa.Table(
    "kpi_aggregate", _aggregates,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("first_day", sa.Date),
    sa.Column("last_day", sa.Date),
    sa.Column("dirty_since", sa.Date),
    sa.Column("refreshed_at", sa.DateTime(timezone=True)),
)
TABLES = (kpi_population_daily, kpi_aggregate, saved_map, grid_task)


def upgrade() -> None:
    bind = op.get_bind()
    # 0001 builds api_key from the current declaration, so a new database has the column and checks already.
    roles = ", ".join(f"'{role}'" for role in ROLES)
    op.execute(f"""
        ALTER TABLE onemap.api_key ADD COLUMN IF NOT EXISTS area_code text
            REFERENCES onemap.admin_area (code);
        ALTER TABLE onemap.api_key DROP CONSTRAINT IF EXISTS api_key_role_allowed;
        ALTER TABLE onemap.api_key ADD CONSTRAINT api_key_role_allowed CHECK (role IN ({roles}));
        ALTER TABLE onemap.api_key DROP CONSTRAINT IF EXISTS api_key_operator_has_area;
        ALTER TABLE onemap.api_key ADD CONSTRAINT api_key_operator_has_area
            CHECK (role NOT IN ('community_operator', 'street_operator') OR area_code IS NOT NULL)""")
    for table in TABLES:
        table.create(bind, checkfirst=True)
    op.execute(read_migration_sql("population_triggers.sql"))


def downgrade() -> None:
    for trigger, table in (
        ("kpi_residence_insert", "residence"),
        ("kpi_residence_update", "residence"),
        ("kpi_residence_delete", "residence"),
        ("kpi_residence_truncate", "residence"),
        ("kpi_person_update", "person"),
        ("kpi_person_truncate", "person"),
        ("kpi_building_moved", "building"),
    ):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON onemap.{table}")
    for function in (
        "kpi_residence_changed()",
        "kpi_person_changed()",
        "kpi_building_moved()",
        "kpi_mark_dirty(text, date)",
    ):
        op.execute(f"DROP FUNCTION IF EXISTS onemap.{function}")
    for table in reversed(TABLES):
        op.drop_table(table.name, schema=table.schema)
    op.execute("DELETE FROM onemap.api_key WHERE role IN ('community_operator', 'street_operator')")
    op.execute("ALTER TABLE onemap.api_key DROP CONSTRAINT IF EXISTS api_key_operator_has_area")
    op.execute("ALTER TABLE onemap.api_key DROP COLUMN area_code")
    op.execute("ALTER TABLE onemap.api_key DROP CONSTRAINT api_key_role_allowed")
    op.execute(
        "ALTER TABLE onemap.api_key ADD CONSTRAINT api_key_role_allowed CHECK (role IN "
        "('admin', 'planner', 'department_editor', 'grid_worker', 'public'))"
    )
