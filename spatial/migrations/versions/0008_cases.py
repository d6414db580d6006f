"""Cases (state, routing overrides, calendar, timeline, attachments), the SSE change feed, scheduled jobs and
door-access events (partitioned by day, BRIN on time).

Revision ID: 0008
Revises: 0010
"""

from __future__ import annotations

from alembic import op

from spatial.cases.sql import read_case_sql
from spatial.door_access.sql import read_door_sql
from spatial.schema import (
    case_attachment,
    case_calendar,
    case_route,
    case_transition,
    change_feed,
    door_access_event,
    door_device,
    job_run,
    job_schedule,
    planted_door_anomaly,
    service_case,
)

revision = "0008"
down_revision = "0010"  # the lead re-chains it at merge (after intake's 0007)
branch_labels = None
depends_on = None

TABLES = (
    service_case,
    case_transition,
    case_attachment,
    case_route,
    case_calendar,
    change_feed,
    job_schedule,
    job_run,
    door_device,
    door_access_event,
    planted_door_anomaly,
)


def upgrade() -> None:
    bind = op.get_bind()
    for table in TABLES:
        table.create(bind)
    op.execute("SELECT onemap.enable_history('onemap.service_case')")
    op.execute(
        "CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON onemap.case_transition "
        "FOR EACH ROW EXECUTE FUNCTION onemap.refuse_change()"
    )
    op.execute(read_case_sql("feed.sql"))
    op.execute(read_door_sql("schema.sql"))


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS onemap.door_access_partition(date) CASCADE")
    op.execute("DROP FUNCTION IF EXISTS onemap.door_try_time(text)")
    for table in reversed(TABLES):
        op.drop_table(table.name, schema=table.schema)
    op.execute("DROP TABLE IF EXISTS onemap.service_case_history")
    op.execute("DROP TRIGGER IF EXISTS feed_insert ON onemap.event")
    op.execute("DROP TRIGGER IF EXISTS feed_update ON onemap.event")
    op.execute("DROP TRIGGER IF EXISTS feed_update ON onemap.warning")
    op.execute("DROP FUNCTION IF EXISTS onemap.feed_append()")
