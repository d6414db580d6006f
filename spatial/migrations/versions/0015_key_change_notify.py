"""API keys: a NOTIFY on ``onemap_keys`` after every statement that changes the keys or the areas a scoped key
covers, so that each server process forgets the principals it cached (``api/key_cache.py``) the moment a key is
revoked, re-scoped or an area is redrawn.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TABLES = ("api_key", "admin_area")  # the tables of api/sql/key_lookup.sql


def upgrade() -> None:
    op.execute(
        """
        CREATE OR REPLACE FUNCTION onemap.notify_key_change() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('onemap_keys', TG_TABLE_NAME);
            RETURN NULL;
        END
        $$
        """
    )
    for table in TABLES:
        op.execute(
            f"CREATE OR REPLACE TRIGGER key_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON onemap.{table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION onemap.notify_key_change()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS key_change ON onemap.{table}")
    op.execute("DROP FUNCTION IF EXISTS onemap.notify_key_change()")
