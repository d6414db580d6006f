"""Every delivered row is checked before it becomes a source record: ID numbers (check character; 15-digit
numbers upgraded), credit codes (a wrong check character is flagged, the row kept: real issued codes fail it),
dates, phones, names, numbers and coded values. A row either passes, becoming (key, payload), or is rejected
with one reason that says what is wrong."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from spatial.identifiers import (
    InvalidCreditCode,
    InvalidIdNumber,
    InvalidName,
    InvalidPhone,
    normalise_mobile,
    parse_credit_code,
    parse_id_number,
    upgrade_15_to_18,
    validate_name,
)
from spatial.sources.vocabulary import KEY_ATTRIBUTE, house_unit_key

DATE_ATTRIBUTES = ("birth_date", "registered_on", "moved_in")
INTEGER_ATTRIBUTES = {"floors": (1, 200), "built_year": (1900, 2100), "floor": (-5, 200)}
AREA_LIMITS_M2 = (0.5, 100_000.0)  # from a store room to a whole mall floor
CODED = {
    "sex": ("M", "F"),
    "status": ("active", "suspended", "deregistered", "moved_out", "deceased", "demolished"),
    "use": ("residential", "urban_village", "commercial", "industrial", "office", "public", "mixed"),
}
# Enough to find the entity without its key (see spatial/fusion: resolution), per kind of record.
RESOLVABLE_BY = {
    "person": (("name", "birth_date", "phone"),),
    "residence": (("name", "birth_date", "phone"),),
    "enterprise": (("name", "address"),),
    "building": (("address",), ("geometry",)),
    "house_unit": (),  # its key is its place: a unit without its building and room cannot be told
}


def identifying(kind: str) -> set[str]:
    """What any department may send of a kind of record to say which entity it is about: the key, and what finds
    the entity without it."""
    return {KEY_ATTRIBUTE[kind]} | {a for group in RESOLVABLE_BY[kind] for a in group}


_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


class RowRejected(Exception):
    pass


@dataclass
class Flags:
    """What the checks changed or flagged, counted over a delivery."""

    upgraded_id_numbers: int = 0
    credit_code_check_failed: int = 0
    keyless: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, int]:
        return {
            "upgraded_15_digit_id_numbers": self.upgraded_id_numbers,
            "credit_code_check_character_wrong": self.credit_code_check_failed,
            "without_key_to_resolve": self.keyless,
        }


def text_of(value: Any) -> str | None:
    """A cell as text: None for empty cells and NaN; whole floats without '.0'; dates as ISO dates."""
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def _id_number(text: str, flags: Flags) -> str:
    value = "".join(text.split()).upper()
    try:
        if len(value) == 15:
            value = upgrade_15_to_18(value)
            flags.upgraded_id_numbers += 1
        return parse_id_number(value).value
    except InvalidIdNumber as exc:
        raise RowRejected(f"ID number {text!r}: {exc}") from None


def _credit_code(text: str, flags: Flags, payload: dict[str, Any]) -> str:
    try:
        code = parse_credit_code(text)
    except InvalidCreditCode as exc:
        raise RowRejected(f"credit code {text!r}: {exc}") from None
    if not code.check_char_ok:
        flags.credit_code_check_failed += 1
        payload["credit_code_check_ok"] = False
    return code.value


def _date(text: str, attribute: str) -> str:
    found = _DATE.match(text) or _COMPACT_DATE.match(text)
    try:
        if found is None:
            raise ValueError
        return date(int(found[1]), int(found[2]), int(found[3])).isoformat()
    except ValueError:
        raise RowRejected(
            f"{attribute} {text!r} is not a date: write it as 2024-05-01 (or 2024/5/1, 20240501)"
        ) from None


def _integer(text: str, attribute: str) -> str:
    low, high = INTEGER_ATTRIBUTES[attribute]
    number = re.sub(r"[层年\s]", "", text)
    if not re.fullmatch(r"-?\d+", number) or not low <= int(number) <= high:
        raise RowRejected(f"{attribute} {text!r} is not a whole number from {low} to {high}")
    return str(int(number))


def _area(text: str) -> str:
    number = re.sub(r"(平方米|平米|m2|㎡|\s)", "", text, flags=re.IGNORECASE)
    low, high = AREA_LIMITS_M2
    try:
        area = float(number)
    except ValueError:
        area = math.nan
    if not low <= area <= high:  # NaN fails both
        raise RowRejected(f"area_m2 {text!r} is not an area in square metres from {low:g} to {high:g}")
    return repr(round(area, 2))  # plain decimals (80.5, 12345.67), never an exponent


def _value(
    attribute: str, text: str, translations: dict[str, str], flags: Flags, payload: dict[str, Any]
) -> str:
    text = translations.get(text, text)
    if attribute == "id_number":
        return _id_number(text, flags)
    if attribute == "credit_code":
        return _credit_code(text, flags, payload)
    if attribute in DATE_ATTRIBUTES:
        return _date(text, attribute)
    if attribute in INTEGER_ATTRIBUTES:
        return _integer(text, attribute)
    if attribute == "area_m2":
        return _area(text)
    if attribute == "phone":
        try:
            return normalise_mobile(text)
        except InvalidPhone as exc:
            raise RowRejected(f"phone: {exc}") from None
    if attribute in CODED:
        if text not in CODED[attribute]:
            known = ", ".join(f"{k} -> {v}" for k, v in translations.items()) or ", ".join(CODED[attribute])
            raise RowRejected(f"{attribute} {text!r} is not one of the known values ({known})")
        return text
    return text


def check_row(
    kind: str,
    values: dict[str, Any],
    unmapped: dict[str, Any],
    translations: dict[str, dict[str, str]],
    flags: Flags,
    geometry: dict[str, Any] | None = None,
) -> tuple[str, dict[str, Any]]:
    """(entity key, payload) of a valid row; raises RowRejected with the reason otherwise."""
    payload: dict[str, Any] = {}
    for attribute, raw in values.items():
        text = text_of(raw)
        if text is None:
            continue
        if attribute == "name" and kind in ("person", "residence"):
            try:
                payload["name"] = validate_name(translations.get("name", {}).get(text, text))
            except InvalidName as exc:
                raise RowRejected(f"name: {exc}") from None
            continue
        payload[attribute] = _value(attribute, text, translations.get(attribute, {}), flags, payload)
    if geometry is not None:
        payload["geometry"] = geometry
    if kind == "house_unit":
        if not payload.get("building_code") or not payload.get("room_no"):
            raise RowRejected("a house unit needs its building_code and room_no (its unit_no when it has one)")
        key = house_unit_key(payload["building_code"], payload.get("unit_no"), payload["room_no"])
    else:
        key = payload.get(KEY_ATTRIBUTE[kind], "")
    if not key:
        if not any(all(a in payload for a in group) for group in RESOLVABLE_BY[kind]):
            needed = " or ".join(", ".join(group) for group in RESOLVABLE_BY[kind])
            raise RowRejected(
                f"no {KEY_ATTRIBUTE[kind]}, and not enough to find the {kind} without it ({needed})"
            )
        flags.keyless += 1
    extra = {k: text for k, v in unmapped.items() if (text := text_of(v)) is not None}
    if extra:
        payload["unmapped"] = extra
    return str(key), payload
