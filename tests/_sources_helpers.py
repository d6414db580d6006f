"""Shared by the source tests: a catalogue workbook as departments fill it in (three sheets, Chinese headers, a
department cell merged over its rows, a two-row header), an app client, keys."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from fastapi.testclient import TestClient
from openpyxl import Workbook


def catalogue_workbook(path: Path, systems_rows: list[list[str | None]] | None = None) -> Path:
    book = Workbook()
    functions = book.active
    assert functions is not None
    functions.title = "职能清单"
    functions.append(["龙岗区部门职能清单"])  # a title row above the header
    functions.append(["部门", "职能名称", "职能描述", "设定依据"])
    functions.append(["水务", "供水管理", "供水设施与用水户管理", "城市供水条例"])
    functions.append([None, "排水管理", "排水户与管网管理", "城镇排水与污水处理条例"])
    functions.append(["应急", "安全生产监管", "企业安全生产检查", "安全生产法"])
    functions.merge_cells("A3:A4")  # 水务 over both of its functions
    matters = book.create_sheet("事项清单")
    matters.append(["部门", "事项名称", "所属职能", "事项类型"])
    matters.append(["水务", "用水户登记", "供水管理", "公共服务"])
    matters.append(["应急", "安全检查", "安全生产监管", "行政检查"])
    systems = book.create_sheet("系统清单")
    # Two header rows: 数据项 is a group heading merged over the four columns below it.
    systems.append(["部门", "系统名称", "联系人", "数据项", None, None, None, "更新频率", "数据格式"])
    systems.append([None, None, None, "数据项名称", "实体类型", "权威属性", "校验属性", None, None])
    for row in systems_rows or [
        ["水务", "智慧水务平台", "供水科", "用水户", "企业", "", "名称、经营状态", "每月", "CSV"],
        [None, None, None, "泵站楼栋", "楼栋", "", "层数", "每季度", "GeoPackage"],
        ["应急", "安全生产监管系统", "监管科", "重点企业", "企业", "", "名称", "每周", "xlsx"],
    ]:
        systems.append(row)
    systems.merge_cells("D1:G1")
    for column in "ABCHI":
        systems.merge_cells(f"{column}1:{column}2")
    systems.merge_cells("A3:A4")
    systems.merge_cells("B3:B4")
    systems.merge_cells("C3:C4")
    book.save(path)
    return path


def real_data(*parts: str) -> Path:
    """A file of the real third-party data set in shared/data/real beside the checkout (or where
    ONEMAP_TEST_REAL_DATA points); the test that needs it is skipped, saying why, when it is missing."""
    import pytest

    base = Path(
        os.environ.get("ONEMAP_TEST_REAL_DATA") or Path(__file__).parents[2] / "shared" / "data" / "real"
    )
    path = base.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real third-party data not found at {path}")
    return path


def police_csv(rows: list[list[str]], encoding: str = "gbk") -> bytes:
    header = "公民身份号码,姓名,性别,出生日期,楼栋编码,房号,备注\n"
    return (header + "".join(",".join(r) + "\n" for r in rows)).encode(encoding)


def sources_client() -> Iterator[TestClient]:
    """An app client whose workers do not fuse on arrival: these tests deliver into the session's database,
    whose archives other test modules count."""
    from api.main import create_app
    from spatial.sources.settings import get_sources_settings

    os.environ["ONEMAP_SOURCES_FUSE_ON_ARRIVAL"] = "false"
    get_sources_settings.cache_clear()
    try:
        with TestClient(create_app()) as client:
            yield client
    finally:
        os.environ.pop("ONEMAP_SOURCES_FUSE_ON_ARRIVAL", None)
        get_sources_settings.cache_clear()
