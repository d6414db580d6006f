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
from layers.access import PUBLIC, ROLES, SCOPED_ROLES, Principal
from layers.sql import read_sql
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
    conn: sa.Connection,
    label: str,
    role: str,
    department: str | None = None,
    grid_code: str | None = None,
    area_code: str | None = None,
) -> CreatedKey:
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    if department is not None and department not in DEPARTMENTS:
        raise InvalidInput(f"unknown department {department!r}: use one of {', '.join(DEPARTMENTS)}")
    if role == "grid_worker" and not grid_code:
        raise InvalidInput("a grid worker key needs --grid (the grid code it may see)")
    if role == "department_editor" and not department:
        raise InvalidInput("a department editor key needs --department")
    level = SCOPED_ROLES.get(role)
    if level in ("community", "street") and not area_code:
        raise InvalidInput(f"a {role} key needs --area (the {level} code it may see)")
    if area_code is not None and level not in ("community", "street"):
        raise InvalidInput("--area is for community_operator and street_operator keys only")
    if grid_code is not None:
        _require_area(conn, grid_code, "grid")
    if area_code is not None and level is not None:
        _require_area(conn, area_code, level)
    key = KEY_PREFIX + secrets.token_urlsafe(24)
    new_id = conn.execute(
        sa.insert(api_key)
        .values(key_hash=hash_key(key), label=label, role=role, department=department, grid_code=grid_code,
                area_code=area_code)
        .returning(api_key.c.id)
    ).scalar_one()
    return CreatedKey(new_id, key)


def _require_area(conn: sa.Connection, code: str, level: str) -> None:
    found = conn.execute(
        sa.text("SELECT 1 FROM onemap.admin_area WHERE code = :c AND level = :l"), {"c": code, "l": level}
    ).first()
    if found is None:
        raise InvalidInput(f"no {level} with code {code!r}")


KEY_LOOKUP = read_sql("key_lookup.sql")  # shared with the notebook viewer


def principal_from_row(row: Mapping[Any, Any] | None) -> Principal:
    """The principal of a looked-up key row (``KEY_LOOKUP``); None means the key is unknown."""
    if row is None:
        raise Unauthorized("unknown API key: ask an administrator for a key (onemap keys create)")
    if row["revoked_at"] is not None:
        raise Unauthorized("this API key has been revoked: ask an administrator for a new one")
    return Principal(
        row["role"], row["department"], row["grid_code"], actor=f"key:{row['id']}:{row['label']}",
        area_code=row.get("area_code"), grids=tuple(row.get("grids") or ()),
    )


def principal_for_key(conn: sa.Connection, key: str | None) -> Principal:
    """The same lookup for synchronous callers (CLI, notebooks)."""
    if not key:
        return PUBLIC
    row = conn.exec_driver_sql(KEY_LOOKUP, {"hash": hash_key(key)}).mappings().first()
    return principal_from_row(row)
