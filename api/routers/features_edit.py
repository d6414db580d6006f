"""OGC API Features Part 4: create, replace, update and delete features of editable layers.

Each write is one transaction: ``onemap.actor`` is set locally so the history trigger records who made the
change (the previous version goes to ``<table>_history``), then the change, then its audit_log row.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Depends, Header, Path, Request
from fastapi.responses import Response
from psycopg import AsyncConnection

from api.db import connection
from api.dependencies.features import request_layer
from api.deps import get_principal
from api.execute import fetch_one
from api.links import base_url
from layers.access import Principal
from layers.audit import record
from layers.catalog import Layer, require_editable
from layers.query import Params, request_crs
from layers.query.edits import (
    actor_setting,
    delete_feature,
    feature_parts,
    insert_feature,
    update_feature,
)
from spatial.errors import NotFound
from tiles.vector import geometry_type

router = APIRouter(tags=["OGC API Features: editing"])

# Part 4, declared by api.conformance while these routes are mounted.
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/features",
]

Conn = Annotated[AsyncConnection[Any], Depends(connection)]
Who = Annotated[Principal, Depends(get_principal)]
EditedLayer = Annotated[Layer, Depends(request_layer)]
FeatureId = Annotated[str, Path(max_length=200)]
FeatureBody = Annotated[
    dict[str, Any], Body(description="A GeoJSON Feature.", media_type="application/geo+json")
]
ContentCrs = Annotated[str | None, Header(alias="Content-Crs", description="CRS of the body's geometry.")]


async def is_multi(conn: AsyncConnection[Any], layer: Layer) -> bool:
    return (await geometry_type(conn, layer)).startswith("MULTI")


async def write(
    conn: AsyncConnection[Any],
    who: Principal,
    layer: Layer,
    action: str,
    query_params: Params,
    statement: Any,
    feature_id: str | None,
) -> Any:
    """Run one write in its own transaction with the actor set and an audit row; the written id."""
    async with conn.transaction():
        actor = Params("a")
        await fetch_one(conn, actor_setting(who.actor, actor), actor.values)
        row = await fetch_one(conn, statement, query_params.values)
        if row is None:
            raise NotFound(f"no feature {feature_id!r} in collection {layer.id!r}")
        await record(conn, who, action, f"feature:{layer.id}", str(row["id"]), {"collection": layer.id})
    return row["id"]


def _crs(value: str | None) -> Any:
    return request_crs(value.strip("<>") if value else None, "Content-Crs")


@router.post("/collections/{collection_id}/items", status_code=201, summary="Add a feature")
async def create(
    request: Request,
    conn: Conn,
    who: Who,
    layer: EditedLayer,
    feature: FeatureBody,
    content_crs: ContentCrs = None,
) -> Response:
    require_editable(layer, who)
    properties, geometry = feature_parts(feature)
    params = Params()
    statement = insert_feature(
        layer,
        properties,
        geometry,
        params,
        multi=await is_multi(conn, layer),
        feature_id=feature.get("id"),
        crs=_crs(content_crs),
    )
    new_id = await write(conn, who, layer, "create", params, statement, None)
    location = f"{base_url(request)}/collections/{layer.id}/items/{new_id}"
    return Response(
        orjson.dumps({"id": new_id, "links": [{"href": location, "rel": "self"}]}),
        status_code=201,
        media_type="application/json",
        headers={"Location": location},
    )


async def _change(
    conn: AsyncConnection[Any],
    who: Principal,
    layer: Layer,
    feature_id: str,
    feature: dict[str, Any],
    content_crs: str | None,
    replace: bool,
) -> Response:
    """PUT (replace: properties not given become NULL) and PATCH (only what is given changes)."""
    require_editable(layer, who)
    properties, geometry = feature_parts(feature if replace else {"type": "Feature", **feature})
    params = Params()
    statement = update_feature(
        layer,
        feature_id,
        properties,
        geometry,
        params,
        replace=replace,
        multi=await is_multi(conn, layer),
        crs=_crs(content_crs),
    )
    await write(conn, who, layer, "replace" if replace else "update", params, statement, feature_id)
    return Response(status_code=204)


@router.put("/collections/{collection_id}/items/{feature_id}", status_code=204, summary="Replace a feature")
async def replace(
    conn: Conn,
    who: Who,
    layer: EditedLayer,
    feature_id: FeatureId,
    feature: FeatureBody,
    content_crs: ContentCrs = None,
) -> Response:
    return await _change(conn, who, layer, feature_id, feature, content_crs, replace=True)


@router.patch("/collections/{collection_id}/items/{feature_id}", status_code=204, summary="Update a feature")
async def update(
    conn: Conn,
    who: Who,
    layer: EditedLayer,
    feature_id: FeatureId,
    feature: FeatureBody,
    content_crs: ContentCrs = None,
) -> Response:
    return await _change(conn, who, layer, feature_id, feature, content_crs, replace=False)


@router.delete("/collections/{collection_id}/items/{feature_id}", status_code=204, summary="Delete a feature")
async def delete(conn: Conn, who: Who, layer: EditedLayer, feature_id: FeatureId) -> Response:
    require_editable(layer, who)
    params = Params()
    await write(conn, who, layer, "delete", params, delete_feature(layer, feature_id, params), feature_id)
    return Response(status_code=204)
