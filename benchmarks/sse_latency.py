"""SSE latency: commit to client. One onemap worker, N connected /cases/stream clients (default 1,000), then K
case changes committed one by one; for each, the time from its commit returning to each client receiving it.
Target: p95 <= 1 s with 1,000 clients on one worker.

    ONEMAP_DATA_DIR=/tmp/onemap-bench python benchmarks/sse_latency.py --clients 1000 --changes 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import httpx
import psycopg
from httpx_sse import aconnect_sse
from serving import api_server, key, percentile

from api.setup import initialise_database
from spatial.database import database_url, libpq_url


async def listen(
    client: httpx.AsyncClient,
    url: str,
    api_key: str,
    ready: asyncio.Event,
    got: dict[int, float],
    want: int,
    connected: list[int],
) -> None:
    async with aconnect_sse(client, "GET", url, headers={"X-API-Key": api_key}) as source:
        connected.append(1)
        ready.set()
        async for event in source.aiter_sse():
            text = json.loads(event.data).get("description", "")
            if text.startswith("sse-bench:"):
                got[int(text.split(":")[1])] = time.perf_counter()
                if len(got) >= want:
                    return


async def run(base: str, url: str, clients: int, changes: int) -> dict[str, object]:
    api_key = key(url, "planner")
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        row = conn.execute("SELECT id FROM onemap.service_case ORDER BY id LIMIT 1").fetchone()
        if row is None:
            raise SystemExit("no case to change: run the monitoring job first (onemap jobs run monitoring)")
        case_id = row[0]
    limits = httpx.Limits(max_connections=clients + 10, max_keepalive_connections=0)
    received: list[dict[int, float]] = [{} for _ in range(clients)]
    connected: list[int] = []
    async with httpx.AsyncClient(timeout=httpx.Timeout(30, read=None), limits=limits) as client:
        ready = asyncio.Event()
        tasks = [
            asyncio.create_task(
                listen(client, f"{base}/cases/stream", api_key, ready, received[i], changes, connected)
            )
            for i in range(clients)
        ]
        deadline = time.monotonic() + 120
        while len(connected) < clients and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        committed: dict[int, float] = {}
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            for i in range(changes):
                conn.execute(
                    "UPDATE onemap.service_case SET description = %s WHERE id = %s",
                    (f"sse-bench:{i}", case_id),
                )
                committed[i] = time.perf_counter()
                await asyncio.sleep(0.5)
        await asyncio.wait(tasks, timeout=30)
        for task in tasks:
            task.cancel()
    latencies = [(got[i] - committed[i]) * 1000 for got in received for i in got if i in committed]
    expected = clients * changes
    return {
        "clients": clients,
        "connected": len(connected),
        "changes": changes,
        "deliveries": len(latencies),
        "missing": expected - len(latencies),
        "p50_ms": percentile(latencies, 0.5),
        "p95_ms": percentile(latencies, 0.95),
        "max_ms": round(max(latencies, default=0), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=20)
    args = parser.parse_args()
    url = database_url()
    initialise_database(url)
    with api_server(url, workers=1) as base:
        print(json.dumps(asyncio.run(run(base, url, args.clients, args.changes)), indent=1))


if __name__ == "__main__":
    main()
