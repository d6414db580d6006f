"""/cases API latency: a page of 100 (newest first, and filtered by state and grid) and one case with its
timeline, p95 over R requests each against one onemap worker. Tops the database up to N cases first
(synthetic, spread over the district's buildings, five transitions each). Target: p95 <= 50 ms at full scale.

    ONEMAP_DATA_DIR=/tmp/onemap-bench python benchmarks/cases_api.py --cases 500000 --requests 300
"""

from __future__ import annotations

import argparse
import json
import random
import time

import httpx
import psycopg
from serving import api_server, key, percentile

from api.setup import initialise_database
from spatial.database import database_url, libpq_url

TOP_UP = """
WITH made AS (
    INSERT INTO onemap.service_case (category, state, source_kind, description, address, building_id, grid_code,
                                     street_code, department, reporter, due_at, geom)
    SELECT (ARRAY['fire_hazard', 'sanitation', 'flooding', 'illegal_construction', 'public_security'])[1 + i %% 5],
           (ARRAY['registered', 'dispatched', 'accepted', 'in_progress', 'resolved', 'closed'])[1 + i %% 6],
           'report', 'benchmark case ' || i, b.address, b.id, b.grid_code, b.street_code,
           (ARRAY['emergency', 'urban_management', 'water', 'urban_management', 'police'])[1 + i %% 5],
           'benchmark', now() + interval '1 day', ST_PointOnSurface(b.geom)
    FROM generate_series(1, %(count)s) AS i
    JOIN onemap.building b ON b.id = (SELECT min(id) FROM onemap.building) + i %% (SELECT count(*) FROM onemap.building)
    RETURNING id, state, department
)
INSERT INTO onemap.case_transition (case_id, action, from_state, to_state, actor, role, department, note)
SELECT m.id, a.action, NULL, m.state, 'benchmark', 'system', m.department, 'benchmark step ' || a.n
FROM made m
CROSS JOIN (VALUES (1, 'report'), (2, 'register'), (3, 'dispatch'), (4, 'accept'), (5, 'start')) AS a(n, action)
"""


def top_up(url: str, wanted: int) -> tuple[int, int]:
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        have = conn.execute("SELECT count(*) FROM onemap.service_case").fetchone()
        missing = wanted - (int(have[0]) if have else 0)
        if missing > 0:
            conn.execute(TOP_UP, {"count": missing})
            conn.execute("ANALYZE onemap.service_case")
            conn.execute("ANALYZE onemap.case_transition")
        span = conn.execute("SELECT min(id), max(id) FROM onemap.service_case").fetchone()
    assert span is not None
    return int(span[0]), int(span[1])


def timed(client: httpx.Client, urls: list[str], headers: dict[str, str]) -> list[float]:
    client.get(urls[0], headers=headers)
    times = []
    for url in urls:
        began = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append((time.perf_counter() - began) * 1000)
        response.raise_for_status()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=500_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    url = database_url()
    initialise_database(url)
    first, last = top_up(url, args.cases)
    headers = {"X-API-Key": key(url, "planner")}
    rng = random.Random(7)
    with psycopg.connect(libpq_url(url)) as conn:
        grids = [r[0] for r in conn.execute("SELECT DISTINCT grid_code FROM onemap.service_case LIMIT 200")]
    with api_server(url) as base, httpx.Client(timeout=30) as client:
        pages = timed(
            client,
            [f"{base}/cases?limit=100&offset={rng.randrange(0, 1000, 100)}" for _ in range(args.requests)],
            headers,
        )
        filtered = timed(
            client,
            [
                f"{base}/cases?limit=100&state=in_progress&grid={rng.choice(grids)}"
                for _ in range(args.requests)
            ],
            headers,
        )
        single = timed(
            client, [f"{base}/cases/{rng.randint(first, last)}" for _ in range(args.requests)], headers
        )
    print(
        json.dumps(
            {
                "cases": last - first + 1,
                "page_100": {"p50_ms": percentile(pages, 0.5), "p95_ms": percentile(pages, 0.95)},
                "page_100_filtered": {
                    "p50_ms": percentile(filtered, 0.5),
                    "p95_ms": percentile(filtered, 0.95),
                },
                "case_with_timeline": {"p50_ms": percentile(single, 0.5), "p95_ms": percentile(single, 0.95)},
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
