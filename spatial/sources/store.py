"""Writing what a delivery brought: its row in source_delivery, its records into source_record and its
rejected rows into source_rejection, each with COPY, inside the caller's transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from spatial.load_parts import copy_columns, copy_statement, csv_data


@dataclass
class Batch:
    """Accepted records and rejected rows of one chunk, ready to COPY."""

    keys: list[str] = field(default_factory=list)
    payloads: list[str] = field(default_factory=list)  # compact JSON text
    rejected_rows: list[int] = field(default_factory=list)
    rejected_keys: list[str | None] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def accept(self, key: str, payload: dict[str, Any]) -> None:
        self.keys.append(key)
        self.payloads.append(json.dumps(payload, ensure_ascii=False, separators=(",", ":")))

    def reject(self, row_no: int, key: str | None, reason: str) -> None:
        self.rejected_rows.append(row_no)
        self.rejected_keys.append(key)
        self.reasons.append(reason)


def start_delivery(
    conn: psycopg.Connection,
    department: str,
    item_id: int | None,
    channel: str,
    filename: str | None,
    content_hash: str,
    actor: str,
    idempotency_key: str | None = None,
) -> int:
    row = conn.execute(
        "INSERT INTO onemap.source_delivery (department, item_id, channel, filename, content_hash, "
        "idempotency_key, actor, rows, accepted, rejected) VALUES (%s, %s, %s, %s, %s, %s, %s, 0, 0, 0) "
        "RETURNING id",
        (department, item_id, channel, filename, content_hash, idempotency_key, actor),
    ).fetchone()
    assert row is not None
    return int(row[0])


def _record_columns(department: str, kind: str, delivery_id: int, batch: Batch) -> dict[str, list[Any]]:
    return {
        "department": [department] * len(batch.keys),
        "entity_kind": [kind] * len(batch.keys),
        "entity_key": batch.keys,
        "payload": batch.payloads,
        "delivery_id": [delivery_id] * len(batch.keys),
    }


def records_copy(
    department: str, kind: str, delivery_id: int, batch: Batch
) -> tuple[sql.Composed, memoryview]:
    """The COPY statement and its CSV data for a batch's records (for the async push route)."""
    columns = _record_columns(department, kind, delivery_id, batch)
    return copy_statement("source_record", list(columns)), csv_data(columns)


def copy_batch(conn: psycopg.Connection, department: str, kind: str, delivery_id: int, batch: Batch) -> None:
    if batch.keys:
        copy_columns(conn, "source_record", _record_columns(department, kind, delivery_id, batch))
    if batch.rejected_rows:
        copy_columns(
            conn,
            "source_rejection",
            {
                "delivery_id": [delivery_id] * len(batch.rejected_rows),
                "row_no": batch.rejected_rows,
                "entity_key": batch.rejected_keys,
                "reason": batch.reasons,
            },
        )


def finish_delivery(
    conn: psycopg.Connection,
    delivery_id: int,
    rows: int,
    accepted: int,
    rejected: int,
    report: dict[str, Any],
) -> None:
    conn.execute(
        "UPDATE onemap.source_delivery SET rows = %s, accepted = %s, rejected = %s, report = %s WHERE id = %s",
        (rows, accepted, rejected, Jsonb(report), delivery_id),
    )


def rejected_rows(
    conn: psycopg.Connection, delivery_id: int, limit: int | None = None
) -> Sequence[tuple[Any, ...]]:
    return conn.execute(
        "SELECT row_no, entity_key, reason FROM onemap.source_rejection WHERE delivery_id = %s ORDER BY row_no "
        "LIMIT %s",
        (delivery_id, limit),
    ).fetchall()
