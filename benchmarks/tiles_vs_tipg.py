"""Vector tiles, onemap vs tipg, on the same PostGIS table and the same tile list.

    ONEMAP_DATA_DIR=/tmp/onemap-bench-t .venv/bin/onemap generate --scale small
    ONEMAP_DATA_DIR=/tmp/onemap-bench-t .venv/bin/python benchmarks/tiles_vs_tipg.py --tipg /tmp/tipg-venv/bin

Phases (each `--seconds` long, `--clients` concurrent connections with wrk, `--workers` server processes):
tipg; onemap cold (cache off); onemap warm (cache on, primed by one pass). Tiles: z12-z16 over the built-up
area (tiles holding buildings). Also: the z10 tile over the whole district (size, time), tile sizes, and the
server's peak memory (sum of the processes' peak RSS). Prints a table and writes JSON next to --out.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import morecantile
import psutil
import psycopg

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TMS = morecantile.tms.get("WebMercatorQuad")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tile_list(url: str, zooms: range, per_zoom: int) -> list[tuple[int, int, int]]:
    """Tiles that hold buildings, ``per_zoom`` of them per zoom (all of them when fewer), in random order."""
    with psycopg.connect(url) as conn:
        points = conn.execute(
            "SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM onemap.building"
        ).fetchall()
    rng = random.Random(7)
    tiles: list[tuple[int, int, int]] = []
    for z in zooms:
        found = sorted({(z, t.x, t.y) for t in (TMS.tile(lon, lat, z) for lon, lat in points)})
        tiles += rng.sample(found, min(per_zoom, len(found)))
    rng.shuffle(tiles)
    return tiles


def district_z10(url: str) -> tuple[int, int, int]:
    with psycopg.connect(url) as conn:
        lon, lat = conn.execute(
            "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Extent(geom)::geometry) c "
            "FROM onemap.building) x"
        ).fetchone() or (0.0, 0.0)
    tile = TMS.tile(lon, lat, 10)
    return (10, tile.x, tile.y)


class Server:
    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int) -> None:
        self.name, self.port = name, port
        # Its own session, so that stop() reaches the workers a supervisor spawned, not only the supervisor.
        self.process = subprocess.Popen(
            argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
        )
        self.base = f"http://127.0.0.1:{port}"

    def wait(self, probe: str) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                if httpx.get(self.base + probe, timeout=5).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} did not start")

    def peak_rss_mb(self) -> float:
        """Sum of the peak resident memory (VmHWM) of the server and its worker processes."""
        total = 0
        try:
            parent = psutil.Process(self.process.pid)
            for proc in [parent, *parent.children(recursive=True)]:
                for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1])
        except (psutil.Error, OSError):
            pass
        return total / 1024

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # whatever still runs after 20 s, workers included
        self.process.wait()


def onemap_server(url: str, workers: int, cache: bool, cache_dir: Path) -> Server:
    port = free_port()
    env = {
        **os.environ,
        "ONEMAP_DATABASE_URL": url,
        "ONEMAP_TILES_CACHE": "true" if cache else "false",
        "ONEMAP_TILES_CACHE_DIR": str(cache_dir),
        "ONEMAP_API_POOL_MAX_SIZE": "20",
    }
    argv = [
        str(ROOT / ".venv/bin/python"),
        "-m",
        "uvicorn",
        "api.main:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    server = Server("onemap " + ("warm" if cache else "cold"), argv, env, port)
    server.wait("/health")
    return server


def tipg_server(url: str, workers: int, tipg_bin: Path) -> Server:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "TIPG_DB_SCHEMAS": '["onemap"]',
        "TIPG_DB_TABLES": '["onemap.building"]',
        "TIPG_DB_FUNCTIONS": "[]",
        "TIPG_MAX_FEATURES_PER_TILE": "20000",
        "TIPG_DB_MAX_CONN_SIZE": "20",
    }
    argv = [
        str(tipg_bin / "uvicorn"),
        "tipg.main:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    server = Server("tipg", argv, env, port)
    server.wait("/collections")
    return server


def onemap_path(z: int, x: int, y: int) -> str:
    return f"/collections/buildings/tiles/WebMercatorQuad/{z}/{x}/{y}"


def tipg_path(z: int, x: int, y: int) -> str:
    return f"/collections/onemap.building/tiles/WebMercatorQuad/{z}/{x}/{y}"


def sizes(server: Server, paths: list[str]) -> dict[str, float]:
    """Response sizes (uncompressed MVT bytes) over the tile list, one pass."""
    found = []
    with httpx.Client(base_url=server.base, timeout=60) as client:
        for path in paths:
            response = client.get(path)
            response.raise_for_status()
            found.append(len(response.content))
    return {
        "mean_kb": statistics.mean(found) / 1024,
        "p50_kb": statistics.median(found) / 1024,
        "max_kb": max(found) / 1024,
    }


def wrk(server: Server, paths: list[str], clients: int, seconds: int, key: str | None = None) -> dict[str, Any]:
    """wrk with `clients` connections over `paths` (see requests_wrk.lua for write lines) for `seconds`."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        listing.write("\n".join(paths))
    threads = min(4, clients)
    result = subprocess.run(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(clients),
            "-d",
            f"{seconds}s",
            "--timeout",
            "30s",
            "-s",
            str(HERE / "requests_wrk.lua"),
            server.base,
        ],
        env={**os.environ, "REQUEST_LIST": listing.name, "API_KEY": key or ""},
        capture_output=True,
        text=True,
        check=True,
    )
    os.unlink(listing.name)
    line = next(text for text in result.stdout.splitlines() if text.startswith("RESULT "))
    stats: dict[str, Any] = json.loads(line[len("RESULT ") :])
    stats["tiles_per_s"] = stats["requests"] / stats["seconds"]
    return stats


def single(server: Server, path: str, repeat: int = 5) -> dict[str, float]:
    times, size = [], 0
    with httpx.Client(base_url=server.base, timeout=120) as client:
        for _ in range(repeat):
            start = time.perf_counter()
            response = client.get(path, headers={"Accept-Encoding": "gzip"})
            times.append((time.perf_counter() - start) * 1000)
            response.raise_for_status()
            size = len(response.content)
            wire = int(response.headers.get("content-length", size))
    return {
        "median_ms": statistics.median(times),
        "first_ms": times[0],
        "kb": size / 1024,
        "wire_kb": wire / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=None, help="default: `onemap db url`")
    parser.add_argument(
        "--tipg", type=Path, default=Path("/tmp/tipg-venv/bin"), help="bin dir with tipg's uvicorn"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--per-zoom", type=int, default=300)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "tiles_vs_tipg.json")
    args = parser.parse_args()
    url = (
        args.database_url
        or subprocess.run(
            [str(ROOT / ".venv/bin/onemap"), "db", "url"], capture_output=True, text=True, check=True
        ).stdout.strip()
    )
    tiles = tile_list(url, range(12, 17), args.per_zoom)
    z10 = district_z10(url)
    print(f"{len(tiles)} tiles z12-z16; z10 tile {z10}", flush=True)
    results: dict[str, Any] = {
        "tiles": len(tiles),
        "workers": args.workers,
        "clients": args.clients,
        "seconds": args.seconds,
    }
    cache_dir = Path(tempfile.mkdtemp(prefix="onemap-bench-cache-"))

    runs = [
        ("tipg", lambda: tipg_server(url, args.workers, args.tipg), tipg_path),
        ("onemap_cold", lambda: onemap_server(url, args.workers, False, cache_dir), onemap_path),
        ("onemap_warm", lambda: onemap_server(url, args.workers, True, cache_dir), onemap_path),
    ]
    for name, start, path_of in runs:
        server = start()
        try:
            paths = [path_of(*t) for t in tiles]
            entry: dict[str, Any] = {"z10_district": single(server, path_of(*z10))}
            entry["sizes"] = sizes(server, paths)  # also primes the warm cache
            entry["load"] = wrk(server, paths, args.clients, args.seconds)
            entry["peak_rss_mb"] = server.peak_rss_mb()
            results[name] = entry
            print(name, json.dumps(entry), flush=True)
        finally:
            server.stop()
    cold, warm, tipg = (results[k]["load"]["tiles_per_s"] for k in ("onemap_cold", "onemap_warm", "tipg"))
    results["cold_vs_tipg"] = cold / tipg
    results["warm_vs_cold"] = warm / cold
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    columns = ("tiles/s", "p50 ms", "p95 ms", "mean KB", "peak MB", "z10 ms", "z10 KB")
    print("\n" + " " * 14 + "".join(f"{c:>10}" for c in columns))
    for name in ("tipg", "onemap_cold", "onemap_warm"):
        r = results[name]
        print(
            f"{name:14}{r['load']['tiles_per_s']:>10.0f}{r['load']['p50_ms']:>9.1f}{r['load']['p95_ms']:>9.1f}"
            f"{r['sizes']['mean_kb']:>9.1f}{r['peak_rss_mb']:>9.0f}{r['z10_district']['median_ms']:>9.1f}"
            f"{r['z10_district']['kb']:>9.1f}"
        )
    print(f"cold/tipg = {results['cold_vs_tipg']:.2f}x, warm/cold = {results['warm_vs_cold']:.1f}x")


if __name__ == "__main__":
    main()
