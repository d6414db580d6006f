"""``/maps``: saved one-map modes. ``GET /maps`` lists those shared with the caller, ``POST /maps`` saves one,
``GET /maps/{id}`` returns it (JSON) or opens it in the Folium viewer (``f=html`` or a browser's Accept), and
``/maps/{id}/dashboard`` opens it as a mode of the wall. (``/map``, singular, is the viewers' page.)"""

from __future__ import annotations

import dataclasses
import html
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from pydantic import BaseModel, Field

from api.db import connection
from api.deps import get_principal
from api.errors import Forbidden
from api.routers.maps import PageRoute, Who, context, page
from layers.access import Principal
from layers.audit import record
from layers.catalog import readable_layers
from layers.saved_maps import (
    MapDefinition,
    check_definition,
    check_sharing,
    require_readable,
    require_saver,
)
from layers.sql import read_sql
from layers.viewer import Focus

router = APIRouter(tags=["Saved maps"], route_class=PageRoute)

Conn = Annotated[AsyncConnection[Any], Depends(connection)]
Caller = Annotated[Principal, Depends(get_principal)]
_ONE = "SELECT * FROM onemap.saved_map WHERE id = %(id)s"
_INSERT = """
INSERT INTO onemap.saved_map (title, description, owner, owner_role, owner_department, definition, shared_roles,
                              shared_departments)
VALUES (%(title)s, %(description)s, %(owner)s, %(role)s, %(department)s, %(definition)s, %(roles)s, %(departments)s)
RETURNING id, created_at"""


class View(BaseModel):
    bbox: list[float] = Field(min_length=4, max_length=4, description="[west, south, east, north], degrees")


class SavedMapBody(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    layers: list[Annotated[str, Field(max_length=64)]] = Field(min_length=1, max_length=20)
    styles: dict[str, dict[str, Any]] = Field(default_factory=dict, description="layer -> viewer style spec")
    filters: dict[str, Annotated[str, Field(max_length=2000)]] = Field(
        default_factory=dict, description="layer -> CQL2 text filter"
    )
    view: View | None = None
    as_of: str | None = Field(default=None, max_length=40)
    shared_roles: list[str] = Field(default_factory=list, max_length=10)
    shared_departments: list[str] = Field(default_factory=list, max_length=11)


def _shape(request: Request, row: dict[str, Any]) -> dict[str, Any]:
    base = str(request.base_url).rstrip("/")
    return {
        **{k: v for k, v in row.items() if k != "definition"},
        **row["definition"],
        "links": [
            {"rel": "self", "href": f"{base}/maps/{row['id']}"},
            {"rel": "viewer", "type": "text/html", "href": f"{base}/maps/{row['id']}?f=html"},
            {"rel": "dashboard", "type": "text/html", "href": f"{base}/dashboard?map={row['id']}"},
        ],
    }


async def read_saved_map(conn: AsyncConnection[Any], who: Principal, map_id: int) -> dict[str, Any]:
    """A saved map the caller may read (NotFound otherwise); shared with the dashboard."""
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(_ONE, {"id": map_id})
        row = await cursor.fetchone()
    return require_readable(row, map_id, who)


@router.get("/maps", summary="Saved one-map modes shared with your key")
async def list_maps(
    request: Request,
    conn: Conn,
    who: Caller,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    if not who.is_internal:
        raise Forbidden("saved maps need a key with an internal role")
    params = {
        "admin": who.role == "admin",
        "actor": who.actor,
        "role": who.role,
        "department": who.department,
        "limit": limit,
        "offset": offset,
    }
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(read_sql("saved_maps.sql"), params)
        rows = await cursor.fetchall()
    return {"maps": [_shape(request, row) for row in rows], "numberReturned": len(rows)}


@router.post("/maps", status_code=201, summary="Save a one-map mode")
async def save_map(
    request: Request, conn: Conn, who: Caller, body: Annotated[SavedMapBody, Body()]
) -> dict[str, Any]:
    require_saver(who)
    definition = MapDefinition(
        body.layers, body.styles, body.filters, {"bbox": body.view.bbox} if body.view else None, body.as_of
    )
    readable = {layer.id: layer for layer in await readable_layers(conn, who)}
    check_definition(definition, readable)
    check_sharing(body.shared_roles, body.shared_departments)
    params = {
        "title": body.title,
        "description": body.description,
        "owner": who.actor,
        "role": who.role,
        "department": who.department,
        "definition": Jsonb(definition.as_json()),
        "roles": Jsonb(body.shared_roles),
        "departments": Jsonb(body.shared_departments),
    }
    async with conn.transaction():
        cursor = await conn.execute(_INSERT, params)
        created = await cursor.fetchone()
        assert created is not None  # INSERT ... RETURNING
        await record(conn, who, "saved_map.create", "saved_map", str(created["id"]), {"title": body.title})
    return await get_map_json(request, conn, who, created["id"])


async def get_map_json(
    request: Request, conn: AsyncConnection[Any], who: Principal, map_id: int
) -> dict[str, Any]:
    return _shape(request, await read_saved_map(conn, who, map_id))


@router.get(
    "/maps/{map_id}",
    summary="A saved map (JSON), or opened in the viewer (f=html)",
    responses={200: {"content": {"application/json": {}, "text/html": {}}}},
)
async def get_map(
    request: Request,
    conn: Conn,
    who: Who,
    map_id: Annotated[int, Path(ge=1)],
    f: Annotated[str | None, Query(pattern="^(json|html)$")] = None,
) -> Response:
    wants_html = f == "html" or (f is None and "text/html" in request.headers.get("accept", ""))
    if not wants_html:
        from fastapi.encoders import jsonable_encoder
        from fastapi.responses import JSONResponse

        return JSONResponse(jsonable_encoder(await get_map_json(request, conn, who, map_id)))
    return await viewer_page(request, conn, who, map_id)


async def viewer_page(
    request: Request, conn: AsyncConnection[Any], who: Principal, map_id: int
) -> HTMLResponse:
    saved = await read_saved_map(conn, who, map_id)
    definition = saved["definition"]
    ctx = await context(request, conn, who)
    wanted = definition.get("layers", [])
    styles = definition.get("styles", {})
    # the saved layers the caller may read, in the saved order and with the saved styles
    by_id = {layer.id: layer for layer in ctx.layers}
    ctx.layers = [
        dataclasses.replace(by_id[i], style=styles.get(i) or by_id[i].style) for i in wanted if i in by_id
    ]
    box = (definition.get("view") or {}).get("bbox")
    panel = (
        f"<h3>{html.escape(saved['title'])}</h3><div>{html.escape(saved['description'])}</div>"
        f"<div>{html.escape(', '.join(layer.title for layer in ctx.layers))}</div>"
    )
    focus = Focus("layer", f"map-{map_id}", bounds=tuple(box) if box else ctx.bounds, panel_html=panel)
    return await page(ctx, focus, heatmap="none", title=saved["title"])


@router.get(
    "/maps/{map_id}/dashboard", summary="A saved map as a mode of the wall", response_class=HTMLResponse
)
async def map_on_dashboard(map_id: Annotated[int, Path(ge=1)], request: Request) -> Response:
    query = request.url.query
    return RedirectResponse(f"/dashboard?map={map_id}" + (f"&{query}" if query else ""), status_code=303)
