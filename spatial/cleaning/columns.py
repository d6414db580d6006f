"""Column names of declaration forms as people write them -> the fields the intake knows."""

from __future__ import annotations

ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "名字", "申报人", "name", "企业名称", "商户名称", "店名", "字号"),
    "id_number": ("身份证号", "身份证号码", "公民身份号码", "证件号码", "idnumber", "id_number"),
    "phone": ("手机", "手机号", "手机号码", "联系电话", "电话", "phone", "mobile"),
    "address": ("地址", "居住地址", "现住址", "现居住地址", "经营地址", "address"),
    "room_no": ("房号", "房间号", "门牌", "室", "room", "room_no"),
    "credit_code": ("统一社会信用代码", "信用代码", "credit_code"),
}
KNOWN_COLUMNS = {alias.lower() for names in ALIASES.values() for alias in names} | {
    alias for names in ALIASES.values() for alias in names
}


def field_positions(header: list[str]) -> dict[str, int]:
    """field -> column index (the first matching column wins)."""
    positions: dict[str, int] = {}
    for index, title in enumerate(header):
        for field, names in ALIASES.items():
            if field not in positions and (title in names or title.lower() in names):
                positions[field] = index
    return positions
