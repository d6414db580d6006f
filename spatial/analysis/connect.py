"""The notebook entry point: a SQLAlchemy engine on onemap's database, from ``ONEMAP_DATABASE_URL``."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from spatial.database import engine_for, sqlalchemy_url
from spatial.settings import get_settings

EngineLike = Engine | str


def connect(url: str | None = None) -> Engine:
    """An engine on `url`, else on the database onemap's settings name (embedded cluster when none is set)."""
    if url:
        return engine_for(sqlalchemy_url(url))
    from spatial.database import database_url

    return engine_for(database_url(get_settings()))


def as_engine(target: EngineLike) -> Engine:
    return connect(target) if isinstance(target, str) else target
