"""Open311 GeoReport v2 (``/open311/v2``) for hotline systems (12345): the offered services, service requests
GET and POST, one request. JSON or XML by suffix, as the spec asks; errors in the spec's own format
(``[{"code": 400, "description": "..."}]``). A request becomes a reported case, routed like any other; a
resent submission (the same fields, or the same ``Idempotency-Key``) returns the first request's id."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Header, Path, Query, Request
from fastapi.responses import Response
from psycopg import AsyncConnection

from api.auth import KEY_LOOKUP, hash_key, principal_from_row
from api.db import connection
from api.deps import get_principal
from api.errors import ERROR_FORMATS, Forbidden
from api.execute import fetch_one
from api.openapi import PROBLEM
from layers.access import Principal
from layers.audit import record
from spatial.cases.open311 import RequestQuery, parse_query, service_requests, services, submission_key
from spatial.cases.rules import load_rules
from spatial.cases.store import Report, report_case
from spatial.errors import InvalidInput, NotFound

PREFIX = "/open311/v2"
# The spec's error body; the request-size limits and a lost database answer before the route, as problems.
SPEC_ERROR = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
        "required": ["code", "description"],
    },
}
XML = {"text/xml": {"schema": {"type": "string"}}}


def _spec_error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": SPEC_ERROR}, **XML}}


def _answers(*ok: int) -> dict[int | str, dict[str, Any]]:
    answers: dict[int | str, dict[str, Any]] = {
        status: {
            "description": "GeoReport v2 JSON or XML",
            "content": {"application/json": {"schema": {}}, **XML},
        }
        for status in ok
    }
    for status, text in (
        (400, "The request breaks the spec; the description says how."),
        (401, "The api_key is unknown or revoked."),
        (403, "The api_key may not do this."),
        (404, "No such service or request."),
    ):
        answers[status] = _spec_error(text)
    answers[503] = {
        "description": "The database is not answering.",
        "content": {
            "application/json": {"schema": SPEC_ERROR},
            "application/problem+json": {"schema": PROBLEM},
            **XML,
        },
    }
    return answers


router = APIRouter(prefix=PREFIX, tags=["Open311"])
Conn = Annotated[AsyncConnection[Any], Depends(connection)]
Caller = Annotated[Principal, Depends(get_principal)]
Format = Annotated[str, Path(pattern="^(json|xml)$", description="json or xml")]
SUBMITTERS = ("admin", "department_editor", "grid_worker")
ROOTS = {
    "services": ("services", "service"),
    "requests": ("service_requests", "request"),
    "errors": ("errors", "error"),
}


def _text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value).lower()
    return "" if value is None else str(value)


def render(kind: str, rows: list[dict[str, Any]], fmt: str, status: int = 200) -> Response:
    if fmt == "xml":
        root_name, item_name = ROOTS[kind]
        root = ET.Element(root_name)
        for row in rows:
            item = ET.SubElement(root, item_name)
            for key, value in row.items():
                ET.SubElement(item, key).text = _text(value)
        body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
        return Response(body, status_code=status, media_type="text/xml; charset=utf-8")
    body = json.dumps(rows, ensure_ascii=False, default=_text).encode()
    return Response(body, status_code=status, media_type="application/json; charset=utf-8")


def open311_error(request: Request, status: int, detail: str) -> Response:
    fmt = "xml" if request.url.path.endswith(".xml") else "json"
    return render("errors", [{"code": status, "description": detail}], fmt, status)


ERROR_FORMATS[PREFIX + "/"] = open311_error


@router.get(
    "/services.{fmt}", summary="The services (case categories) a hotline can report", responses=_answers(200)
)
async def list_services(conn: Conn, fmt: Format) -> Response:
    return render("services", services((await load_rules(conn)).routing), fmt)


@router.get(
    "/services/{code}.{fmt}",
    summary="A service definition (no extra attributes are asked)",
    responses=_answers(200),
)
async def service_definition(conn: Conn, code: Annotated[str, Path(max_length=64)], fmt: Format) -> Response:
    offered = {s["service_code"] for s in services((await load_rules(conn)).routing)}
    if code not in offered:
        raise NotFound(f"service_code {code!r} not found: see services.{fmt}")
    body = {"service_code": code, "attributes": []}
    if fmt == "xml":
        root = ET.Element("service_definition")
        ET.SubElement(root, "service_code").text = code
        ET.SubElement(root, "attributes")
        return Response(ET.tostring(root, encoding="utf-8", xml_declaration=True), media_type="text/xml")
    return Response(json.dumps(body), media_type="application/json")


@router.get(
    "/requests.{fmt}",
    summary="Service requests: by ids, service codes, period, status",
    responses=_answers(200),
)
async def list_requests(
    conn: Conn,
    fmt: Format,
    service_request_id: Annotated[str | None, Query(max_length=2000)] = None,
    service_code: Annotated[str | None, Query(max_length=2000)] = None,
    start_date: Annotated[str | None, Query(max_length=40)] = None,
    end_date: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    query = parse_query(service_request_id, service_code, start_date, end_date, status)
    return render("requests", await service_requests(conn, query), fmt)


@router.get("/requests/{request_id}.{fmt}", summary="One service request", responses=_answers(200))
async def one_request(conn: Conn, request_id: Annotated[str, Path(max_length=20)], fmt: Format) -> Response:
    if not request_id.isdigit():
        raise InvalidInput(f"service_request_id {request_id!r}: request ids are numbers")
    rows = await service_requests(conn, RequestQuery(ids=[int(request_id)], all_sources=False))
    if not rows:
        raise NotFound(f"service request {request_id} not found")
    return render("requests", rows, fmt)


@router.post(
    "/requests.{fmt}",
    summary="Create a service request (form fields as in GeoReport v2)",
    status_code=201,
    responses=_answers(200, 201),
)
async def create_request(
    conn: Conn,
    who: Caller,
    fmt: Format,
    service_code: Annotated[str, Form(max_length=64)],
    lat: Annotated[float | None, Form(ge=-90, le=90)] = None,
    long: Annotated[float | None, Form(ge=-180, le=180)] = None,
    address_string: Annotated[str | None, Form(max_length=500)] = None,
    address_id: Annotated[str | None, Form(max_length=64, description="a building code")] = None,
    email: Annotated[str | None, Form(max_length=200)] = None,
    device_id: Annotated[str | None, Form(max_length=200)] = None,
    account_id: Annotated[str | None, Form(max_length=200)] = None,
    first_name: Annotated[str | None, Form(max_length=100)] = None,
    last_name: Annotated[str | None, Form(max_length=100)] = None,
    phone: Annotated[str | None, Form(max_length=40)] = None,
    description: Annotated[str | None, Form(max_length=4000)] = None,
    media_url: Annotated[str | None, Form(max_length=2000)] = None,
    api_key: Annotated[
        str | None, Form(max_length=200, description="the spec sends the key in the form")
    ] = None,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    if api_key and not who.is_internal:  # looked up on this request's own connection
        who = principal_from_row(await fetch_one(conn, KEY_LOOKUP, {"hash": hash_key(api_key)}))
    if who.role not in SUBMITTERS:
        raise Forbidden("creating a service request needs an api_key issued to the hotline system")
    if (lat is None) != (long is None):
        raise InvalidInput("give both lat and long, or neither (then address_id)")
    if lat is None and not address_id:
        raise InvalidInput("a location is required: lat and long, or address_id (a building code)")
    offered = {s["service_code"] for s in services((await load_rules(conn)).routing)}
    if service_code not in offered:
        raise InvalidInput(
            f"service_code {service_code!r} not found: use one of {', '.join(sorted(offered))}"
        )
    name = " ".join(p for p in (last_name, first_name) if p) or None
    contact = {k: v for k, v in {"name": name, "phone": phone, "email": email}.items() if v}
    fields = {
        "service_code": service_code,
        "lat": lat,
        "long": long,
        "address_string": address_string,
        "address_id": address_id,
        "email": email,
        "device_id": device_id,
        "account_id": account_id,
        "first_name": first_name,
        "last_name": last_name,
        "phone": phone,
        "description": description,
        "media_url": media_url,
    }
    key = idempotency_key or submission_key(fields)
    text = description or service_code
    if media_url:
        text += f"\n{media_url}"
    report = Report(service_code, text, long, lat, address_id, address_string, contact, "open311", key)
    async with conn.transaction():
        case_id, created = await report_case(conn, who, report)
        if created:
            await record(conn, who, "open311.request", "case", str(case_id), {"service_code": service_code})
    notice = "已受理 received" if created else "already received: this is the first request's id"
    row = {"service_request_id": str(case_id), "service_notice": notice, "account_id": account_id}
    return render("requests", [row], fmt, 201 if created else 200)
