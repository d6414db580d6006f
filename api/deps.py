"""Dependencies shared by every router: who is calling."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Depends, Header, Query, Request

from api.auth import KEY_LOOKUP, hash_key, principal_from_row
from api.db import get_pool
from api.errors import Forbidden
from api.execute import fetch_one
from layers.access import PUBLIC, Principal


async def get_principal(
    request: Request,
    x_api_key: str | None = Header(default=None, description="API key (or the api_key query parameter)."),
    api_key: str | None = Query(default=None, description="API key, for clients that cannot set headers."),
) -> Principal:
    key = x_api_key or api_key
    if not key:
        return PUBLIC
    async with get_pool(request).connection() as conn:
        row = await fetch_one(conn, KEY_LOOKUP, {"hash": hash_key(key)})
    return principal_from_row(row)


def require_role(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets only the given roles through."""

    async def check(who: Principal = Depends(get_principal)) -> Principal:
        if who.role not in roles:
            raise Forbidden(f"this needs one of the roles {', '.join(roles)}; your key has role {who.role!r}")
        return who

    return check
