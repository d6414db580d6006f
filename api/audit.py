"""The audit log: who read personal data or changed what. Rows are append-only (a trigger refuses changes)."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from layers.access import Principal

_INSERT = (
    "INSERT INTO onemap.audit_log (actor, role, action, target_kind, target_id, detail) "
    "VALUES (%(actor)s, %(role)s, %(action)s, %(kind)s, %(target)s, %(detail)s)"
)


async def record(
    conn: AsyncConnection[Any],
    who: Principal,
    action: str,
    target_kind: str,
    target_id: str | None,
    detail: dict[str, Any] | None = None,
) -> None:
    """One audit row; inside the caller's transaction when there is one, so a failed edit leaves none."""
    await conn.execute(
        _INSERT,
        {
            "actor": who.actor,
            "role": who.role,
            "action": action,
            "kind": target_kind,
            "target": target_id,
            "detail": Jsonb(detail or {}),
        },
    )
