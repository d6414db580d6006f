"""One declared row -> standard values, or the reasons it cannot be used."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from spatial.identifiers import (
    InvalidCreditCode,
    InvalidIdNumber,
    InvalidName,
    InvalidPhone,
    normalise_mobile,
    normalise_name,
    parse_credit_code,
    parse_id_number,
    upgrade_15_to_18,
)


@dataclass
class CleanRow:
    row_no: int
    name: str | None = None
    id_number: str | None = None
    credit_code: str | None = None
    phone: str | None = None
    address: str = ""
    room_no: str | None = None
    problems: list[str] = field(default_factory=list)


def compact(text: str | None) -> str:
    """NFKC (full-width -> half-width) and no white space at all."""
    return "".join(unicodedata.normalize("NFKC", text or "").split())


def clean_row(row_no: int, values: dict[str, str], kind: str) -> CleanRow:
    row = CleanRow(
        row_no, address=compact(values.get("address")), room_no=compact(values.get("room_no")) or None
    )
    if not row.address:
        row.problems.append("no address")
    if values.get("name", "").strip():
        try:
            row.name = normalise_name(values["name"]) if kind == "person" else compact(values["name"])
        except InvalidName as exc:
            row.problems.append(f"name: {exc}")
    if kind == "person":
        row.id_number = _id_number(values.get("id_number", ""), row.problems)
    elif compact(values.get("credit_code")):
        try:
            row.credit_code = parse_credit_code(compact(values["credit_code"]).upper()).value
        except InvalidCreditCode as exc:
            row.problems.append(f"credit code: {exc}")
    if compact(values.get("phone")):
        try:
            row.phone = normalise_mobile(values["phone"])
        except InvalidPhone as exc:
            row.problems.append(f"phone: {exc}")
    return row


def _id_number(text: str, problems: list[str]) -> str | None:
    value = compact(text).upper()
    if not value:
        problems.append("no ID number")
        return None
    try:
        if len(value) == 15:
            value = upgrade_15_to_18(value)  # first-generation cards: 2-digit year, no check character
        return parse_id_number(value).value
    except InvalidIdNumber as exc:
        problems.append(f"ID number: {exc}")
        return None
