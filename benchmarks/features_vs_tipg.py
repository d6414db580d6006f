"""Feature pages and building archives, side by side with tipg on the same PostGIS tables.

Runs on whatever district is loaded in the database (the issue's targets are for `full`):

    ONEMAP_DATA_DIR=/tmp/onemap-bench-f .venv/bin/onemap generate --scale small
    ONEMAP_DATA_DIR=/tmp/onemap-bench-f .venv/bin/python benchmarks/features_vs_tipg.py \
        --runs 30 --tipg /tmp/tipg-venv/bin

Measures the median of a 1,000-feature GeoJSON page of buildings from onemap and from tipg (same request,
same tables, both servers on this machine), checks onemap's geometries are byte-identical to ST_AsGeoJSON,
and the p95 of /archives/buildings/{code} over random buildings.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time

import httpx
import psycopg


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(args: list[str], env: dict[str, str], url: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return process
        except httpx.HTTPError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit(
        f"server did not start: {' '.join(args)}\n{process.stderr.read().decode() if process.stderr else ''}"
    )


def timed(client: httpx.Client, url: str, runs: int, headers: dict[str, str] | None = None) -> list[float]:
    client.get(url, headers=headers)  # warm up (plans, caches)
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append((time.perf_counter() - began) * 1000)
        response.raise_for_status()
    return times


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="default: onemap's database (ONEMAP_* settings)")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--tipg", default=None, help="bin directory of a virtualenv with tipg (default: this one)")
    options = parser.parse_args()

    from spatial.database import database_url, libpq_url

    url = libpq_url(options.database_url or database_url())
    with psycopg.connect(url, autocommit=True) as conn:
        buildings = conn.execute("SELECT count(*) FROM onemap.building").fetchone()[0]  # type: ignore[index]
        conn.execute("ANALYZE onemap.building")
        codes = [
            r[0]
            for r in conn.execute(
                "SELECT code FROM onemap.building ORDER BY random() LIMIT %s", (options.runs * 2,)
            )
        ]
        from api.auth import hash_key

        key = f"om_bench_{random.randrange(10**9)}"
        conn.execute(
            "INSERT INTO onemap.api_key (key_hash, label, role) VALUES (%s, 'benchmark', 'admin')",
            (hash_key(key),),
        )
        expected = [
            r[0]
            for r in conn.execute(
                "SELECT ST_AsGeoJSON(geom) FROM onemap.building ORDER BY id LIMIT %s", (options.limit,)
            )
        ]

    env = {
        **os.environ,
        "ONEMAP_DATABASE_URL": url,
        "DATABASE_URL": url,
        "TIPG_DB_SCHEMAS": '["onemap"]',
        "TIPG_DB_TABLES": '["onemap.building"]',
        "TIPG_MAX_FEATURES_PER_QUERY": "10000",
    }
    ours_port, tipg_port = free_port(), free_port()
    uvicorn = [sys.executable, "-m", "uvicorn", "--log-level", "warning", "--host", "127.0.0.1"]
    ours = start(
        [*uvicorn, "--port", str(ours_port), "api.main:app"], env, f"http://127.0.0.1:{ours_port}/health"
    )
    tipg_python = f"{options.tipg}/python" if options.tipg else sys.executable
    tipg = start(
        [tipg_python, *uvicorn[1:], "--port", str(tipg_port), "tipg.main:app"],
        env,
        f"http://127.0.0.1:{tipg_port}/collections",
    )
    try:
        with httpx.Client(timeout=60) as client:
            ours_url = f"http://127.0.0.1:{ours_port}/collections/buildings/items?limit={options.limit}"
            tipg_url = f"http://127.0.0.1:{tipg_port}/collections/onemap.building/items?limit={options.limit}"
            body = client.get(ours_url).text
            identical = all(f'"geometry":{g}' in body for g in expected)
            ours_times = timed(client, ours_url, options.runs)
            tipg_times = timed(client, tipg_url, options.runs)
            archive_times = []
            root = f"http://127.0.0.1:{ours_port}/archives/buildings/"
            client.get(root + codes[0], headers={"X-API-Key": key})
            for code in codes:
                began = time.perf_counter()
                client.get(root + code, headers={"X-API-Key": key}).raise_for_status()
                archive_times.append((time.perf_counter() - began) * 1000)
    finally:
        for process in (ours, tipg):
            process.terminate()
            process.wait(timeout=20)
    result = {
        "buildings": buildings,
        "page_size": options.limit,
        "runs": options.runs,
        "onemap_page_median_ms": round(statistics.median(ours_times), 1),
        "tipg_page_median_ms": round(statistics.median(tipg_times), 1),
        "ratio": round(statistics.median(ours_times) / statistics.median(tipg_times), 2),
        "geometry_byte_identical_to_st_asgeojson": identical,
        "archive_building_p95_ms": round(p95(archive_times), 1),
        "archive_building_median_ms": round(statistics.median(archive_times), 1),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
