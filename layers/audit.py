"""The audit log: who read personal data or changed what. Rows are append-only (a trigger refuses changes).

The one writer: the async routes use ``record``, the synchronous ones (uploads, downloads, grants) ``record_sync``;
both run the same statement, ``sql/audit_insert.sql``.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from layers.access import Principal
from layers.catalog import Layer
from layers.sql import read_sql


async def record(
    conn: AsyncConnection[Any],
    who: Principal,
    action: str,
    target_kind: str,
    target_id: str | None,
    detail: dict[str, Any] | None = None,
) -> None:
    """One audit row; inside the caller's transaction when there is one, so a failed edit leaves none."""
    await conn.execute(read_sql("audit_insert.sql"), _row(who, action, target_kind, target_id, detail))


def _row(
    who: Principal, action: str, target_kind: str, target_id: str | None, detail: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "actor": who.actor,
        "role": who.role,
        "action": action,
        "kind": target_kind,
        "target": target_id,
        "detail": Jsonb(detail or {}),
    }


def reveals_personal_data(layer: Layer, who: Principal) -> bool:
    """Whether `who` receives `layer`'s personal fields unmasked (and so the read must be audited)."""
    return who.sees_personal_data and any(f.personal or f.mask for f in layer.fields)


async def record_personal_read(
    conn: AsyncConnection[Any],
    who: Principal,
    target_kind: str,
    target_id: str | None,
    detail: dict[str, Any],
) -> None:
    """Audit a read that returned unmasked personal data (callers check that it did)."""
    await record(conn, who, "read", target_kind, target_id, {**detail, "masked": False})


def record_sync(
    conn: psycopg.Connection,
    who: Principal,
    action: str,
    target_kind: str,
    target_id: str | None,
    detail: dict[str, Any] | None = None,
) -> None:
    """`record` for the synchronous routes and the CLI (uploads, downloads, grants)."""
    conn.execute(read_sql("audit_insert.sql"), _row(who, action, target_kind, target_id, detail))
