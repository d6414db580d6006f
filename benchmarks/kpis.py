"""/kpis for every scope (the district, each street, community and grid) and a few series, timed over HTTP
against a real uvicorn (the issue's target: p95 <= 200 ms at full scale).

Runs on whatever district is loaded; refresh the pre-aggregates first (the kpi_refresh job does it every minute):

    ONEMAP_DATA_DIR=/tmp/onemap-bench-k .venv/bin/onemap generate --scale full
    ONEMAP_DATA_DIR=/tmp/onemap-bench-k .venv/bin/onemap kpis refresh
    ONEMAP_DATA_DIR=/tmp/onemap-bench-k .venv/bin/python benchmarks/kpis.py --scopes 200 --rounds 3

Reported: p50, p95 and max latency of /kpis (all figures) per scope level, of the population series (30 days)
and of a weekly events series (12 weeks), each figure alone at the district, /kpis for a street while one of its
grids is marked stale (counted live until the next refresh), and whether the pre-aggregates were fresh.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from spatial.database import database_url, engine_for, raw_connection
from tests.browser import platform_server


def planner_key(url: str) -> str:
    from api.auth import create_key

    with engine_for(url).begin() as conn:
        return create_key(conn, "kpi benchmark", "planner").key


def scopes(url: str, per_level: int, seed: int) -> dict[str, list[str | None]]:
    with raw_connection(url) as conn:
        rows = conn.execute("SELECT level, code FROM onemap.admin_area WHERE level <> 'district'").fetchall()
        fresh = conn.execute(
            "SELECT NOT EXISTS (SELECT 1 FROM onemap.kpi_dirty_grid) AND count(*) > 0 "
            "AND bool_and(last_day >= (now() AT TIME ZONE 'Asia/Shanghai')::date) FROM onemap.kpi_aggregate"
        ).fetchone()
    rng = random.Random(seed)
    out: dict[str, list[str | None]] = {"district": [None]}
    for level in ("street", "community", "grid"):
        codes = [code for lvl, code in rows if lvl == level]
        out[level] = list(rng.sample(codes, min(per_level, len(codes))))
    out["_fresh"] = [str(bool(fresh and fresh[0]))]
    return out


def timed(url: str) -> float:
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as r:
        r.read()
    return (time.perf_counter() - start) * 1000


def stale_street(url: str, base: str, key: str, rounds: int) -> dict[str, float]:
    """/kpis for a street while one of its grids is marked stale (as an edit there marks it), then unmarked."""
    with raw_connection(url) as conn:
        row = conn.execute(
            "SELECT g.code, c.parent_code FROM onemap.admin_area g JOIN onemap.admin_area c ON c.code = g.parent_code "
            "WHERE g.level = 'grid' ORDER BY g.code LIMIT 1"
        ).fetchone()
        assert row is not None
        grid, street = row
        conn.execute("SELECT onemap.kpi_mark_grids('archives', ARRAY[%s])", (grid,))
        conn.commit()
        try:
            return summary([timed(f"{base}/kpis?api_key={key}&code={street}") for _ in range(rounds)])
        finally:
            conn.execute("DELETE FROM onemap.kpi_dirty_grid WHERE topic = 'archives' AND grid_code = %s", (grid,))
            conn.commit()


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(p95, 1),
        "max_ms": round(ordered[-1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scopes", type=int, default=50, help="scopes per level (streets, communities, grids)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="requests per scope")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "results" / "kpis.json")
    args = parser.parse_args()
    url = os.environ.get("ONEMAP_DATABASE_URL") or database_url()
    key = planner_key(url)
    chosen = scopes(url, args.scopes, args.seed)
    fresh = chosen.pop("_fresh")[0]
    result: dict[str, object] = {"aggregate_fresh": fresh == "True", "rounds": args.rounds}
    with (
        tempfile.TemporaryDirectory(prefix="onemap-kpis-bench-") as data_dir,
        platform_server(url, Path(data_dir)) as base,
    ):
        timed(f"{base}/kpis?api_key={key}")  # warm the pool and the catalog
        for level, codes in chosen.items():
            samples = []
            for _ in range(args.rounds):
                for code in codes:
                    samples.append(timed(f"{base}/kpis?api_key={key}" + (f"&code={code}" if code else "")))
            result[f"kpis_{level}"] = summary(samples)
        figures = json.loads(urllib.request.urlopen(f"{base}/kpis?api_key={key}").read())["figures"]
        result["figures_district_p50_ms"] = {
            name: summary([timed(f"{base}/kpis?api_key={key}&names={name}") for _ in range(args.rounds)])["p50_ms"]
            for name in figures
        }
        result["street_with_a_stale_grid"] = stale_street(url, base, key, args.rounds * 5)
        series = {
            "population_30_days": "/kpis/population/series?from={d30}",
            "events_12_weeks": "/kpis/events_by_kind/series?step=week&from={d84}",
        }
        day = dt.date.today()
        for name, path in series.items():
            filled = path.format(d30=day - dt.timedelta(days=29), d84=day - dt.timedelta(days=83))
            result[name] = summary([timed(f"{base}{filled}&api_key={key}") for _ in range(args.rounds * 5)])
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
