"""Provenance per attribute, for the archives: which department's record each value came from, when, and which
other departments agree. For the building file (one building, one file), sync or async."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from spatial.fusion.sql import read_sql
from spatial.identifiers import mask_id_number


def provenance_for_building(
    conn: psycopg.Connection, building_code: str, unmasked: bool = False
) -> dict[str, Any]:
    """The provenance of a building's file, shaped as::

        {"building": {"floors": {"source": "housing", "record": 17, "received_at": ..., "fused_at": ...,
                                 "checks": {"urban_management": true}}, ...},
         "enterprises": {credit_code: {attribute: {...}}},
         "persons": {masked ID number: {attribute: {...}}}}

    Person keys (ID numbers) are masked unless `unmasked` (pass ``principal.sees_personal_data``).
    """
    with conn.cursor(row_factory=dict_row) as cursor:
        rows = cursor.execute(
            read_sql("provenance_for_building.sql"), {"code": building_code}
        ).fetchall()
    return shape_provenance(rows, unmasked)


async def provenance_for_building_async(
    conn: psycopg.AsyncConnection[Any], building_code: str, unmasked: bool = False
) -> dict[str, Any]:
    """The same on the web server's async pool."""
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(read_sql("provenance_for_building.sql"), {"code": building_code})
        rows = await cursor.fetchall()
    return shape_provenance(rows, unmasked)


def shape_provenance(rows: list[dict[str, Any]], unmasked: bool) -> dict[str, Any]:
    result: dict[str, Any] = {"building": {}, "enterprises": {}, "persons": {}}
    for row in rows:
        entry = {k: row[k] for k in ("source", "record", "received_at", "fused_at", "checks")}
        kind = row["entity_kind"]
        if kind == "building":
            result["building"][row["attribute"]] = entry
            continue
        key = row["entity_key"] if unmasked or kind != "person" else mask_id_number(row["entity_key"])
        result["persons" if kind == "person" else "enterprises"].setdefault(key, {})[row["attribute"]] = entry
    return result
