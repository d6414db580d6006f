"""``/cases``: the case workflow (工单). Lists and single cases with their timeline in the caller's scope
(grid workers their grid, community and street operators their area's grids, department editors their
department, the operations centre, planners and admins everything; citizens' contacts masked by role),
reports from the field, transitions by the roles that may take them (409 names the
actions the state allows, 403 the roles), photos, and the departments' evaluation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Depends, File, Header, Path, Query, Request, UploadFile
from fastapi.responses import Response
from psycopg import AsyncConnection
from pydantic import BaseModel, Field

from api.db import connection
from api.deps import require_role
from api.links import root_path
from api.openapi import problem_response
from layers.access import Principal
from layers.audit import record, record_personal_read
from layers.query.temporal import parse_instant
from spatial.cases.errors import AttachmentTooLarge
from spatial.cases.machine import ACTION_NAMES, STATES
from spatial.cases.settings import get_case_settings
from spatial.cases.store import (
    CaseFilter,
    Report,
    add_attachment,
    attachment,
    case_with_timeline,
    cases_page,
    evaluation,
    report_case,
    scope_of,
    take_action,
)
from spatial.cases.transitions import Request as ActionRequest
from spatial.errors import InvalidInput

router = APIRouter(prefix="/cases", tags=["Cases"])

Conn = Annotated[AsyncConnection[Any], Depends(connection)]
OPERATORS = ("community_operator", "street_operator")
Reader = Annotated[
    Principal, Depends(require_role("admin", "planner", "department_editor", "grid_worker", *OPERATORS))
]
Actor = Annotated[Principal, Depends(require_role("admin", "department_editor", "grid_worker"))]
# Operators take one action, assign, on their area's cases; the machine says which (403 for the others).
ActionTaker = Annotated[
    Principal, Depends(require_role("admin", "department_editor", "grid_worker", *OPERATORS))
]
MAX_PAGE = 500


class ActionBody(BaseModel):
    note: str | None = Field(default=None, max_length=2000)
    department: str | None = Field(
        default=None, description="dispatch only: another department than the route's"
    )
    attachments: list[int] = Field(default_factory=list, max_length=20)
    assignee: int | None = Field(
        default=None, ge=1, description="assign only: the id of a grid worker key of the case's grid"
    )


class ReportBody(BaseModel):
    category: str = Field(max_length=64)
    description: str = Field(min_length=1, max_length=2000)
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    building: str | None = Field(default=None, max_length=64, description="building code instead of lon/lat")
    address: str | None = Field(default=None, max_length=500)


def shape(request: Request, row: dict[str, Any]) -> dict[str, Any]:
    base = str(request.base_url).rstrip("/")
    code = row.pop("building_code", None)
    row["building"] = None if code is None else {"code": code, "map": f"{base}/map/buildings/{code}"}
    row["links"] = [{"rel": "self", "href": f"{base}/cases/{row['id']}"}]
    return row


def _states(text: str | None) -> list[str] | None:
    if not text:
        return None
    states = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in states if s not in STATES]
    if unknown:
        raise InvalidInput(f"unknown state {unknown[0]!r}: use one or more of {', '.join(STATES)}")
    return states


@router.get("", summary="Cases in your scope, newest change first")
async def list_cases(
    request: Request,
    conn: Conn,
    who: Reader,
    state: Annotated[str | None, Query(description="One state or several, comma-separated.")] = None,
    category: Annotated[str | None, Query(max_length=64)] = None,
    department: Annotated[str | None, Query(max_length=64)] = None,
    grid: Annotated[str | None, Query(max_length=64)] = None,
    street: Annotated[str | None, Query(max_length=64)] = None,
    source_kind: Annotated[str | None, Query(pattern="^(warning|verification_issue|report|open311)$")] = None,
    overdue: bool | None = None,
    mine: Annotated[bool, Query(description="Only the cases last assigned to your key.")] = False,
    since: Annotated[datetime | None, Query(description="Only cases changed after this.")] = None,
    as_of: Annotated[
        str | None,
        Query(alias="datetime", description="As of an instant (RFC 3339): the cases as they were."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    scope = scope_of(who)
    instant = _instant(as_of)
    where = CaseFilter(
        _states(state),
        category,
        department,
        grid,
        street,
        source_kind,
        overdue,
        since,
        instant,
        limit,
        offset,
        who.actor if mine else None,
    )
    rows, matched, exact = await cases_page(conn, scope, where)
    if rows and scope.unmasked and any(r["contact"] for r in rows):
        await record_personal_read(conn, who, "cases", None, {"returned": len(rows)})
    cases = [shape(request, row) for row in rows]
    links = []
    if offset + len(cases) < matched or (not exact and len(cases) == limit):
        query = {**request.query_params, "offset": str(offset + limit)}
        links.append({"rel": "next", "href": str(request.url.replace(query=urlencode(query)))})
    counted = {"numberMatched": matched} if exact else {"numberMatchedAtLeast": matched}
    return {**counted, "numberReturned": len(cases), "cases": cases, "links": links}


def _instant(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_instant(text)
    except ValueError:
        raise InvalidInput(
            f"invalid datetime {text!r}: give one instant, e.g. 2026-05-01T08:00:00Z"
        ) from None


@router.get("/evaluation", summary="Per department: resolved, on time, returned, reopened, overdue")
async def evaluate(
    conn: Conn,
    who: Reader,
    since: datetime | None = None,
    until: datetime | None = None,
    department: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    scoped = scope_of(who).department or department
    rows = await evaluation(conn, since, until, scoped)
    for row in rows:
        row["on_time_rate"] = round(row["resolved_on_time"] / row["resolved"], 3) if row["resolved"] else None
    return {"departments": rows}


@router.post("", status_code=201, summary="Report a case (location, note; photos then as attachments)")
async def report(
    request: Request,
    conn: Conn,
    who: Actor,
    body: ReportBody,
    idempotency_key: Annotated[
        str | None, Header(max_length=200, description="Resending with the same key returns the first case.")
    ] = None,
) -> dict[str, Any]:
    async with conn.transaction():
        case_id, created = await report_case(
            conn,
            who,
            Report(
                body.category,
                body.description,
                body.lon,
                body.lat,
                body.building,
                body.address,
                idempotency_key=idempotency_key,
            ),
        )
        if created:
            await record(conn, who, "case.report", "case", str(case_id), {"category": body.category})
    case = await case_with_timeline(conn, who, case_id)
    return {**shape(request, case), "created": created}


@router.get("/{case_id:int}", summary="One case with its timeline and the actions you may take")
async def get_case(
    request: Request, conn: Conn, who: Reader, case_id: Annotated[int, Path()]
) -> dict[str, Any]:
    case = await case_with_timeline(conn, who, case_id)
    if scope_of(who).unmasked and case["contact"]:
        await record_personal_read(conn, who, "case", str(case_id), {"contact": True})
    return shape(request, case)


@router.post(
    "/{case_id:int}/attachments",
    status_code=201,
    summary="Add a photo (JPEG, PNG or WebP)",
    responses={
        413: problem_response("The photo is over ONEMAP_CASES_ATTACHMENT_MAX_BYTES."),
        415: problem_response("The file is not a JPEG, PNG or WebP image."),
    },
)
async def upload_attachment(
    request: Request,
    conn: Conn, who: Actor, case_id: Annotated[int, Path()], file: Annotated[UploadFile, File()]
) -> dict[str, Any]:
    limit = get_case_settings().attachment_max_bytes
    content = await file.read(limit + 1)  # never more than one byte past the limit in memory
    if len(content) > limit:
        raise AttachmentTooLarge(
            f"the attachment is over the limit of {limit} bytes (ONEMAP_CASES_ATTACHMENT_MAX_BYTES): "
            "send a smaller photo"
        )
    async with conn.transaction():
        added = await add_attachment(conn, who, case_id, content)
        await record(conn, who, "case.attach", "case", str(case_id), {"attachment": added["id"]})
    return {**added, "href": f"{root_path(request)}/cases/{case_id}/attachments/{added['id']}"}


@router.get("/{case_id:int}/attachments/{attachment_id:int}", summary="A case's photo")
async def get_attachment(
    conn: Conn, who: Reader, case_id: Annotated[int, Path()], attachment_id: Annotated[int, Path()]
) -> Response:
    found = await attachment(conn, who, case_id, attachment_id)
    return Response(bytes(found["content"]), media_type=found["media_type"])


async def record_transition(conn: AsyncConnection[Any], who: Principal, done: dict[str, Any]) -> None:
    """The audit entry of one transition (``take_action``'s result), for every path that takes one."""
    detail = {
        "from": done["from_state"],
        "to": done["to_state"],
        "note": done["note"],
        "department": done["department"],
    }
    if done["assignee"]:
        detail |= {"assignee": done["assignee"], "task": done["task"]["id"]}
    await record(conn, who, f"case.{done['action']}", "case", str(done["id"]), detail)


@router.post(
    "/{case_id:int}/{action}",
    summary="Take an action: " + ", ".join(ACTION_NAMES),
    responses={
        403: {"description": "your role may not take it"},
        409: {"description": "the state does not allow it"},
    },
)
async def act(
    request: Request,
    conn: Conn,
    who: ActionTaker,
    case_id: Annotated[int, Path()],
    action: Annotated[str, Path(max_length=32)],
    body: Annotated[ActionBody, Body()] = ActionBody(),  # noqa: B008 - an empty body is a valid body
) -> dict[str, Any]:
    asked = ActionRequest(action, body.note, body.department, tuple(body.attachments), body.assignee)
    async with conn.transaction():
        done = await take_action(conn, who, case_id, asked)
        await record_transition(conn, who, done)
    case = await case_with_timeline(conn, who, case_id) if done["to_state"] else None
    return {"transition": done, "case": shape(request, case) if case else None}
