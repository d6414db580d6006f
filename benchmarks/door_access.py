"""Door-access benchmark: 30 days of events for the district's urban villages (loaded with COPY), a CSV delivery
through the checked import path, every door-access rule over the 30 days, precision and recall against the
planted anomalies. Targets: >= 50,000 events/s loaded, rules <= 60 s at full scale, precision and recall >= 0.95.

    ONEMAP_DATA_DIR=/tmp/onemap-bench onemap generate --scale full
    ONEMAP_DATA_DIR=/tmp/onemap-bench python benchmarks/door_access.py --gate-share 1.0

With --reuse, the events already loaded (e.g. by `onemap door-access generate --gate-share 1.0`) are kept and only
the delivery, the rules and precision/recall are measured.

Replaces the database's door-access data (and adds warnings and cases for the hits).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import time
from typing import Any

from api.setup import initialise_database
from spatial.cases import open_cases_from_warnings
from spatial.database import database_url, raw_connection
from spatial.door_access.generate import DoorPlan, generate_door_access
from spatial.door_access.rules import measure_against_planted, run_door_rules
from spatial.door_access.store import import_events


def delivery(conn: object, rows: int) -> io.StringIO:
    """A CSV delivery of `rows` card swipes on the generated gates, one day old."""
    import psycopg

    assert isinstance(conn, psycopg.Connection)
    devices = [r[0] for r in conn.execute("SELECT code FROM onemap.door_device ORDER BY code").fetchall()]
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    out = io.StringIO()
    out.write("device,occurred_at,direction,key_kind,person_key,confidence\n")
    for i in range(rows):
        at = (start + dt.timedelta(seconds=i * 86_400 / rows)).strftime("%Y-%m-%dT%H:%M:%SZ")
        out.write(f"{devices[i % len(devices)]},{at},i,card,B{i % 50_000:08d},1\n")
    out.seek(0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--gate-share", type=float, default=1.0, help="share of urban villages with gates")
    parser.add_argument("--import-rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--reuse", action="store_true", help="keep the loaded events: measure delivery and rules")
    args = parser.parse_args()
    url = database_url()
    initialise_database(url)
    with raw_connection(url, autocommit=True) as conn:
        started = time.perf_counter()
        generated: dict[str, Any] | None = None
        if not args.reuse:
            generated = generate_door_access(conn, args.seed, DoorPlan(days=args.days, gate_share=args.gate_share))
        generate_seconds = time.perf_counter() - started
        events = conn.execute("SELECT count(*) FROM onemap.door_access_event").fetchone()
        conn.execute("ANALYZE onemap.door_access_event")
        csv = delivery(conn, args.import_rows)
        started = time.perf_counter()
        imported = import_events(conn, csv)["imported"]
        import_seconds = time.perf_counter() - started
        started = time.perf_counter()
        hits = run_door_rules(conn)
        rules_seconds = time.perf_counter() - started
        cases = open_cases_from_warnings(conn)["opened"]
        quality = measure_against_planted(conn)
    print(
        json.dumps(
            {
                "events": events[0] if events else 0,
                "generated": generated,
                "generate_and_copy_seconds": round(generate_seconds, 1) if generated else None,
                "generated_events_per_second": round(generated["events"] / generate_seconds) if generated else None,
                "imported": imported,
                "import_seconds": round(import_seconds, 2),
                "import_events_per_second": round(imported / import_seconds) if import_seconds else None,
                "rules_seconds": round(rules_seconds, 1),
                "hits": hits,
                "cases_opened": cases,
                "quality": quality,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
