"""Indexes that keep the case figures fast (open cases per grid, closings by time), and the population
aggregate's person trigger counting from Beijing's day instead of the server's.

Revision ID: 0011
Revises: 0007
"""

from __future__ import annotations

from alembic import op

from spatial.migrations.sql import read_migration_sql

revision = "0011"
down_revision = "0007"
branch_labels = None
depends_on = None

# The figures count open cases as of an instant per grid (cases.sql, cases_by_department.sql): the current
# versions of open cases are a small part of all cases, so a partial index reads only them. Closings in a
# bucket (cases_closed.sql) are the 'close' transitions by time.
INDEXES = {
    "service_case_open": "onemap.service_case (grid_code, valid_from) WHERE state <> 'closed'",
    "service_case_history_open": (
        "onemap.service_case_history (grid_code, valid_from, valid_to) WHERE state <> 'closed'"
    ),
    "case_transition_closed": "onemap.case_transition (at) WHERE action = 'close'",
}


def upgrade() -> None:
    for name, target in INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")
    op.execute(read_migration_sql("population_triggers.sql"))


def downgrade() -> None:
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS onemap.{name}")
    op.execute(
        read_migration_sql("population_triggers.sql").replace(
            "(now() AT TIME ZONE 'Asia/Shanghai')::date END", "current_date END"
        )
    )
