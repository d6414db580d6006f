"""Every slow figure pre-aggregated per grid and day (population, files, enterprises and buildings by status and
use, house units, economic potential, open cases) in one table, kept honest per grid by triggers on what the
figures count; replaces the population-only aggregate and its day-based staleness. The economic potential view
reads each building's sums by index, so that a grid's figure reads only its buildings.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from alembic import op

from spatial.kpis.sql import read_kpi_sql
from spatial.migrations.sql import read_migration_sql
from spatial.potential import view_sql
from spatial.schema import kpi_daily, kpi_dirty_grid

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

OLD_TRIGGERS = (
    ("kpi_residence_insert", "residence"),
    ("kpi_residence_update", "residence"),
    ("kpi_residence_delete", "residence"),
    ("kpi_residence_truncate", "residence"),
    ("kpi_person_update", "person"),
    ("kpi_person_truncate", "person"),
    ("kpi_building_moved", "building"),
)
OLD_FUNCTIONS = ("kpi_residence_changed()", "kpi_building_moved()", "kpi_mark_dirty(text, date)")
NEW_TRIGGER_TABLES = (
    "building",
    "building_history",
    "house_unit",
    "enterprise",
    "enterprise_history",
    "residence",
    "service_case",
    "service_case_history",
)
# Overdue cases are counted live (they move with the clock): the open ones past their limit or flagged, and the
# versions that ended after an instant, each read by an index instead of every open case.
INDEXES = {
    "service_case_open_due": "onemap.service_case (due_at) WHERE state <> 'closed'",
    "service_case_open_flagged": "onemap.service_case (grid_code) WHERE overdue AND state <> 'closed'",
    "service_case_history_open_until": "onemap.service_case_history (valid_to) WHERE state <> 'closed'",
}
NEW_FUNCTIONS = (
    "kpi_grid_rows_changed()",
    "kpi_building_rows_changed()",
    "kpi_person_changed()",
    "kpi_mark_every_grid()",
    "kpi_mark_grids(text, text[])",
)


def upgrade() -> None:
    bind = op.get_bind()
    for trigger, table in OLD_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON onemap.{table}")
    for function in OLD_FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS onemap.{function}")
    op.execute("DROP TABLE IF EXISTS onemap.kpi_population_daily")
    # the held days were population's; every figure starts unrefreshed (counted live until `onemap kpis refresh`)
    op.execute("DELETE FROM onemap.kpi_aggregate")
    op.execute("ALTER TABLE onemap.kpi_aggregate DROP COLUMN IF EXISTS dirty_since")
    kpi_daily.create(bind, checkfirst=True)
    kpi_dirty_grid.create(bind, checkfirst=True)
    op.execute(read_kpi_sql("span_triggers.sql"))
    for name, target in INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")
    op.execute(view_sql())  # economic potential read per building, so a grid's spans read only its buildings


def downgrade() -> None:
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS onemap.{name}")
    for table in NEW_TRIGGER_TABLES:
        for trigger in ("kpi_insert", "kpi_update", "kpi_delete", "kpi_truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON onemap.{table}")
    op.execute("DROP TRIGGER IF EXISTS kpi_person_update ON onemap.person")
    op.execute("DROP TRIGGER IF EXISTS kpi_person_truncate ON onemap.person")
    for function in NEW_FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS onemap.{function}")
    op.execute("DROP SEQUENCE IF EXISTS onemap.kpi_mark")
    op.drop_table(kpi_dirty_grid.name, schema=kpi_dirty_grid.schema)
    op.drop_table(kpi_daily.name, schema=kpi_daily.schema)
    op.execute("DELETE FROM onemap.kpi_aggregate")
    op.execute("ALTER TABLE onemap.kpi_aggregate ADD COLUMN IF NOT EXISTS dirty_since date")
    op.execute("""
        CREATE TABLE onemap.kpi_population_daily (
            day date NOT NULL, grid_code text NOT NULL, registered integer NOT NULL, actual integer NOT NULL,
            PRIMARY KEY (day, grid_code))""")
    op.execute(read_migration_sql("population_triggers.sql"))
