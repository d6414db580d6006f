"""Declared-data intake: GBK CSV with full-width characters, 15-digit IDs and +86 phones; Excel with merged
header cells; per-row errors; matching to buildings and units; findings against the base data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from openpyxl import Workbook

from spatial.cleaning import building_part, decode, import_declarations
from spatial.database import libpq_url


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@pytest.fixture
def base(db: psycopg.Connection) -> dict[str, Any]:
    """An empty residential unit and a person born in the 20th century (for a 15-digit ID)."""
    empty = db.execute(
        "SELECT g.address, u.room_no, u.area_m2 FROM onemap.house_unit u JOIN onemap.building g ON g.id = "
        "u.building_id WHERE u.use = 'residential' AND NOT EXISTS (SELECT 1 FROM onemap.residence r WHERE "
        "r.house_unit_id = u.id AND r.valid_to IS NULL) ORDER BY u.area_m2 LIMIT 1"
    ).fetchone()
    person = db.execute(
        "SELECT id_number FROM onemap.person WHERE birth_date < '1999-01-01' ORDER BY id LIMIT 1"
    ).fetchone()
    assert empty is not None and person is not None
    return {"address": empty[0], "room": empty[1], "area": empty[2], "id_number": person[0]}


def test_building_part_splits_the_room() -> None:
    assert building_part("广东省深圳市龙岗区布吉街道 大道12号 502室") == ("布吉街道大道12号", "502")
    assert building_part("龙岗区坂田街道一路3号-1203") == ("坂田街道一路3号", "1203")
    assert building_part("坂田街道一路3号") == ("坂田街道一路3号", None)


def test_gbk_is_detected() -> None:
    text, encoding = decode(
        "姓名,身份证号,地址\n张三,110101199003074514,深圳市龙岗区布吉街道\n".encode("gbk")
    )
    assert "张三" in text and encoding.lower() in ("gb18030", "gbk", "gb2312")


def test_gbk_csv_with_messy_values(tmp_path: Path, base: dict[str, Any], database_url: str) -> None:
    old_id = base["id_number"][:6] + base["id_number"][8:17]  # a first-generation 15-digit number
    crowd = int(base["area"] // 6) + 1
    lines = ["居民信息申报表", "姓名,身份证号,手机号码,现住址"]
    lines.append(f"张 三,{old_id},+86 138-1234-5678,{_fullwidth(base['address'][3:])} {base['room']}室")
    lines += [
        f"李{i},{base['id_number']},13912345678,{base['address']}{base['room']}房" for i in range(crowd)
    ]
    lines.append(f"王五,11010119900101123,13800000000,{base['address']}{base['room']}")  # bad ID: rejected
    lines.append("赵六,110101199003074514,12345,火星大道1号")  # bad phone, unknown address
    path = tmp_path / "declarations.csv"
    path.write_bytes("\n".join(lines).encode("gbk"))
    with psycopg.connect(libpq_url(database_url)) as conn:
        result = import_declarations(conn, path, "test-gbk")
        stored = conn.execute(
            "SELECT row_no, id_number, phone, name, house_unit_id IS NOT NULL FROM "
            "onemap.declaration WHERE batch = 'test-gbk' ORDER BY row_no"
        ).fetchall()
    assert result.encoding and result.encoding.lower().startswith("gb")
    errors = {e.row_no: e.message for e in result.errors}
    bad_id_row = 3 + crowd + 1
    assert errors[bad_id_row].startswith("rejected: ID number")
    assert "phone" in errors[bad_id_row + 1] or "address not matched" in errors[bad_id_row + 1]
    assert stored[0] == (3, base["id_number"], "13812345678", "张三", True)  # 15 -> 18 digits, +86 dropped
    assert result.imported == crowd + 2 and result.unmatched == 1
    kinds = result.summary()["findings"]
    assert kinds.get("declared_in_empty_unit", 0) >= 1
    assert kinds.get("unit_over_capacity") == 1


def test_excel_with_merged_header_cells(tmp_path: Path, base: dict[str, Any], database_url: str) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["2025年出租屋居住人员登记", None, None, None])
    sheet.merge_cells("A1:D1")
    sheet.append(["姓名", "身份证号", "联系方式", None])
    sheet.merge_cells("C2:D2")
    sheet.append([None, None, "手机", "地址"])
    sheet.merge_cells("A2:A3")
    sheet.merge_cells("B2:B3")
    sheet.append(["刘一", base["id_number"], "13812345678", f"{base['address']}{base['room']}"])
    sheet.append(["陈二", "not an id", "13812345678", f"{base['address']}{base['room']}"])
    path = tmp_path / "declarations.xlsx"
    book.save(path)
    with psycopg.connect(libpq_url(database_url)) as conn:
        result = import_declarations(conn, path, "test-excel")
    assert result.imported == 1 and result.matched_units == 1
    assert [e.row_no for e in result.errors] == [5]


def test_a_file_without_needed_columns_is_one_clear_error(tmp_path: Path, database_url: str) -> None:
    from spatial.errors import InvalidInput

    path = tmp_path / "x.csv"
    path.write_text("姓名,电话\n张三,13812345678\n", encoding="utf-8")
    with psycopg.connect(libpq_url(database_url)) as conn, pytest.raises(InvalidInput, match="地址"):
        import_declarations(conn, path, "test-bad")
