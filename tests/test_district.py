"""Invariants of the generated district (on the session's `tiny` load) and determinism of the generator."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import psycopg
import pytest
import shapely

from spatial.district.admin import load_boundary
from spatial.district.generate import DistrictSpec, generate_district
from spatial.district.scale import SCALES
from spatial.district.sources import SOURCE_SPECS
from spatial.district.terrain import load_terrain
from spatial.identifiers import (
    credit_code_check_char,
    id_check_chars_valid,
    parse_credit_code,
    parse_id_number,
)
from tests.conftest import TEST_RATE

TINY = SCALES["tiny"]


def scalar(db: psycopg.Connection, query: str) -> object:
    row = db.execute(query).fetchone()
    assert row is not None
    return row[0]


def int_scalar(db: psycopg.Connection, query: str) -> int:
    value = scalar(db, query)
    assert isinstance(value, int), value
    return value


def float_scalar(db: psycopg.Connection, query: str) -> float:
    value = scalar(db, query)
    assert isinstance(value, float), value
    return value


def test_counts_match_the_scale(db: psycopg.Connection) -> None:
    assert scalar(db, "SELECT count(*) FROM onemap.building") == TINY.buildings
    assert scalar(db, "SELECT count(*) FROM onemap.person") == TINY.persons
    assert scalar(db, "SELECT count(*) FROM onemap.enterprise") == TINY.enterprises
    units = int_scalar(db, "SELECT count(*) FROM onemap.house_unit")
    assert abs(units - TINY.house_units) / TINY.house_units < 0.15


def test_admin_hierarchy_tiles_the_real_boundary(db: psycopg.Connection) -> None:
    levels: dict[str, int] = dict(
        db.execute("SELECT level, count(*) FROM onemap.admin_area GROUP BY level").fetchall()
    )
    assert levels["district"] == 1 and levels["street"] == 11
    assert levels["community"] == 11 * TINY.communities_per_street
    assert levels["grid"] == levels["community"] * TINY.grids_per_community
    # Children cover their parent without overlapping: areas add up, and the union equals the parent.
    for child, parent in (("street", "district"), ("community", "street"), ("grid", "community")):
        gap = float_scalar(
            db,
            f"""
            SELECT max(abs(p_area - c_area) / p_area) FROM (
              SELECT ST_Area(p.geom) AS p_area, sum(ST_Area(c.geom)) AS c_area
              FROM onemap.admin_area p JOIN onemap.admin_area c ON c.parent_code = p.code
              WHERE p.level = '{parent}' AND c.level = '{child}' GROUP BY p.code, p.geom) AS t""",
        )
        assert gap < 1e-6, f"{child}s do not tile their {parent}"
    district = scalar(db, "SELECT ST_Area(geom) FROM onemap.admin_area WHERE level = 'district'")
    assert district == pytest.approx(load_boundary().area, rel=1e-6)


def test_every_unit_resident_and_business_is_linked(db: psycopg.Connection) -> None:
    assert (
        scalar(
            db,
            """SELECT count(*) FROM onemap.house_unit u
                         LEFT JOIN onemap.building b ON b.id = u.building_id WHERE b.id IS NULL""",
        )
        == 0
    )
    assert (
        scalar(
            db,
            """SELECT count(*) FROM onemap.residence r
                         LEFT JOIN onemap.house_unit u ON u.id = r.house_unit_id WHERE u.id IS NULL""",
        )
        == 0
    )
    assert (
        scalar(
            db,
            """SELECT count(*) FROM onemap.person p WHERE NOT EXISTS (
                         SELECT 1 FROM onemap.residence r WHERE r.person_id = p.id AND r.valid_to IS NULL)""",
        )
        == 0
    )
    assert (
        scalar(
            db,
            """SELECT count(*) FROM onemap.residence r JOIN onemap.house_unit u ON u.id = r.house_unit_id
                         WHERE u.use <> 'residential'""",
        )
        == 0
    )
    assert (
        scalar(
            db,
            """SELECT count(*) FROM onemap.enterprise e JOIN onemap.house_unit u ON u.id = e.house_unit_id
                         WHERE u.building_id <> e.building_id OR u.use = 'residential'""",
        )
        == 0
    )


def test_buildings_stand_in_their_grid_on_buildable_land(db: psycopg.Connection) -> None:
    assert (
        scalar(
            db,
            """SELECT count(*) FROM onemap.building b JOIN onemap.admin_area g ON g.code = b.grid_code
                         WHERE NOT ST_Within(ST_PointOnSurface(b.geom), g.geom)""",
        )
        == 0
    )
    assert (
        scalar(
            db,
            """SELECT count(*) FROM onemap.building a JOIN onemap.building b
                         ON a.id < b.id AND ST_Intersects(a.geom, b.geom)""",
        )
        == 0
    )
    rows = db.execute(
        "SELECT ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom)) FROM onemap.building"
    ).fetchall()
    xy = np.array(rows, dtype=float)
    elevation, slope = load_terrain().sample(xy[:, 0], xy[:, 1])
    assert (elevation >= 1).all() and (slope <= 10.0).all()


def test_id_numbers_are_valid_and_agree_with_the_person(db: psycopg.Connection) -> None:
    people = pd.DataFrame(
        db.execute("SELECT id_number, sex, birth_date FROM onemap.person").fetchall(),
        columns=["id_number", "sex", "birth_date"],
    )
    assert id_check_chars_valid(people["id_number"].to_numpy(dtype=str)).all()
    for row in people.sample(300, random_state=1).itertuples():
        # itertuples types every field as any pandas scalar: narrow them to what psycopg returns.
        id_number, birth_date = row.id_number, row.birth_date
        assert isinstance(id_number, str) and isinstance(birth_date, dt.date)
        parsed = parse_id_number(id_number)
        assert parsed.birth_date == birth_date and parsed.sex == row.sex
        assert birth_date <= dt.date(2026, 1, 1)


def test_credit_codes_are_well_formed_and_bad_checks_flagged(db: psycopg.Connection) -> None:
    rows = db.execute("SELECT credit_code, credit_code_check_ok, kind FROM onemap.enterprise").fetchall()
    for code, check_ok, kind in rows:
        parsed = parse_credit_code(code)
        assert parsed.check_char_ok == check_ok
        assert (code[:2] == "92") == (kind == "individual")
    assert any(ok for _, ok, _ in rows)
    assert credit_code_check_char(rows[0][0][:17]) in "0123456789ABCDEFGHJKLMNPQRTUWXY"


def test_disagreements_are_planted_at_the_configured_rate(db: psycopg.Connection) -> None:
    verifying = [s.department for s in SOURCE_SPECS if s.verifies]
    records = int_scalar(
        db,
        "SELECT count(*) FROM onemap.source_record WHERE department = ANY(%s)".replace(
            "%s", "ARRAY[" + ",".join(f"'{d}'" for d in verifying) + "]"
        ),
    )
    planted = int_scalar(db, "SELECT count(*) FROM onemap.planted_disagreement")
    rate = planted / records
    assert rate == pytest.approx(TEST_RATE, rel=0.2)


def test_planted_values_really_differ_and_the_rest_agree(db: psycopg.Connection) -> None:
    # Floors: urban management verifies what housing (the authority) says.
    rows = db.execute("""
        SELECT u.entity_key, (u.payload->>'floors')::int, (h.payload->>'floors')::int, p.entity_key IS NOT NULL
        FROM onemap.source_record u
        JOIN onemap.source_record h ON h.entity_key = u.entity_key AND h.department = 'housing'
        LEFT JOIN onemap.planted_disagreement p ON p.department = 'urban_management'
             AND p.entity_key = u.entity_key AND p.attribute = 'floors'
        WHERE u.department = 'urban_management'""").fetchall()
    assert rows
    for _, verifying, authoritative, planted in rows:
        assert (verifying != authoritative) == planted


def test_generation_is_deterministic() -> None:
    def fingerprint(seed: int) -> list[str]:
        parts = generate_district(DistrictSpec(TINY, seed=seed, disagreement_rate=0.02))
        return [
            str(
                pd.util.hash_pandas_object(
                    p.rows.drop(columns="geometry", errors="ignore"), index=False
                ).sum()
            )
            for p in parts
        ]

    first = fingerprint(3)
    assert first == fingerprint(3)
    assert first != fingerprint(4)


def test_generated_buildings_are_plausible(db: psycopg.Connection) -> None:
    uses: dict[str, int] = dict(
        db.execute("SELECT use, count(*) FROM onemap.building GROUP BY use").fetchall()
    )
    assert uses["urban_village"] > uses.get("residential", 0) > 0 and uses["industrial"] > 0
    area = db.execute("""SELECT min(ST_Area(geom::geography)), max(ST_Area(geom::geography))
                         FROM onemap.building""").fetchone()
    assert area is not None and area[0] > 50 and area[1] < 6000
    towers = int_scalar(db, "SELECT min(floors) FROM onemap.building WHERE use = 'residential'")
    assert towers >= 12
    assert shapely.is_valid(load_boundary())
