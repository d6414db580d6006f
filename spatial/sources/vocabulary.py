"""The words departments use in their catalogue workbooks and registers, mapped to onemap's codes."""

from __future__ import annotations

from datetime import timedelta

from spatial.schema import DEPARTMENTS, ENTITY_KINDS

DEPARTMENT_NAMES: dict[str, tuple[str, ...]] = {
    "grid": ("网格", "网格管理", "网格中心", "网格管理中心"),
    "police": ("公安", "公安局", "公安分局", "派出所"),
    "market": ("市场监管", "市场监督管理", "市场监管局", "市场监督管理局", "市监"),
    "social_security": ("社保", "人力资源", "人力资源局", "人社", "人力社保"),
    "housing": ("住建", "住房和建设", "住建局", "住房和建设局"),
    "emergency": ("应急", "应急管理", "应急管理局"),
    "urban_management": ("城管", "城市管理", "城管局", "城市管理和综合执法局"),
    "water": ("水务", "水务局"),
    "education": ("教育", "教育局"),
    "health": ("卫健", "卫生健康", "医疗", "卫健局"),
    "industry": ("工信", "工业和信息化", "工信局", "工业和信息化局"),
}
ENTITY_NAMES: dict[str, tuple[str, ...]] = {
    "person": ("人口", "人员", "个人", "自然人"),
    "enterprise": ("企业", "法人", "市场主体", "个体工商户"),
    "building": ("楼栋", "房屋", "建筑", "建筑物"),
    "residence": ("居住", "居住登记", "实有人口", "人房关系"),
    "house_unit": ("房屋单元", "房间", "户室", "套房", "分户"),
}
# Attribute names as a catalogue writes them; the keys are the payload keys fusion reads.
ATTRIBUTE_NAMES: dict[str, tuple[str, ...]] = {
    "id_number": ("公民身份号码", "身份证号", "身份证号码"),
    "name": ("姓名", "名称", "企业名称"),
    "sex": ("性别",),
    "birth_date": ("出生日期",),
    "moved_in": ("入住日期", "居住起始日期"),
    "phone": ("联系电话", "手机号码", "电话"),
    "building_code": ("楼栋编码", "建筑编码"),
    "room_no": ("房号", "房间号"),
    "unit_no": ("单元号", "单元"),
    "floor": ("所在楼层", "所在层"),
    "area_m2": ("建筑面积", "面积"),
    "credit_code": ("统一社会信用代码",),
    "registered_on": ("成立日期", "注册日期"),
    "status": ("经营状态", "登记状态", "状态"),
    "code": ("楼栋编码", "建筑编码"),
    "floors": ("层数", "楼层数"),
    "use": ("用途", "房屋用途"),
    "built_year": ("建成年份", "建成年代"),
    "address": ("地址", "标准地址"),
}
# Update frequency -> the longest expected gap between deliveries (freshness, overdue).
FREQUENCIES: dict[str, tuple[timedelta, tuple[str, ...], str]] = {
    # code: (interval, Chinese names, EU frequency vocabulary authority code for DCAT-AP)
    "realtime": (timedelta(hours=1), ("实时",), "CONT"),
    "hourly": (timedelta(hours=1), ("每小时",), "HOURLY"),
    "daily": (timedelta(days=1), ("每日", "每天", "日"), "DAILY"),
    "weekly": (timedelta(weeks=1), ("每周", "周"), "WEEKLY"),
    "monthly": (timedelta(days=31), ("每月", "月"), "MONTHLY"),
    "quarterly": (timedelta(days=92), ("每季度", "季度"), "QUARTERLY"),
    "yearly": (timedelta(days=366), ("每年", "年"), "ANNUAL"),
}


def _lookup(text: str, codes: tuple[str, ...], names: dict[str, tuple[str, ...]]) -> str | None:
    value = "".join(str(text).split())
    if value.lower() in codes:
        return value.lower()
    return next((code for code, aliases in names.items() if value in aliases), None)


def department_code(text: str) -> str | None:
    return _lookup(text, DEPARTMENTS, DEPARTMENT_NAMES)


def entity_code(text: str) -> str | None:
    return _lookup(text, ENTITY_KINDS, ENTITY_NAMES)


def frequency_code(text: str) -> str | None:
    return _lookup(text, tuple(FREQUENCIES), {k: v[1] for k, v in FREQUENCIES.items()})


def attribute_code(text: str, kind: str) -> str | None:
    value = "".join(str(text).split())
    if value.lower() in ATTRIBUTE_NAMES:
        return value.lower()
    for code, aliases in ATTRIBUTE_NAMES.items():
        # 楼栋编码 is the building's own key (code) in a building list, a reference elsewhere.
        if (
            value in aliases
            and (code != "code" or kind == "building")
            and not (code == "building_code" and kind == "building")
        ):
            return code
    return None


# What a data item may list, per entity kind: the archive attributes fusion reads, and the identifying or
# locating fields a record carries for resolution (address, footprint).
ITEM_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "person": ("id_number", "name", "sex", "birth_date", "phone", "building_code", "room_no", "status"),
    "residence": ("id_number", "name", "phone", "building_code", "room_no", "moved_in", "birth_date", "status"),
    "enterprise": ("credit_code", "name", "status", "building_code", "address", "industry", "registered_on"),
    "building": ("code", "floors", "use", "built_year", "address", "name", "geometry", "status"),
    "house_unit": ("building_code", "unit_no", "room_no", "floor", "area_m2", "use", "status"),
}
# The key attribute of each kind of record. A house unit has no number of its own: its key is composed of its
# building's code, its unit (单元) and its room (see house_unit_key), and a rejected row reports its room.
KEY_ATTRIBUTE = {
    "person": "id_number",
    "residence": "id_number",
    "enterprise": "credit_code",
    "building": "code",
    "house_unit": "room_no",
}
DEFAULT_UNIT_NO = "1"  # a building without units (单元) numbers its rooms in one series


def house_unit_key(building_code: str, unit_no: str | None, room_no: str) -> str:
    """A house unit's key: 44030700100100001/1/305 (building, unit, room)."""
    return f"{building_code}/{unit_no or DEFAULT_UNIT_NO}/{room_no}"
