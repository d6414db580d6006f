"""Downloads of a layer as GeoPackage, GeoJSON or CSV, now or "as of" a date, under the reader's rights.

Rows stream from a server-side cursor in chunks and are appended to the output file, so a big layer does not
have to fit in memory. Column names are the fields' original titles (often Chinese) where they are unique.
Personal fields are left out unless the reader may see personal data; grid workers get their grid's rows only.
CSV is UTF-8 with a BOM (so Excel opens Chinese text correctly) and the geometry as WKT.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import psycopg
import pyogrio
import shapely
from psycopg import sql

from layers.access import Principal
from layers.catalog import Field, Layer
from layers.errors import InvalidLayer
from layers.query.columns import hides
from spatial.errors import Forbidden
from spatial.schema import SCHEMA

FORMATS = {
    "gpkg": ("application/geopackage+sqlite3", "gpkg"),
    "geojson": ("application/geo+json", "geojson"),
    "csv": ("text/csv; charset=utf-8", "csv"),
}
CHUNK_ROWS = 20_000


@dataclass
class Download:
    path: Path
    media_type: str
    filename: str
    rows: int


def _visible_fields(layer: Layer, who: Principal) -> list[Field]:
    return [f for f in layer.fields if not hides(f, who)]


def _headers(fields: list[Field]) -> list[str]:
    titles = [f.title or f.name for f in fields]
    return titles if len(set(titles)) == len(titles) else [f.name for f in fields]


def select_rows(layer: Layer, who: Principal, as_of: datetime | None) -> tuple[sql.Composed, dict[str, Any]]:
    """The layer's rows visible to `who`, as they were at `as_of` (now when None)."""
    fields = _visible_fields(layer, who)
    columns = sql.SQL(", ").join(
        [
            sql.Identifier(layer.id_column),
            *(sql.Identifier(f.name) for f in fields),
            sql.SQL("ST_AsBinary({}) AS geom_wkb").format(sql.Identifier(layer.geometry_column)),
        ]
    )
    params: dict[str, Any] = {}
    conditions = [
        sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder(f"f{i}"))
        for i, k in enumerate(layer.source_filter)
    ]
    params.update({f"f{i}": v for i, v in enumerate(layer.source_filter.values())})
    if who.scoped and layer.grid_column:
        conditions.append(sql.SQL("{} = ANY(%(grids)s::text[])").format(sql.Identifier(layer.grid_column)))
        params["grids"] = list(who.grids)
    where = sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("TRUE")
    base = sql.Identifier(SCHEMA, layer.source)
    if as_of is None:
        return sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY 1").format(columns, base, where), params
    if not layer.versioned:
        raise InvalidLayer(f"layer {layer.id!r} keeps no history: it cannot be downloaded as of a date")
    params["as_of"] = as_of
    history = sql.Identifier(SCHEMA, f"{layer.source}_history")
    statement = sql.SQL(
        "SELECT * FROM (SELECT {c} FROM {b} WHERE {w} AND valid_from <= %(as_of)s UNION ALL "
        "SELECT {c} FROM {h} WHERE {w} AND valid_from <= %(as_of)s AND valid_to > %(as_of)s) s ORDER BY 1"
    ).format(c=columns, b=base, h=history, w=where)
    return statement, params


def _frames(
    conn: psycopg.Connection, layer: Layer, who: Principal, as_of: datetime | None
) -> Iterator[gpd.GeoDataFrame]:
    statement, params = select_rows(layer, who, as_of)
    fields = _visible_fields(layer, who)
    names = [layer.id_column, *(_headers(fields))]
    with conn.cursor(name=f"download_{layer.id}") as cursor:
        cursor.itersize = CHUNK_ROWS
        cursor.execute(statement, params)
        while rows := cursor.fetchmany(CHUNK_ROWS):
            frame = pd.DataFrame([r[:-1] for r in rows], columns=names)
            geometry = shapely.from_wkb([bytes(r[-1]) if r[-1] is not None else None for r in rows])
            yield gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")


def _write_gpkg(frames: Iterator[gpd.GeoDataFrame], path: Path, layer: Layer) -> int:
    rows = 0
    for frame in frames:
        pyogrio.write_dataframe(
            frame,
            path,
            layer=layer.id,
            driver="GPKG",
            append=rows > 0,
            layer_options={"IDENTIFIER": layer.title, "DESCRIPTION": layer.description},
        )
        rows += len(frame)
    if rows == 0:  # still a valid, empty layer with the right columns
        empty = gpd.GeoDataFrame({"id": pd.Series(dtype="int64")}, geometry=[], crs="EPSG:4326")
        pyogrio.write_dataframe(empty, path, layer=layer.id, driver="GPKG")
    return rows


def _write_csv(frames: Iterator[gpd.GeoDataFrame], path: Path) -> int:
    rows = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        for frame in frames:
            out = pd.DataFrame(frame.drop(columns="geometry"))
            out["wkt"] = shapely.to_wkt(frame.geometry.to_numpy(), rounding_precision=7)
            out.to_csv(handle, index=False, header=rows == 0)
            rows += len(frame)
    return rows


def _write_geojson(
    frames: Iterator[gpd.GeoDataFrame], path: Path, layer: Layer, as_of: datetime | None
) -> int:
    rows = 0
    with path.open("w", encoding="utf-8") as handle:
        handle.write(
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "name": layer.id,
                    "title": layer.title,
                    "asOf": as_of.isoformat() if as_of else None,
                },
                ensure_ascii=False,
            )[:-1]
        )
        handle.write(', "features": [\n')
        for frame in frames:
            properties = json.loads(
                pd.DataFrame(frame.drop(columns="geometry")).to_json(
                    orient="records", date_format="iso", force_ascii=False
                )
            )
            geometries = shapely.to_geojson(frame.geometry.to_numpy())
            for i, (props, geom) in enumerate(zip(properties, geometries, strict=True)):
                fid = props.pop(layer.id_column)
                prefix = ",\n" if rows + i > 0 else ""
                handle.write(
                    prefix
                    + json.dumps({"type": "Feature", "id": fid, "properties": props}, ensure_ascii=False)[:-1]
                    + f', "geometry": {geom or "null"}}}'
                )
            rows += len(frame)
        handle.write("\n]}\n")
    return rows


def download(
    conn: psycopg.Connection,
    layer: Layer,
    who: Principal,
    fmt: str,
    as_of: datetime | None = None,
    directory: Path | None = None,
) -> Download:
    """Write the layer to a temporary file; the caller sends it and deletes it."""
    if not layer.can_read(who):
        raise Forbidden(f"your key may not read layer {layer.id!r}")
    if fmt not in FORMATS:
        raise InvalidLayer(f"unknown download format {fmt!r}: use f=gpkg, f=geojson or f=csv")
    if layer.kind == "raster":
        raise InvalidLayer(f"layer {layer.id!r} is a raster: download its tiles or the COG instead")
    media_type, extension = FORMATS[fmt]
    folder = Path(tempfile.mkdtemp(prefix="onemap-download-", dir=directory))
    suffix = f"_{as_of:%Y%m%d}" if as_of else ""
    path = folder / f"{layer.id}{suffix}.{extension}"
    frames = _frames(conn, layer, who, as_of)
    if fmt == "gpkg":
        rows = _write_gpkg(frames, path, layer)
    elif fmt == "csv":
        rows = _write_csv(frames, path)
    else:
        rows = _write_geojson(frames, path, layer, as_of)
    return Download(path, media_type, path.name, rows)
