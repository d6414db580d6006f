"""Fusion of delivered records: entities created from their authority, "unknown to the authority" issues from
the others, records without keys resolved with a confidence (an issue below the threshold), retirement with
history. In a database of its own: these tests add people, enterprises and buildings to the archives."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from spatial.database import libpq_url
from spatial.fusion import run_fusion
from spatial.identifiers import credit_code_check_char, id_number_check_char
from spatial.ingest import IngestOptions
from spatial.sources.deliveries import DeliveryRequest, deliver_file
from spatial.sources.mapping import parse_mapping
from tests.conftest import TEST_RATE, TEST_SEED, create_database


@pytest.fixture(scope="module")
def url(empty_database_url: str) -> str:
    from api.setup import initialise_database
    from spatial.district.load_district import load_district

    made = create_database(empty_database_url, "onemap_sources_fusion")
    initialise_database(made)
    load_district(made, "tiny", seed=TEST_SEED, disagreement_rate=TEST_RATE, progress=False)
    with psycopg.connect(libpq_url(made)) as conn:
        run_fusion(conn)  # the generator's records: the baseline
    return made


@pytest.fixture
def conn(url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(libpq_url(url)) as connection:
        yield connection


def _deliver(
    conn: psycopg.Connection,
    tmp_path: Path,
    department: str,
    name: str,
    text: str,
    mapping: str | None = None,
    kind: str | None = None,
    **options: Any,
) -> dict[str, Any]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    parsed = parse_mapping(yaml.safe_load(mapping), "test mapping") if mapping else None
    return deliver_file(
        conn, path, DeliveryRequest(department, name, "test", parsed, IngestOptions(**options), kind)
    )


def _new_id(serial: int) -> str:
    body = f"44030719900101{serial:03d}"
    return body + id_number_check_char(body)


def _issue(conn: psycopg.Connection, kind: str, key: str, attribute: str) -> tuple[Any, ...] | None:
    return conn.execute(
        "SELECT status, authoritative_department, values FROM onemap.verification_issue "
        "WHERE entity_kind = %s AND entity_key = %s AND attribute = %s",
        (kind, key, attribute),
    ).fetchone()


def _unit(conn: psycopg.Connection) -> tuple[str, str]:
    row = conn.execute(
        "SELECT g.code, u.room_no FROM onemap.house_unit u JOIN onemap.building g ON g.id = u.building_id "
        "WHERE u.use = 'residential' ORDER BY u.id LIMIT 1"
    ).fetchone()
    assert row is not None
    return str(row[0]), str(row[1])


def test_police_creates_a_person_the_grid_survey_houses(conn: psycopg.Connection, tmp_path: Path) -> None:
    newcomer = _new_id(901)
    building, room = _unit(conn)
    _deliver(conn, tmp_path, "police", "p.csv", f"公民身份号码,姓名,性别\n{newcomer},林新来,男\n")
    _deliver(
        conn,
        tmp_path,
        "grid",
        "g.csv",
        f"公民身份号码,姓名,联系电话,楼栋编码,房号\n{newcomer},林新来,13912345678,{building},{room}\n",
    )
    report = run_fusion(conn)
    assert report.counts["created_persons"] == 1 and report.rejected == 0
    person = conn.execute(
        "SELECT name, sex, birth_date::text, phone FROM onemap.person WHERE id_number = %s", (newcomer,)
    ).fetchone()
    assert person == ("林新来", "M", "1990-01-01", "13912345678")  # birth date from the ID number
    home = conn.execute(
        "SELECT g.code, u.room_no FROM onemap.residence r JOIN onemap.person p ON p.id = r.person_id "
        "JOIN onemap.house_unit u ON u.id = r.house_unit_id JOIN onemap.building g ON g.id = u.building_id "
        "WHERE p.id_number = %s AND r.valid_to IS NULL",
        (newcomer,),
    ).fetchone()
    assert home == (building, room)


def test_housing_creates_house_units_that_police_and_grid_then_house(
    conn: psycopg.Connection, tmp_path: Path
) -> None:
    """The survey's room table (房屋单元) makes the rooms; a person registered into one has a home there. A room
    of a building the archive lacks, or without its area, is refused with the reason; a bad area at delivery."""
    building, _ = _unit(conn)
    rooms = (
        "楼栋编码,单元号,房号,所在楼层,建筑面积,房屋用途\n"
        f"{building},2,2901,29,88.5,住宅\n"
        f"{building},2,2902,,61,商业\n"  # the floor from the room number
        "4403079999999999999,1,101,1,50,住宅\n"  # no such building
        f"{building},2,2903,29,很大,住宅\n"  # not an area
    )
    report = _deliver(conn, tmp_path, "housing", "rooms.csv", rooms, kind="house_unit")
    assert report["entity_kind"] == "house_unit" and report["accepted"] == 3 and report["rejected"] == 1
    assert "area_m2" in report["rejections"][0]["reason"]
    newcomer = _new_id(921)
    _deliver(conn, tmp_path, "police", "p2.csv", f"公民身份号码,姓名,性别\n{newcomer},黄新居,女\n")
    _deliver(
        conn, tmp_path, "grid", "g2.csv",
        f"公民身份号码,姓名,联系电话,楼栋编码,房号\n{newcomer},黄新居,13912340921,{building},2901\n",
    )  # fmt: skip
    fused = run_fusion(conn)
    assert fused.counts["created_house_units"] == 2, fused.counts
    made = conn.execute(
        "SELECT u.unit_no, u.room_no, u.floor, u.area_m2, u.use FROM onemap.house_unit u "
        "JOIN onemap.building g ON g.id = u.building_id WHERE g.code = %s AND u.unit_no = '2' ORDER BY u.room_no",
        (building,),
    ).fetchall()
    assert made == [("2", "2901", 29, 88.5, "residential"), ("2", "2902", 29, 61.0, "commercial")]
    assert [r["reason"] for r in fused.rejections] == [
        "references nothing: no house unit 4403079999999999999/1/101 in the archive (a new one needs its "
        "building in the archive and its area_m2)"
    ]
    home = conn.execute(
        "SELECT u.unit_no, u.room_no FROM onemap.residence r JOIN onemap.person p ON p.id = r.person_id "
        "JOIN onemap.house_unit u ON u.id = r.house_unit_id WHERE p.id_number = %s AND r.valid_to IS NULL",
        (newcomer,),
    ).fetchone()
    assert home == ("2", "2901")
    # The survey sent again with a new area: the archive takes it (housing is the authority).
    _deliver(
        conn, tmp_path, "housing", "rooms2.csv", f"楼栋编码,单元号,房号,建筑面积\n{building},2,2901,90\n",
        kind="house_unit",
    )  # fmt: skip
    run_fusion(conn)
    area = conn.execute(
        "SELECT u.area_m2 FROM onemap.house_unit u JOIN onemap.building g ON g.id = u.building_id "
        "WHERE g.code = %s AND u.unit_no = '2' AND u.room_no = '2901'",
        (building,),
    ).fetchone()
    assert area == (90.0,)


def test_a_key_one_digit_off_is_resolved_to_the_person_it_means(conn: psycopg.Connection, tmp_path: Path) -> None:
    """Social security types a known person's ID number one digit off (its system recomputed the check
    character): name, birth date and phone find the person, and the record takes the right key."""
    row = conn.execute(
        "SELECT id_number, name, birth_date::text, phone FROM onemap.person WHERE phone IS NOT NULL "
        "ORDER BY id LIMIT 1"
    ).fetchone()
    assert row is not None
    true_key, name, birth, phone = (str(v) for v in row)
    body = true_key[:14] + "7" + true_key[15:17]
    typo = body + id_number_check_char(body)
    report = _deliver(
        conn, tmp_path, "social_security", "typo.csv",
        f"公民身份号码,姓名,联系电话,出生日期\n{typo},{name},{phone},{birth}\n",
    )  # fmt: skip
    assert report["accepted"] == 1
    fused = run_fusion(conn)
    assert fused.rejected == 0, fused.rejections
    record = conn.execute(
        "SELECT r.entity_key, s.method, s.confidence FROM onemap.source_record r "
        "JOIN onemap.source_resolution s ON s.source_record_id = r.id WHERE r.delivery_id = %s",
        (report["id"],),
    ).fetchone()
    assert record is not None and record[0] == true_key and record[2] == 1.0
    assert f"sent key {typo} unknown" in record[1]
    assert _issue(conn, "person", typo, "existence") is None


def test_a_person_unknown_to_the_authority_is_an_issue(conn: psycopg.Connection, tmp_path: Path) -> None:
    stranger = _new_id(903)
    _deliver(
        conn,
        tmp_path,
        "social_security",
        "s.csv",
        f"公民身份号码,姓名,联系电话\n{stranger},郑无籍,13700001111\n",
    )
    report = run_fusion(conn)
    assert report.rejected == 1 and "unknown to the authority" in report.rejections[0]["reason"]
    assert conn.execute("SELECT 1 FROM onemap.person WHERE id_number = %s", (stranger,)).fetchone() is None
    issue = _issue(conn, "person", stranger, "existence")
    assert issue is not None and issue[0] == "open" and issue[1] == "police"
    assert issue[2]["social_security"]["value"] == "unknown to the authority"


def test_market_creates_enterprises_and_industry_cannot(conn: psycopg.Connection, tmp_path: Path) -> None:
    building, _ = _unit(conn)
    company = "91440307MA5G0001" + "0"
    company = company[:17] + credit_code_check_char(company[:17])
    shop = "92440307MA5G0002" + "0"
    shop = shop[:17] + credit_code_check_char(shop[:17])
    other = "91440307MA5G0003" + "0"
    other = other[:17] + credit_code_check_char(other[:17])
    _deliver(
        conn,
        tmp_path,
        "market",
        "m.csv",
        f"统一社会信用代码,企业名称,登记状态,楼栋编码\n{company},深圳新创科技有限公司,存续,{building}\n"
        f"{shop},龙岗区小林便利店,存续,{building}\n",
    )
    _deliver(conn, tmp_path, "industry", "i.csv", f"统一社会信用代码,企业名称\n{other},未登记工厂\n")
    report = run_fusion(conn)
    assert report.counts["created_enterprises"] == 2
    kinds: dict[str, str] = dict(
        conn.execute(
            "SELECT credit_code, kind FROM onemap.enterprise WHERE credit_code = ANY(%s)", ([company, shop],)
        ).fetchall()
    )
    assert kinds == {company: "company", shop: "individual"}
    issue = _issue(conn, "enterprise", other, "existence")
    assert issue is not None and issue[1] == "market"


def _footprint(conn: psycopg.Connection, scale: float = 1.0) -> tuple[str, str, dict[str, Any], int]:
    """The newest building's footprint, scaled about its centroid (1.25: IoU 1 / 1.25² = 0.64)."""
    row = conn.execute(
        "SELECT code, address, ST_AsGeoJSON(ST_Scale(geom, ST_MakePoint(%s, %s), ST_Centroid(geom))), floors "
        "FROM onemap.building ORDER BY id DESC LIMIT 1",
        (scale, scale),
    ).fetchone()
    assert row is not None
    return str(row[0]), str(row[1]), json.loads(row[2]), int(row[3])


def _geojson(features: list[dict[str, Any]]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)


def test_housing_creates_a_building_and_footprints_resolve_key_less_records(
    conn: psycopg.Connection, tmp_path: Path
) -> None:
    code, _, same, floors = _footprint(conn)
    _, _, shifted, _ = _footprint(conn, scale=1.25)  # a survey's footprint, drawn a little large: IoU 0.64
    new = dict(same)
    new_shape = conn.execute(
        "SELECT ST_AsGeoJSON(ST_Translate(geom, 0.002, 0.002)) FROM onemap.building ORDER BY id DESC LIMIT 1"
    ).fetchone()
    assert new_shape is not None
    new = json.loads(new_shape[0])
    features = [
        {"type": "Feature", "geometry": same, "properties": {"层数": floors + 1}},
        {"type": "Feature", "geometry": shifted, "properties": {"层数": floors + 2}},
        {
            "type": "Feature",
            "geometry": new,
            "properties": {"楼栋编码": "NEW-BLDG-1", "层数": 6, "用途": "住宅"},
        },
    ]
    report = _deliver(conn, tmp_path, "housing", "survey.geojson", _geojson(features))
    assert report["accepted"] == 3
    fused = run_fusion(conn)
    assert fused.counts["keyless_resolved"] == 1 and fused.counts["identity_issues"] == 1, json.dumps(
        fused.as_dict(), default=str
    )
    assert fused.counts["created_buildings"] == 1
    resolution = conn.execute(
        "SELECT entity_key, method, confidence FROM onemap.source_resolution ORDER BY source_record_id DESC LIMIT 1"
    ).fetchone()
    assert resolution is not None and resolution[0] == code and resolution[1] == "footprint"
    assert resolution[2] > 0.99
    row = conn.execute("SELECT floors FROM onemap.building WHERE code = %s", (code,)).fetchone()
    assert row is not None and row[0] == floors + 1  # housing is the authority on floors
    issue = _issue(conn, "building", code, "identity")
    assert issue is not None and issue[0] == "open", conn.execute(
        "SELECT entity_key, values FROM onemap.verification_issue WHERE attribute = 'identity'"
    ).fetchall()
    (value,) = issue[2].values()
    assert 0.5 <= value["confidence"] < 0.8 and value["method"] == "footprint"
    created = conn.execute(
        "SELECT floors, use, grid_code IS NOT NULL FROM onemap.building WHERE code = 'NEW-BLDG-1'"
    ).fetchone()
    assert created == (6, "residential", True)


def test_one_run_makes_a_building_its_room_its_resident_and_its_firm(
    conn: psycopg.Connection, tmp_path: Path
) -> None:
    """Housing, police, market and the grid deliver within one fusion run (one arrival window): the building and
    its room are made first, so the person and the enterprise that name it are made in it, and the person lives
    there."""
    shape = conn.execute(
        "SELECT ST_AsGeoJSON(ST_Translate(geom, -0.003, 0.003)) FROM onemap.building ORDER BY id LIMIT 1"
    ).fetchone()
    assert shape is not None
    feature = {"type": "Feature", "geometry": json.loads(shape[0]),
               "properties": {"楼栋编码": "NEW-BLDG-2", "层数": 5, "用途": "住宅"}}  # fmt: skip
    _deliver(conn, tmp_path, "housing", "one_run.geojson", _geojson([feature]))
    _deliver(
        conn, tmp_path, "housing", "one_run_rooms.csv", "楼栋编码,房号,建筑面积\nNEW-BLDG-2,301,70\n", kind="house_unit"
    )
    resident = _new_id(931)
    _deliver(conn, tmp_path, "police", "one_run_p.csv",
             f"公民身份号码,姓名,性别,楼栋编码,房号\n{resident},陈同批,男,NEW-BLDG-2,301\n")  # fmt: skip
    firm = "91440307MA5G0931" + "0"
    firm = firm[:17] + credit_code_check_char(firm[:17])
    _deliver(conn, tmp_path, "market", "one_run_m.csv",
             f"统一社会信用代码,企业名称,楼栋编码\n{firm},同批科技有限公司,NEW-BLDG-2\n")  # fmt: skip
    _deliver(conn, tmp_path, "grid", "one_run_g.csv",
             f"公民身份号码,姓名,联系电话,楼栋编码,房号\n{resident},陈同批,13912340931,NEW-BLDG-2,301\n")  # fmt: skip
    fused = run_fusion(conn)
    assert fused.rejected == 0, fused.rejections
    made = {k: fused.counts[k] for k in ("created_buildings", "created_house_units", "created_persons",
                                         "created_enterprises")}  # fmt: skip
    assert made == {"created_buildings": 1, "created_house_units": 1, "created_persons": 1, "created_enterprises": 1}
    home = conn.execute(
        "SELECT g.code, u.room_no FROM onemap.residence r JOIN onemap.person p ON p.id = r.person_id "
        "JOIN onemap.house_unit u ON u.id = r.house_unit_id JOIN onemap.building g ON g.id = u.building_id "
        "WHERE p.id_number = %s AND r.valid_to IS NULL",
        (resident,),
    ).fetchone()
    assert home == ("NEW-BLDG-2", "301")
    placed = conn.execute(
        "SELECT g.code FROM onemap.enterprise e JOIN onemap.building g ON g.id = e.building_id "
        "WHERE e.credit_code = %s",
        (firm,),
    ).fetchone()
    assert placed == ("NEW-BLDG-2",)


def test_key_less_people_by_name_birth_date_and_phone(conn: psycopg.Connection, tmp_path: Path) -> None:
    rows = conn.execute(
        "SELECT p.id_number, p.name, p.birth_date::text, p.phone, g.code, u.room_no FROM onemap.person p "
        "JOIN onemap.residence r ON r.person_id = p.id AND r.valid_to IS NULL "
        "JOIN onemap.house_unit u ON u.id = r.house_unit_id JOIN onemap.building g ON g.id = u.building_id "
        "WHERE p.phone IS NOT NULL ORDER BY p.id LIMIT 2"
    ).fetchall()
    (known, name, born, phone, building, room), other = rows
    text = (
        "姓名,出生日期,联系电话,楼栋编码,房号\n"
        f"{name},{born},{phone},{building},{room}\n"
        f"{other[1]},{other[2]},13000000000,{other[4]},{other[5]}\n"  # the phone differs: 0.7, below 0.8
    )
    mapping = (
        "entity_kind: residence\nrequired: [building_code, room_no]\ncolumns:\n  name: [姓名]\n"
        "  birth_date: [出生日期]\n  phone: [联系电话]\n  building_code: [楼栋编码]\n  room_no: [房号]\n"
    )
    delivered = _deliver(conn, tmp_path, "grid", "keyless.csv", text, mapping)
    assert delivered["flags"]["without_key_to_resolve"] == 2
    report = run_fusion(conn)
    assert report.counts["keyless_resolved"] == 1 and report.counts["identity_issues"] == 1
    keys = [
        r[0]
        for r in conn.execute(
            "SELECT entity_key FROM onemap.source_record WHERE delivery_id = %s ORDER BY id",
            (delivered["id"],),
        ).fetchall()
    ]
    assert keys == [known, ""]
    issue = _issue(conn, "person", str(other[0]), "identity")
    assert issue is not None and issue[2]["grid"]["confidence"] == 0.7


def test_mistyped_names_without_keys_are_still_found(conn: psycopg.Connection, tmp_path: Path) -> None:
    """Social security's clerk mistypes a given name and leaves the ID blank: birth date, phone and surname find
    the person (0.9). Industry mistypes a company's name and leaves the credit code blank: its address and a name
    one character off find the enterprise (0.85)."""
    person = conn.execute(
        "SELECT id_number, name, birth_date::text, phone FROM onemap.person "
        "WHERE phone IS NOT NULL AND length(name) >= 2 ORDER BY id DESC LIMIT 1"
    ).fetchone()
    firm = conn.execute(
        "SELECT e.credit_code, e.name, g.address FROM onemap.enterprise e "
        "JOIN onemap.building g ON g.id = e.building_id "
        "WHERE NOT EXISTS (SELECT 1 FROM onemap.enterprise o WHERE o.building_id = e.building_id AND o.id <> e.id) "
        "ORDER BY e.id LIMIT 1"
    ).fetchone()
    assert person is not None and firm is not None
    key, name, born, phone = (str(v) for v in person)
    typo = name[:-1] + ("淼" if name[-1] != "淼" else "泽")
    people = _deliver(
        conn, tmp_path, "social_security", "typo_name.csv",
        f"公民身份号码,姓名,联系电话,出生日期\n,{typo},{phone},{born}\n",
    )  # fmt: skip
    code, firm_name, address = (str(v) for v in firm)
    firm_typo = firm_name[:1] + "氪" + firm_name[2:]
    firms = _deliver(
        conn, tmp_path, "industry", "typo_firm.csv", f"统一社会信用代码,企业名称,地址\n,{firm_typo},{address}\n"
    )
    fused = run_fusion(conn)
    assert fused.rejected == 0, fused.rejections
    found = {
        str(r[0]): (r[1], r[2])
        for r in conn.execute(
            "SELECT r.entity_key, s.method, s.confidence FROM onemap.source_record r "
            "JOIN onemap.source_resolution s ON s.source_record_id = r.id WHERE r.delivery_id IN (%s, %s)",
            (people["id"], firms["id"]),
        ).fetchall()
    }
    assert found == {key: ("birth_date+phone+surname", 0.9), code: ("address+similar name", 0.85)}


def test_retirement_keeps_the_history(conn: psycopg.Connection, tmp_path: Path) -> None:
    person = conn.execute(
        "SELECT p.id_number, p.name, p.id FROM onemap.person p JOIN onemap.residence r ON r.person_id = p.id "
        "AND r.valid_to IS NULL ORDER BY p.id DESC LIMIT 1"
    ).fetchone()
    assert person is not None
    company = conn.execute(
        "SELECT credit_code, name FROM onemap.enterprise WHERE status = 'active' ORDER BY id LIMIT 1"
    ).fetchone()
    assert company is not None
    _deliver(
        conn, tmp_path, "police", "dead.csv", f"公民身份号码,姓名,人员状态\n{person[0]},{person[1]},死亡\n"
    )
    _deliver(
        conn,
        tmp_path,
        "market",
        "gone.csv",
        f"统一社会信用代码,企业名称,登记状态\n{company[0]},{company[1]},注销\n",
    )
    report = run_fusion(conn)
    assert report.counts["retired_residences"] >= 1
    open_homes = conn.execute(
        "SELECT count(*) FROM onemap.residence WHERE person_id = %s AND valid_to IS NULL", (person[2],)
    ).fetchone()
    assert open_homes is not None and open_homes[0] == 0
    history = conn.execute(
        "SELECT count(*) FROM onemap.residence WHERE person_id = %s AND valid_to >= current_date",
        (person[2],),
    ).fetchone()
    assert history is not None and history[0] >= 1  # the period ends; the residence stays for "as of"
    status = conn.execute(
        "SELECT status FROM onemap.enterprise WHERE credit_code = %s", (company[0],)
    ).fetchone()
    assert status == ("deregistered",)
    before = conn.execute(
        "SELECT status FROM onemap.enterprise_history WHERE credit_code = %s ORDER BY valid_to DESC LIMIT 1",
        (company[0],),
    ).fetchone()
    assert before == ("active",)


def test_arrival_triggers_fusion_once_across_workers(url: str, conn: psycopg.Connection, tmp_path: Path) -> None:
    from spatial.sources.arrivals import ArrivalFuser

    # Two workers listening, as two server processes would.
    workers = [ArrivalFuser(url, debounce_seconds=0.5).start() for _ in range(2)]
    try:
        runs_before = conn.execute("SELECT count(*) FROM onemap.fusion_run").fetchone()
        newcomer = _new_id(905)
        _deliver(conn, tmp_path, "police", "arrival.csv", f"公民身份号码,姓名\n{newcomer},许及时\n")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if conn.execute("SELECT 1 FROM onemap.person WHERE id_number = %s", (newcomer,)).fetchone():
                break
            time.sleep(0.2)
        else:
            pytest.fail("the delivered person did not reach the archive within 30 s")
        time.sleep(1.5)  # let the other worker look too
        runs_after = conn.execute("SELECT count(*) FROM onemap.fusion_run").fetchone()
        assert runs_before is not None and runs_after is not None
        assert runs_after[0] - runs_before[0] == 1  # one run, by one of the two workers
        assert sum(w.runs for w in workers) == 1
    finally:
        for worker in workers:
            worker.stop()
