"""A department's file delivered: read by the upload readers (any format they read, any Chinese encoding, any
CRS), mapped from the department's column names, checked row by row and copied into source_record, in one
transaction (all or nothing). A file with the same content as an earlier delivery is a no-op: the earlier
delivery's report is returned."""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import shapely
from psycopg.rows import dict_row

from spatial.ingest import IngestOptions, NoFeatures, get_ingest_settings
from spatial.ingest.archive import open_upload
from spatial.ingest.geometry import Reprojector, check_extent
from spatial.ingest.load_upload import open_source, unreadable_as_refused
from spatial.ingest.sources import Chunk, Source
from spatial.sources.arrivals import announce
from spatial.sources.checks import Flags, RowRejected, check_row, identifying, text_of
from spatial.sources.errors import DeliveryNotFound, MappingInvalid, MayNotSend
from spatial.sources.freshness import check_department
from spatial.sources.mapping import ColumnMapping, default_mapping
from spatial.sources.store import Batch, copy_batch, finish_delivery, rejected_rows, start_delivery
from spatial.sources.vocabulary import KEY_ATTRIBUTE

Progress = Callable[[int, int | None], None]
SAMPLE = 100
HASH_BLOCK = 1024 * 1024


@dataclass
class DeliveryRequest:
    department: str
    filename: str
    actor: str
    mapping: ColumnMapping | None = None
    options: IngestOptions = field(default_factory=IngestOptions)
    kind: str | None = None  # which default mapping, for a department sending several kinds (housing)


@dataclass
class Permitted:
    """What the department may send with this mapping: its catalogue item and the attributes it lists."""

    item_id: int
    item_name: str
    attributes: frozenset[str]


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def permitted(conn: psycopg.Connection, department: str, kind: str) -> Permitted:
    """The department's catalogue item for `kind` records; refuses a department without one."""
    rows = conn.execute(
        "SELECT id, name, authoritative_for, verifies FROM onemap.source_item "
        "WHERE department = %s AND entity_kind = %s ORDER BY id",
        (department, kind),
    ).fetchall()
    if not rows:
        raise MayNotSend(
            f"{department} may not send {kind} records: its source catalogue has no data item for them; add one "
            "to the department's system list (onemap sources catalog import FILE.xlsx)"
        )
    attributes = identifying(kind) | {a for row in rows for a in (*row[2], *row[3])}
    return Permitted(int(rows[0][0]), str(rows[0][1]), frozenset(attributes))


def check_columns(
    mapping: ColumnMapping, header: list[str], allowed: Permitted, department: str
) -> dict[str, str]:
    """Column -> attribute for this file; refuses a missing required column or an attribute the department
    may not send (naming them)."""
    resolved = mapping.resolve(header)
    missing = [a for a in mapping.required if a not in resolved.values()]
    if missing:
        names = ", ".join(f"{mapping.alias_of(a)} ({a})" for a in missing)
        raise MappingInvalid(
            f"the file has no column {names}, which a {department} {mapping.entity_kind} delivery needs; its "
            f"columns: {', '.join(header)}"
        )
    refused = sorted({a for a in resolved.values() if a not in allowed.attributes})
    if refused:
        raise MayNotSend(
            f"{department} may not send {', '.join(refused)} for {mapping.entity_kind} records: its catalogue item "
            f"{allowed.item_name!r} lists {', '.join(sorted(allowed.attributes))}; drop the column(s) or add "
            "the attribute to the catalogue"
        )
    return resolved


def existing_delivery(conn: psycopg.Connection, department: str, content_hash: str) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cursor:
        return cursor.execute(
            "SELECT id, report FROM onemap.source_delivery WHERE department = %s AND channel = 'file' "
            "AND content_hash = %s",
            (department, content_hash),
        ).fetchone()


@dataclass
class _Run:
    mapping: ColumnMapping
    department: str
    delivery_id: int
    columns: dict[str, str] = field(default_factory=dict)
    reproject: Reprojector | None = None
    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    flags: Flags = field(default_factory=Flags)
    sample: list[dict[str, Any]] = field(default_factory=list)


def _geometries(
    chunk: Chunk, source: Source, run: _Run, options: IngestOptions
) -> list[dict[str, Any] | None]:
    geoms = chunk.geometries
    if geoms is None:
        return [None] * len(chunk.attributes)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    out: list[dict[str, Any] | None] = [None] * len(geoms)
    if not present.any():
        return out
    if run.reproject is None:
        run.reproject = Reprojector.for_crs(options.crs, source.crs, f"the {source.kind} file")
    keep = np.flatnonzero(present)
    projected = run.reproject.apply(geoms[keep])
    if shapely.has_z(projected).any():
        projected = shapely.force_2d(projected)
    if not options.allow_outside_china:
        check_extent(projected, chunk.first_row + int(keep[0]), run.reproject.label)
    for position, text in zip(keep, shapely.to_geojson(shapely.set_precision(projected, 1e-7)), strict=True):
        out[int(position)] = json.loads(text)
    return out


def _chunk_batch(chunk: Chunk, source: Source, run: _Run, options: IngestOptions) -> Batch:
    batch = Batch()
    geometries = _geometries(chunk, source, run, options)
    records = chunk.attributes.to_dict("records")
    key_column = next(
        (c for c, a in run.columns.items() if a == KEY_ATTRIBUTE[run.mapping.entity_kind]), None
    )
    for offset, (record, geometry) in enumerate(zip(records, geometries, strict=True)):
        row_no = chunk.first_row + offset
        values = {attribute: record.get(column) for column, attribute in run.columns.items()}
        unmapped = {c: v for c, v in record.items() if c not in run.columns}
        try:
            key, payload = check_row(
                run.mapping.entity_kind, values, unmapped, run.mapping.values, run.flags, geometry
            )
        except RowRejected as exc:
            sent = text_of(record.get(key_column)) if key_column else None
            batch.reject(row_no, sent, str(exc))
            if len(run.sample) < SAMPLE:
                run.sample.append({"row": row_no, "key": sent, "reason": str(exc)})
            continue
        batch.accept(key, payload)
    run.rows += len(records)
    run.accepted += len(batch.keys)
    run.rejected += len(batch.rejected_rows)
    return batch


def deliver_file(
    conn: psycopg.Connection, path: Path, request: DeliveryRequest, progress: Progress | None = None
) -> dict[str, Any]:
    """Deliver `path`; returns the delivery's report. Commits on success; on any refusal nothing is written."""
    department = check_department(request.department)
    mapping = request.mapping or default_mapping(department, request.kind)
    content_hash = file_hash(path)
    earlier = existing_delivery(conn, department, content_hash)
    if earlier is not None:
        conn.rollback()
        return {**earlier["report"], "duplicate": True}
    allowed = permitted(conn, department, mapping.entity_kind)
    options = replace(
        request.options, location_optional=True, as_text=True, header_names=mapping.header_names
    )
    settings = get_ingest_settings()
    with conn.transaction(), tempfile.TemporaryDirectory(prefix="onemap-delivery-") as workdir:
        conn.execute("SET LOCAL TIME ZONE 'Asia/Shanghai'")
        dataset = open_upload(path, request.filename, Path(workdir), settings, options.layer)
        with unreadable_as_refused(dataset.kind):
            source = open_source(dataset, options, settings)
        delivery_id = start_delivery(
            conn, department, allowed.item_id, "file", request.filename, content_hash, request.actor
        )
        run = _Run(mapping, department, delivery_id)
        with unreadable_as_refused(dataset.kind):
            for chunk in source.chunks():
                if not run.columns:
                    header = [str(c) for c in chunk.attributes.columns]
                    run.columns = check_columns(mapping, header, allowed, department)
                batch = _chunk_batch(chunk, source, run, options)
                copy_batch(conn, department, mapping.entity_kind, delivery_id, batch)
                if progress is not None:
                    progress(run.rows, source.total)
        if run.rows == 0:
            raise NoFeatures(f"{request.filename!r} holds no rows: nothing delivered")
        report = {
            "id": delivery_id,
            "department": department,
            "channel": "file",
            "item": {"id": allowed.item_id, "name": allowed.item_name},
            "entity_kind": mapping.entity_kind,
            "filename": request.filename,
            "format": dataset.kind,
            "encoding": source.encoding,
            "crs": run.reproject.label if run.reproject else None,
            "mapping": mapping.source,
            "columns": run.columns,
            "rows": run.rows,
            "accepted": run.accepted,
            "rejected": run.rejected,
            "flags": run.flags.as_dict(),
            "rejections": run.sample,
            "content_hash": content_hash,
            "received_at": datetime.now().astimezone().isoformat(),
            "duplicate": False,
        }
        finish_delivery(conn, delivery_id, run.rows, run.accepted, run.rejected, report)
        announce(conn, delivery_id)
    conn.commit()
    return report


def delivery_report(conn: psycopg.Connection, delivery_id: int) -> tuple[str, dict[str, Any]]:
    """(department, report) of a delivery."""
    row = conn.execute(
        "SELECT department, report FROM onemap.source_delivery WHERE id = %s", (delivery_id,)
    ).fetchone()
    if row is None:
        raise DeliveryNotFound(f"no delivery {delivery_id}")
    return str(row[0]), dict(row[1])


def report_csv_rows(conn: psycopg.Connection, delivery_id: int) -> Iterator[list[str]]:
    """The report as CSV rows: a header, then every rejected row with its reason."""
    yield ["row", "entity_key", "status", "reason"]
    for row_no, key, reason in rejected_rows(conn, delivery_id):
        yield [str(row_no), key or "", "rejected", reason]
