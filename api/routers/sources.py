"""The source catalogue and what departments send.

GET  /sources                          every department's data items with their freshness
GET  /sources/catalog.jsonld           the catalogue as DCAT-AP JSON-LD (public, for the open-data portal)
GET  /sources/{department}             one department's three lists, its systems and data items
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from psycopg import AsyncConnection

from api.db import connection
from api.deps import require_role
from api.settings import get_api_settings
from layers.access import Principal
from spatial.sources.dcat import catalog_jsonld
from spatial.sources.freshness import catalogue_overview, department_catalogue

router = APIRouter(prefix="/sources", tags=["Sources"])

Conn = Annotated[AsyncConnection[Any], Depends(connection)]
INTERNAL = ("admin", "planner", "department_editor", "grid_worker")
Reader = Annotated[Principal, Depends(require_role(*INTERNAL))]


@router.get("", summary="The source catalogue: every department's data items and their freshness")
async def overview(conn: Conn, who: Reader) -> dict[str, Any]:
    departments = await catalogue_overview(conn)
    return {"departments": departments, "overdue": sum(d["overdue"] for d in departments)}


@router.get("/catalog.jsonld", summary="The source catalogue as DCAT-AP (JSON-LD)")
async def dcat(request: Request, conn: Conn) -> JSONResponse:
    document = catalog_jsonld(await catalogue_overview(conn), str(request.base_url), get_api_settings().title)
    return JSONResponse(document, media_type="application/ld+json")


@router.get("/{department}", summary="A department's function, matter and system lists, with data items")
async def department(department: str, conn: Conn, who: Reader) -> dict[str, Any]:
    return await department_catalogue(conn, department)
