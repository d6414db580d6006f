"""Departments' own layers: upload, thematic style and legend, downloads, versions and restore, grants.

POST   /layers                                   upload a file (multipart) as a new layer
DELETE /layers/{id}                              remove an uploaded layer
GET    /collections/{id}/legend                  the legend (json or html)
GET    /collections/{id}/style                   the thematic style object (+ MapLibre layers)
PUT    /collections/{id}/style                   classify a field: {field, method, k, ramp, breaks}
GET    /collections/{id}/download?f=&datetime=   GeoPackage, GeoJSON or CSV, optionally as of a date
GET    /collections/{id}/versions                the layer's edits; POST .../versions/restore?datetime=
GET    /collections/{id}/items/{fid}/versions    a feature's versions; POST .../versions/{n}/restore
PUT    /collections/{id}/grants                  {readers: [...], editors: [...]}
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, File, Form, Query, UploadFile
from fastapi.responses import FileResponse, HTMLResponse
from starlette.background import BackgroundTask

from api.deps import get_principal
from layers import downloads, drawing, thematic_store, uploads, versions
from layers.access import Principal, require_owner_or_admin
from layers.audit import record_sync, reveals_personal_data
from layers.catalog import Layer, layer_transaction
from layers.errors import InvalidLayer
from layers.query.columns import coerce, require_field
from layers.query.temporal import parse_as_of
from layers.thematic import ThematicStyle
from spatial.database import database_url
from spatial.ingest import UploadTooLarge, get_ingest_settings

Who = Annotated[Principal, Depends(get_principal)]
router = APIRouter(tags=["Department layers"])
COPY_BLOCK = 1024 * 1024


def save_upload(upload: UploadFile, into: Path) -> Path:
    limit = get_ingest_settings().max_upload_bytes
    target = into / "upload.bin"
    written = 0
    with target.open("wb") as out:
        while block := upload.file.read(COPY_BLOCK):
            written += len(block)
            if written > limit:
                raise UploadTooLarge(
                    f"the file is larger than the limit of {limit:,} bytes: split it, or ask an "
                    "administrator (ONEMAP_INGEST_MAX_UPLOAD_BYTES)"
                )
            out.write(block)
    return target


@router.post("/layers", status_code=201, summary="Upload a file as a new department layer")
def upload(
    who: Who,
    file: Annotated[
        UploadFile, File(description="GeoPackage, zipped Shapefile, GeoJSON, KML, FlatGeobuf, CSV or .xlsx")
    ],
    request: Annotated[uploads.UploadRequest, Form()],
) -> dict[str, Any]:
    uploads.owner_for(who, request.department)  # refuse before reading a byte
    with tempfile.TemporaryDirectory(prefix="onemap-post-") as folder:
        path = save_upload(file, Path(folder))
        result = uploads.upload_layer(database_url(), path, file.filename or "upload", request, who)
    return result.as_dict()


@router.delete("/layers/{layer_id}", status_code=204, summary="Delete an uploaded layer")
def delete(layer_id: str, who: Who) -> None:
    with layer_transaction(database_url(), layer_id, who) as (layer, conn):
        uploads.delete_layer(conn, layer, who)


@router.get("/collections/{layer_id}/legend", summary="The layer's legend")
def legend(layer_id: str, who: Who, f: str = Query("json", pattern="^(json|html)$")) -> Any:
    with layer_transaction(database_url(), layer_id, who) as (layer, conn):
        spec = thematic_store.resolve_style(conn, layer).to_dict()
    if f == "html":
        return HTMLResponse(drawing.legend_html(spec, layer.title))
    return drawing.legend(spec, layer.title)


def _style_document(layer: Layer, style: ThematicStyle) -> dict[str, Any]:
    spec = style.to_dict()
    return {
        "layer": layer.id,
        "style": spec,
        "legend": drawing.legend(spec, layer.title),
        "maplibre": drawing.maplibre_layers(spec, layer.id, layer.id, layer.id),
    }


@router.get("/collections/{layer_id}/style", summary="The layer's thematic style object")
def get_style(layer_id: str, who: Who) -> dict[str, Any]:
    with layer_transaction(database_url(), layer_id, who) as (layer, conn):
        return _style_document(layer, thematic_store.resolve_style(conn, layer))


@router.put("/collections/{layer_id}/style", summary="Classify a field into a thematic style")
def put_style(layer_id: str, who: Who, spec: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    with layer_transaction(database_url(), layer_id, who) as (layer, conn):
        require_owner_or_admin(who, layer.owner_department, f"restyle layer {layer.id!r}")
        style = thematic_store.build_style(conn, layer, spec)
        thematic_store.store_style(conn, layer, style)
        return _style_document(layer, style)


@router.get("/collections/{layer_id}/download", summary="Download as GeoPackage, GeoJSON or CSV")
def download(
    layer_id: str,
    who: Who,
    f: str = Query("gpkg", description="gpkg | geojson | csv"),
    datetime_: Annotated[str | None, Query(alias="datetime", description="as of this instant")] = None,
) -> FileResponse:
    as_of = parse_as_of(datetime_)
    with layer_transaction(database_url(), layer_id, who) as (layer, conn):
        result = downloads.download(conn, layer, who, f, as_of)
        if reveals_personal_data(layer, who):
            detail = {"format": f, "as_of": as_of.isoformat() if as_of else None, "rows": result.rows}
            record_sync(conn, who, "download", "collection", layer.id, {**detail, "masked": False})
    folder = result.path.parent
    return FileResponse(
        result.path,
        media_type=result.media_type,
        filename=result.filename,
        headers={"OneMap-Rows": str(result.rows)},
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


@router.get("/collections/{layer_id}/versions", summary="The layer's edits, newest first")
def layer_versions(layer_id: str, who: Who) -> dict[str, Any]:
    with layer_transaction(database_url(), layer_id, who) as (layer, conn):
        return {"layer": layer.id, "changes": versions.layer_changes(conn, layer, who)}


@router.post("/collections/{layer_id}/versions/restore", summary="Restore the whole layer as of a date")
def restore_layer(
    layer_id: str, who: Who, datetime_: Annotated[str, Query(alias="datetime")]
) -> dict[str, Any]:
    as_of = parse_as_of(datetime_)
    if as_of is None:
        raise InvalidLayer("datetime= is required: the instant to restore the layer to")
    with layer_transaction(database_url(), layer_id, who) as (layer, conn):
        return {
            "layer": layer.id,
            "as_of": as_of.isoformat(),
            **versions.restore_layer(conn, layer, as_of, who),
        }


@router.get("/collections/{layer_id}/items/{fid}/versions", summary="A feature's versions")
def feature_versions(layer_id: str, fid: str, who: Who) -> dict[str, Any]:
    with layer_transaction(database_url(), layer_id, who) as (layer, conn):
        states = versions.feature_versions(conn, layer, _fid(layer, fid), who)
        return {"layer": layer.id, "id": fid, "versions": states}


@router.post("/collections/{layer_id}/items/{fid}/versions/{version}/restore", summary="Restore a version")
def restore_feature(layer_id: str, fid: str, version: int, who: Who) -> dict[str, Any]:
    with layer_transaction(database_url(), layer_id, who) as (layer, conn):
        return versions.restore_version(conn, layer, _fid(layer, fid), version, who)


def _fid(layer: Layer, value: str) -> Any:
    """The feature id as the type of the layer's id column (InvalidInput says what was expected)."""
    return coerce(require_field(layer, layer.id_column), value)


@router.put("/collections/{layer_id}/grants", summary="Departments granted read / edit access")
def put_grants(
    layer_id: str, who: Who, grants: Annotated[dict[str, list[str] | None], Body()]
) -> dict[str, Any]:
    with layer_transaction(database_url(), layer_id, who) as (layer, conn):
        updated = uploads.set_grants(conn, layer, who, grants.get("readers"), grants.get("editors"))
    return {"layer": updated.id, "readers": list(updated.readers), "editors": list(updated.editors)}
