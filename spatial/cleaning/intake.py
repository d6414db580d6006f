"""Declared-data intake: read, standardise, validate, match to buildings and units, store, compare.

A batch is written in one transaction and replaces an earlier import of the same batch; rows with problems
are
reported (row number and reason) and the good rows still go in. Rows whose address cannot be matched are
stored
without a building, so they can be matched by hand later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from spatial.cleaning.address import AddressMatcher
from spatial.cleaning.columns import KNOWN_COLUMNS, field_positions
from spatial.cleaning.reading import read_table
from spatial.cleaning.sql import read_sql
from spatial.cleaning.standardise import CleanRow, clean_row
from spatial.errors import InvalidInput
from spatial.monitoring.rules import MIN_AREA_PER_PERSON_M2

KINDS = ("person", "business")


@dataclass(frozen=True)
class RowError:
    row_no: int
    message: str


@dataclass
class ImportResult:
    batch: str
    encoding: str | None = None
    imported: int = 0
    matched_units: int = 0
    unmatched: int = 0
    errors: list[RowError] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        kinds: dict[str, int] = {}
        for finding in self.findings:
            kinds[finding["finding"]] = kinds.get(finding["finding"], 0) + 1
        return {
            "batch": self.batch,
            "encoding": self.encoding,
            "imported": self.imported,
            "matched_units": self.matched_units,
            "unmatched_addresses": self.unmatched,
            "rejected_rows": len({e.row_no for e in self.errors if e.message.startswith("rejected")}),
            "problems": len(self.errors),
            "findings": kinds,
        }


def import_declarations(
    conn: psycopg.Connection, path: Path, batch: str, kind: str = "person"
) -> ImportResult:
    if kind not in KINDS:
        raise InvalidInput(f"unknown declaration kind {kind!r}: use person or business")
    table = read_table(path, KNOWN_COLUMNS)
    positions = field_positions(table.header)
    if "address" not in positions or (kind == "person" and "id_number" not in positions):
        need = "地址 (address) and 身份证号 (ID number)" if kind == "person" else "地址 (address)"
        raise InvalidInput(f"{path.name}: the header needs {need}; found {', '.join(table.header)}")
    result = ImportResult(batch, table.encoding)
    matcher = AddressMatcher(conn)
    good: list[tuple[CleanRow, int | None, int | None]] = []
    for row_no, cells in table.rows:
        values = {name: cells[i] if i < len(cells) else "" for name, i in positions.items()}
        row = clean_row(row_no, values, kind)
        if row.problems and (not row.address or (kind == "person" and row.id_number is None)):
            result.errors.append(RowError(row_no, "rejected: " + "; ".join(row.problems)))
            continue
        result.errors.extend(RowError(row_no, p) for p in row.problems)
        found = matcher.match(row.address, row.room_no)
        if found.problem:
            result.errors.append(RowError(row_no, found.problem))
        good.append((row, found.building_id, found.house_unit_id))
    _store(conn, batch, kind, good, result)
    return result


def _store(
    conn: psycopg.Connection,
    batch: str,
    kind: str,
    good: list[tuple[CleanRow, int | None, int | None]],
    result: ImportResult,
) -> None:
    with conn.transaction():
        conn.execute("DELETE FROM onemap.declaration WHERE batch = %s", (batch,))
        with (
            conn.cursor() as cursor,
            cursor.copy(
                "COPY onemap.declaration (batch, row_no, kind, id_number, credit_code, name, phone, address, "
                "building_id, house_unit_id) FROM STDIN"
            ) as copy,
        ):
            for row, building_id, unit_id in good:
                copy.write_row(
                    (
                        batch,
                        row.row_no,
                        kind,
                        row.id_number,
                        row.credit_code,
                        row.name,
                        row.phone,
                        row.address,
                        building_id,
                        unit_id,
                    )
                )
        with conn.cursor(row_factory=dict_row) as found:
            params = {"batch": batch, "min_area": MIN_AREA_PER_PERSON_M2}
            found.execute(read_sql("findings.sql"), params)
            result.findings = found.fetchall()
    result.imported = len(good)
    result.matched_units = sum(1 for _, _, unit in good if unit is not None)
    result.unmatched = sum(1 for _, building, _ in good if building is None)
