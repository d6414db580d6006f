"""API keys -> principals. Keys travel in the ``X-API-Key`` header or the ``api_key`` query parameter; only their
SHA-256 is stored. No key means the public role."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from api.errors import Unauthorized
from layers.access import PUBLIC, ROLES, Principal
from spatial.errors import InvalidInput
from spatial.schema import DEPARTMENTS, api_key

KEY_PREFIX = "om_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class CreatedKey:
    id: int
    key: str  # shown once


def create_key(
    conn: sa.Connection, label: str, role: str, department: str | None = None, grid_code: str | None = None
) -> CreatedKey:
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    if department is not None and department not in DEPARTMENTS:
        raise InvalidInput(f"unknown department {department!r}: use one of {', '.join(DEPARTMENTS)}")
    if role == "grid_worker" and not grid_code:
        raise InvalidInput("a grid worker key needs --grid (the grid code it may see)")
    if role == "department_editor" and not department:
        raise InvalidInput("a department editor key needs --department")
    if grid_code is not None:
        found = conn.execute(
            sa.text("SELECT 1 FROM onemap.admin_area WHERE code = :c AND level = 'grid'"), {"c": grid_code}
        ).first()
        if found is None:
            raise InvalidInput(f"no grid with code {grid_code!r}")
    key = KEY_PREFIX + secrets.token_urlsafe(24)
    new_id = conn.execute(
        sa.insert(api_key)
        .values(key_hash=hash_key(key), label=label, role=role, department=department, grid_code=grid_code)
        .returning(api_key.c.id)
    ).scalar_one()
    return CreatedKey(new_id, key)


KEY_LOOKUP = (
    "SELECT id, label, role, department, grid_code, revoked_at FROM onemap.api_key WHERE key_hash = %(hash)s"
)


def principal_from_row(row: Mapping[Any, Any] | None) -> Principal:
    """The principal of a looked-up key row (``KEY_LOOKUP``); None means the key is unknown."""
    if row is None:
        raise Unauthorized("unknown API key: ask an administrator for a key (onemap keys create)")
    if row["revoked_at"] is not None:
        raise Unauthorized("this API key has been revoked: ask an administrator for a new one")
    return Principal(
        row["role"], row["department"], row["grid_code"], actor=f"key:{row['id']}:{row['label']}"
    )


def principal_for_key(conn: sa.Connection, key: str | None) -> Principal:
    """The same lookup for synchronous callers (CLI, notebooks)."""
    if not key:
        return PUBLIC
    row = conn.exec_driver_sql(KEY_LOOKUP, {"hash": hash_key(key)}).mappings().first()
    return principal_from_row(row)
