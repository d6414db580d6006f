"""Session fixtures: a real PostGIS (onemap's embedded cluster in a scratch directory, or the server of
ONEMAP_TEST_DATABASE_URL), migrated and loaded with the `tiny` district. Tests never skip for want of a database:
if PostGIS cannot be started the session fails."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from spatial.cluster import LocalCluster
from spatial.database import libpq_url, sqlalchemy_url
from spatial.settings import Settings, get_settings

TEST_SEED = 7
TEST_RATE = 0.05


@pytest.fixture(scope="session")
def scratch_cluster() -> Iterator[LocalCluster | None]:
    if os.environ.get("ONEMAP_TEST_DATABASE_URL"):
        yield None
        return
    data_dir = Path(tempfile.mkdtemp(prefix="onemap-test-", dir="/tmp"))
    data_dir.chmod(0o755)  # the postgres user (when running as root) must reach it
    cluster = LocalCluster(Settings(data_dir=data_dir, database_url=None))
    cluster.ensure_started()
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def empty_database_url(scratch_cluster: LocalCluster | None) -> Iterator[str]:
    """A URL factory's base: an empty PostGIS-capable database unique to this session."""
    base = os.environ.get("ONEMAP_TEST_DATABASE_URL") or (
        scratch_cluster.url("postgres") if scratch_cluster else ""
    )
    yield sqlalchemy_url(base)


def create_database(base_url: str, name: str) -> str:
    """(Re)create database `name` on the server of `base_url`; returns its SQLAlchemy URL."""
    with psycopg.connect(libpq_url(base_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    head, _, _ = sqlalchemy_url(base_url).rpartition("/")
    return f"{head}/{name}"


@pytest.fixture(scope="session")
def database_url(empty_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The session's platform database: migrated, built-in layers registered, the `tiny` district born from its
    departments' deliveries (as the demo's is)."""
    from api.setup import initialise_database
    from spatial.district.born import born_district

    url = create_database(empty_database_url, f"onemap_test_{os.getpid()}")
    initialise_database(url)
    born_district(url, tmp_path_factory.mktemp("district-deliveries"), "tiny", TEST_SEED, TEST_RATE,
                  progress=False, announce=lambda _: None)  # fmt: skip
    return url


@pytest.fixture(scope="session")
def platform_env(database_url: str) -> Iterator[str]:
    """Point onemap's settings at the session database (for the API and the CLI in-process)."""
    previous = os.environ.get("ONEMAP_DATABASE_URL")
    os.environ["ONEMAP_DATABASE_URL"] = database_url
    get_settings.cache_clear()
    yield database_url
    if previous is None:
        os.environ.pop("ONEMAP_DATABASE_URL", None)
    else:
        os.environ["ONEMAP_DATABASE_URL"] = previous
    get_settings.cache_clear()


@pytest.fixture
def db(database_url: str) -> Iterator[psycopg.Connection]:
    """A psycopg connection to the session database (autocommit)."""
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        yield conn
