"""The archives as related collections: ``/archives/buildings/{code}``, ``/archives/persons/{id}``,
``/archives/enterprises/{credit_code}``, each "as of" ``datetime``; reads of personal data are audited."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from psycopg import AsyncConnection

from api.db import connection
from api.deps import get_principal
from api.errors import Unauthorized
from api.execute import fetch_one
from api.links import base_url
from layers.access import Principal
from layers.archives import (
    ArchiveQuery,
    ArchiveSections,
    building_archive,
    check_found,
    enterprise_archive,
    person_archive,
)
from layers.audit import record
from layers.catalog import readable_layers
from layers.query.temporal import parse_as_of
from spatial.fusion import provenance_for_building_async

router = APIRouter(prefix="/archives", tags=["Archives"])

Conn = Annotated[AsyncConnection[Any], Depends(connection)]


async def known_caller(who: Annotated[Principal, Depends(get_principal)]) -> Principal:
    """Archives are never anonymous: no key is a 401 that says how to get one."""
    if who.actor == "anonymous":
        raise Unauthorized("archives need an API key (X-API-Key header or api_key parameter)")
    return who


Who = Annotated[Principal, Depends(known_caller)]
AsOf = Annotated[
    str | None, Query(description="The file as of this instant (RFC 3339 or a date); default now.")
]


async def readable_sections(conn: AsyncConnection[Any], who: Principal) -> ArchiveSections:
    return ArchiveSections.readable_by({layer.id for layer in await readable_layers(conn, who)})


async def answer(
    request: Request,
    conn: AsyncConnection[Any],
    who: Principal,
    query: ArchiveQuery,
    extra: Callable[[], Awaitable[dict[str, Any]]] | None = None,
) -> Response:
    """The file with its links; `extra` adds sections, computed only once the caller may see the file."""
    row = check_found(query, await fetch_one(conn, query.sql, query.params), who)
    if query.personal:
        await record(
            conn,
            who,
            "read",
            f"{query.kind}_archive",
            query.key,
            {
                "as_of": query.params["as_of"].isoformat() if query.params["as_of"] else None,
                "masked": not who.sees_personal_data,
            },
        )
    body = row["archive"]
    links = _links(base_url(request), query, row)
    sections = "".join(
        f',"{name}":' + orjson.dumps(value).decode()
        for name, value in (await extra() if extra else {}).items()
    )
    return Response(body[:-1] + sections + ',"links":' + links + "}", media_type="application/json")


def _links(root: str, query: ArchiveQuery, row: dict[str, Any]) -> str:
    """Links to the related files; built from the JSON the database returned."""
    doc = orjson.loads(row["archive"])
    links = [
        # The file's own id, not the request's: a masked person file must not echo the ID number asked for.
        {"href": f"{root}/archives/{query.kind}s/{doc['id']}", "rel": "self", "type": "application/json"}
    ]
    if query.kind == "building":
        for unit in doc["units"]:
            links += [
                {
                    "href": f"{root}/archives/persons/{r['person']}",
                    "rel": "related",
                    "title": "resident",
                    "type": "application/json",
                }
                for r in unit["residents"]
            ]
        links += [
            {
                "href": f"{root}/archives/enterprises/{e['credit_code']}",
                "rel": "related",
                "title": "enterprise",
                "type": "application/json",
            }
            for e in doc["enterprises"]
        ]
        links.append(
            {
                "href": f"{root}/collections/buildings/items?code={query.key}",
                "rel": "alternate",
                "type": "application/geo+json",
                "title": "feature",
            }
        )
    elif query.kind == "person":
        links += [
            {
                "href": f"{root}/archives/buildings/{h['building_code']}",
                "rel": "related",
                "title": "home",
                "type": "application/json",
            }
            for h in doc["residences"]
        ]
    elif doc.get("building"):
        links.append(
            {
                "href": f"{root}/archives/buildings/{doc['building']['code']}",
                "rel": "related",
                "title": "building",
                "type": "application/json",
            }
        )
    return orjson.dumps(links).decode()


@router.get(
    "/buildings/{code}", summary="One building, one file: units, residents, enterprises, events, issues"
)
async def building(
    request: Request, conn: Conn, who: Who, code: Annotated[str, Path(max_length=64)], datetime: AsOf = None
) -> Response:
    async def provenance() -> dict[str, Any]:
        # Which department each fused value came from, and which others checked it.
        return {"provenance": await provenance_for_building_async(conn, code, who.sees_personal_data)}

    sections = await readable_sections(conn, who)
    query = building_archive(code, who, parse_as_of(datetime), sections)
    return await answer(request, conn, who, query, provenance)


@router.get("/persons/{person}", summary="One person, one file: residences, issues, reporting departments")
async def person(
    request: Request, conn: Conn, who: Who, person: Annotated[str, Path(max_length=18)], datetime: AsOf = None
) -> Response:
    sections = await readable_sections(conn, who)
    return await answer(request, conn, who, person_archive(person, who, parse_as_of(datetime), sections))


@router.get("/enterprises/{credit_code}", summary="One enterprise, one file: place, issues, events")
async def enterprise(
    request: Request,
    conn: Conn,
    who: Who,
    credit_code: Annotated[str, Path(max_length=18)],
    datetime: AsOf = None,
) -> Response:
    sections = await readable_sections(conn, who)
    query = enterprise_archive(credit_code, who, parse_as_of(datetime), sections)
    return await answer(request, conn, who, query)
