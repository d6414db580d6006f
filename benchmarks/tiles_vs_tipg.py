"""Vector tiles, onemap vs tipg, on the same PostGIS table and the same tile lists; onemap's warm path vs nginx.

    ONEMAP_DATA_DIR=/tmp/onemap-bench-t .venv/bin/onemap generate --scale small
    ONEMAP_DATA_DIR=/tmp/onemap-bench-t .venv/bin/python benchmarks/tiles_vs_tipg.py --tipg /tmp/tipg-venv/bin

Needs wrk and nginx (Debian packages), mapbox-vector-tile (the test extra) and tipg in its own venv (README).

Tiles: z12-z16 over the built-up area (tiles holding buildings, `--per-zoom` per zoom), and the z14-z16 tiles of
the same list on their own. Every phase runs wrk over each list for `--seconds`, with `--clients` connections;
the servers run `--workers` processes (nginx as many worker processes).

`--mode default`, each server's own payload: tipg (every building, every column); onemap cold (cache off);
onemap warm (cache on, primed by one pass); static: the bytes onemap's warm server sent for each tile (gzip, as
served) written under the same paths and served by nginx with gzip_static, the ceiling of this request mix on
this machine (checked before timing: nginx sends every tile's bytes as onemap did); onemap front: onemap warm
behind nginx with the server block of `onemap tiles nginx` (ONEMAP_TILES_STATIC_FRONT on), primed by one pass,
the same bytes checked, then the same load as the static server's. Also the z10 tile over the whole district
(size, time).

`--mode like-for-like`, the same work on both: onemap with the cache off and none of its payload cuts
(LIKE_FOR_LIKE_ONEMAP: every building, every field at every zoom, no per-grid statistics), tipg asked (its
`properties` parameter) for exactly the fields of onemap's buildings layer (layers/builtin.py). Both with a tile
buffer of 0: onemap selects the features that reach its buffer, tipg only those that touch the tile, so with
any buffer the two send different buildings. What still differs: onemap simplifies polygons by one grid unit
below z15 (not a setting; it keeps every feature) and sends feature ids. Before timing, `--check-tiles` tiles
across the zooms are decoded from both servers and compared (feature count, property keys, building codes);
the run stops if any tile differs.

`--mode both` (the default) runs the two, default first.

Prints a table (tiles/s, p50/p95 latency, uncompressed tile sizes, the server's peak memory as the sum of its
processes' peak RSS, the z10 tile) and the ratios, and writes JSON to --out.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import mapbox_vector_tile
import morecantile
import psutil
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's layers and tiles

from layers.builtin import BUILTIN_LAYERS
from tiles.settings import TileSettings

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TMS = morecantile.tms.get("WebMercatorQuad")
Tile = tuple[int, int, int]
PathOf = Callable[[int, int, int], str]

BUILDINGS = next(layer for layer in BUILTIN_LAYERS if layer.id == "buildings")
# The fields onemap's buildings tiles carry at full detail (tiles/selection.py property_columns): tipg is asked for
# the same ones in like-for-like mode.
BUILDING_PROPERTIES = tuple(f.name for f in BUILDINGS.fields if f.name != BUILDINGS.geometry_column)
LIKE_FOR_LIKE_ONEMAP = {
    "ONEMAP_TILES_DETAIL_ZOOM": "0",  # every field at every zoom
    "ONEMAP_TILES_MIN_FEATURE_PIXELS": "0",  # no polygon dropped for being smaller than a pixel
    "ONEMAP_TILES_AGGREGATE_BELOW_ZOOM": "0",  # buildings at every zoom, never per-grid statistics
    "ONEMAP_TILES_BUFFER": "0",  # select only the features that touch the tile, as tipg does
    # No cap: at full scale z12 tiles hold over 20,000 buildings, and a cap keeps whichever rows come first.
    "ONEMAP_TILES_MAX_FEATURES": "1000000",
}
LIKE_FOR_LIKE_TIPG = {"TIPG_TILE_BUFFER": "0", "TIPG_MAX_FEATURES_PER_TILE": "1000000"}
# A building touching a tile's edge by a hairline may be in one server's tile and not the other's: onemap maps
# lon/lat bounds linearly (within 0.25 grid units of the projection, tiles/vector.py tile_frame), tipg projects.
# Up to this share of a tile's buildings (at least one) may differ that way; they are reported, not fatal.
EDGE_SHARE = 0.001
LISTS = {"z12_z16": range(12, 17), "z14_z16": range(14, 17)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tile_list(url: str, zooms: range, per_zoom: int) -> list[Tile]:
    """Tiles that hold buildings, ``per_zoom`` of them per zoom (all of them when fewer), in random order."""
    with psycopg.connect(url) as conn:
        points = conn.execute(
            "SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM onemap.building"
        ).fetchall()
    rng = random.Random(7)
    tiles: list[Tile] = []
    for z in zooms:
        found = sorted({(z, t.x, t.y) for t in (TMS.tile(lon, lat, z) for lon, lat in points)})
        tiles += rng.sample(found, min(per_zoom, len(found)))
    rng.shuffle(tiles)
    return tiles


def district_z10(url: str) -> Tile:
    with psycopg.connect(url) as conn:
        lon, lat = conn.execute(
            "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Extent(geom)::geometry) c "
            "FROM onemap.building) x"
        ).fetchone() or (0.0, 0.0)
    tile = TMS.tile(lon, lat, 10)
    return (10, tile.x, tile.y)


class Server:
    def __init__(
        self, name: str, argv: list[str], env: dict[str, str], port: int, cwd: Path | None = None
    ) -> None:
        self.name, self.port = name, port
        # Its own session, so that stop() reaches the workers a supervisor spawned, not only the supervisor.
        self.process = subprocess.Popen(
            argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
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


@contextlib.contextmanager
def running(start: Callable[[], Server]) -> Iterator[Server]:
    server = start()
    try:
        yield server
    finally:
        server.stop()


def require_tile_settings(env: dict[str, str]) -> None:
    """pydantic ignores unknown ONEMAP_TILES_* variables: a renamed setting would quietly turn a like-for-like
    run back into the default payload."""
    unknown = [
        name
        for name in env
        if name.startswith("ONEMAP_TILES_")
        and name.removeprefix("ONEMAP_TILES_").lower() not in TileSettings.model_fields
    ]
    if unknown:
        raise SystemExit(f"not settings of tiles/settings.py: {', '.join(unknown)}")


def onemap_server(
    url: str, workers: int, cache: bool, cache_dir: Path, name: str, settings: dict[str, str] | None = None
) -> Server:
    port = free_port()
    tile_env = {
        "ONEMAP_TILES_CACHE": "true" if cache else "false",
        "ONEMAP_TILES_CACHE_DIR": str(cache_dir),
        **(settings or {}),
    }
    require_tile_settings(tile_env)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "ONEMAP_DATABASE_URL": url,
        "ONEMAP_API_POOL_MAX_SIZE": "20",
        **tile_env,
    }
    argv = [
        sys.executable,
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
    server = Server(name, argv, env, port, cwd=ROOT)
    server.wait("/health")
    return server


def tipg_server(url: str, workers: int, tipg_bin: Path, settings: dict[str, str] | None = None) -> Server:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "TIPG_DB_SCHEMAS": '["onemap"]',
        "TIPG_DB_TABLES": '["onemap.building"]',
        "TIPG_DB_FUNCTIONS": "[]",
        "TIPG_MAX_FEATURES_PER_TILE": "20000",
        "TIPG_DB_MAX_CONN_SIZE": "20",
        **(settings or {}),
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


NGINX_CONF = """\
daemon off;
worker_processes {workers};
pid {run}/nginx.pid;
error_log {run}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    types {{ }}
    default_type application/vnd.mapbox-vector-tile;
    client_body_temp_path {run}/body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
{servers}
}}
"""
STATIC_SERVER = """\
    server {{
        listen 127.0.0.1:{port};
        root {root};
        # <path>.gz goes out as it is, with Content-Encoding: gzip (wrk asks for gzip, as onemap was asked)
        location / {{ gzip_static on; }}
{empty}
    }}
"""


def save_warm_tiles(server: Server, paths: list[str], root: Path) -> dict[str, Any]:
    """The bytes the warm server sends for each path (gzip, as on the wire) as ``root/<path>.gz``; the paths it
    answers 204 (empty tile) are returned, for nginx to answer the same."""
    empty, hits, wire = [], 0, []
    with httpx.Client(base_url=server.base, timeout=60) as client:
        for path in dict.fromkeys(paths):
            with client.stream("GET", path, headers={"Accept-Encoding": "gzip"}) as response:
                response.raise_for_status()
                body = b"".join(response.iter_raw())
                hits += response.headers.get("x-tile-cache") == "hit"
                if response.status_code == 204:
                    empty.append(path)
                    continue
                if response.headers.get("content-encoding") != "gzip":
                    raise SystemExit(f"onemap sent {path} without gzip: the static copy would not be the same")
            target = root / (path.lstrip("/") + ".gz")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
            wire.append(len(body))
    return {
        "empty": empty,
        "cache_hits": hits,
        "tiles": len(wire) + len(empty),
        "wire_mean_kb": statistics.mean(wire) / 1024 if wire else 0.0,
    }


def nginx_server(root: Path, run: Path, empty: list[str], workers: int) -> Server:
    """nginx serving ``root`` on a free port, its configuration, pid and error log in ``run``."""
    port = free_port()
    run.mkdir(parents=True, exist_ok=True)
    empty_locations = "\n".join(f"        location = {path} {{ return 204; }}" for path in empty)
    conf = run / "nginx.conf"
    servers = STATIC_SERVER.format(port=port, root=root, empty=empty_locations)
    conf.write_text(NGINX_CONF.format(workers=workers, run=run, servers=servers))
    # nginx's workers drop root for `nobody`, who must read the tiles (mkdtemp makes 0700 directories).
    for directory in [root.parent, root, *(p for p in root.rglob("*") if p.is_dir())]:
        directory.chmod(0o755)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    server = Server("static", [nginx, "-e", str(run / "error.log"), "-p", str(run), "-c", str(conf)], {}, port)
    server.wait("/")
    return server


def front_server(onemap: Server, cache_dir: Path, run: Path, workers: int) -> Server:
    """nginx with the server block of `onemap tiles nginx` in front of ``onemap`` (same http settings as the
    static server), sending warm public tiles from its disk cache."""
    from tiles.static_front import nginx_site

    port = free_port()
    run.mkdir(parents=True, exist_ok=True)
    site = nginx_site(cache_dir, f"127.0.0.1:{onemap.port}", f"127.0.0.1:{port}", 60)
    conf = run / "nginx.conf"
    conf.write_text(NGINX_CONF.format(workers=workers, run=run, servers=site))
    for directory in [cache_dir, *(p for p in cache_dir.rglob("*") if p.is_dir())]:
        directory.chmod(0o755)  # nginx's workers run as `nobody`
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    server = Server("front", [nginx, "-e", str(run / "error.log"), "-p", str(run), "-c", str(conf)], {}, port)
    server.wait("/health")
    return server


def same_static_bytes(server: Server, root: Path, paths: list[str], empty: list[str]) -> None:
    """Stop the run unless nginx sends, for every path, what onemap sent: the same gzip bytes with
    Content-Encoding: gzip, or the same 204."""
    wrong = []
    with httpx.Client(base_url=server.base, timeout=60) as client:
        for path in dict.fromkeys(paths):
            with client.stream("GET", path, headers={"Accept-Encoding": "gzip"}) as response:
                body = b"".join(response.iter_raw())
                encoding = response.headers.get("content-encoding")
                status = response.status_code
            if path in empty:
                same = status == 204
            else:
                expected = (root / (path.lstrip("/") + ".gz")).read_bytes()
                same = status == 200 and encoding == "gzip" and body == expected
            if not same:
                wrong.append(f"{path}: {status}, Content-Encoding {encoding}, {len(body)} bytes")
    if wrong:
        raise SystemExit(f"nginx does not send onemap's bytes for {len(wrong)} tiles:\n  " + "\n  ".join(wrong[:10]))


def onemap_path(z: int, x: int, y: int) -> str:
    return f"/collections/buildings/tiles/WebMercatorQuad/{z}/{x}/{y}"


def tipg_path(z: int, x: int, y: int) -> str:
    return f"/collections/onemap.building/tiles/WebMercatorQuad/{z}/{x}/{y}"


def tipg_like_path(z: int, x: int, y: int) -> str:
    return f"{tipg_path(z, x, y)}?properties={','.join(BUILDING_PROPERTIES)}"


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


def features(body: bytes) -> list[dict[str, Any]]:
    """The features of every layer of an MVT (b"" for a 204)."""
    if not body:
        return []
    return [f for layer in mapbox_vector_tile.decode(body).values() for f in layer["features"]]


def check_sample(tiles: list[Tile], count: int) -> list[Tile]:
    """About ``count`` tiles, as many of each zoom as the list allows."""
    zooms = sorted({z for z, _, _ in tiles})
    per_zoom = -(-count // len(zooms))
    return [t for z in zooms for t in [t for t in tiles if t[0] == z][:per_zoom]]


def same_tiles(onemap: Server, tipg: Server, sample: list[Tile]) -> dict[str, Any]:
    """Decode each sampled tile from both servers and compare feature count, property keys and building codes;
    stop the run if any tile differs: the like-for-like figures would compare different work."""
    differing, edges, total = [], [], 0
    with httpx.Client(timeout=120) as client:
        for tile in sample:
            ours = features(client.get(onemap.base + onemap_path(*tile)).raise_for_status().content)
            theirs = features(client.get(tipg.base + tipg_like_path(*tile)).raise_for_status().content)
            keys = [set().union(*(f["properties"] for f in found)) for found in (ours, theirs)]
            codes = [{str(f["properties"].get("code")) for f in found} for found in (ours, theirs)]
            total += len(ours)
            apart = sorted(codes[0] ^ codes[1])
            line = (
                f"{tile}: onemap {len(ours)} features, tipg {len(theirs)}; "
                f"keys of one only {sorted(keys[0] ^ keys[1])}; codes of one only {apart[:5]}"
            )
            if keys[0] != keys[1] or len(ours) != len(codes[0]) or len(theirs) != len(codes[1]):
                differing.append(line)
            elif apart and len(apart) <= max(1, EDGE_SHARE * len(ours)):
                edges.append(line)
            elif apart:
                differing.append(line)
    if differing:
        raise SystemExit(
            f"like-for-like tiles differ on {len(differing)} of {len(sample)} sampled tiles:\n  "
            + "\n  ".join(differing[:10])
        )
    return {
        "tiles": len(sample),
        "features": total,
        "equal": not edges,
        "edge_differences": edges,
        "keys": sorted(BUILDING_PROPERTIES),
    }


def measure(server: Server, tile_lists: dict[str, list[Tile]], path_of: PathOf, args: Any) -> dict[str, Any]:
    """Sizes and wrk load over each tile list, the z12-z16 figures at the top (the keys of earlier results),
    the z14-z16 ones under "z14_z16"."""
    entry: dict[str, Any] = {}
    for name, tiles in tile_lists.items():
        paths = [path_of(*t) for t in tiles]
        figures = {"sizes": sizes(server, paths), "load": wrk(server, paths, args.clients, args.seconds)}
        if name == "z12_z16":
            entry.update(figures)
        else:
            entry[name] = figures
    entry["peak_rss_mb"] = server.peak_rss_mb()
    return entry


def default_phases(url: str, args: Any, tile_lists: dict[str, list[Tile]], z10: Tile) -> dict[str, Any]:
    """Each server's own payload: tipg, onemap cold, onemap warm, then nginx serving onemap's warm bytes."""
    results: dict[str, Any] = {}
    cache_dir = Path(tempfile.mkdtemp(prefix="onemap-bench-cache-"))
    static_dir = Path(tempfile.mkdtemp(prefix="onemap-bench-static-"))
    static_root = static_dir / "tiles"
    runs: list[tuple[str, Callable[[], Server], PathOf]] = [
        ("tipg", lambda: tipg_server(url, args.workers, args.tipg), tipg_path),
        ("onemap_cold", lambda: onemap_server(url, args.workers, False, cache_dir, "onemap cold"), onemap_path),
        ("onemap_warm", lambda: onemap_server(url, args.workers, True, cache_dir, "onemap warm"), onemap_path),
    ]
    saved: dict[str, Any] = {}
    try:
        for name, start, path_of in runs:
            with running(start) as server:
                entry: dict[str, Any] = {"z10_district": single(server, path_of(*z10))}
                # The first list's sizes pass primes the warm cache (the z14-z16 tiles are among them).
                entry.update(measure(server, tile_lists, path_of, args))
                if name == "onemap_warm":
                    saved = save_warm_tiles(server, [onemap_path(*t) for t in tile_lists["z12_z16"]], static_root)
                results[name] = entry
                print(name, json.dumps(entry), flush=True)
        with running(lambda: nginx_server(static_root, static_dir / "nginx", saved["empty"], args.workers)) as nginx:
            same_static_bytes(nginx, static_root, [onemap_path(*t) for t in tile_lists["z12_z16"]], saved["empty"])
            static: dict[str, Any] = {"server": nginx_version(), **saved, "same_bytes": True}
            static.update(load_per_list(nginx, tile_lists, args))
            static["peak_rss_mb"] = nginx.peak_rss_mb()
            results["static"] = static
            print("static", json.dumps({k: v for k, v in static.items() if k != "empty"}), flush=True)
        results["onemap_front"] = front_phase(url, args, tile_lists, static_root, saved["empty"])
        print("onemap_front", json.dumps(results["onemap_front"]), flush=True)
    finally:
        shutil.rmtree(static_dir, ignore_errors=True)
        shutil.rmtree(cache_dir, ignore_errors=True)
    tps = {k: figures(results, k) for k in ("tipg", "onemap_cold", "onemap_warm", "static", "onemap_front")}
    results["front_vs_static"] = tps["onemap_front"]["z12_z16"] / tps["static"]["z12_z16"]
    results["front_vs_static_z14_z16"] = tps["onemap_front"]["z14_z16"] / tps["static"]["z14_z16"]
    results["cold_vs_tipg"] = tps["onemap_cold"]["z12_z16"] / tps["tipg"]["z12_z16"]
    results["warm_vs_cold"] = tps["onemap_warm"]["z12_z16"] / tps["onemap_cold"]["z12_z16"]
    results["cold_vs_tipg_z14_z16"] = tps["onemap_cold"]["z14_z16"] / tps["tipg"]["z14_z16"]
    results["warm_vs_static"] = tps["onemap_warm"]["z12_z16"] / tps["static"]["z12_z16"]
    results["warm_vs_static_z14_z16"] = tps["onemap_warm"]["z14_z16"] / tps["static"]["z14_z16"]
    return results


def load_per_list(server: Server, tile_lists: dict[str, list[Tile]], args: Any) -> dict[str, Any]:
    """wrk over each tile list at onemap's paths: the z12-z16 load at the top, the others under their names."""
    entry: dict[str, Any] = {}
    for name, tiles in tile_lists.items():
        load = wrk(server, [onemap_path(*t) for t in tiles], args.clients, args.seconds)
        if name == "z12_z16":
            entry["load"] = load
        else:
            entry[name] = {"load": load}
    return entry


def front_phase(
    url: str, args: Any, tile_lists: dict[str, list[Tile]], static_root: Path, empty: list[str]
) -> dict[str, Any]:
    """onemap warm behind nginx (`onemap tiles nginx`, ONEMAP_TILES_STATIC_FRONT): one pass publishes the tiles,
    the bytes are checked equal to the static copy, then the same load as the static server's."""
    cache_dir = Path(tempfile.mkdtemp(prefix="onemap-bench-front-"))
    front_settings = {"ONEMAP_TILES_STATIC_FRONT": "true"}
    paths = [onemap_path(*t) for t in tile_lists["z12_z16"]]
    entry: dict[str, Any] = {"env": front_settings}
    try:
        with running(lambda: onemap_server(url, args.workers, True, cache_dir, "onemap front", front_settings)) as app:
            nginx_run = cache_dir.parent / f"{cache_dir.name}-nginx"
            with running(lambda: front_server(app, cache_dir, nginx_run, args.workers)) as front:
                sizes(front, paths)  # the pass that renders and publishes them
                same_static_bytes(front, static_root, paths, empty)
                entry["same_bytes"] = True
                entry.update(load_per_list(front, tile_lists, args))
                entry["peak_rss_mb"] = front.peak_rss_mb() + app.peak_rss_mb()
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
        shutil.rmtree(cache_dir.parent / f"{cache_dir.name}-nginx", ignore_errors=True)
    return entry


def like_for_like_phases(url: str, args: Any, tile_lists: dict[str, list[Tile]]) -> dict[str, Any]:
    """The same buildings with the same fields from both servers: checked on a sample, then timed."""
    cache_dir = Path(tempfile.mkdtemp(prefix="onemap-bench-cache-"))
    results: dict[str, Any] = {
        "onemap_env": {"ONEMAP_TILES_CACHE": "false", **LIKE_FOR_LIKE_ONEMAP},
        "tipg_env": LIKE_FOR_LIKE_TIPG,
        "tipg_properties": list(BUILDING_PROPERTIES),
    }

    def onemap() -> Server:
        return onemap_server(url, args.workers, False, cache_dir, "onemap like-for-like", LIKE_FOR_LIKE_ONEMAP)

    try:
        with running(onemap) as ours:
            with running(lambda: tipg_server(url, args.workers, args.tipg, LIKE_FOR_LIKE_TIPG)) as tipg:
                results["check"] = same_tiles(ours, tipg, check_sample(tile_lists["z12_z16"], args.check_tiles))
                print("like-for-like check", json.dumps(results["check"]), flush=True)
                results["tipg"] = measure(tipg, tile_lists, tipg_like_path, args)
                print("like-for-like tipg", json.dumps(results["tipg"]), flush=True)
            # tipg stopped: onemap, idle until now, has the machine to itself.
            results["onemap_cold"] = measure(ours, tile_lists, onemap_path, args)
            print("like-for-like onemap_cold", json.dumps(results["onemap_cold"]), flush=True)
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
    tps = {k: figures(results, k) for k in ("tipg", "onemap_cold")}
    results["cold_vs_tipg"] = tps["onemap_cold"]["z12_z16"] / tps["tipg"]["z12_z16"]
    results["cold_vs_tipg_z14_z16"] = tps["onemap_cold"]["z14_z16"] / tps["tipg"]["z14_z16"]
    return results


def figures(results: dict[str, Any], server: str) -> dict[str, float]:
    """Tiles/s of one server's entry, per tile list."""
    entry = results[server]
    return {"z12_z16": entry["load"]["tiles_per_s"], "z14_z16": entry["z14_z16"]["load"]["tiles_per_s"]}


def nginx_version() -> str:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    return subprocess.run([nginx, "-v"], capture_output=True, text=True).stderr.strip().removeprefix(
        "nginx version: "
    )


def print_table(results: dict[str, Any]) -> None:
    columns = ("tiles/s", "p50 ms", "p95 ms", "mean KB", "peak MB", "z10 ms", "z10 KB")
    print("\n" + " " * 36 + "".join(f"{c:>10}" for c in columns))
    payloads = [("default", results), ("like-for-like", results.get("like_for_like"))]
    for payload, found in payloads:
        if not found:
            continue
        for tiles in LISTS:
            for name in ("tipg", "onemap_cold", "onemap_warm", "static", "onemap_front"):
                if name not in found:
                    continue
                entry = found[name]
                part = entry if tiles == "z12_z16" else entry[tiles]
                load, size, z10 = part["load"], part.get("sizes"), entry.get("z10_district")
                cells = [f"{load['tiles_per_s']:>10.0f}", f"{load['p50_ms']:>10.1f}", f"{load['p95_ms']:>10.1f}"]
                cells.append(f"{size['mean_kb']:>10.1f}" if size else f"{'-':>10}")
                cells.append(f"{entry['peak_rss_mb']:>10.0f}")
                show_z10 = z10 and tiles == "z12_z16"
                cells += [f"{z10['median_ms']:>10.1f}", f"{z10['kb']:>10.1f}"] if show_z10 else [f"{'-':>10}"] * 2
                print(f"{payload:14}{tiles.replace('_', '-'):9}{name:13}" + "".join(cells))
    if "cold_vs_tipg" in results:
        print(
            f"default: cold/tipg = {results['cold_vs_tipg']:.2f}x (z14-z16 {results['cold_vs_tipg_z14_z16']:.2f}x), "
            f"warm/cold = {results['warm_vs_cold']:.1f}x, warm/static = {results['warm_vs_static']:.2f}x "
            f"(z14-z16 {results['warm_vs_static_z14_z16']:.2f}x); behind nginx (static front) / static = "
            f"{results['front_vs_static']:.2f}x (z14-z16 {results['front_vs_static_z14_z16']:.2f}x)"
        )
    if like := results.get("like_for_like"):
        print(
            f"like-for-like: cold/tipg = {like['cold_vs_tipg']:.2f}x (z14-z16 {like['cold_vs_tipg_z14_z16']:.2f}x); "
            f"checked on {like['check']['tiles']} tiles, {like['check']['features']} features, "
            f"{len(like['check']['edge_differences'])} with an edge building in one server only"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=None, help="default: `onemap db url`")
    parser.add_argument(
        "--tipg", type=Path, default=Path("/tmp/tipg-venv/bin"), help="bin dir with tipg's uvicorn"
    )
    parser.add_argument("--mode", choices=("both", "default", "like-for-like"), default="both")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--per-zoom", type=int, default=300)
    parser.add_argument("--check-tiles", type=int, default=30, help="like-for-like: tiles compared before timing")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "tiles_vs_tipg.json")
    args = parser.parse_args()
    url = (
        args.database_url
        or subprocess.run(
            [sys.executable, "-m", "api.cli", "db", "url"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    )
    tiles = tile_list(url, LISTS["z12_z16"], args.per_zoom)
    tile_lists = {name: [t for t in tiles if t[0] in zooms] for name, zooms in LISTS.items()}
    z10 = district_z10(url)
    print(f"{len(tiles)} tiles z12-z16, {len(tile_lists['z14_z16'])} of them z14-z16; z10 tile {z10}", flush=True)
    results: dict[str, Any] = {
        "tiles": len(tiles),
        "tiles_z14_z16": len(tile_lists["z14_z16"]),
        "workers": args.workers,
        "clients": args.clients,
        "seconds": args.seconds,
        "mode": args.mode,
    }
    if args.mode in ("both", "default"):
        results.update(default_phases(url, args, tile_lists, z10))
    if args.mode in ("both", "like-for-like"):
        results["like_for_like"] = like_for_like_phases(url, args, tile_lists)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print_table(results)


if __name__ == "__main__":
    main()
