"""The `onemap` command line end to end, in a subprocess, as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg

from spatial.database import libpq_url
from tests.conftest import create_database


def onemap(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ONEMAP_DATABASE_URL": libpq_url(url)}
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args], capture_output=True, text=True, env=env, timeout=300
    )


def test_init_then_generate_tiny(empty_database_url: str) -> None:
    url = create_database(empty_database_url, "onemap_cli_test")
    first = onemap("init", url=url)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("schema at revision ")
    again = onemap("init", url=url)
    assert again.returncode == 0 and again.stdout == first.stdout
    loaded = onemap("generate", "--scale", "tiny", "--seed", "5", url=url)
    assert loaded.returncode == 0, loaded.stderr
    assert "building 400" in loaded.stdout and "rows/s" in loaded.stdout
    with psycopg.connect(libpq_url(url)) as conn:
        row = conn.execute("SELECT count(*) FROM onemap.person").fetchone()
    assert row is not None and row[0] == 12_000


def test_unknown_scale_is_a_clear_error(empty_database_url: str) -> None:
    url = create_database(empty_database_url, "onemap_cli_bad")
    result = onemap("generate", "--scale", "enormous", url=url)
    assert result.returncode == 2
    assert result.stderr.strip() == "onemap: unknown scale 'enormous': use one of full, small, tiny"


def test_demo_is_born_from_the_small_districts_deliveries_and_stops_the_cluster_it_started() -> None:
    import shutil
    import tempfile
    from pathlib import Path

    from spatial.cluster import LocalCluster
    from spatial.settings import Settings

    data_dir = Path(tempfile.mkdtemp(prefix="onemap-demo-", dir="/tmp"))
    data_dir.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "ONEMAP_DATABASE_URL"}
    env["ONEMAP_DATA_DIR"] = str(data_dir)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "api.cli", "demo", "--load-only"],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
        assert result.returncode == 0, result.stderr
        assert "born from 18 delivery files (882,901 rows accepted, 0 rejected)" in result.stdout
        assert "buildings 8,500, house units 146,043, persons 250,000, enterprises 35,000" in result.stdout
        assert not LocalCluster(Settings(data_dir=data_dir)).is_running()
    finally:
        cluster = LocalCluster(Settings(data_dir=data_dir))
        cluster.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
