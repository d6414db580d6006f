"""Deliveries in the departments' own formats: GBK CSV with Chinese headers (CLI and HTTP), xlsx with a title
row, two header rows and several sheets, a GBK shapefile in EPSG:4547, real GeoJSON and GeoPackage files;
row checks and the report; every kind of bad input refused with nothing written."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import psycopg
import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook

from api.auth import create_key
from spatial.database import engine_for
from spatial.identifiers import credit_code_check_char, id_number_check_char
from tests._layer_helpers import make_keys
from tests._sources_helpers import police_csv, real_data, sources_client
from tests.test_cli import onemap


@pytest.fixture(scope="module")
def keys(database_url: str) -> dict[str, str]:
    made = make_keys(database_url)
    with engine_for(database_url).begin() as conn:
        for department in ("market", "urban_management"):
            made[department] = create_key(conn, f"test-{department}", "department_editor", department).key
        revoked = create_key(conn, "test-revoked", "department_editor", "police")
        conn.exec_driver_sql(
            "UPDATE onemap.api_key SET revoked_at = now() WHERE id = %(id)s", {"id": revoked.id}
        )
    made["revoked"] = revoked.key
    return made


@pytest.fixture(scope="module")
def client(platform_env: str) -> Iterator[TestClient]:
    yield from sources_client()


@pytest.fixture(scope="module")
def persons(database_url: str) -> list[tuple[str, str, str, str]]:
    from spatial.database import libpq_url

    with psycopg.connect(libpq_url(database_url)) as conn:
        rows = conn.execute(
            "SELECT id_number, name, sex, birth_date::text FROM onemap.person ORDER BY id LIMIT 6"
        ).fetchall()
    return [(str(a), str(b), str(c), str(d)) for a, b, c, d in rows]


def _police_rows(persons: list[tuple[str, str, str, str]], tag: str) -> list[list[str]]:
    rows = [
        [i, n, "男" if s == "M" else "女", d.replace("-", "/"), "", "", f"{tag} 备注{k}"]
        for k, (i, n, s, d) in enumerate(persons[:4])
    ]
    wrong = persons[4][0][:17] + ("0" if persons[4][0][17] != "0" else "1")
    rows.append([wrong, persons[4][1], "男", persons[4][3], "", "", tag])  # wrong check character
    body15 = "440307850101123"  # a first-generation card: upgraded to 18 characters
    rows.append([body15, "陈旧证", "男", "1985-01-01", "", "", tag])
    rows.append(["", "无证人", "女", "1990-02-03", "", "", tag])  # no key and not enough to resolve
    return rows


def _records(db: psycopg.Connection, delivery_id: int) -> list[tuple[str, dict[str, Any]]]:
    return [
        (str(k), p)
        for k, p in db.execute(
            "SELECT entity_key, payload FROM onemap.source_record WHERE delivery_id = %s ORDER BY id",
            (delivery_id,),
        ).fetchall()
    ]


def _counts(db: psycopg.Connection) -> tuple[int, int]:
    row = db.execute(
        "SELECT (SELECT count(*) FROM onemap.source_record), (SELECT count(*) FROM onemap.source_delivery)"
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _deliver(
    client: TestClient, key: str | None, department: str, name: str, content: bytes, **form: Any
) -> Any:
    files: dict[str, Any] = {"file": (name, io.BytesIO(content))}
    if "mapping" in form:
        files["mapping"] = ("mapping.yaml", io.BytesIO(form.pop("mapping").encode()))
    data = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in form.items()}
    headers = {"X-API-Key": key} if key else {}
    return client.post(f"/sources/{department}/deliveries", headers=headers, data=data, files=files)


def _refused(response: Any, db: psycopg.Connection, before: tuple[int, int], *words: str) -> None:
    assert 400 <= response.status_code < 500, response.text
    detail = response.json()["detail"]
    for word in words:
        assert word.lower() in detail.lower(), detail
    assert "Traceback" not in detail and "psycopg" not in detail
    assert _counts(db) == before


# ---------------------------------------------------------------------------------------------- CLI


def test_cli_delivers_a_gbk_police_register_and_a_resent_file_is_a_no_op(
    database_url: str, db: psycopg.Connection, persons: list[tuple[str, str, str, str]], tmp_path: Path
) -> None:
    path = tmp_path / "户籍人口.csv"
    path.write_bytes(police_csv(_police_rows(persons, "cli")))
    result = onemap("sources", "deliver", "--department", "police", "--no-fuse", str(path), url=database_url)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert (summary["rows"], summary["accepted"], summary["rejected"]) == (7, 5, 2)
    assert summary["flags"]["upgraded_15_digit_id_numbers"] == 1 and not summary["duplicate"]
    assert "row 5 rejected: ID number" in result.stderr and "check character" in result.stderr
    records = dict(_records(db, summary["id"]))
    first = records[persons[0][0]]
    assert first["name"] == persons[0][1] and first["birth_date"] == persons[0][3]
    assert first["sex"] == persons[0][2] and first["unmapped"] == {"备注": "cli 备注0"}
    assert "440307198501011233"[:17] in "".join(records)  # the 15-digit number, upgraded
    before = _counts(db)
    again = onemap("sources", "deliver", "--department", "police", "--no-fuse", str(path), url=database_url)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout.strip().splitlines()[-1])["duplicate"] is True
    assert _counts(db) == before


def test_cli_names_a_missing_required_column(
    database_url: str, db: psycopg.Connection, tmp_path: Path
) -> None:
    path = tmp_path / "no_name.csv"
    path.write_text("公民身份号码,性别\n110101199003071234,男\n", encoding="utf-8")
    before = _counts(db)
    result = onemap("sources", "deliver", "--department", "police", "--no-fuse", str(path), url=database_url)
    assert result.returncode == 2
    assert "姓名 (name)" in result.stderr and "Traceback" not in result.stderr
    assert _counts(db) == before


# ---------------------------------------------------------------------------------------------- HTTP


def test_http_delivery_report_and_csv_download(
    client: TestClient, keys: dict[str, str], db: psycopg.Connection, persons: list[tuple[str, str, str, str]]
) -> None:
    response = _deliver(
        client, keys["police"], "police", "户籍.csv", police_csv(_police_rows(persons, "http"))
    )
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["encoding"] == "GB18030" and report["format"] == "CSV"
    assert (report["accepted"], report["rejected"]) == (5, 2)
    assert {r["row"] for r in report["rejections"]} == {5, 7}
    download = client.get(f"/sources/deliveries/{report['id']}/report", headers={"X-API-Key": keys["police"]})
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0] == ["row", "entity_key", "status", "reason"]
    assert [r[0] for r in rows[1:]] == ["5", "7"] and "check character" in rows[1][3]
    assert (
        client.get(f"/sources/deliveries/{report['id']}", headers={"X-API-Key": keys["water"]}).status_code
        == 403
    )
    audit = db.execute(
        "SELECT count(*) FROM onemap.audit_log WHERE action = 'deliver' AND target_id = %s",
        (str(report["id"]),),
    ).fetchone()
    assert audit is not None and audit[0] == 1
    # The item's freshness now shows the delivery.
    police = client.get("/sources/police", headers={"X-API-Key": keys["police"]}).json()
    item = police["systems"][0]["items"][0]
    assert item["freshness"]["state"] == "fresh" and item["freshness"]["records"] >= 5


@pytest.mark.parametrize(("who", "status"), [("water", 403), ("planner", 403), ("revoked", 401), (None, 403)])
def test_only_the_departments_editors_deliver(
    client: TestClient,
    keys: dict[str, str],
    db: psycopg.Connection,
    who: str | None,
    status: int,
    persons: list[tuple[str, str, str, str]],
) -> None:
    before = _counts(db)
    response = _deliver(
        client, keys[who] if who else None, "police", "p.csv", police_csv(_police_rows(persons, str(who)))
    )
    assert response.status_code == status, response.text
    assert _counts(db) == before


def test_a_key_the_department_may_not_send(
    client: TestClient, keys: dict[str, str], db: psycopg.Connection
) -> None:
    before = _counts(db)
    # Social security verifies names and phones; the sex on file is the police's to say.
    mapping = "entity_kind: person\nrequired: [id_number]\ncolumns:\n  id_number: [公民身份号码]\n  sex: [性别]\n"
    content = "公民身份号码,性别\n110101199003071234,M\n".encode()
    response = _deliver(client, keys["admin"], "social_security", "p.csv", content, mapping=mapping)
    _refused(response, db, before, "social_security may not send sex")
    # Nor a kind of record the department's catalogue has no item for.
    response = _deliver(client, keys["market"], "market", "p.csv", content, mapping=mapping)
    _refused(response, db, before, "market may not send person records")


def _truncated_workbook() -> bytes:
    buffer = io.BytesIO()
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["公民身份号码", "姓名"])
    sheet.append(["110101199003071234", "张三"])
    book.save(buffer)
    return buffer.getvalue()[:-200]


@pytest.mark.parametrize(
    ("name", "content", "form", "words"),
    [
        ("empty.csv", b"", {}, ["empty", "0 bytes"]),
        ("cut.zip", b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 40, {}, ["not a readable .zip"]),
        # a workbook cut short in the middle of its zip: the reader's own text is not the user's business
        ("cut.xlsx", _truncated_workbook(), {}, ["cannot read the XLSX file", "truncated"]),
        (
            "wrong.csv",
            "公民身份号码,姓名\n110101199003071234,张三\n".encode("gbk"),
            {"encoding": "UTF-8"},
            ["not valid UTF-8", "GB18030"],
        ),
        ("tax.csv", "纳税人识别号,名称\n1,2\n".encode(), {}, ["公民身份号码 (id_number)"]),
    ],
)
def test_bad_files_are_refused_whole(
    client: TestClient,
    keys: dict[str, str],
    db: psycopg.Connection,
    name: str,
    content: bytes,
    form: dict[str, str],
    words: list[str],
) -> None:
    before = _counts(db)
    _refused(_deliver(client, keys["police"], "police", name, content, **form), db, before, *words)


# ---------------------------------------------------------------------------------------------- formats


def _market_workbook(path: Path, codes: list[str]) -> None:
    book = Workbook()
    first = book.active
    assert first is not None
    first.title = "布吉街道"
    first.append(["龙岗区市场主体名录（2024年）"])  # a title row
    first.append(["主体信息", None, None, "登记信息", None, None])
    first.append(["统一社会信用代码", "企业名称", "住所", "登记状态", "成立日期", "法定代表人"])
    first.merge_cells("A2:C2")
    first.merge_cells("D2:F2")
    first.append([codes[0], "深圳市甲科技有限公司", "布吉街道1号", "存续", "2020-01-02", "张三"])
    first.append([codes[1], "深圳市乙贸易有限公司", "布吉街道2号", "注销", "2019-05-06", "李四"])
    second = book.create_sheet("坂田街道")
    second.append(["统一社会信用代码", "企业名称", "住所", "登记状态", "成立日期", "法定代表人"])
    second.append([codes[2], "深圳市丙实业有限公司", "坂田街道3号", "在业", "2021-07-08", "王五"])
    book.save(path)


def test_xlsx_with_title_row_two_header_rows_and_sheets(
    client: TestClient, keys: dict[str, str], db: psycopg.Connection, tmp_path: Path
) -> None:
    bodies = ["91440300MA5F000A1", "91440300MA5F000B2", "91440300MA5F000C3"]
    codes = [b + credit_code_check_char(b) for b in bodies]
    wrong = bodies[1] + ("0" if codes[1][17] != "0" else "1")  # a real-world code failing its check: kept
    _market_workbook(tmp_path / "m.xlsx", [codes[0], wrong, codes[2]])
    response = _deliver(client, keys["market"], "market", "市场主体.xlsx", (tmp_path / "m.xlsx").read_bytes())
    assert response.status_code == 201, response.text
    report = response.json()
    assert (report["rows"], report["accepted"], report["rejected"]) == (3, 3, 0)
    assert report["flags"]["credit_code_check_character_wrong"] == 1
    records = dict(_records(db, report["id"]))
    assert records[codes[0]]["status"] == "active" and records[codes[0]]["address"] == "布吉街道1号"
    assert records[wrong]["status"] == "deregistered" and records[wrong]["credit_code_check_ok"] is False
    assert records[codes[2]]["name"] == "深圳市丙实业有限公司"  # from the second sheet
    assert records[codes[0]]["registered_on"] == "2020-01-02"
    assert records[codes[0]]["unmapped"] == {"法定代表人": "张三"}


def _housing_shapefile(db: psycopg.Connection, folder: Path, prj: bool) -> bytes:
    rows = db.execute(
        "SELECT code, floors, built_year, address, ST_AsText(geom) FROM onemap.building ORDER BY id LIMIT 5"
    ).fetchall()
    frame = gpd.GeoDataFrame(
        {
            "楼栋编码": [r[0] for r in rows],
            "层数": [r[1] for r in rows],
            "用途": ["住宅"] * len(rows),
            "建成年份": [r[2] for r in rows],
            "标准地址": [r[3] for r in rows],
        },
        geometry=gpd.GeoSeries.from_wkt([r[4] for r in rows]),
        crs="EPSG:4326",
    ).to_crs("EPSG:4547")
    frame.to_file(folder / "楼栋.shp", encoding="GBK", engine="pyogrio")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for part in sorted(folder.iterdir()):
            if prj or part.suffix != ".prj":
                archive.write(part, part.name)
    return buffer.getvalue()


def test_gbk_shapefile_in_gauss_kruger_needs_its_prj_or_crs(
    client: TestClient, keys: dict[str, str], db: psycopg.Connection, tmp_path: Path
) -> None:
    (tmp_path / "a").mkdir()
    without = _housing_shapefile(db, tmp_path / "a", prj=False)
    before = _counts(db)
    _refused(_deliver(client, keys["housing"], "housing", "楼栋.zip", without), db, before, "crs=")
    response = _deliver(client, keys["housing"], "housing", "楼栋.zip", without, crs="EPSG:4547")
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["accepted"] == 5 and report["crs"] == "EPSG:4547"
    code, payload = _records(db, report["id"])[0]
    truth = db.execute(
        "SELECT floors, ST_Distance(ST_Centroid(geom)::geography, "
        "ST_Centroid(ST_GeomFromGeoJSON(%s))::geography) FROM onemap.building WHERE code = %s",
        (json.dumps(payload["geometry"]), code),
    ).fetchone()
    assert truth is not None and payload["floors"] == str(truth[0]) and truth[1] < 0.05  # metres
    assert payload["use"] == "residential"
    (tmp_path / "b").mkdir()
    with_prj = _housing_shapefile(db, tmp_path / "b", prj=True)
    assert _deliver(client, keys["housing"], "housing", "楼栋2.zip", with_prj).status_code == 201


def test_real_hong_kong_buildings_as_a_housing_survey(
    client: TestClient, keys: dict[str, str], db: psycopg.Connection
) -> None:
    path = real_data("china_other", "hk_central_osm_buildings.geojson")
    mapping = "entity_kind: building\ncolumns:\n  name: ['name:zh', name]\n  floors: ['building:levels']\n"
    response = _deliver(client, keys["housing"], "housing", "hk.geojson", path.read_bytes(), mapping=mapping)
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["rows"] == 684 and report["accepted"] + report["rejected"] == 684
    records = _records(db, report["id"])
    named = [p for _, p in records if "name" in p]
    assert any("總" in p["name"] or "大廈" in p["name"] for p in named)
    assert all(
        113.8 < p["geometry"]["coordinates"][0][0][0] < 114.4
        for _, p in records[:20]
        if p["geometry"]["type"] == "Polygon"
    )
    assert all(k == "" for k, _ in records)  # no building codes: resolved by footprint later
    assert "osm_id" in records[0][1]["unmapped"]


def test_real_prague_geopackage_in_web_mercator(
    client: TestClient, keys: dict[str, str], db: psycopg.Connection
) -> None:
    path = real_data("reference", "momepy_bubenec_prague.gpkg")
    before = _counts(db)
    refused = _deliver(
        client, keys["housing"], "housing", "prague.gpkg", path.read_bytes(), sheet="buildings"
    )
    _refused(refused, db, before, "outside China")
    response = _deliver(
        client,
        keys["housing"],
        "housing",
        "prague.gpkg",
        path.read_bytes(),
        sheet="buildings",
        allow_outside_china=True,
    )
    assert response.status_code == 201, response.text
    records = _records(db, response.json()["id"])
    assert len(records) == 144
    x, y = records[0][1]["geometry"]["coordinates"][0][0][:2]
    assert 14.3 < x < 14.5 and 50.0 < y < 50.2  # EPSG:3857 read and reprojected


def test_tsv_in_gb18030(
    client: TestClient, keys: dict[str, str], db: psycopg.Connection, persons: list[tuple[str, str, str, str]]
) -> None:
    id_number, name, _, _ = persons[5]
    content = f"公民身份号码\t姓名\t联系电话\n{id_number}\t{name}\t+86 138-0013-8000\n".encode("gb18030")
    response = _deliver(client, keys["admin"], "social_security", "参保.tsv", content)
    assert response.status_code == 201, response.text
    [(key, payload)] = _records(db, response.json()["id"])
    assert key == id_number and payload["phone"] == "13800138000"


def test_check_characters_are_computed_like_the_identifier_module() -> None:
    assert id_number_check_char("11010519491231002") == "X"
