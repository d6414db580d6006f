"""Mixed reads and concurrent writes against `onemap serve` with its default worker count.

    ONEMAP_DATA_DIR=/tmp/onemap-bench .venv/bin/onemap generate --scale full
    ONEMAP_DATA_DIR=/tmp/onemap-bench .venv/bin/python benchmarks/load_mixed.py

Reads (wrk, planner key): a third feature pages of 100 buildings at random offsets, a third building tiles
z12-z16 that hold buildings, a third building files, at 8, 32, 128 and 512 concurrent connections. Writes: 16
connections PATCHing building names (housing editor key), each request a different building, once the last read
level's queue is answered; afterwards the history table must hold one new version per acknowledged write.
Needs `wrk` (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tiles_vs_tipg import ROOT, Server, free_port, tile_list, wrk

HERE = Path(__file__).resolve().parent


def database_url() -> str:
    found = subprocess.run([str(ROOT / ".venv/bin/onemap"), "db", "url"], capture_output=True, text=True, check=True)
    return found.stdout.strip()


def make_key(role: str, department: str | None = None) -> str:
    argv = [str(ROOT / ".venv/bin/onemap"), "keys", "create", "--label", f"bench-{role}", "--role", role]
    if department:
        argv += ["--department", department]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    return out.strip().split()[-1]


def read_requests(url: str, count: int) -> list[str]:
    rng = random.Random(11)
    with psycopg.connect(url) as conn:
        total = conn.execute("SELECT count(*) FROM onemap.building").fetchone()[0]  # type: ignore[index]
        codes = [r[0] for r in conn.execute("SELECT code FROM onemap.building ORDER BY random() LIMIT %s", [count])]
    pages = [f"/collections/buildings/items?limit=100&offset={rng.randrange(0, max(total - 100, 1))}"
             for _ in range(count)]
    tiles = [f"/collections/buildings/tiles/WebMercatorQuad/{z}/{x}/{y}"
             for z, x, y in tile_list(url, range(12, 17), count // 5 + 1)][:count]
    files = [f"/archives/buildings/{code}" for code in codes]
    mixed = [path for triple in zip(pages, tiles, files, strict=False) for path in triple]
    rng.shuffle(mixed)
    return mixed


def write_requests(url: str, count: int) -> tuple[list[str], list[int]]:
    with psycopg.connect(url) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM onemap.building ORDER BY random() LIMIT %s", [count])]
    lines = [f'PATCH\t/collections/buildings/items/{i}\t{{"properties": {{"name": "bench {i}"}}}}' for i in ids]
    return lines, ids


def history_versions(url: str, ids: list[int]) -> int:
    with psycopg.connect(url) as conn:
        found = conn.execute("SELECT count(*) FROM onemap.building_history WHERE id = ANY(%s)", [ids]).fetchone()
    return int(found[0]) if found else 0


def settle(server: Server) -> None:
    """Wait until the requests wrk left in flight at 512 connections are answered, so the writers are measured
    on the server's own time and not behind the last read level's queue."""
    deadline = time.monotonic() + 60
    quick = 0
    while quick < 3 and time.monotonic() < deadline:
        start = time.monotonic()
        httpx.get(server.base + "/health", timeout=60)
        quick = quick + 1 if time.monotonic() - start < 0.05 else 0
        time.sleep(0.5)


def serve(url: str) -> Server:
    port = free_port()
    env = {**os.environ, "ONEMAP_DATABASE_URL": url}
    argv = [str(ROOT / ".venv/bin/onemap"), "serve", "--port", str(port), "--no-access-log"]
    server = Server("onemap", argv, env, port)
    server.wait("/health")
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", default="8,32,128,512")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "load_mixed.json")
    args = parser.parse_args()
    url = database_url()
    reads = read_requests(url, 1500)
    writes, ids = write_requests(url, 20_000)
    planner, housing = make_key("planner"), make_key("department_editor", "housing")
    server = serve(url)
    results: dict[str, Any] = {"reads": {}, "read_mix": "feature pages of 100, tiles z12-z16, building files"}
    try:
        wrk(server, reads[:300], 8, 5, planner)  # warm the database's caches, not the tile cache's keys
        for clients in map(int, args.levels.split(",")):
            stats = wrk(server, reads, clients, args.seconds, planner)
            stats["requests_per_s"] = stats.pop("tiles_per_s")
            results["reads"][clients] = stats
            print(f"{clients:>4} clients: {json.dumps(stats)}", flush=True)
        settle(server)
        before = history_versions(url, ids)
        stats = wrk(server, writes, args.writers, args.seconds, housing)
        stats["writes_per_s"] = stats.pop("tiles_per_s")
        acknowledged = stats["requests"] - stats["non2xx"] - stats["errors"]
        # wrk counts requests still in flight at the end as neither done nor failed: allow those few.
        stats["history_versions_added"] = history_versions(url, ids) - before
        stats["acknowledged"] = acknowledged
        results["writes"] = stats
        print(f"{args.writers} writers: {json.dumps(stats)}", flush=True)
        results["peak_rss_mb"] = server.peak_rss_mb()
    finally:
        server.stop()
    best = max(r["requests_per_s"] for r in results["reads"].values())
    results["at_128_vs_best"] = results["reads"].get(128, {}).get("requests_per_s", 0) / best
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(f"\n{'clients':>8}{'req/s':>10}{'p50 ms':>10}{'p95 ms':>10}{'errors':>8}{'non2xx':>8}")
    for clients, r in results["reads"].items():
        print(f"{clients:>8}{r['requests_per_s']:>10.0f}{r['p50_ms']:>10.1f}{r['p95_ms']:>10.1f}"
              f"{r['errors']:>8}{r['non2xx']:>8}")
    w = results["writes"]
    print(f"writes: {w['writes_per_s']:.0f}/s, p95 {w['p95_ms']:.1f} ms, {w['acknowledged']} acknowledged, "
          f"{w['history_versions_added']} history versions added; 128 clients at "
          f"{results['at_128_vs_best']:.0%} of the best level")


if __name__ == "__main__":
    main()
