"""``/analysis/...``: the analysis library behind HTTP, as GeoJSON (or a COG for the density raster).

Handlers are plain ``def``: geopandas and GDAL are synchronous, so FastAPI runs them in worker threads.
The caller's principal is passed to the library, which applies the row filter and masking in SQL.
No ``from __future__ import annotations`` here: the handlers' ``Annotated`` dependencies are local to the
factory, and FastAPI must see them evaluated.
"""

import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import geopandas as gpd
import orjson
from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse, JSONResponse
from sqlalchemy.engine import Engine

from api.deps import get_principal
from api.errors import Forbidden
from layers.access import Principal
from spatial.analysis import AnalysisForbidden, connect
from spatial.analysis.buffers import event_buffer
from spatial.analysis.coverage import coverage_summary, facility_coverage
from spatial.analysis.density_raster import population_density_raster
from spatial.analysis.hotspots import enterprise_density, hot_spots
from spatial.analysis.overcrowding import overcrowding
from spatial.analysis.population import population, population_change
from spatial.analysis.potential import economic_potential
from spatial.analysis.terrain import building_terrain
from spatial.settings import get_settings

GEOJSON = "application/geo+json"
COG = "image/tiff; application=geotiff; profile=cloud-optimized"

AsOf = Annotated[dt.date | None, Query(description="Answer as of the end of this day (Beijing time); default today.")]
Level = Annotated[str, Query(pattern="^(grid|community|street)$", description="grid, community or street")]


def analysis_engine() -> Engine:
    return connect()


@contextmanager
def as_http_errors() -> Iterator[None]:
    try:
        yield
    except AnalysisForbidden as exc:
        raise Forbidden(str(exc)) from None


class GeoJSONResponse(JSONResponse):
    """GeoJSON, declared as such in the OpenAPI document; a NaN that slips through becomes null (orjson), not
    a 500 for "Out of range float values are not JSON compliant"."""

    media_type = GEOJSON

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)


def geojson(frame: gpd.GeoDataFrame, **members: Any) -> JSONResponse:
    """A FeatureCollection (EPSG:4326), with extra top-level members such as a summary."""
    body = json.loads(frame.to_json(na="null", drop_id=True, to_wgs84=True))
    body.update(members)
    return GeoJSONResponse(body)


def analysis_router(principal: Callable[..., Any] = get_principal,
                    engine: Callable[..., Engine] = analysis_engine) -> APIRouter:
    router = APIRouter(prefix="/analysis", tags=["Analysis"], default_response_class=GeoJSONResponse)
    Who = Annotated[Principal, Depends(principal)]
    Db = Annotated[Engine, Depends(engine)]

    @router.get("/population", summary="Residents and age structure per area (GeoJSON)")
    def population_route(who: Who, db: Db, level: Level = "grid", as_of: AsOf = None) -> JSONResponse:
        with as_http_errors():
            return geojson(population(db, who, level, as_of).drop(columns="parent_code"))

    @router.get("/population/change", summary="Change in residents per area between two dates (GeoJSON)")
    def population_change_route(who: Who, db: Db, start: dt.date, end: dt.date, level: Level = "grid"
                                ) -> JSONResponse:
        with as_http_errors():
            return geojson(population_change(db, who, start, end, level), start=str(start), end=str(end))

    @router.get("/overcrowding", summary="Persons per house unit and overcrowded units per area (GeoJSON)")
    def overcrowding_route(who: Who, db: Db, level: Level = "grid", as_of: AsOf = None,
                           min_m2_per_person: Annotated[float, Query(gt=0, le=100)] = 10.0) -> JSONResponse:
        with as_http_errors():
            return geojson(overcrowding(db, who, level, as_of, min_m2_per_person))

    @router.get("/enterprises/hot-spots", summary="Enterprise density per grid: Gi* and local Moran (GeoJSON)")
    def hot_spots_route(who: Who, db: Db, as_of: AsOf = None,
                        permutations: Annotated[int, Query(ge=99, le=9999)] = 999) -> JSONResponse:
        with as_http_errors():
            grids = enterprise_density(db, who, as_of)
            return geojson(hot_spots(grids, "enterprises_per_km2", permutations))

    @router.get("/enterprises/potential", summary="Market potential of employment per grid (GeoJSON)")
    def potential_route(who: Who, db: Db, as_of: AsOf = None) -> JSONResponse:
        with as_http_errors():
            return geojson(economic_potential(enterprise_density(db, who, as_of), "employees"))

    @router.get("/events/{event_id}/buffer", summary="Buildings and residents within a distance of an event")
    def buffer_route(who: Who, db: Db, event_id: int,
                     radius_m: Annotated[float, Query(gt=0, le=20_000)] = 500.0, as_of: AsOf = None
                     ) -> JSONResponse:
        with as_http_errors():
            found = event_buffer(db, who, event_id, radius_m, as_of)
            zone = json.loads(found.zone.to_json(drop_id=True))["features"][0]["geometry"]
            return geojson(found.buildings, zone=zone, summary=found.summary())

    @router.get("/coverage", summary="Nearest public facility per residential building (GeoJSON)")
    def coverage_route(who: Who, db: Db, as_of: AsOf = None,
                       reach_m: Annotated[float, Query(gt=0, le=20_000)] = 1000.0) -> JSONResponse:
        with as_http_errors():
            covered = facility_coverage(db, who, as_of, reach_m)
            return geojson(covered, summary=coverage_summary(covered))

    @router.get("/terrain", summary="Ground elevation per building from the DEM, flood-prone flag (GeoJSON)")
    def terrain_route(who: Who, db: Db, as_of: AsOf = None,
                      flood_level_m: Annotated[float, Query(ge=-10, le=200)] = 5.0) -> JSONResponse:
        with as_http_errors():
            return geojson(building_terrain(db, who, as_of, flood_level_m=flood_level_m))

    @router.get("/population/density.tif", summary="Population density raster (COG, persons per km², EPSG:4547)",
                response_class=FileResponse)
    def density_route(who: Who, db: Db, as_of: AsOf = None,
                      cell_m: Annotated[float, Query(ge=10, le=5000)] = 100.0) -> FileResponse:
        with as_http_errors():
            day = as_of or dt.date.today()
            # One file per visibility class: a grid worker's raster must never be served to anyone else.
            name = f"population_density_{day}_{cell_m:g}m_{who.visibility_class.replace(':', '_')}.tif"
            path = population_density_raster(db, who, get_settings().data_dir / "analysis" / name, day, cell_m)
            return FileResponse(path, media_type=COG, filename=name)

    return router


router = analysis_router()
