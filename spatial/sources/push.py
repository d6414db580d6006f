"""Push: department systems that send continuously post batches of records (NDJSON or a JSON array). Every
record is checked like a delivered row; a batch with any invalid record is refused whole (nothing written) with
a result per record, a valid one goes in with COPY in one transaction. A batch re-sent with the same
Idempotency-Key gets the first answer again and writes nothing; the same key with another body is a conflict."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import shapely
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from spatial.sources.arrivals import CHANNEL
from spatial.sources.checks import Flags, RowRejected, check_row, identifying
from spatial.sources.errors import IdempotencyConflict, MayNotSend, SourceRefused
from spatial.sources.mapping import ColumnMapping
from spatial.sources.store import Batch, records_copy
from spatial.sources.vocabulary import KEY_ATTRIBUTE

NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl", "application/json-seq")
ITEM_QUERY = (
    "SELECT id, name, authoritative_for, verifies FROM onemap.source_item "
    "WHERE department = %s AND entity_kind = %s ORDER BY id"
)


@dataclass
class PushResult:
    status: int  # 201 written, 200 replayed, 422 refused
    body: dict[str, Any]
    results: list[dict[str, Any]] = field(default_factory=list)


def parse_records(body: bytes, content_type: str) -> list[Any]:
    """The records of a body: a JSON array, or one JSON object per line (NDJSON)."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SourceRefused("the body is not UTF-8 text: send records as UTF-8 JSON") from None
    stripped = text.lstrip()
    if not stripped:
        raise SourceRefused("the body is empty: send a JSON array of records or one JSON record per line")
    if stripped.startswith("[") and not any(t in content_type for t in NDJSON_TYPES):
        try:
            records = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SourceRefused(
                f"the body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
            ) from None
        if not isinstance(records, list):
            raise SourceRefused("the body must be a JSON array of records")
        return records
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise SourceRefused(
                    f"line {number} is not valid JSON ({exc.msg}): one JSON record per line"
                ) from None
    return out


def _geometry(value: Any) -> dict[str, Any]:
    try:
        geometry = shapely.from_geojson(json.dumps(value))
    except Exception:  # shapely raises GEOSException or ValueError for malformed GeoJSON
        raise RowRejected("geometry is not a GeoJSON geometry (lon/lat, EPSG:4326)") from None
    if geometry.is_empty:
        raise RowRejected("geometry is empty")
    return dict(value)


def _sent_key(record: Any, mapping: ColumnMapping) -> Any:
    if not isinstance(record, dict):
        return None
    key = KEY_ATTRIBUTE[mapping.entity_kind]
    return next((v for c, v in record.items() if mapping.resolve([c]).get(c) == key), None)


def check_records(
    records: list[Any], mapping: ColumnMapping, allowed: frozenset[str]
) -> tuple[Batch, list[dict[str, Any]], Flags]:
    batch, results, flags = Batch(), [], Flags()
    resolved_for: dict[tuple[str, ...], dict[str, str]] = {}
    for index, record in enumerate(records):
        try:
            if not isinstance(record, dict):
                raise RowRejected("a record is a JSON object of attribute: value")
            names = tuple(k for k in record if k != "geometry")
            columns = resolved_for.get(names)
            if columns is None:
                columns = resolved_for.setdefault(names, mapping.resolve(list(names)))
            refused = sorted({a for a in columns.values() if a not in allowed})
            if refused:
                raise RowRejected(
                    f"may not send {', '.join(refused)}: the department's catalogue item does not list it"
                )
            missing = [a for a in mapping.required if a not in columns.values()]
            if missing:
                raise RowRejected(f"missing {', '.join(f'{mapping.alias_of(a)} ({a})' for a in missing)}")
            values = {attribute: record[column] for column, attribute in columns.items()}
            unmapped = {k: v for k, v in record.items() if k not in columns and k != "geometry"}
            geometry = _geometry(record["geometry"]) if record.get("geometry") is not None else None
            key, payload = check_row(mapping.entity_kind, values, unmapped, mapping.values, flags, geometry)
        except RowRejected as exc:
            sent = _sent_key(record, mapping)
            results.append({"index": index, "status": "rejected", "key": sent, "reason": str(exc)})
            continue
        batch.accept(key, payload)
        results.append({"index": index, "status": "accepted", "key": key})
    return batch, results, flags


async def _permitted(conn: AsyncConnection[Any], department: str, kind: str) -> tuple[int, frozenset[str]]:
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(ITEM_QUERY, (department, kind))
        rows = await cursor.fetchall()
    if not rows:
        raise MayNotSend(
            f"{department} may not send {kind} records: its source catalogue has no data item for them; add one "
            "to the department's system list (onemap sources catalog import FILE.xlsx)"
        )
    attributes = identifying(kind) | {
        a for row in rows for a in (*row["authoritative_for"], *row["verifies"])
    }
    return int(rows[0]["id"]), frozenset(attributes)


async def push_records(
    conn: AsyncConnection[Any],
    department: str,
    body: bytes,
    content_type: str,
    mapping: ColumnMapping,
    actor: str,
    idempotency_key: str | None,
) -> PushResult:
    body_hash = hashlib.sha256(body).hexdigest()
    if idempotency_key is not None:
        async with conn.cursor(row_factory=dict_row) as cursor:
            await cursor.execute(
                "SELECT content_hash, report FROM onemap.source_delivery "
                "WHERE department = %s AND idempotency_key = %s",
                (department, idempotency_key),
            )
            earlier = await cursor.fetchone()
        if earlier is not None:
            if earlier["content_hash"] != body_hash:
                raise IdempotencyConflict(
                    f"Idempotency-Key {idempotency_key!r} was used for another batch: use a new key for new records"
                )
            return PushResult(200, {**earlier["report"], "replayed": True})
    records = parse_records(body, content_type)
    item_id, allowed = await _permitted(conn, department, mapping.entity_kind)
    batch, results, flags = check_records(records, mapping, allowed)
    rejected = [r for r in results if r["status"] == "rejected"]
    if rejected:
        return PushResult(
            422,
            {
                "detail": f"{len(rejected)} of {len(records)} records are invalid: nothing of the batch was written; "
                "fix them and send the batch again",
                "accepted": 0,
                "rejected": len(rejected),
                "results": results,
            },
        )
    if not records:
        raise SourceRefused("the batch holds no records")
    async with conn.transaction():
        cursor = await conn.cursor(row_factory=dict_row).execute(
            "INSERT INTO onemap.source_delivery (department, item_id, channel, content_hash, idempotency_key, actor, "
            "rows, accepted, rejected) VALUES (%s, %s, 'push', %s, %s, %s, %s, %s, 0) RETURNING id",
            (department, item_id, body_hash, idempotency_key, actor, len(records), len(batch.keys)),
        )
        row = await cursor.fetchone()
        assert row is not None
        delivery_id = int(row["id"])
        statement, data = records_copy(department, mapping.entity_kind, delivery_id, batch)
        async with conn.cursor().copy(statement) as copy:
            await copy.write(data)
        report = {
            "id": delivery_id,
            "department": department,
            "channel": "push",
            "entity_kind": mapping.entity_kind,
            "rows": len(records),
            "accepted": len(batch.keys),
            "rejected": 0,
            "flags": flags.as_dict(),
            "results": results,
            "received_at": datetime.now().astimezone().isoformat(),
            "replayed": False,
        }
        await conn.execute(
            "UPDATE onemap.source_delivery SET report = %s WHERE id = %s", (Jsonb(report), delivery_id)
        )
        await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(delivery_id)))
    return PushResult(201, report)
