"""Generate and bulk-load a district; report wall time, rows/s and the loader's peak memory.

    ONEMAP_DATA_DIR=/tmp/onemap-bench .venv/bin/python benchmarks/load_district.py --scale full

Uses onemap's embedded cluster in ONEMAP_DATA_DIR (or ONEMAP_DATABASE_URL). The database server's own memory is
not counted; the loader process's peak RSS is. Results go to benchmarks/results/load_<scale>.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import time
from pathlib import Path

from api.setup import initialise_database
from spatial.database import database_url, raw_connection
from spatial.district.load_district import load_district


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="small")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    url = database_url()
    initialise_database(url)
    with raw_connection(url, autocommit=True) as conn:  # from scratch: forget any earlier load
        conn.execute("TRUNCATE onemap.load_progress")
    started = time.perf_counter()
    written = load_district(url, args.scale, args.seed)
    seconds = time.perf_counter() - started
    rows = sum(written.values())
    result = {
        "scale": args.scale,
        "seconds": round(seconds, 1),
        "rows": rows,
        "rows_per_second": round(rows / seconds),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "tables": written,
        "machine": f"{platform.machine()}, {len(__import__('os').sched_getaffinity(0))} cores",
    }
    out = Path(__file__).with_name("results") / f"load_{args.scale}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
