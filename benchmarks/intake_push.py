"""Push throughput: records/s accepted by POST /sources/{department}/records with concurrent clients.

Runs on whatever district is loaded (the issue's target, >= 20,000 records/s with 8 clients, is for an idle
2-core machine):

    ONEMAP_DATA_DIR=/tmp/onemap-bench-p .venv/bin/onemap generate --scale small
    ONEMAP_DATA_DIR=/tmp/onemap-bench-p .venv/bin/python benchmarks/intake_push.py --clients 8 --seconds 30

Each client sends grid-survey batches (NDJSON, the department's own column names, an Idempotency-Key each)
built from real residents, so every record passes the row checks and is copied into source_record. The
records pushed are deleted again at the end (they belong to the benchmark's deliveries).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).parent))
from features_vs_tipg import free_port, start


def residents(conn: psycopg.Connection, count: int) -> list[dict[str, str]]:
    rows = conn.execute(
        "SELECT p.id_number, p.name, g.code, u.room_no FROM onemap.person p "
        "JOIN onemap.residence r ON r.person_id = p.id AND r.valid_to IS NULL "
        "JOIN onemap.house_unit u ON u.id = r.house_unit_id JOIN onemap.building g ON g.id = u.building_id "
        "ORDER BY p.id LIMIT %s",
        (count,),
    ).fetchall()
    return [
        {
            "公民身份号码": a,
            "姓名": b,
            "联系电话": f"138{random.randrange(10**8):08d}",
            "楼栋编码": c,
            "房号": d,
        }
        for a, b, c, d in rows
    ]


def client_loop(
    root: str, key: str, batches: list[bytes], until: float, counts: list[int], latencies: list[float]
) -> None:
    with httpx.Client(timeout=120) as client:
        while time.monotonic() < until:
            body = random.choice(batches)
            began = time.perf_counter()
            response = client.post(
                f"{root}/sources/grid/records",
                content=body,
                headers={
                    "X-API-Key": key,
                    "Content-Type": "application/x-ndjson",
                    "Idempotency-Key": uuid.uuid4().hex,
                },
            )
            latencies.append(time.perf_counter() - began)
            response.raise_for_status()
            counts.append(int(response.json()["accepted"]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--batch", type=int, default=2000, help="records per pushed batch")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--database-url", default=None, help="default: onemap's database (ONEMAP_* settings)")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    options = parser.parse_args()

    from api.auth import hash_key
    from spatial.database import database_url, libpq_url

    url = libpq_url(options.database_url or database_url())
    key = f"om_bench_{random.randrange(10**9)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO onemap.api_key (key_hash, label, role, department) "
            "VALUES (%s, 'benchmark', 'department_editor', 'grid')",
            (hash_key(key),),
        )
        people = residents(conn, options.batch * 4)
        first_delivery = conn.execute("SELECT coalesce(max(id), 0) FROM onemap.source_delivery").fetchone()
    assert first_delivery is not None
    batches = [
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in people[i : i + options.batch]).encode()
        for i in range(0, len(people), options.batch)
    ]
    port = free_port()
    env = {**os.environ, "ONEMAP_DATABASE_URL": url}
    server = start(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--log-level",
            "warning",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(options.workers),
            "api.main:app",
        ],
        env,
        f"http://127.0.0.1:{port}/health",
    )
    counts: list[int] = []
    latencies: list[float] = []
    try:
        until = time.monotonic() + options.seconds
        began = time.perf_counter()
        threads = [
            threading.Thread(
                target=client_loop, args=(f"http://127.0.0.1:{port}", key, batches, until, counts, latencies)
            )
            for _ in range(options.clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
    finally:
        server.terminate()
        server.wait(timeout=30)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                "DELETE FROM onemap.source_record WHERE delivery_id IN (SELECT id FROM onemap.source_delivery "
                "WHERE id > %s AND channel = 'push' AND actor LIKE 'key:%%:benchmark')",
                (first_delivery[0],),
            )
            conn.execute(
                "DELETE FROM onemap.source_delivery WHERE id > %s AND channel = 'push' "
                "AND actor LIKE 'key:%%:benchmark'",
                (first_delivery[0],),
            )
            conn.execute("UPDATE onemap.api_key SET revoked_at = now() WHERE key_hash = %s", (hash_key(key),))
    ordered = sorted(latencies)
    figures = {
        "clients": options.clients,
        "batch": options.batch,
        "batches": len(counts),
        "records": sum(counts),
        "seconds": round(elapsed, 2),
        "records_per_second": round(sum(counts) / elapsed),
        "batch_p50_ms": round(statistics.median(ordered) * 1000, 1) if ordered else None,
        "batch_p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 1) if ordered else None,
    }
    print(json.dumps(figures))
    if options.out:
        options.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
