"""Fusion benchmark: from scratch over every source record, then incrementally over 1% changed records, with
precision and recall against the generator's planted disagreements.

    ONEMAP_DATA_DIR=/tmp/onemap-bench-fu .venv/bin/onemap generate --scale small
    ONEMAP_DATA_DIR=/tmp/onemap-bench-fu .venv/bin/python benchmarks/fusion_small.py

Resets fusion state first (issues, provenance, processed marks), so it can be run again on the same database.
"""

from __future__ import annotations

import json
import time

from api.setup import initialise_database
from spatial.database import database_url, raw_connection
from spatial.fusion import measure_against_planted, reset_fusion, run_fusion

# 1% of the records sent again, a tenth of those changed: a verifying department's value shifted.
RESEND = """
INSERT INTO onemap.source_record (department, entity_kind, entity_key, payload)
SELECT department, entity_kind, entity_key,
       CASE WHEN random() < 0.1 AND payload ? 'floors' AND department = 'urban_management'
            THEN jsonb_set(payload, '{floors}', to_jsonb((payload ->> 'floors')::int + 1))
            ELSE payload END
FROM onemap.source_record TABLESAMPLE BERNOULLI (1) REPEATABLE (7)
"""


def main() -> None:
    url = database_url()
    initialise_database(url)
    with raw_connection(url, autocommit=True) as conn:
        reset_fusion(conn)
        conn.execute("VACUUM ANALYZE onemap.source_record")
        started = time.perf_counter()
        scratch = run_fusion(conn)
        scratch_seconds = time.perf_counter() - started
        quality = measure_against_planted(conn)
        conn.execute(RESEND)
        started = time.perf_counter()
        incremental = run_fusion(conn)
        incremental_seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "from_scratch": {
                    "records": scratch.records,
                    "seconds": round(scratch_seconds, 1),
                    "steps": scratch.step_seconds,
                    "issues_opened": scratch.counts.get("opened"),
                },
                "incremental_1pct": {
                    "records": incremental.records,
                    "seconds": round(incremental_seconds, 1),
                    "steps": incremental.step_seconds,
                    "opened": incremental.counts.get("opened"),
                },
                "precision": round(quality.precision, 4),
                "recall": round(quality.recall, 4),
                "planted": quality.planted,
                "found": quality.found,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
