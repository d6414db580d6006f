"""onemap's own local PostgreSQL + PostGIS cluster (the embedded default).

The cluster lives in ``<data_dir>/pgdata`` and listens on 127.0.0.1 on a free port (or ``ONEMAP_DB_PORT``) with a
Unix socket in the data directory. As root it runs as the ``postgres`` user, since PostgreSQL refuses to run as
root. Initialisation happens in a scratch directory that is renamed into place only when complete, so a failed
``initdb`` never leaves a half-initialised cluster behind.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from spatial.errors import ClusterError
from spatial.settings import Settings

SUPERUSER = "onemap"
DATABASE = "onemap"
POSTGIS_PACKAGE = "postgresql-{major}-postgis-3"

# Loading tens of millions of rows on a 2-core machine: a larger WAL and maintenance memory avoid constant
# checkpoints and slow index builds. synchronous_commit=off only risks the last few commits on a crash.
TUNING = {
    "maintenance_work_mem": "1GB",
    "work_mem": "64MB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "30min",
    "synchronous_commit": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "jit": "off",
    "max_connections": "200",
}


def memory_options(total_bytes: int | None = None) -> str:
    """Server memory sized to this machine at every start (PostgreSQL's own guidance): shared buffers a quarter
    of RAM (128 MB to 8 GB), so the archives' hot tables and indexes stay in them instead of being copied in from
    the OS cache on every analysis; the planner told that the rest of RAM caches files."""
    total = total_bytes or os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    mib = total // 2**20
    shared = min(max(mib // 4, 128), 8192)
    return f"-c shared_buffers={shared}MB -c effective_cache_size={max(mib // 2, shared)}MB"


@dataclass(frozen=True)
class PgBinaries:
    bin_dir: Path
    share_dir: Path
    major: int

    def tool(self, name: str) -> str:
        return str(self.bin_dir / name)


def find_binaries(settings: Settings) -> PgBinaries:
    """Locate initdb/pg_ctl of the newest installed PostgreSQL, or the configured directory."""
    candidates: list[Path] = []
    if settings.pg_bin_dir:
        candidates.append(settings.pg_bin_dir)
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_major_of, reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for bin_dir in candidates:
        if (bin_dir / "initdb").exists() and (bin_dir / "pg_ctl").exists():
            major = _major_of(bin_dir)
            return PgBinaries(bin_dir, Path(f"/usr/share/postgresql/{major}"), major)
    raise ClusterError(
        "PostgreSQL server programs (initdb, pg_ctl) were not found: install them with "
        "`apt-get install -y postgresql-15-postgis-3`, or set ONEMAP_DATABASE_URL to an existing PostGIS server."
    )


def _major_of(bin_dir: Path) -> int:
    try:
        return int(bin_dir.parent.name)
    except ValueError:
        out = subprocess.run([str(bin_dir / "pg_ctl"), "--version"], capture_output=True, text=True).stdout
        return int(out.split()[-1].split(".")[0])


def require_postgis(binaries: PgBinaries) -> None:
    if not (binaries.share_dir / "extension" / "postgis.control").exists():
        raise ClusterError(
            f"PostGIS is not installed for PostgreSQL {binaries.major}: run "
            f"`apt-get install -y {POSTGIS_PACKAGE.format(major=binaries.major)}` (as root, after apt-get update)."
        )


class LocalCluster:
    """Initialise, start, stop and describe the embedded cluster of one data directory."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.data_dir = settings.data_dir
        self.pgdata = settings.cluster_dir
        self.state_file = self.data_dir / "cluster.json"
        self.password_file = self.data_dir / "db-password"
        self.run_as = "postgres" if os.geteuid() == 0 else None

    # -- description -----------------------------------------------------------------------------------------

    @property
    def initialised(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists()

    def port(self) -> int:
        state = self._read_state()
        if "port" not in state:
            raise ClusterError("the embedded cluster has never been started: run `onemap db start`.")
        return int(state["port"])

    def url(self, database: str = DATABASE) -> str:
        password = self.password_file.read_text().strip()
        return f"postgresql+psycopg://{SUPERUSER}:{password}@127.0.0.1:{self.port()}/{database}"

    def is_running(self) -> bool:
        if not self.initialised:
            return False
        result = self._pg_ctl(["status"], check=False)
        return result.returncode == 0

    # -- life cycle ------------------------------------------------------------------------------------------

    def ensure_started(self) -> bool:
        """Initialise if needed and start if not running. Returns True when this call started the server."""
        if not self.initialised:
            self.initialise()
            return True
        if self.is_running():
            return False
        self.start()
        return True

    def initialise(self) -> None:
        binaries = find_binaries(self.settings)
        require_postgis(binaries)
        self._prepare_data_dir()
        scratch = self.data_dir / "pgdata.initialising"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(mode=0o700)
        self._hand_over(scratch)
        password = secrets.token_urlsafe(24)
        self.password_file.write_text(password + "\n")
        self.password_file.chmod(0o600)
        pwfile = self.data_dir / "initial-password"
        pwfile.write_text(password + "\n")
        self._hand_over(pwfile)
        try:
            self._run(
                [
                    binaries.tool("initdb"),
                    "-D",
                    str(scratch),
                    "-U",
                    SUPERUSER,
                    f"--pwfile={pwfile}",
                    "-E",
                    "UTF8",
                    "--no-locale",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                ],
            )
        except ClusterError:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        finally:
            pwfile.unlink(missing_ok=True)
        with (scratch / "postgresql.conf").open("a") as conf:
            conf.write("\n# onemap embedded cluster\n")
            conf.writelines(f"{key} = '{value}'\n" for key, value in TUNING.items())
        scratch.rename(self.pgdata)
        self.start()
        self._create_database()

    def start(self) -> None:
        if not self.initialised:
            raise ClusterError(
                "the embedded cluster is not initialised: run `onemap db start` or `onemap init`."
            )
        self._check_owner()
        self._clear_stale_lock()
        port = self._choose_port()
        options = f"-p {port} -k {self.pgdata} -c listen_addresses=127.0.0.1 " + memory_options()
        log = self.data_dir / "postgresql.log"
        if self.run_as and not log.exists():
            log.touch()
            self._hand_over(log)
        result = self._pg_ctl(["start", "-w", "-t", "60", "-l", str(log), "-o", options], check=False)
        if result.returncode != 0:
            tail = log.read_text(errors="replace").strip().splitlines()[-3:] if log.exists() else []
            raise ClusterError(f"the embedded PostgreSQL did not start (see {log}): " + " | ".join(tail))
        self._write_state({"port": port})

    def stop(self) -> None:
        if self.is_running():
            self._pg_ctl(["stop", "-m", "fast", "-w"], check=True)

    # -- helpers ---------------------------------------------------------------------------------------------

    def _prepare_data_dir(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.run_as:
            # The postgres user must be able to walk down to pgdata.
            self.data_dir.chmod(0o755)
            for parent in self.data_dir.resolve().parents:
                if not os.stat(parent).st_mode & 0o001:
                    raise ClusterError(
                        f"the postgres user cannot enter {parent}: set ONEMAP_DATA_DIR to a directory it can "
                        "reach, such as /var/lib/onemap."
                    )

    def _check_owner(self) -> None:
        expected = pwd.getpwnam(self.run_as).pw_uid if self.run_as else os.geteuid()
        owner = self.pgdata.stat().st_uid
        if owner != expected:
            owner_name = pwd.getpwuid(owner).pw_name
            raise ClusterError(
                f"{self.pgdata} belongs to user {owner_name!r}, not to the user the cluster runs as: run onemap as "
                f"{owner_name!r}, or point ONEMAP_DATA_DIR at a directory of your own."
            )

    def _clear_stale_lock(self) -> None:
        lock = self.pgdata / "postmaster.pid"
        if not lock.exists():
            return
        try:
            pid = int(lock.read_text().splitlines()[0])
        except (ValueError, IndexError):
            pid = 0
        if pid and _process_alive(pid):
            return
        lock.unlink()

    def _choose_port(self) -> int:
        if self.settings.db_port:
            if not _port_free(self.settings.db_port):
                raise ClusterError(
                    f"port {self.settings.db_port} is in use: free it, choose another ONEMAP_DB_PORT, or unset it "
                    "to let onemap pick a free port."
                )
            return self.settings.db_port
        # Chosen once and kept: running servers and `onemap db url` go on naming the right port after a restart.
        previous = self._read_state().get("port")
        if previous:
            if not _port_free(int(previous)):
                raise ClusterError(
                    f"port {previous}, where this data directory's PostgreSQL always listens, is taken by another "
                    "program: stop it, or set ONEMAP_DB_PORT to move the cluster to another port for good."
                )
            return int(previous)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return int(probe.getsockname()[1])

    def _create_database(self) -> None:
        import psycopg

        admin_url = self.url("postgres").replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(admin_url, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{DATABASE}"')

    def _pg_ctl(self, args: Sequence[str], check: bool) -> subprocess.CompletedProcess[str]:
        binaries = find_binaries(self.settings)
        return self._run([binaries.tool("pg_ctl"), "-D", str(self.pgdata), *args], check=check)

    def _run(self, cmd: Sequence[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            list(cmd), capture_output=True, text=True, user=self.run_as, group=self.run_as, cwd="/"
        )
        if check and result.returncode != 0:
            message = (result.stderr or result.stdout).strip().splitlines()
            raise ClusterError(f"{Path(cmd[0]).name} failed: " + (message[-1] if message else "no output"))
        return result

    def _hand_over(self, path: Path) -> None:
        if self.run_as:
            shutil.chown(path, self.run_as, self.run_as)

    def _read_state(self) -> dict[str, int]:
        if not self.state_file.exists():
            return {}
        loaded: dict[str, int] = json.loads(self.state_file.read_text())
        return loaded

    def _write_state(self, state: dict[str, int]) -> None:
        self.state_file.write_text(json.dumps(state))


def _port_free(port: int) -> bool:
    """Whether a server could listen on the port now. SO_REUSEADDR, as PostgreSQL itself sets it: connections of
    the previous run waiting out TIME_WAIT do not make the port busy (without it a restart moved ports)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def embedded_cluster_running(settings: Settings) -> Iterator[None]:
    """The embedded cluster up for the duration (unless ONEMAP_DATABASE_URL names another server), and stopped
    afterwards if this call started it: a command never leaves behind a server it brought up."""
    cluster = None if settings.database_url else LocalCluster(settings)
    started_here = cluster.ensure_started() if cluster else False
    try:
        yield
    finally:
        if cluster and started_here:
            cluster.stop()
