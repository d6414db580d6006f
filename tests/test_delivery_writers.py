"""The district written as department deliveries (`onemap generate --as-deliveries`), then every file delivered
through the real delivery path with the default mappings: all accepted, as many rows as the answer key says, the
generator's values back (Chinese text through GBK, coded values through the departments' words), the housing
shapefile read as EPSG:4547 with its footprints within a metre. In a database of its own: nothing but the
catalogue is needed to deliver, and these records are not the session district's."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import pytest
import shapely

from spatial.database import libpq_url
from spatial.district.deliveries import ANSWER_KEY, SHAPES
from spatial.district.generate import DepartmentTable, department_tables
from spatial.district.key_damage import GARBLED, MISSING
from spatial.district.load_district import district_spec
from spatial.district.sources import DELIVERED_SPECS
from spatial.identifiers import is_valid_id_number, parse_credit_code
from spatial.sources.deliveries import DeliveryRequest, deliver_file
from tests.conftest import TEST_RATE, TEST_SEED, create_database
from tests.test_cli import onemap


@pytest.fixture(scope="module")
def url(empty_database_url: str) -> str:
    from api.setup import initialise_database

    made = create_database(empty_database_url, "onemap_delivery_writers")
    initialise_database(made)
    return made


@pytest.fixture(scope="module")
def folder(url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("deliveries") / "district"
    result = onemap(
        "generate", "--scale", "tiny", "--seed", str(TEST_SEED), "--disagreement-rate", str(TEST_RATE),
        "--as-deliveries", str(out), url=url,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "answer key" in result.stdout
    return out


@pytest.fixture(scope="module")
def tables() -> list[DepartmentTable]:
    """The generator's own department tables, for the same district."""
    return list(department_tables(district_spec("tiny", TEST_SEED, TEST_RATE), sources=DELIVERED_SPECS))


@pytest.fixture(scope="module")
def answer_key(folder: Path) -> pd.DataFrame:
    return pd.read_parquet(folder / ANSWER_KEY)


@pytest.fixture
def conn(url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(libpq_url(url)) as connection:
        yield connection


@pytest.fixture(scope="module")
def reports(url: str, folder: Path, answer_key: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Every delivered file's report, by file name (each delivered once, with its department's default
    mapping)."""
    made: dict[str, dict[str, Any]] = {}
    with psycopg.connect(libpq_url(url)) as connection:
        files = answer_key.groupby("file")[["department", "entity_kind"]].first()
        for name, (department, kind) in files.iterrows():
            request = DeliveryRequest(str(department), str(name), "test", kind=str(kind))
            made[str(name)] = deliver_file(connection, folder / str(name), request)
    return made


def _records(conn: psycopg.Connection, delivery_id: int) -> list[tuple[str, dict[str, Any]]]:
    rows = conn.execute(
        "SELECT entity_key, payload FROM onemap.source_record WHERE delivery_id = %s ORDER BY id",
        (delivery_id,),
    ).fetchall()
    return [(str(key), dict(payload)) for key, payload in rows]


def _delivered(
    conn: psycopg.Connection, reports: dict[str, dict[str, Any]], answer_key: pd.DataFrame, table: DepartmentTable
) -> dict[str, dict[str, Any]]:
    """True entity key (the answer key's, whatever key the row was sent with) -> payload of everything the
    table's department delivered of its kind."""
    found: dict[str, dict[str, Any]] = {}
    mine = answer_key[
        (answer_key["department"] == table.source.department) & (answer_key["entity_kind"] == table.source.entity_kind)
    ]
    for name, rows in mine.groupby("file"):
        records = _records(conn, reports[str(name)]["id"])
        found.update(zip(rows.sort_values("row")["entity_key"], (p for _, p in records), strict=True))
    return found


def _sent(rows: pd.DataFrame) -> list[str]:
    """The key each answer-key row was sent with: the true one unless damaged ('' when missing)."""
    return rows["sent_key"].where(rows["key_damage"].notna(), rows["entity_key"]).fillna("").tolist()


def _text(value: Any) -> str:
    """A generated value as a payload holds it (delivered values are text)."""
    return str(int(value)) if isinstance(value, int | np.integer) else str(value)


def test_every_file_is_accepted_with_the_answer_keys_rows(
    folder: Path, answer_key: pd.DataFrame, reports: dict[str, dict[str, Any]], conn: psycopg.Connection
) -> None:
    written = {p.name for p in folder.iterdir() if p.name != ANSWER_KEY}
    assert written == set(reports), "the answer key covers every file written"
    assert set(zip(answer_key["department"], answer_key["entity_kind"], strict=True)) == set(SHAPES)
    for name, rows in answer_key.groupby("file"):
        report = reports[str(name)]
        assert report["rejected"] == 0, (name, report["rejections"][:3])
        assert report["accepted"] == report["rows"] == len(rows), name
        assert report["entity_kind"] == rows["entity_kind"].iloc[0]
        delivered = [key for key, _ in _records(conn, report["id"])]
        in_order = rows.sort_values("row")
        assert in_order["row"].tolist() == list(range(1, len(rows) + 1))
        assert delivered == _sent(in_order), f"{name}: row n of the key is row n of the file"


def test_delivered_values_are_the_generators(
    tables: list[DepartmentTable],
    reports: dict[str, dict[str, Any]],
    answer_key: pd.DataFrame,
    conn: psycopg.Connection,
) -> None:
    """Every value of every department back as the generator made it: Chinese names through the GBK police
    register and the xlsx sheets, 男/女 and 存续/注销 and 住宅/工业 through the departments' words."""
    for table in tables:
        department = table.source.department
        delivered = _delivered(conn, reports, answer_key, table)
        shape = SHAPES[department, table.source.entity_kind]
        key = table.source.key
        expected = table.values.join(table.truth[[key, *shape.also]].rename(columns={key: f"{key}_truth"}))
        assert len(delivered) == len(expected), department
        for row in expected.itertuples(index=False):
            values = row._asdict()
            true_key = str(values.pop(f"{key}_truth"))
            payload = delivered[true_key]
            for attribute, value in values.items():
                if attribute == key:
                    continue  # keys: the test above (some are sent damaged)
                if pd.isna(value):
                    assert attribute not in payload, (department, attribute)
                else:
                    assert payload[attribute] == _text(value), (department, attribute, payload)


def test_planted_disagreements_are_in_the_files_and_the_answer_key(
    tables: list[DepartmentTable],
    answer_key: pd.DataFrame,
    reports: dict[str, dict[str, Any]],
    conn: psycopg.Connection,
) -> None:
    planted = pd.concat([t.planted for t in tables], ignore_index=True)
    assert len(planted) > 0
    keyed = answer_key[answer_key["planted"]]
    assert set(zip(keyed["department"], keyed["entity_key"], keyed["planted_attribute"], strict=True)) == set(
        zip(planted["department"], planted["entity_key"], planted["attribute"], strict=True)
    )
    assert answer_key.loc[~answer_key["planted"], "planted_attribute"].isna().all()
    for table in tables:
        if table.planted.empty:
            continue
        delivered = _delivered(conn, reports, answer_key, table)
        truth = table.truth.set_index(table.source.key)
        for key, attribute in zip(table.planted["entity_key"], table.planted["attribute"], strict=True):
            assert delivered[key][attribute] != _text(truth.loc[key, attribute]), (key, attribute)


def test_housing_shapefile_is_gauss_kruger_gbk_with_footprints_within_a_metre(
    folder: Path,
    tables: list[DepartmentTable],
    reports: dict[str, dict[str, Any]],
    answer_key: pd.DataFrame,
    conn: psycopg.Connection,
) -> None:
    name = SHAPES["housing", "building"].filename
    with zipfile.ZipFile(folder / name) as archive:
        parts = {Path(n).suffix: n for n in archive.namelist()}
        assert {".shp", ".shx", ".dbf", ".prj", ".cpg"} <= set(parts)
        assert archive.read(parts[".cpg"]).decode().strip().upper() == "GBK"
        dbf = archive.read(parts[".dbf"])
    address = next(t for t in tables if t.source.department == "housing").truth["address"].iloc[0]
    assert address.encode("gbk") in dbf and address.encode("utf-8") not in dbf
    report = reports[name]
    assert report["crs"] == "EPSG:4547" and report["format"] == "ESRI Shapefile"
    housing = next(t for t in tables if t.source.department == "housing" and t.source.entity_kind == "building")
    truth = housing.truth.set_index("code")
    delivered = _delivered(conn, reports, answer_key, housing)
    codes = list(delivered)
    back = gpd.GeoSeries(
        [shapely.geometry.shape(delivered[c]["geometry"]) for c in codes], crs="EPSG:4326"
    ).to_crs("EPSG:4547")
    made = gpd.GeoSeries(truth.loc[codes].geometry.to_numpy(), crs=truth.crs).to_crs("EPSG:4547")
    distances = shapely.hausdorff_distance(back.to_numpy(), made.to_numpy())
    assert len(codes) == len(truth) and float(distances.max()) < 1.0


def test_gbk_and_utf8_csvs_are_what_the_departments_send(folder: Path, reports: dict[str, dict[str, Any]]) -> None:
    police = (folder / SHAPES["police", "person"].filename).read_bytes()
    assert police.startswith("公民身份号码".encode("gbk"))
    assert reports[SHAPES["police", "person"].filename]["encoding"].lower() in ("gbk", "gb18030", "cp936")
    industry = (folder / SHAPES["industry", "enterprise"].filename).read_bytes()
    assert industry.startswith(b"\xef\xbb\xbf" + "统一社会信用代码".encode())
    assert reports[SHAPES["urban_management", "building"].filename]["crs"] in ("EPSG:4490", "EPSG:4326")


def test_files_hold_the_departments_words_not_onemaps_codes(folder: Path) -> None:
    police = pd.read_csv(folder / SHAPES["police", "person"].filename, encoding="gbk", dtype=str)
    assert set(police["性别"]) == {"男", "女"}
    market = pd.read_excel(folder / SHAPES["market", "enterprise"].filename, skiprows=1, dtype=str)
    assert set(market["登记状态"]) <= {"存续", "停业", "注销"} and "存续" in set(market["登记状态"])
    survey = gpd.read_file(folder / SHAPES["housing", "building"].filename, engine="pyogrio")
    assert survey.crs is not None and survey.crs.to_epsg() == 4547
    assert set(survey["用途"]) <= {"住宅", "城中村", "商业", "工业", "办公", "公共", "综合"}
    assert survey["标准地址"].str.startswith("深圳市龙岗区").all()


def test_verifying_departments_send_some_keys_missing_or_garbled(answer_key: pd.DataFrame) -> None:
    """About 2 % of the rows of social security, industry and urban management: a blank key cell, or a key one
    character off that still passes its checks and is nobody's; the other departments send every key right."""
    damaged = answer_key[answer_key["key_damage"].notna()]
    assert set(damaged["department"]) == {"social_security", "industry", "urban_management"}
    for department, rows in answer_key.groupby("department"):
        share = rows["key_damage"].notna().mean()
        assert share == 0 or 0.005 < share < 0.05, (department, share)
    assert set(damaged["key_damage"]) == {MISSING, GARBLED}
    assert damaged.loc[damaged["key_damage"] == MISSING, "sent_key"].isna().all()
    garbled = damaged[damaged["key_damage"] == GARBLED]
    everyone = set(answer_key["entity_key"])
    for kind, sent, true in zip(garbled["entity_kind"], garbled["sent_key"], garbled["entity_key"], strict=True):
        assert sent != true and len(sent) == len(true) and sent not in everyone, (sent, true)
        if kind == "person":
            assert is_valid_id_number(sent), sent
        elif kind == "enterprise":
            assert parse_credit_code(sent).check_char_ok, sent
        else:
            assert sum(a != b for a, b in zip(sent, true, strict=True)) == 1, (sent, true)


def test_housing_lists_every_room_in_a_gbk_table(
    folder: Path, tables: list[DepartmentTable], reports: dict[str, dict[str, Any]], answer_key: pd.DataFrame
) -> None:
    units = next(t for t in tables if t.source.entity_kind == "house_unit")
    name = SHAPES["housing", "house_unit"].filename
    survey = pd.read_csv(folder / name, encoding="gbk", dtype=str)
    assert {"楼栋编码", "单元号", "房号", "建筑面积", "房屋用途"} <= set(survey.columns)
    assert set(survey["房屋用途"]) <= {"住宅", "商业", "工业", "办公", "公共"}
    assert reports[name]["entity_kind"] == "house_unit" and reports[name]["accepted"] == len(units.truth)
    keys = answer_key.loc[answer_key["file"] == name, "entity_key"]
    assert keys.tolist() == [f"{b}/{u}/{r}" for b, u, r in zip(survey["楼栋编码"], survey["单元号"], survey["房号"],
                                                              strict=True)]
