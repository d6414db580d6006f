"""Running composed SQL for a request: database complaints about the request's values become 4xx errors.

Only errors caused by values (bad geometry, numbers out of range, broken constraints) are translated, with a
message written here, never the server's text; anything else stays a 500 and is logged by ``api/errors.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg import AsyncConnection, errors, sql

from spatial.errors import Conflict, InvalidInput

Query = sql.Composed | sql.SQL | str


async def fetch_one(
    conn: AsyncConnection[Any], query: Query, params: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    try:
        cursor = await conn.execute(query, params)
        return await cursor.fetchone()
    except psycopg.Error as exc:
        raise translated(exc) from None


async def fetch_all(
    conn: AsyncConnection[Any], query: Query, params: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    try:
        cursor = await conn.execute(query, params)
        return await cursor.fetchall()
    except psycopg.Error as exc:
        raise translated(exc) from None


def translated(exc: psycopg.Error) -> Exception:
    """The domain error for a database error caused by the request, else the error itself."""
    diag = exc.diag
    if isinstance(exc, errors.NotNullViolation):
        return InvalidInput(f"property {diag.column_name!r} is required")
    if isinstance(exc, errors.UniqueViolation):
        return Conflict("a feature with the same identifying value already exists")
    if isinstance(exc, errors.ForeignKeyViolation):
        return InvalidInput(f"a property refers to something that does not exist ({diag.constraint_name})")
    if isinstance(exc, errors.CheckViolation):
        return InvalidInput(f"a property value breaks the rule {diag.constraint_name!r}")
    if isinstance(exc, (psycopg.DataError, errors.InternalError_)):
        # Class 22 (division by zero, numbers out of range, bad text for a type) are psycopg.DataError
        # subclasses; PostGIS reports unparsable or mismatched geometry as XX000.
        return InvalidInput(
            "a value in the request cannot be used: check geometries (valid GeoJSON of the "
            "layer's geometry type, in the stated CRS), numbers (within range, no division by zero) and the "
            "types of filter values"
        )
    return exc
