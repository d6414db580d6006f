"""``/warnings``: monitoring hits and grid events for grid workers: de-identified, paged, filterable, a poll
feed (``since``), acknowledge / close with a note (audited); each warning links to its building on the map."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from psycopg import AsyncConnection

from api.audit import record, record_personal_read
from api.db import connection
from api.deps import require_layer_reader
from api.errors import Forbidden
from api.settings import MAX_OFFSET
from layers.access import Principal
from spatial.errors import NotFound
from spatial.monitoring.warnings import WarningFilter, handle_warning, warnings_page

router = APIRouter(prefix="/warnings", tags=["Warnings"])

Conn = Annotated[AsyncConnection[Any], Depends(connection)]
READERS = ("admin", "planner", "grid_worker", "department_editor")
# Warnings are rows of the events layer: its read grant decides which departments see them.
Reader = Annotated[Principal, Depends(require_layer_reader("events", *READERS))]
Handler = Annotated[Principal, Depends(require_layer_reader("events", "admin", "grid_worker", "department_editor"))]
MAX_PAGE = 500


def scope_grid(who: Principal, asked: str | None) -> str | None:
    """Grid workers see their own grid only, whatever they ask for."""
    if who.role == "grid_worker":
        if asked and asked != who.grid_code:
            raise Forbidden(f"your key covers grid {who.grid_code} only")
        return who.grid_code
    return asked


def _shape(request: Request, row: dict[str, Any]) -> dict[str, Any]:
    code = row.pop("building_code")
    row["building"] = (
        None
        if code is None
        else {
            "code": code,
            "address": row.pop("address"),
            "room_no": row.pop("room_no"),
            "map": str(request.base_url).rstrip("/") + f"/map/buildings/{code}",
        }
    )
    row.pop("address", None)
    row.pop("room_no", None)
    row["links"] = [{"rel": "map", "href": row["building"]["map"]}] if row["building"] else []
    return row


@router.get("", summary="Warnings of your grid, newest change first")
async def list_warnings(
    request: Request,
    conn: Conn,
    who: Reader,
    grid: Annotated[str | None, Query(description="Grid code (grid workers: their own).")] = None,
    status: Annotated[str | None, Query(pattern="^(open|acknowledged|closed)$")] = None,
    kind: Annotated[
        str | None, Query(description="e.g. overcrowded_unit, commercial_vacancy, fire_hazard")
    ] = None,
    min_severity: Annotated[int, Query(ge=1, le=5)] = 1,
    since: Annotated[
        datetime | None, Query(description="Poll feed: only warnings changed after this.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    where = WarningFilter(
        grid=scope_grid(who, grid),
        status=status,
        kind=kind,
        min_severity=min_severity,
        since=since,
        limit=limit,
        offset=offset,
        unmasked=who.sees_personal_data,
    )
    rows, matched = await warnings_page(conn, where)
    if rows and who.sees_personal_data:  # residents' names and phones went out unmasked
        await record_personal_read(conn, who, "warnings", grid, {"returned": len(rows)})
    warnings = [_shape(request, row) for row in rows]
    latest = max((w["updated_at"] for w in warnings), default=since)
    query = {k: v for k, v in request.query_params.items() if k not in ("offset", "since")}
    links = []
    if offset + len(warnings) < matched:
        links.append(
            {
                "rel": "next",
                "href": _url(
                    request,
                    {**query, "offset": offset + limit, **({"since": since.isoformat()} if since else {})},
                ),
            }
        )
    if latest is not None:
        links.append({"rel": "poll", "href": _url(request, {**query, "since": latest.isoformat()})})
    return {"numberMatched": matched, "numberReturned": len(warnings), "warnings": warnings, "links": links}


def _url(request: Request, params: dict[str, Any]) -> str:
    return str(request.url.replace(query=urlencode(params)))


@router.post(
    "/{event_id}/{action}", name="warning_action", summary="Acknowledge or close a warning, with a note"
)
async def act_on_warning(
    conn: Conn,
    who: Handler,
    event_id: Annotated[int, Path()],
    action: Annotated[str, Path(pattern="^(acknowledge|close)$")],
    note: Annotated[str, Body(embed=True, min_length=1, max_length=2000)],
) -> dict[str, Any]:
    if who.role == "department_editor" and who.department != "grid":
        raise Forbidden("only grid management handles warnings")
    async with conn.transaction():
        changed = await handle_warning(conn, event_id, action, note, who.actor, scope_grid(who, None))
        if changed is None:
            raise NotFound(f"no open warning {event_id} in your grid")
        await record(
            conn,
            who,
            f"warning.{action}",
            "event",
            str(event_id),
            {"note": note, "status": changed["status"], "grid_code": changed["grid_code"]},
        )
    return {"id": event_id, "status": changed["status"], "note": note, "handled_by": who.actor}
