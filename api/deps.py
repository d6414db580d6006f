"""Dependencies shared by every router: who is calling."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Depends, Header, Query, Request

from api.auth import KEY_LOOKUP, hash_key, principal_from_row
from api.db import RequestConnection, request_connection
from api.errors import Forbidden
from api.execute import fetch_one
from api.key_cache import KeyCache
from layers.access import PUBLIC, Principal
from layers.catalog import readable_layer


async def get_principal(
    request: Request,
    db: RequestConnection = Depends(request_connection),
    x_api_key: str | None = Header(default=None, description="API key (or the api_key query parameter)."),
    api_key: str | None = Query(default=None, description="API key, for clients that cannot set headers."),
) -> Principal:
    key = x_api_key or api_key
    if not key:
        return PUBLIC
    key_hash = hash_key(key)
    keys: KeyCache | None = getattr(request.app.state, "keys", None)  # api/key_cache.py
    if keys is not None and (known := keys.get(key_hash)) is not None:
        return known
    epoch = keys.epoch if keys is not None else 0
    # The request's own connection: the route reuses it, so a request never waits for a second one.
    row = await fetch_one(await db.get(), KEY_LOOKUP, {"hash": key_hash})
    principal = principal_from_row(row)  # unknown and revoked keys are refused here, and never cached
    if keys is not None:
        keys.put(key_hash, principal, epoch)
    return principal


def require_layer_reader(layer_id: str, *roles: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency for endpoints that serve a layer's rows in another shape (warnings are the events layer,
    verification issues their layer): the caller needs one of `roles` and read access to that layer."""
    role_check = require_role(*roles)

    async def check(
        who: Principal = Depends(role_check), db: RequestConnection = Depends(request_connection)
    ) -> Principal:
        await readable_layer(await db.get(), layer_id, who)  # 403 for a department without a grant
        return who

    return check


def require_role(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets only the given roles through."""

    async def check(who: Principal = Depends(get_principal)) -> Principal:
        if who.role not in roles:
            raise Forbidden(f"this needs one of the roles {', '.join(roles)}; your key has role {who.role!r}")
        return who

    return check
