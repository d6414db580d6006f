"""The source catalogue and what departments send.

GET  /sources                          every department's data items with their freshness
GET  /sources/catalog.jsonld           the catalogue as DCAT-AP JSON-LD (public, for the open-data portal)
GET  /sources/{department}             one department's three lists, its systems and data items
POST /sources/{department}/deliveries  a file in the department's own format (multipart)
POST /sources/{department}/records     a pushed batch (NDJSON or a JSON array), with an Idempotency-Key
GET  /sources/deliveries/{id}          a delivery's report (JSON); .../report: its rejected rows as CSV
"""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from psycopg import AsyncConnection

from api.db import connection
from api.deps import get_principal, require_role
from api.errors import Forbidden
from api.routers.layers import save_upload
from api.settings import get_api_settings
from layers.access import Principal
from layers.audit import record_sync
from spatial.database import database_url, raw_connection
from spatial.ingest import IngestOptions
from spatial.sources.dcat import catalog_jsonld
from spatial.sources.deliveries import DeliveryRequest, deliver_file, delivery_report, report_csv_rows
from spatial.sources.errors import PushTooLarge, SourceRefused
from spatial.sources.freshness import catalogue_overview, check_department, department_catalogue
from spatial.sources.mapping import default_mapping, mapping_from_text
from spatial.sources.push import push_records
from spatial.sources.settings import get_sources_settings

router = APIRouter(prefix="/sources", tags=["Sources"])

Conn = Annotated[AsyncConnection[Any], Depends(connection)]
INTERNAL = ("admin", "planner", "department_editor", "grid_worker")
Reader = Annotated[Principal, Depends(require_role(*INTERNAL))]
Who = Annotated[Principal, Depends(get_principal)]
MAX_MAPPING_BYTES = 256 * 1024


class JSONLDResponse(JSONResponse):
    media_type = "application/ld+json"


def require_sender(who: Principal, department: str) -> None:
    """Only the department's own editors (or an administrator) send or read its deliveries."""
    check_department(department)
    if who.role == "admin" or (who.role == "department_editor" and who.department == department):
        return
    if who.role == "department_editor":
        raise Forbidden(
            f"your key belongs to {who.department!r}; it cannot deliver or read {department!r} data"
        )
    raise Forbidden("deliveries need a department editor's key of that department (or an administrator's)")


@router.get("", summary="The source catalogue: every department's data items and their freshness")
async def overview(conn: Conn, who: Reader) -> dict[str, Any]:
    departments = await catalogue_overview(conn)
    return {"departments": departments, "overdue": sum(d["overdue"] for d in departments)}


@router.get(
    "/catalog.jsonld",
    summary="The source catalogue as DCAT-AP (JSON-LD)",
    response_class=JSONLDResponse,
)
async def dcat(request: Request, conn: Conn) -> JSONLDResponse:
    document = catalog_jsonld(await catalogue_overview(conn), str(request.base_url), get_api_settings().title)
    return JSONLDResponse(document)


@router.get("/{department}", summary="A department's function, matter and system lists, with data items")
async def department(department: str, conn: Conn, who: Reader) -> dict[str, Any]:
    return await department_catalogue(conn, department)


@router.post("/{department}/deliveries", summary="Deliver a file in the department's own format")
def deliver(
    department: str,
    who: Who,
    file: Annotated[
        UploadFile, File(description="CSV/TSV, xlsx, GeoPackage, zipped Shapefile, GeoJSON, FlatGeobuf")
    ],
    mapping: Annotated[
        UploadFile | None, File(description="Column mapping (YAML); the default otherwise")
    ] = None,
    crs: Annotated[
        str | None, Form(description="EPSG:4547, EPSG:4490, GCJ02, BD09: overrides the file")
    ] = None,
    encoding: Annotated[str | None, Form(description="e.g. GBK; detected when omitted")] = None,
    sheet: Annotated[str | None, Form(description="sheet, layer or dataset inside the file")] = None,
    allow_outside_china: Annotated[bool, Form()] = False,
    kind: Annotated[
        str | None, Form(description="kind of records, for the default mapping (house_unit: housing's rooms)")
    ] = None,
) -> JSONResponse:
    require_sender(who, department)  # refuse before reading a byte
    column_mapping = None
    if mapping is not None:
        column_mapping = mapping_from_text(
            mapping.file.read(MAX_MAPPING_BYTES), mapping.filename or "mapping"
        )
    request = DeliveryRequest(
        department,
        file.filename or "delivery",
        who.actor,
        column_mapping,
        IngestOptions(layer=sheet, crs=crs, encoding=encoding, allow_outside_china=allow_outside_china),
        kind,
    )
    with tempfile.TemporaryDirectory(prefix="onemap-delivery-post-") as folder:
        path = save_upload(file, Path(folder))
        with raw_connection(database_url()) as conn:
            report = deliver_file(conn, path, request)
            if not report["duplicate"]:
                record_sync(
                    conn,
                    who,
                    "deliver",
                    "source_delivery",
                    str(report["id"]),
                    {
                        "department": department,
                        "file": request.filename,
                        "accepted": report["accepted"],
                        "rejected": report["rejected"],
                    },
                )
                conn.commit()
    return JSONResponse(report, status_code=200 if report["duplicate"] else 201)


@router.get("/deliveries/{delivery_id}", summary="A delivery's report")
def delivery(delivery_id: int, who: Who) -> dict[str, Any]:
    with raw_connection(database_url()) as conn:
        department, report = delivery_report(conn, delivery_id)
    require_sender(who, department)
    return report


@router.get(
    "/deliveries/{delivery_id}/report", summary="A delivery's report: rejected rows with reasons (CSV)",
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}, "application/json": {}}}},
)
def delivery_csv(
    delivery_id: int, who: Who, f: Annotated[str, Query(pattern="^(csv|json)$")] = "csv"
) -> Response:
    with raw_connection(database_url()) as conn:
        department, report = delivery_report(conn, delivery_id)
        require_sender(who, department)
        if f == "json":
            return JSONResponse(report)
        buffer = io.StringIO()
        csv.writer(buffer).writerows(report_csv_rows(conn, delivery_id))
    # A BOM, so that Excel opens the Chinese reasons and names as UTF-8.
    return Response(
        "\ufeff" + buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="delivery-{delivery_id}-report.csv"'},
    )


async def _body(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it passes `limit` bytes (before any of it is parsed)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PushTooLarge(
            f"the batch has {int(declared):,} bytes, more than the limit of {limit:,}: send smaller batches"
        )
    received = bytearray()
    async for block in request.stream():
        received += block
        if len(received) > limit:
            raise PushTooLarge(f"the batch is larger than the limit of {limit:,} bytes: send smaller batches")
    return bytes(received)


@router.post(
    "/{department}/records", status_code=201, summary="Push a batch of records (NDJSON or JSON array)"
)
async def push(
    department: str,
    request: Request,
    who: Who,
    conn: Conn,
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", description="Re-sending a batch with its key writes nothing"),
    ] = None,
    kind: Annotated[
        str | None,
        Query(pattern="^[a-z_]{1,20}$", description="kind of records, when the department sends several"),
    ] = None,
) -> JSONResponse:
    require_sender(who, department)
    settings = get_sources_settings()
    if idempotency_key is not None and not 0 < len(idempotency_key) <= settings.max_idempotency_key:
        raise SourceRefused(f"an Idempotency-Key has 1 to {settings.max_idempotency_key} characters")
    body = await _body(request, settings.max_push_bytes)
    result = await push_records(
        conn,
        department,
        body,
        request.headers.get("content-type", ""),
        default_mapping(department, kind),
        who.actor,
        idempotency_key,
    )
    return JSONResponse(result.body, status_code=result.status)
