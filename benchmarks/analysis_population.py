"""Population per grid in PostGIS: median wall time of the analysis query (residents, age bands, migrants).

    ONEMAP_DATA_DIR=/tmp/onemap-bench-a python benchmarks/analysis_population.py [--replicate 20]

``--replicate K`` first grows the loaded district to K times its persons and residences (copies with new ids and
ID numbers, living in the same units), e.g. `small` (250k persons) x 20 = 5M persons, when the `full` district
cannot be generated; it is idempotent (skips when the copies exist).
"""

from __future__ import annotations

import argparse
import statistics
import time

import psycopg

from spatial.analysis import connect
from spatial.analysis.population import population_table
from spatial.analysis.viewer import ANALYST
from spatial.database import database_url, libpq_url

OFFSET = 100_000_000  # copy k gets ids + k * OFFSET


def replicate(url: str, copies: int) -> None:
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        have = conn.execute("SELECT count(*) FROM onemap.person WHERE id < %s", (OFFSET,)).fetchone()
        total = conn.execute("SELECT count(*) FROM onemap.person").fetchone()
        assert have and total
        if total[0] >= have[0] * copies:
            return
        for k in range(1, copies):
            conn.execute(
                "INSERT INTO onemap.person (id, id_number, name, sex, birth_date, phone, household_type, valid_from) "
                "SELECT id + %(o)s, lpad((id + %(o)s)::text, 17, '0') || 'X', name, sex, birth_date, phone, "
                "household_type, valid_from FROM onemap.person WHERE id < %(base)s ON CONFLICT DO NOTHING",
                {"o": k * OFFSET, "base": OFFSET})
            conn.execute(
                "INSERT INTO onemap.residence (id, person_id, house_unit_id, building_id, relation, valid_from, "
                "valid_to) SELECT id + %(o)s, person_id + %(o)s, house_unit_id, building_id, relation, valid_from, "
                "valid_to "
                "FROM onemap.residence WHERE id < %(base)s ON CONFLICT DO NOTHING", {"o": k * OFFSET, "base": OFFSET})
        conn.execute("VACUUM ANALYZE onemap.person")
        conn.execute("VACUUM ANALYZE onemap.residence")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replicate", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--as-of", default="2025-12-31")
    args = parser.parse_args()
    url = database_url()
    if args.replicate > 1:
        started = time.perf_counter()
        replicate(url, args.replicate)
        print(f"replicated x{args.replicate} in {time.perf_counter() - started:.0f} s")
    engine = connect(url)
    timings = []
    for _ in range(args.runs + 1):  # the first run warms the cache and is not counted
        started = time.perf_counter()
        table = population_table(engine, ANALYST, "grid", args.as_of)
        timings.append(time.perf_counter() - started)
    print(f"population per grid: {table['persons'].sum():,} residents in {len(table)} grids; "
          f"median {statistics.median(timings[1:]):.2f} s, min {min(timings[1:]):.2f} s over {args.runs} runs")


if __name__ == "__main__":
    main()
