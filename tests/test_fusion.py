"""Fusion against the `tiny` district: planted disagreements found, incremental runs, bad rules and records,
provenance per attribute."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Jsonb

from spatial.database import libpq_url
from spatial.fusion import (
    FusionReport,
    load_rule_file,
    measure_against_planted,
    provenance_for_building,
    reset_fusion,
    run_fusion,
)


@pytest.fixture(scope="module")
def fusion_conn(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        yield conn


@pytest.fixture(scope="module")
def first_run(fusion_conn: psycopg.Connection) -> FusionReport:
    reset_fusion(fusion_conn)  # other test modules may have fused the session database already
    return run_fusion(fusion_conn)


def _send(conn: psycopg.Connection, department: str, kind: str, key: str, payload: dict[str, object]) -> int:
    with conn.transaction():
        row = conn.execute(
            "INSERT INTO onemap.source_record (department, entity_kind, entity_key, payload) "
            "VALUES (%s, %s, %s, %s) RETURNING id",
            (department, kind, key, Jsonb(payload)),
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_planted_disagreements_are_found(first_run: FusionReport, fusion_conn: psycopg.Connection) -> None:
    assert first_run.records > 0
    # The district is born with 2 % of some departments' keys blank or garbled: the few rows resolution cannot
    # place (below its threshold) are refused, each with its identity issue; nothing else is.
    assert first_run.rejected <= 5, first_run.rejections
    assert all(r["reason"].startswith("no key") or "unknown to the authority" in r["reason"]
               for r in first_run.rejections), first_run.rejections  # fmt: skip
    quality = measure_against_planted(fusion_conn)
    assert quality.planted > 100
    assert quality.precision >= 0.95, str(quality)
    assert quality.recall >= 0.95, str(quality)


def test_second_run_has_nothing_to_do(first_run: FusionReport, fusion_conn: psycopg.Connection) -> None:
    assert run_fusion(fusion_conn).records == 0


def test_incremental_disagreement_opens_then_resolves(
    first_run: FusionReport, fusion_conn: psycopg.Connection
) -> None:
    code, floors, use, _ = _building_without_issue(fusion_conn, 0)
    _send(fusion_conn, "urban_management", "building", code, {"code": code, "floors": floors + 2, "use": use})
    report = run_fusion(fusion_conn)
    assert report.records == 1 and report.counts["opened"] == 1
    issue = fusion_conn.execute(
        "SELECT status, authoritative_department, values, grid_code FROM onemap.verification_issue "
        "WHERE entity_kind = 'building' AND entity_key = %s AND attribute = 'floors'",
        (code,),
    ).fetchone()
    assert issue is not None
    assert issue[0] == "open" and issue[1] == "housing" and issue[3] is not None
    assert issue[2]["urban_management"] == {"value": str(floors + 2), "agrees": False}
    assert issue[2]["housing"]["value"] == str(floors)
    # Full-width digits and spaces still agree under the `number` match.
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in str(floors))
    _send(
        fusion_conn,
        "urban_management",
        "building",
        code,
        {"code": code, "floors": f" {fullwidth} ", "use": use},
    )
    report = run_fusion(fusion_conn)
    assert report.counts["resolved"] == 1
    status = fusion_conn.execute(
        "SELECT status, decided_by FROM onemap.verification_issue WHERE entity_kind = 'building' "
        "AND entity_key = %s AND attribute = 'floors'",
        (code,),
    ).fetchone()
    assert status == ("dismissed", "onemap fuse")


def test_authoritative_value_updates_the_archive(
    first_run: FusionReport, fusion_conn: psycopg.Connection
) -> None:
    row = fusion_conn.execute(
        "SELECT code, floors, use, built_year FROM onemap.building ORDER BY code DESC LIMIT 1"
    ).fetchone()
    assert row is not None
    code, floors, use, built_year = row
    _send(
        fusion_conn,
        "housing",
        "building",
        code,
        {"code": code, "floors": floors + 1, "use": use, "built_year": built_year},
    )
    run_fusion(fusion_conn)
    assert fusion_conn.execute("SELECT floors FROM onemap.building WHERE code = %s", (code,)).fetchone() == (
        floors + 1,
    )
    provenance = provenance_for_building(fusion_conn, code)
    assert provenance["building"]["floors"]["source"] == "housing"
    assert provenance["building"]["use"]["checks"] == {"urban_management": True}
    # the housing record that changed the floors is the one named as the source
    latest = fusion_conn.execute(
        "SELECT max(id) FROM onemap.source_record WHERE department = 'housing' AND entity_key = %s", (code,)
    ).fetchone()
    assert latest is not None and provenance["building"]["floors"]["record"] == latest[0]


def test_a_new_record_moves_only_its_departments_provenance(
    first_run: FusionReport, fusion_conn: psycopg.Connection
) -> None:
    code, floors, use, built_year = _building_without_issue(fusion_conn, 5)
    before = _provenance_rows(fusion_conn, code)
    assert {"housing", "urban_management"} <= before.keys()
    record = _send(
        fusion_conn, "housing", "building", code,
        {"code": code, "floors": floors, "use": use, "built_year": built_year},
    )
    run_fusion(fusion_conn)
    after = _provenance_rows(fusion_conn, code)
    assert after["housing"][0] == record and after["housing"][1] > before["housing"][1]
    # The other departments sent nothing new: their rows are left exactly as they were.
    assert {d: row for d, row in after.items() if d != "housing"} == {
        d: row for d, row in before.items() if d != "housing"
    }


def _building_without_issue(conn: psycopg.Connection, offset: int) -> tuple[str, int, str, int]:
    """The building at `offset` among those without any verification issue, in code order."""
    row = conn.execute(
        "SELECT g.code, g.floors, g.use, g.built_year FROM onemap.building g WHERE NOT EXISTS (SELECT 1 FROM "
        "onemap.verification_issue i WHERE i.entity_kind = 'building' AND i.entity_key = g.code) "
        "ORDER BY g.code OFFSET %s LIMIT 1",
        (offset,),
    ).fetchone()
    assert row is not None
    return row


def _provenance_rows(conn: psycopg.Connection, code: str) -> dict[str, tuple[int, datetime]]:
    rows = conn.execute(
        "SELECT department, source_record_id, fused_at FROM onemap.attribute_provenance "
        "WHERE entity_kind = 'building' AND entity_key = %s",
        (code,),
    ).fetchall()
    return {department: (record, fused_at) for department, record, fused_at in rows}


def test_records_referencing_nothing_are_rejected_and_the_rest_applied(
    first_run: FusionReport, fusion_conn: psycopg.Connection
) -> None:
    person = fusion_conn.execute("SELECT id_number, name FROM onemap.person ORDER BY id LIMIT 1").fetchone()
    assert person is not None
    unknown = _send(
        fusion_conn,
        "grid",
        "residence",
        "110101199001011237",
        {"id_number": "110101199001011237", "name": "王五", "building_code": "nowhere"},
    )
    no_building = _send(
        fusion_conn,
        "police",
        "person",
        person[0],
        {"id_number": person[0], "name": person[1], "building_code": "NO-SUCH-BUILDING", "room_no": "101"},
    )
    good = _send(
        fusion_conn, "social_security", "person", person[0], {"id_number": person[0], "name": person[1]}
    )
    report = run_fusion(fusion_conn)
    assert report.records == 3 and report.rejected == 2
    reasons = {r["source_record_id"]: r["reason"] for r in report.rejections}
    assert "no person with ID number 110101199001011237" in reasons[unknown]
    assert "no building with code NO-SUCH-BUILDING" in reasons[no_building]
    # Rejected or not, the records are behind the run's high-water mark: the next run does not read them.
    mark = fusion_conn.execute("SELECT max(last_record_id) FROM onemap.fusion_run").fetchone()
    assert mark is not None and mark[0] >= max(unknown, no_building, good)
    assert run_fusion(fusion_conn).records == 0


def test_rule_file_with_unknown_attribute_and_department(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        "rules:\n"
        "  - {entity: person, attribute: shoe_size, authority: police, verifiers: [], match: exact}\n"
        "  - {entity: person, attribute: name, authority: police, verifiers: [tax_bureau]}\n"
        "  - {entity: building, attribute: floors, authority: housing, verifiers: [urban_management], "
        "match: number}\n",
        encoding="utf-8",
    )
    rules = load_rule_file(path)
    messages = [str(e) for e in rules.errors]
    assert len(messages) == 2
    assert "rule 1" in messages[0] and "unknown attribute 'shoe_size'" in messages[0]
    assert "rule 2" in messages[1] and "unknown department 'tax_bureau'" in messages[1]
    assert [(r.entity, r.attribute) for r in rules.rules] == [("building", "floors")]


def test_broken_rule_file_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("rules: [ {entity: person", encoding="utf-8")
    rules = load_rule_file(path)
    assert not rules.rules and "cannot read the rule file" in str(rules.errors[0])


def test_packaged_rules_are_valid() -> None:
    rules = load_rule_file()
    assert not rules.errors
    assert rules.rule("person", "name") is not None


def test_dates_parse_as_records_carry_them_even_in_parallel_queries(fusion_conn: psycopg.Connection) -> None:
    cases = {"2020-01-02": dt.date(2020, 1, 2), "2020-1-2": dt.date(2020, 1, 2), "19900101": dt.date(1990, 1, 1),
             " 2024-02-29 ": dt.date(2024, 2, 29), "2023-02-29": None, "2023-02-30": None, "2020-13-01": None,
             "2020-00-10": None, "02/01/2020": None, "soon": None, "": None, None: None,
             # digits only, the month taking two when at least one is left for the day (as \d{4}-?\d{1,2}-?\d{1,2})
             "2020105": dt.date(2020, 10, 5), "2020-125": dt.date(2020, 12, 5), "202011": dt.date(2020, 1, 1),
             "2020131": None, "2020--1-1": None}  # fmt: skip
    for text, expected in cases.items():
        assert fusion_conn.execute("SELECT onemap.try_date(%s)", [text]).fetchone() == (expected,), text
    # A step whose plan goes parallel used to fail: the parser must run inside parallel workers.
    query = "SELECT count(onemap.try_date(to_char(birth_date, 'YYYYMMDD'))) FROM onemap.person"
    with fusion_conn.transaction():
        for setting in ("parallel_setup_cost", "parallel_tuple_cost", "min_parallel_table_scan_size"):
            fusion_conn.execute(f"SET LOCAL {setting} = 0")
        fusion_conn.execute("SET LOCAL max_parallel_workers_per_gather = 2")
        plan = "\n".join(row[0] for row in fusion_conn.execute(f"EXPLAIN {query}").fetchall())
        assert "Gather" in plan, plan
        parsed = fusion_conn.execute(query).fetchone()
    assert parsed == fusion_conn.execute("SELECT count(*) FROM onemap.person").fetchone()
