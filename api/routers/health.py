"""``/health``: is the server up and can it reach the database (for load balancers and docker-compose)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.db import get_database
from api.execute import fetch_one

router = APIRouter(tags=["health"])


@router.get("/health", summary="Liveness and database check")
async def health(request: Request) -> JSONResponse:
    body: dict[str, Any] = {"status": "ok"}
    database = get_database(request)
    try:
        async with database.connection() as conn:
            row = await fetch_one(conn, "SELECT postgis_lib_version() AS postgis")
        body["database"] = "ok"
        body["postgis"] = row["postgis"] if row else None
        return JSONResponse(body)
    except Exception:  # any failure to reach the database is "unavailable", without details
        body.update(status="degraded", database="unavailable")
        return JSONResponse(body, status_code=503)
