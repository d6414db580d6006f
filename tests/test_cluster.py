"""The embedded cluster's bad inputs: each gives one clear message and never a half-initialised cluster."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from spatial.cluster import LocalCluster, memory_options
from spatial.database import check_connection
from spatial.errors import ClusterError, DatabaseUnavailable
from spatial.settings import Settings


@pytest.fixture
def scratch_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="onemap-cluster-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    subprocess.run(["rm", "-rf", str(path)], check=False)


def fake_bin_dir(root: Path, major: int, initdb_exit: int) -> Path:
    bin_dir = root / "pg" / str(major) / "bin"
    bin_dir.mkdir(parents=True)
    for tool in ("initdb", "pg_ctl"):
        script = bin_dir / tool
        script.write_text(f"#!/bin/sh\necho 'simulated failure' >&2\nexit {initdb_exit}\n")
        script.chmod(0o755)
    return bin_dir


def test_missing_postgis_names_the_package(scratch_dir: Path) -> None:
    settings = Settings(data_dir=scratch_dir / "data", pg_bin_dir=fake_bin_dir(scratch_dir, 99, 1))
    with pytest.raises(ClusterError, match=r"apt-get install -y postgresql-99-postgis-3"):
        LocalCluster(settings).initialise()
    assert not (scratch_dir / "data" / "pgdata").exists()


def test_failed_initdb_leaves_nothing_half_done(scratch_dir: Path) -> None:
    installed = max(int(p.name) for p in Path("/usr/lib/postgresql").iterdir() if p.name.isdigit())
    settings = Settings(data_dir=scratch_dir / "data", pg_bin_dir=fake_bin_dir(scratch_dir, installed, 1))
    with pytest.raises(ClusterError, match="initdb failed: simulated failure"):
        LocalCluster(settings).initialise()
    leftovers = sorted(p.name for p in (scratch_dir / "data").iterdir())
    assert "pgdata" not in leftovers and "pgdata.initialising" not in leftovers
    assert not LocalCluster(settings).initialised


def test_port_in_use_says_what_to_do(scratch_cluster: LocalCluster | None, scratch_dir: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        cluster = LocalCluster(Settings(data_dir=scratch_dir, db_port=port))
        with pytest.raises(ClusterError, match=rf"port {port} is in use.*ONEMAP_DB_PORT"):
            cluster._choose_port()


def test_full_life_cycle_with_a_stale_lock_file(scratch_dir: Path) -> None:
    cluster = LocalCluster(Settings(data_dir=scratch_dir))
    assert cluster.ensure_started() is True
    try:
        assert cluster.is_running()
        check_connection(cluster.url())
        cluster.stop()
        assert not cluster.is_running()
        # A crash leaves postmaster.pid behind with a process that no longer exists.
        dead = subprocess.Popen(["true"])
        dead.wait()
        (cluster.pgdata / "postmaster.pid").write_text(f"{dead.pid}\n{cluster.pgdata}\n")
        assert cluster.ensure_started() is True
        check_connection(cluster.url())
        assert cluster.ensure_started() is False  # already running: nothing to do
    finally:
        cluster.stop()


def test_a_restart_keeps_the_port_even_with_connections_in_time_wait(scratch_dir: Path) -> None:
    import psycopg

    cluster = LocalCluster(Settings(data_dir=scratch_dir))
    cluster.ensure_started()
    try:
        port = cluster.port()
        url = cluster.url().replace("postgresql+psycopg://", "postgresql://")
        held = [psycopg.connect(url) for _ in range(3)]
        cluster.stop()  # the server closes the connections first: its side of them waits in TIME_WAIT
        for conn in held:
            conn.close()
        cluster.start()
        assert cluster.port() == port
        check_connection(cluster.url())
        cluster.stop()
        with socket.socket() as squatter:  # another program took the port meanwhile: say so, do not move
            squatter.bind(("127.0.0.1", port))
            squatter.listen()
            with pytest.raises(ClusterError, match=rf"port {port}.*taken by another program.*ONEMAP_DB_PORT"):
                cluster.start()
    finally:
        cluster.stop()


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a directory's owner needs root")
def test_data_directory_of_another_user(scratch_dir: Path) -> None:
    pgdata = scratch_dir / "pgdata"
    pgdata.mkdir()
    (pgdata / "PG_VERSION").write_text("15\n")
    os.chown(pgdata, 65534, 65534)  # nobody
    with pytest.raises(ClusterError, match="belongs to user 'nobody'"):
        LocalCluster(Settings(data_dir=scratch_dir)).start()


def test_wrong_database_url_is_one_clear_line_without_the_password() -> None:
    url = "postgresql://someone:s3cret@127.0.0.1:1/nowhere"
    with pytest.raises(DatabaseUnavailable) as caught:
        check_connection(url)
    message = str(caught.value)
    assert "s3cret" not in message and "127.0.0.1:1/nowhere" in message and "ONEMAP_DATABASE_URL" in message


def test_cli_reports_errors_as_one_line() -> None:
    env = {**os.environ, "ONEMAP_DATABASE_URL": "postgresql://someone:s3cret@127.0.0.1:1/nowhere"}
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "db", "status"], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("onemap: cannot connect") and "s3cret" not in lines[0]
    assert "Traceback" not in result.stdout + result.stderr


def test_server_memory_follows_the_machine() -> None:
    gib = 2**30
    assert memory_options(24 * gib) == "-c shared_buffers=6144MB -c effective_cache_size=12288MB"
    assert memory_options(64 * gib).startswith("-c shared_buffers=8192MB ")  # capped
    assert memory_options(gib // 4).startswith("-c shared_buffers=128MB ")  # floor on a tiny machine
