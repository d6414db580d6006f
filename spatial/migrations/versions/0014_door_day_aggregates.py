"""Door access: per-day aggregates of the events (face matches per day and key, cards per day and building), the
last instant each face was matched at each building, and the settings they were computed with, partitioned by
day like the events; existing days are aggregated.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import psycopg
from alembic import op

from spatial.door_access.settings import get_door_settings
from spatial.door_access.sql import read_door_sql
from spatial.door_access.store import rebuild_day_aggregates
from spatial.schema import door_card_day, door_face_day, door_last_seen, door_night_basis

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TABLES = (door_face_day, door_card_day, door_last_seen, door_night_basis)


def upgrade() -> None:
    bind = op.get_bind()
    for table in TABLES:
        table.create(bind, checkfirst=True)
    settings = get_door_settings()
    op.get_bind().execute(
        door_night_basis.insert().values(
            night_starts=settings.night_starts, night_ends=settings.night_ends, min_confidence=settings.min_confidence
        )
    )
    op.execute(read_door_sql("schema.sql"))
    # The existing days, one at a time, through the loaders' own aggregation (on the migration's connection).
    raw = bind.connection.dbapi_connection
    assert isinstance(raw, psycopg.Connection)
    rebuild_day_aggregates(raw)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.execute(f"DROP TABLE IF EXISTS onemap.{table.name} CASCADE")
