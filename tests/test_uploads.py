"""Uploads of departments' files: every format with real data, and every kind of bad input refused cleanly."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import psycopg
import pyogrio
import pytest
import shapely
from fastapi.testclient import TestClient
from psycopg import sql
from shapely.geometry import Point, Polygon

from spatial.ingest import get_ingest_settings
from tests._layer_helpers import DATA, HK, PRAGUE, assert_absent, make_keys, real_file, upload


@pytest.fixture(scope="module")
def keys(database_url: str) -> dict[str, str]:
    return make_keys(database_url)


@pytest.fixture(scope="module")
def client(platform_env: str) -> Iterator[TestClient]:
    from api.main import create_app

    with TestClient(create_app()) as test_client:
        yield test_client


def _refused(response: Any, db: psycopg.Connection, layer_id: str, *words: str) -> None:
    assert 400 <= response.status_code < 500, response.text
    detail = response.json()["detail"].lower()
    for word in words:
        assert word.lower() in detail, detail
    assert_absent(db, layer_id)


def _csv(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


# ---------------------------------------------------------------------------------------------- formats


def test_gbk_shapefile_is_detected_and_read_back_by_role(
    client: TestClient, keys: dict[str, str], db: psycopg.Connection
) -> None:
    response = upload(
        client,
        keys["water"],
        DATA / "buildings_gbk_shp.zip",
        id="water_buildings",
        title="楼栋 Buildings (GBK)",
        update_schedule="monthly",
        lineage="水务局 survey 2024",
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["report"]["encoding"] == "GB18030"
    assert [f["title"] for f in body["report"]["fields"]] == ["名称", "楼层", "高度", "用途"]
    assert all(f["name"].isascii() for f in body["report"]["fields"])
    assert body["layers"][0]["rows"] == 40
    row = db.execute(
        "SELECT owner_department, versioned, editable, sensitivity, update_schedule, lineage "
        "FROM onemap.layer WHERE id = 'water_buildings'"
    ).fetchone()
    assert row is not None and row[:5] == ("water", True, True, "internal", "monthly")
    assert "水务局" in row[5] and "GB18030" in row[5]
    names = [r[0] for r in db.execute("SELECT field_1 FROM onemap.dept_water_buildings").fetchall()]
    assert any("\u4e00" <= ch <= "\u9fff" for name in names for ch in name)
    assert db.execute("SELECT to_regclass('onemap.dept_water_buildings_history')").fetchone() != (None,)
    # Read back through the feature server under different roles.
    items = client.get("/collections/water_buildings/items", headers={"X-API-Key": keys["water"]})
    assert items.status_code == 200, items.text
    assert items.json()["features"]
    assert (
        client.get("/collections/water_buildings/items", headers={"X-API-Key": keys["housing"]}).status_code
        == 403
    )
    assert client.get("/collections/water_buildings/items").status_code in (401, 403, 404)
    assert (
        client.get("/collections/water_buildings/items", headers={"X-API-Key": keys["planner"]}).status_code
        == 200
    )


def test_grants_let_another_department_read(client: TestClient, keys: dict[str, str]) -> None:
    response = upload(
        client, keys["water"], DATA / "districts_wgs84.geojson", id="water_districts", title="区 Districts"
    )
    assert response.status_code == 201, response.text
    police = {"X-API-Key": keys["police"]}
    assert client.get("/collections/water_districts/legend", headers=police).status_code == 403
    refused = client.put("/collections/water_districts/grants", json={"readers": ["police"]}, headers=police)
    assert refused.status_code == 403
    granted = client.put(
        "/collections/water_districts/grants",
        json={"readers": ["police"]},
        headers={"X-API-Key": keys["water"]},
    )
    assert granted.status_code == 200 and granted.json()["readers"] == ["police"]
    assert client.get("/collections/water_districts/legend", headers=police).status_code == 200
    assert client.get("/collections/water_districts/items", headers=police).status_code == 200


def test_real_geojson_geopackage_any_layer_kml_flatgeobuf(
    client: TestClient, keys: dict[str, str], tmp_path: Path
) -> None:
    hk = upload(client, keys["housing"], real_file(HK), id="hk_buildings", title="香港中环建筑 HK Central buildings")
    assert hk.status_code == 201, hk.text
    assert hk.json()["layers"][0]["rows"] == 684
    several = upload(client, keys["housing"], real_file(PRAGUE), id="prague_any", allow_outside_china=True)
    assert several.status_code == 400 and "layer=" in several.json()["detail"]
    streets = upload(
        client, keys["housing"], PRAGUE, id="prague_streets", layer="streets", allow_outside_china=True
    )
    assert streets.status_code == 201, streets.text
    assert streets.json()["layers"][0]["geometry_type"] == "MULTILINESTRING"
    assert streets.json()["report"]["source_crs"] == "EPSG:3857"
    west, south, east, north = streets.json()["layers"][0]["bbox"]
    assert 14.3 < west < east < 14.5 and 50.0 < south < north < 50.2  # reprojected from EPSG:3857
    frame = gpd.read_file(HK).head(30)[["name", "building", "geometry"]]
    for driver, suffix in (("KML", "kml"), ("FlatGeobuf", "fgb")):
        path = tmp_path / f"hk.{suffix}"
        pyogrio.write_dataframe(frame, path, driver=driver)
        response = upload(client, keys["housing"], path, id=f"hk_{suffix}")
        assert response.status_code == 201, response.text
        assert response.json()["layers"][0]["rows"] == 30


def test_xlsx_with_chinese_coordinate_columns(
    client: TestClient, keys: dict[str, str], db: psycopg.Connection
) -> None:
    response = upload(client, keys["water"], DATA / "shops.xlsx", id="water_shops", title="门店 Shops")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["layers"][0]["geometry_type"] == "POINT" and body["layers"][0]["rows"] == 40
    titles = {f["title"]: f for f in body["report"]["fields"]}
    assert titles["面积(平方米)"]["type"] == "integer" and titles["门店名称"]["type"] == "string"


def test_gcj02_boundaries_are_converted(
    client: TestClient, keys: dict[str, str], db: psycopg.Connection
) -> None:
    response = upload(client, keys["water"], DATA / "districts_gcj02.geojson", id="water_gcj", crs="GCJ02")
    assert response.status_code == 201, response.text
    truth = gpd.read_file(DATA / "districts_wgs84.geojson").sort_values("区名")
    column = next(f["name"] for f in response.json()["report"]["fields"] if f["title"] == "区名")
    rows = db.execute(
        sql.SQL("SELECT {}, ST_AsBinary(geom) FROM onemap.dept_water_gcj ORDER BY 1").format(
            sql.Identifier(column)
        )
    ).fetchall()
    for (name, wkb), expected in zip(rows, truth.geometry, strict=True):
        stored = shapely.from_wkb(bytes(wkb))
        assert shapely.hausdorff_distance(stored, expected) < 1e-5  # ~1 m; uncorrected it is ~0.005 deg
        assert name in ("龙岗", "坪山")


def test_csv_with_spaces_and_chinese_column_names_in_gbk(
    client: TestClient, keys: dict[str, str], db: psycopg.Connection
) -> None:
    text = (
        " 店 名 ,经度,纬度,Sales Amount,联系电话\n华强北店,114.0862,22.5455,1200.5,075583000001\n"
        "龙岗店,114.2465,22.7201,800,075583000002\n"
    )
    response = upload(client, keys["water"], _csv(text, "gbk"), "shops.csv", id="water_csv")
    assert response.status_code == 201, response.text
    fields = response.json()["report"]["fields"]
    assert [f["title"] for f in fields] == ["店 名", "经度", "纬度", "Sales Amount", "联系电话"]
    assert [f["name"] for f in fields] == ["field_1", "field_2", "field_3", "sales_amount", "field_5"]
    assert fields[4]["type"] == "string"  # phone numbers keep their leading zero
    assert db.execute("SELECT field_1, field_5 FROM onemap.dept_water_csv ORDER BY id").fetchall()[0] == (
        "华强北店",
        "075583000001",
    )


def test_address_column_matched_to_buildings(
    client: TestClient, keys: dict[str, str], db: psycopg.Connection
) -> None:
    addresses = [
        r[0] for r in db.execute("SELECT address FROM onemap.building ORDER BY id LIMIT 3").fetchall()
    ]
    lines = (
        ["名称,地址"] + [f"点{i},{a}" for i, a in enumerate(addresses)] + ["不存在,深圳市龙岗区不存在路999号"]
    )
    response = upload(client, keys["water"], _csv("\n".join(lines)), "by_address.csv", id="water_addr")
    assert response.status_code == 201, response.text
    report = response.json()["report"]
    assert response.json()["layers"][0]["rows"] == 3
    assert report["unmatched"] == 1 and report["unmatched_rows"][0]["row"] == 4
    matched = db.execute(
        "SELECT count(*) FROM onemap.dept_water_addr a JOIN onemap.building b "
        "ON b.id = a.building_id AND ST_Intersects(a.geom, b.geom)"
    ).fetchone()
    assert matched == (3,)


def test_invalid_geometry_repaired_and_mixed_types(
    client: TestClient, keys: dict[str, str], db: psycopg.Connection
) -> None:
    bowtie = Polygon([(114.20, 22.70), (114.21, 22.71), (114.21, 22.70), (114.20, 22.71)])
    square = Polygon([(114.22, 22.70), (114.23, 22.70), (114.23, 22.71), (114.22, 22.71)])
    frame = gpd.GeoDataFrame({"名称": ["蝴蝶", "方块"]}, geometry=[bowtie, square], crs="EPSG:4326")
    response = upload(client, keys["water"], frame.to_json().encode(), "invalid.geojson", id="water_invalid")
    assert response.status_code == 201, response.text
    assert response.json()["report"]["repaired"] == 1
    assert db.execute("SELECT bool_and(ST_IsValid(geom)) FROM onemap.dept_water_invalid").fetchone() == (
        True,
    )

    mixed = gpd.GeoDataFrame({"名称": ["点", "面"]}, geometry=[Point(114.2, 22.7), square], crs="EPSG:4326")
    refused = upload(client, keys["water"], mixed.to_json().encode(), "mixed.geojson", id="water_mixed")
    _refused(refused, db, "water_mixed", "mixes geometry types", "split_mixed")
    split = upload(
        client, keys["water"], mixed.to_json().encode(), "mixed.geojson", id="water_mixed", split_mixed=True
    )
    assert split.status_code == 201, split.text
    assert sorted(lyr["id"] for lyr in split.json()["layers"]) == [
        "water_mixed_points",
        "water_mixed_polygons",
    ]


# ---------------------------------------------------------------------------------------------- bad input


def _shapefile_zip(tmp_path: Path, skip: tuple[str, ...] = ()) -> bytes:
    frame = gpd.GeoDataFrame(
        {"名称": ["甲", "乙"]}, geometry=[Point(114.2, 22.7), Point(114.21, 22.71)], crs="EPSG:4326"
    )
    frame.to_file(tmp_path / "pts.shp", engine="pyogrio")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for part in tmp_path.glob("pts.*"):
            if part.suffix not in skip:
                archive.write(part, part.name)
    return buffer.getvalue()


def test_shapefile_missing_dbf_or_prj(
    client: TestClient, keys: dict[str, str], db: psycopg.Connection, tmp_path: Path
) -> None:
    _refused(
        upload(client, keys["water"], _shapefile_zip(tmp_path, (".dbf",)), "pts.zip", id="no_dbf"),
        db,
        "no_dbf",
        "pts.dbf",
    )
    no_prj = _shapefile_zip(tmp_path, (".prj",))
    _refused(upload(client, keys["water"], no_prj, "pts.zip", id="no_prj"), db, "no_prj", "crs=")
    accepted = upload(client, keys["water"], no_prj, "pts.zip", id="no_prj", crs="EPSG:4490")
    assert accepted.status_code == 201, accepted.text


def test_gbk_file_read_as_utf8_is_refused(
    client: TestClient, keys: dict[str, str], db: psycopg.Connection
) -> None:
    response = upload(
        client, keys["water"], DATA / "buildings_gbk_shp.zip", id="gbk_as_utf8", encoding="UTF-8"
    )
    _refused(response, db, "gbk_as_utf8", "not valid utf-8", "encoding=gb18030")
    csv = upload(
        client,
        keys["water"],
        _csv("名称,经度,纬度\n龙岗,114.24,22.72\n", "gbk"),
        "x.csv",
        id="gbk_csv_as_utf8",
        encoding="utf-8",
    )
    _refused(csv, db, "gbk_csv_as_utf8", "not valid utf-8")


def test_zip_bomb_is_refused(client: TestClient, keys: dict[str, str], db: psycopg.Connection) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb.geojson", b" " * (30 * 1024 * 1024))
    bomb = upload(client, keys["water"], buffer.getvalue(), "bomb.zip", id="bomb")
    assert bomb.status_code == 400  # the archive is malformed (its ratio), not merely large
    _refused(bomb, db, "bomb", "zip bomb")


def test_empty_and_too_large_files(
    client: TestClient, keys: dict[str, str], db: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    _refused(upload(client, keys["water"], b"", "empty.geojson", id="empty"), db, "empty", "empty")
    # A 2 GB upload, simulated by lowering the limit below the file's size.
    monkeypatch.setenv("ONEMAP_INGEST_MAX_UPLOAD_BYTES", "1000")
    get_ingest_settings.cache_clear()
    try:
        big = upload(client, keys["water"], DATA / "districts_wgs84.geojson", id="too_big")
        assert big.status_code == 413
        _refused(big, db, "too_big", "limit")
    finally:
        monkeypatch.delenv("ONEMAP_INGEST_MAX_UPLOAD_BYTES")
        get_ingest_settings.cache_clear()


def test_swapped_and_outside_china_coordinates(
    client: TestClient, keys: dict[str, str], db: psycopg.Connection
) -> None:
    swapped = _csv("name,lon,lat\na,22.72,114.24\nb,22.73,114.25\n")
    _refused(upload(client, keys["water"], swapped, "s.csv", id="swapped"), db, "swapped", "swapped")
    abroad = _csv("name,lon,lat\nparis,2.35,48.85\n")
    _refused(upload(client, keys["water"], abroad, "a.csv", id="abroad"), db, "abroad", "outside china")
    prague = upload(client, keys["water"], real_file(PRAGUE), id="prague", layer="buildings")
    _refused(prague, db, "prague", "outside china", "allow_outside_china")
    metres = _csv("name,x,y\na,2514000.0,420000.0\n")  # Gauss-Kruger metres read as degrees
    _refused(upload(client, keys["water"], metres, "m.csv", id="metres"), db, "metres", "crs")


def test_name_clash_and_sql_in_names(
    client: TestClient, keys: dict[str, str], db: psycopg.Connection
) -> None:
    text = _csv('name"; DROP TABLE onemap.building; --,lon,lat\na,114.24,22.72\n')
    first = upload(client, keys["water"], text, "x.csv", id="water_clash")
    assert first.status_code == 201, first.text
    assert first.json()["report"]["fields"][0]["name"] == "name_drop_table_onemap_building"
    assert db.execute("SELECT to_regclass('onemap.building')").fetchone() != (None,)
    again = upload(client, keys["water"], text, "x.csv", id="water_clash")
    assert again.status_code == 409 and "already exists" in again.json()["detail"]
    assert db.execute("SELECT count(*) FROM onemap.dept_water_clash").fetchone() == (1,)
    builtin = upload(client, keys["water"], text, "x.csv", id="buildings")
    assert builtin.status_code == 409 and "already exists" in builtin.json()["detail"]
    evil = upload(client, keys["water"], text, "x.csv", id="x; DROP TABLE onemap.layer; --")
    assert evil.status_code == 400 and "invalid layer id" in evil.json()["detail"]
    assert db.execute("SELECT count(*) > 0 FROM onemap.layer").fetchone() == (True,)


def test_who_may_upload(client: TestClient, keys: dict[str, str], db: psycopg.Connection) -> None:
    text = _csv("name,lon,lat\na,114.24,22.72\n")
    assert upload(client, None, text, "x.csv", id="by_public").status_code in (401, 403)
    assert upload(client, keys["planner"], text, "x.csv", id="by_planner").status_code == 403
    other = upload(client, keys["water"], text, "x.csv", id="for_police", department="police")
    assert other.status_code == 403
    admin = upload(client, keys["admin"], text, "x.csv", id="by_admin")
    assert admin.status_code == 400 and "department=" in admin.json()["detail"]
    for layer_id in ("by_public", "by_planner", "for_police", "by_admin"):
        assert_absent(db, layer_id)


def test_cli_layer_add(platform_env: str, db: psycopg.Connection, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from api.cli import _register, app

    _register()
    path = tmp_path / "hydrants.csv"
    pd.DataFrame({"编号": ["XF001", "XF002"], "经度": [114.24, 114.25], "纬度": [22.72, 22.73]}).to_csv(
        path, index=False, encoding="gbk"
    )
    result = CliRunner().invoke(
        app, ["layer", "add", str(path), "--department", "emergency", "--id", "hydrants", "--crs", "GCJ02"]
    )
    assert result.exit_code == 0, result.output
    assert "layer hydrants: 2 point features" in result.output
    row = db.execute("SELECT owner_department, kind FROM onemap.layer WHERE id = 'hydrants'").fetchone()
    assert row == ("emergency", "upload")
    assert json.loads(json.dumps(result.output)) is not None
    # The other layer commands share the routes' layer session.
    runner = CliRunner()
    granted = runner.invoke(app, ["layer", "grant", "hydrants", "--readers", "water"])
    assert granted.exit_code == 0 and "readers ['water']" in granted.output, granted.output
    styled = runner.invoke(app, ["layer", "style", "hydrants", '{"field": "field_1", "method": "categories"}'])
    assert styled.exit_code == 0 and "XF001" in styled.output, styled.output
    out = tmp_path / "hydrants.geojson"
    written = runner.invoke(app, ["layer", "download", "hydrants", "-o", str(out), "--as-of", "2999-01-01"])
    assert written.exit_code == 0 and "2 features" in written.output and out.exists(), written.output
