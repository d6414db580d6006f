"""Where the database is, and connections to it.

``database_url()`` answers with ``ONEMAP_DATABASE_URL`` when set, else with the embedded cluster's URL (starting
it when asked to). Engines are SQLAlchemy 2 over psycopg 3; raw psycopg connections are used for COPY.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from urllib.parse import urlsplit

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from spatial.cluster import LocalCluster
from spatial.errors import DatabaseUnavailable
from spatial.settings import Settings, get_settings


def database_url(settings: Settings | None = None, start: bool = True) -> str:
    """The SQLAlchemy URL of the platform's database (``postgresql+psycopg://...``)."""
    settings = settings or get_settings()
    if settings.database_url:
        return sqlalchemy_url(settings.database_url)
    cluster = LocalCluster(settings)
    if start:
        cluster.ensure_started()
    return cluster.url()


def sqlalchemy_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def libpq_url(url: str) -> str:
    """The same URL in the form psycopg accepts directly."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def redacted(url: str) -> str:
    parts = urlsplit(libpq_url(url))
    return f"{parts.hostname}:{parts.port or 5432}{parts.path}"


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    return sa.create_engine(url, pool_pre_ping=True, future=True)


def get_engine(settings: Settings | None = None) -> Engine:
    return engine_for(database_url(settings))


def check_connection(url: str) -> None:
    """Raise DatabaseUnavailable with a one-line, password-free reason when the server cannot be used."""
    try:
        with psycopg.connect(libpq_url(url), connect_timeout=10) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseUnavailable(
            f"cannot connect to the database at {redacted(url)} ({reason}): check ONEMAP_DATABASE_URL, or unset "
            "it to use onemap's embedded PostGIS."
        ) from None


@contextmanager
def raw_connection(url: str | None = None, autocommit: bool = False) -> Iterator[psycopg.Connection]:
    """A psycopg 3 connection, for COPY and other work SQLAlchemy does not help with."""
    target = libpq_url(url or database_url())
    with psycopg.connect(target, autocommit=autocommit) as conn:
        yield conn


def require_postgis_in_database(conn: sa.Connection) -> None:
    """Create the PostGIS extension if needed, or say which package is missing."""
    available = conn.execute(
        sa.text("SELECT default_version FROM pg_available_extensions WHERE name = 'postgis'")
    ).scalar()
    if available is None:
        version = conn.execute(sa.text("SHOW server_version_num")).scalar_one()
        major = int(version) // 10000
        raise DatabaseUnavailable(
            f"PostGIS is not installed on the database server: install `postgresql-{major}-postgis-3` there."
        )
    conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
