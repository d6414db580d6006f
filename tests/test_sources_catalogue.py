"""The source catalogue: the packaged one, a department's workbook imported (CLI), read with freshness over
HTTP, exported as DCAT-AP JSON-LD; bad workbooks refused whole; fusion refuses a rule without a catalogue item."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from spatial.database import libpq_url
from spatial.fusion import load_rule_file, run_fusion
from spatial.fusion.authority import UncataloguedAuthority
from spatial.sources.catalogue import import_workbook
from spatial.sources.errors import CatalogueInvalid
from tests._layer_helpers import make_keys
from tests._sources_helpers import catalogue_workbook, sources_client
from tests.test_cli import onemap


@pytest.fixture(scope="module")
def keys(database_url: str) -> dict[str, str]:
    return make_keys(database_url)


@pytest.fixture(scope="module")
def client(platform_env: str) -> Iterator[TestClient]:
    yield from sources_client()


def _catalogue_rows(db: psycopg.Connection) -> tuple[int, ...]:
    row = db.execute(
        "SELECT (SELECT count(*) FROM onemap.source_function), (SELECT count(*) FROM onemap.source_matter), "
        "(SELECT count(*) FROM onemap.source_system), (SELECT count(*) FROM onemap.source_item)"
    ).fetchone()
    assert row is not None
    return tuple(int(v) for v in row)


def test_packaged_catalogue_covers_the_fusion_rules(client: TestClient, keys: dict[str, str]) -> None:
    response = client.get("/sources", headers={"X-API-Key": keys["planner"]})
    assert response.status_code == 200, response.text
    departments = {d["department"]: d for d in response.json()["departments"]}
    assert {"police", "market", "housing", "grid", "social_security", "industry", "urban_management"} <= set(
        departments
    )
    police = departments["police"]["items"][0]
    assert police["entity_kind"] == "person" and "name" in police["authoritative_for"]
    assert police["freshness"]["state"] in ("never delivered", "fresh", "overdue")


def test_catalogue_needs_an_internal_key(client: TestClient) -> None:
    response = client.get("/sources")
    assert response.status_code == 403 and "roles" in response.json()["detail"]


def test_workbook_import_with_merged_cells_and_two_header_rows(
    client: TestClient, keys: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    workbook = catalogue_workbook(tmp_path / "三张清单.xlsx")
    result = onemap("sources", "catalog", "import", str(workbook), url=database_url)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "departments": 2,
        "functions": 3,
        "matters": 2,
        "systems": 2,
        "items": 3,
    }
    water = client.get("/sources/water", headers={"X-API-Key": keys["water"]}).json()
    assert [f["name"] for f in water["functions"]] == ["供水管理", "排水管理"]  # the merged 水务 cell
    assert water["matters"][0]["function"] == "供水管理"
    (system,) = water["systems"]
    assert system["name"] == "智慧水务平台" and system["contact"] == "供水科"
    items = {i["name"]: i for i in system["items"]}
    assert items["用水户"]["entity_kind"] == "enterprise"
    assert items["用水户"]["verifies"] == ["name", "status"]
    assert items["泵站楼栋"]["entity_kind"] == "building" and items["泵站楼栋"]["frequency"] == "quarterly"
    assert items["泵站楼栋"]["freshness"] == {
        "last_delivery": None,
        "expected_next": None,
        "overdue": True,
        "state": "never delivered",
        "records": 0,
        "deliveries": 0,
    }
    # Importing again keeps the items (and their ids): deliveries stay linked.
    ids = {i["id"] for i in system["items"]}
    again = onemap("sources", "catalog", "import", str(workbook), url=database_url)
    assert again.returncode == 0, again.stderr
    water = client.get("/sources/water", headers={"X-API-Key": keys["water"]}).json()
    assert {i["id"] for i in water["systems"][0]["items"]} == ids


@pytest.mark.parametrize(
    ("row", "words"),
    [
        (
            ["水务", "智慧水务平台", "供水科", "用水户", "车辆", "", "名称", "每月", "CSV"],
            ["row 3", "车辆", "entity kind"],
        ),
        (
            ["税务", "金税", "征管科", "纳税人", "企业", "", "名称", "每月", "CSV"],
            ["row 3", "税务", "department"],
        ),
        (
            ["水务", "智慧水务平台", "供水科", "用水户", "企业", "", "鞋码", "每月", "CSV"],
            ["鞋码", "attribute"],
        ),
        (
            ["水务", "智慧水务平台", "供水科", "用水户", "企业", "", "名称", "偶尔", "CSV"],
            ["偶尔", "frequency"],
        ),
    ],
)
def test_bad_workbook_rows_are_named_and_nothing_changes(
    db: psycopg.Connection, database_url: str, tmp_path: Path, row: list[str | None], words: list[str]
) -> None:
    before = _catalogue_rows(db)
    workbook = catalogue_workbook(tmp_path / "bad.xlsx", [row])
    with psycopg.connect(libpq_url(database_url)) as conn, pytest.raises(CatalogueInvalid) as refused:
        import_workbook(conn, workbook)
    for word in words:
        assert word in str(refused.value)
    assert _catalogue_rows(db) == before


def test_a_credential_in_the_catalogue_is_refused(database_url: str, tmp_path: Path) -> None:
    workbook = catalogue_workbook(tmp_path / "dsn.xlsx")
    from openpyxl import load_workbook

    book = load_workbook(workbook)
    sheet = book["系统清单"]
    sheet["J2"] = "拉取来源"
    sheet["J3"] = "postgresql://water:s3cret@10.0.0.5/water"
    book.save(workbook)
    with psycopg.connect(libpq_url(database_url)) as conn, pytest.raises(CatalogueInvalid) as refused:
        import_workbook(conn, workbook)
    assert "environment variable" in str(refused.value) and "s3cret" not in str(refused.value)


def test_a_workbook_without_the_three_sheets_is_refused(database_url: str, tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    assert book.active is not None
    book.active.title = "职能清单"
    book.save(tmp_path / "one.xlsx")
    with psycopg.connect(libpq_url(database_url)) as conn, pytest.raises(CatalogueInvalid) as refused:
        import_workbook(conn, tmp_path / "one.xlsx")
    assert "事项清单" in str(refused.value)


def test_dcat_ap_export(client: TestClient) -> None:
    response = client.get("/sources/catalog.jsonld")  # public: for the open-data portal
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/ld+json")
    document = response.json()
    assert document["@type"] == "dcat:Catalog" and "dcat" in document["@context"]
    datasets = document["dcat:dataset"]
    assert datasets and all(d["@type"] == "dcat:Dataset" for d in datasets)
    police = next(d for d in datasets if d["dct:identifier"].startswith("police/"))
    assert police["dct:accrualPeriodicity"]["@id"].endswith("/frequency/DAILY")
    assert police["dct:publisher"]["foaf:name"] == "公安"
    assert police["dcat:distribution"][0]["dct:format"]["@id"].endswith("/file-type/CSV")
    assert "dsn" not in response.text.lower()


def test_unknown_department_is_a_400(client: TestClient, keys: dict[str, str]) -> None:
    response = client.get("/sources/tax_bureau", headers={"X-API-Key": keys["planner"]})
    assert response.status_code == 400 and "unknown department" in response.json()["detail"]


def test_fusion_refuses_a_rule_whose_authority_has_no_catalogue_item(
    database_url: str, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n  - {entity: building, attribute: floors, authority: water, verifiers: [housing], match: number}\n",
        encoding="utf-8",
    )
    with psycopg.connect(libpq_url(database_url)) as conn:
        with pytest.raises(UncataloguedAuthority) as refused:
            run_fusion(conn, load_rule_file(rules))
        assert "building.floors" in str(refused.value) and "water" in str(refused.value)
        row = conn.execute("SELECT count(*) FROM onemap.fusion_run WHERE finished_at IS NULL").fetchone()
        assert row is not None and row[0] == 0
