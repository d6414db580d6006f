"""Bring a database to the newest schema (Alembic ``upgrade head``); running it again changes nothing."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from spatial.database import engine_for, require_postgis_in_database
from spatial.schema import SCHEMA

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(url: str) -> None:
    engine = engine_for(url)
    with engine.begin() as conn:
        require_postgis_in_database(conn)
        conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
        config = alembic_config()
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def current_revision(url: str) -> str | None:
    with engine_for(url).connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table_schema": SCHEMA})
        return context.get_current_revision()
