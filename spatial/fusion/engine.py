"""The fusion engine: incremental, set-based, in one transaction.

Each run takes the source records not yet processed, rejects those it cannot use (with a reason each),
compares
every department's latest value of each touched attribute with the authoritative one, opens, reopens or
resolves verification issues, records provenance per attribute, writes the authoritative values into the
archives and marks the records processed. All of it happens in PostgreSQL (``sql/0*.sql``); a failure rolls
the whole run back, so nothing is half-applied.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from spatial.errors import InvalidInput
from spatial.fusion.authority import check_authorities
from spatial.fusion.rules import RuleSet, apply_overrides, load_rule_file
from spatial.fusion.statements import run_file

# Serialises fusion runs: two runs over the same unprocessed records would race on the issues.
FUSION_LOCK = 7_170_001
WORK_SCHEMA = "onemap_fusion_work"
STEPS = (
    "01b_create_places.sql",
    "01c_create_occupants.sql",
    "01d_resolve.sql",
    "02_reject.sql",
    "03_latest.sql",
    "04_claims.sql",
    "05_issues.sql",
    "06_resolve.sql",
    "07_provenance.sql",
    "08_archive.sql",
    "09_residence.sql",
    "09b_retire.sql",
    "10_finish.sql",
)
# A run that creates this many entities of a kind refreshes that archive's statistics before the next step: the
# planner otherwise plans the next joins for the table as it was (empty, when a district is born from its
# deliveries) and checks 250,000 persons' buildings by scanning the building table for each (minutes, not
# seconds). Autovacuum would only look after the run commits.
ANALYZE_AFTER_CREATED = 1_000
CREATED_TABLES = {
    "created_buildings": "onemap.building",
    "created_house_units": "onemap.house_unit",
    "created_persons": "onemap.person",
    "created_enterprises": "onemap.enterprise",
}


def analyze_grown(conn: psycopg.Connection, counts: dict[str, Any]) -> None:
    grown = [table for count, table in CREATED_TABLES.items() if int(counts.get(count) or 0) >= ANALYZE_AFTER_CREATED]
    if grown:
        conn.execute(f"ANALYZE {', '.join(grown)}")


@dataclass
class FusionReport:
    run_id: int
    records: int = 0
    rejected: int = 0
    counts: dict[str, Any] = field(
        default_factory=dict
    )  # issues opened / reopened / resolved, archive updates
    rule_errors: list[str] = field(default_factory=list)
    rejections: list[dict[str, Any]] = field(default_factory=list)  # a sample: record id and reason
    seconds: float = 0.0
    step_seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "records": self.records,
            "rejected": self.rejected,
            **self.counts,
            "rule_errors": self.rule_errors,
            "rejections": self.rejections,
            "seconds": round(self.seconds, 2),
            "step_seconds": self.step_seconds,
        }


def current_rules(conn: psycopg.Connection, base: RuleSet | None = None) -> RuleSet:
    """The packaged rules (or `base`) with the admins' overrides from onemap.fusion_rule applied."""
    with conn.cursor(row_factory=dict_row) as cursor:
        rows = cursor.execute(
            "SELECT entity_kind, attribute, authority, verifiers, match, threshold "
            "FROM onemap.fusion_rule ORDER BY entity_kind, attribute"
        ).fetchall()
    return apply_overrides(base or load_rule_file(), rows)


def run_fusion(
    conn: psycopg.Connection, rules: RuleSet | None = None, sample_rejections: int = 20, upto: int | None = None
) -> FusionReport:
    """Fuse every source record above the last run's high-water mark, up to `upto` (a ``high_water_mark``
    taken earlier: records delivered since wait for the next run) or all committed ones; commits on success,
    rolls everything back on failure (the mark then stays where it was)."""
    started = time.perf_counter()
    upto = high_water_mark(conn) if upto is None else upto
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (FUSION_LOCK,))
        # Sorting and hashing millions of claims in memory instead of on disk.
        conn.execute("SET LOCAL work_mem = '256MB'")
        # The run's work tables live in a schema of their own, as UNLOGGED tables rather than TEMP ones:
        # PostgreSQL never scans temporary tables in parallel, and these steps are the bulk of a run. Runs are
        # serialised by the advisory lock above, and a failed run rolls the schema back with everything else.
        conn.execute(f"DROP SCHEMA IF EXISTS {WORK_SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {WORK_SCHEMA}")
        conn.execute(f"SET LOCAL search_path = {WORK_SCHEMA}, public")
        ruleset = current_rules(conn, rules)
        if not ruleset.rules:
            raise InvalidInput("no valid fusion rule: " + "; ".join(str(e) for e in ruleset.errors))
        check_authorities(conn, ruleset)
        run_id = _start_run(conn)
        report = FusionReport(run_id, rule_errors=[str(e) for e in ruleset.errors])
        _load_rules(conn, ruleset)
        after = _scalar(
            conn,
            "SELECT coalesce(max(last_record_id), 0) FROM onemap.fusion_run WHERE finished_at IS NOT NULL",
        )
        run_file(conn, "01_batch.sql", {"after": after, "upto": upto})
        report.records = _scalar(conn, "SELECT count(*) FROM fusion_batch")
        for step in STEPS:
            step_started = time.perf_counter()
            params = {"run_id": run_id, "upto": upto, "threshold": ruleset.resolution_threshold}
            counts = run_file(conn, step, params)
            analyze_grown(conn, counts)
            report.counts.update(counts)
            report.step_seconds[step.removesuffix(".sql")] = round(time.perf_counter() - step_started, 2)
        report.rejected = _scalar(conn, "SELECT count(*) FROM fusion_batch WHERE rejected")
        report.rejections = _rejections(conn, run_id, sample_rejections)
        report.seconds = time.perf_counter() - started
        conn.execute(f"DROP SCHEMA {WORK_SCHEMA} CASCADE")
        conn.execute(
            "UPDATE onemap.fusion_run SET finished_at = now(), report = %s WHERE id = %s",
            (Jsonb(report.as_dict()), run_id),
        )
    return report


def high_water_mark(conn: psycopg.Connection) -> int:
    """The highest source record id below which every record is committed.

    Ids come from a sequence, so a record with a lower id can still be committing when a higher one is visible.
    SHARE mode waits for every transaction writing source_record (they hold ROW EXCLUSIVE from before they
    draw an id) and blocks new writers only for this short transaction: after it, no record at or below the
    mark can appear any more."""
    with conn.transaction():
        conn.execute("LOCK TABLE onemap.source_record IN SHARE MODE")
        return _scalar(conn, "SELECT coalesce(max(id), 0) FROM onemap.source_record")


def _start_run(conn: psycopg.Connection) -> int:
    return _scalar(conn, "INSERT INTO onemap.fusion_run DEFAULT VALUES RETURNING id")


def _load_rules(conn: psycopg.Connection, ruleset: RuleSet) -> None:
    conn.execute(
        "CREATE UNLOGGED TABLE fusion_rule_now (entity_kind text, attribute text, department text, "
        "is_authority boolean, match text, threshold double precision)"
    )
    conn.execute("CREATE UNLOGGED TABLE fusion_source_kind (entity_kind text, source_kind text)")
    conn.execute("CREATE UNLOGGED TABLE fusion_creator (entity_kind text, department text)")
    with conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO fusion_rule_now VALUES (%s, %s, %s, %s, %s, %s)",
            [
                (r.entity, r.attribute, d, d == r.authority, r.match, r.threshold)
                for r in ruleset.rules
                for d in r.departments
            ],
        )
        cursor.executemany(
            "INSERT INTO fusion_source_kind VALUES (%s, %s)",
            [(kind, source) for kind, sources in ruleset.sources.items() for source in sources],
        )
        cursor.executemany("INSERT INTO fusion_creator VALUES (%s, %s)", list(ruleset.creators.items()))
    # Without statistics the planner assumes ~1,000 rows in each, and hashes whole tables against them.
    conn.execute("ANALYZE fusion_rule_now, fusion_source_kind, fusion_creator")


def _rejections(conn: psycopg.Connection, run_id: int, limit: int) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cursor:
        return cursor.execute(
            "SELECT source_record_id, reason FROM onemap.fusion_rejection WHERE run_id = %s "
            "ORDER BY source_record_id LIMIT %s",
            (run_id, limit),
        ).fetchall()


def _scalar(conn: psycopg.Connection, query: str) -> int:
    row = conn.execute(query).fetchone()
    assert row is not None
    return int(row[0])


def reset_fusion(conn: psycopg.Connection) -> None:
    """Forget every fusion run, so the next one starts from scratch (benchmarks, tests)."""
    with conn.transaction():
        conn.execute(
            "TRUNCATE onemap.attribute_provenance, onemap.fusion_rejection, onemap.fusion_run CASCADE"
        )
        conn.execute("DELETE FROM onemap.verification_issue")
