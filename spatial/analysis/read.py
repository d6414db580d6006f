"""Read helpers: GeoDataFrames from PostGIS as of a date, with the viewer's row filter and masking in SQL.

Notebook users start here::

    from layers.access import Principal
    from spatial.analysis import connect, read
    engine = connect()
    grids = read.areas(engine, Principal("planner"), "grid", as_of="2025-06-30")
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import pandas as pd

from spatial.analysis.asof import as_of_params
from spatial.analysis.connect import EngineLike, as_engine
from spatial.analysis.sql import as_of_query
from spatial.analysis.viewer import Viewer, require_internal, scope_params
from spatial.errors import InvalidInput

AREA_LEVELS = ("grid", "community", "street")
GROUP_LEVELS = (*AREA_LEVELS, "building")
DateLike = dt.date | str | None


def query_params(viewer: Viewer, as_of: DateLike, **extra: Any) -> dict[str, Any]:
    return {**as_of_params(as_of), **scope_params(viewer), **extra}


def check_level(level: str, allowed: Sequence[str] = GROUP_LEVELS) -> str:
    if level not in allowed:
        raise InvalidInput(f"unknown level {level!r}: use one of {', '.join(allowed)}")
    return level


def frame(engine: EngineLike, sql: str, params: dict[str, Any]) -> pd.DataFrame:
    with as_engine(engine).connect() as conn:
        return pd.read_sql(sql, conn, params=params)


def geoframe(engine: EngineLike, sql: str, params: dict[str, Any], geom: str = "geom") -> gpd.GeoDataFrame:
    with as_engine(engine).connect() as conn:
        found = gpd.read_postgis(sql, conn, geom_col=geom, params=params)
    return found.set_crs(4326, allow_override=True) if found.crs is None else found


def areas(engine: EngineLike, viewer: Viewer, level: str = "grid", as_of: DateLike = None) -> gpd.GeoDataFrame:
    params = query_params(viewer, as_of, level=check_level(level, AREA_LEVELS))
    return geoframe(engine, as_of_query("areas.sql"), params)


def buildings(engine: EngineLike, viewer: Viewer, as_of: DateLike = None, ids: Sequence[int] | None = None,
              uses: Sequence[str] | None = None, within_wkt: str | None = None) -> gpd.GeoDataFrame:
    params = query_params(viewer, as_of, building_ids=_list(ids), uses=_list(uses), within=within_wkt)
    return geoframe(engine, as_of_query("buildings.sql"), params)


def residents(engine: EngineLike, viewer: Viewer, as_of: DateLike = None,
              building_ids: Sequence[int] | None = None) -> gpd.GeoDataFrame:
    """People living in the buildings (all visible ones when None), masked unless the viewer may see them."""
    require_internal(viewer, "reading residents")
    params = query_params(viewer, as_of, building_ids=_list(building_ids))
    return geoframe(engine, as_of_query("residents.sql"), params)


def events(engine: EngineLike, viewer: Viewer, as_of: DateLike = None, event_id: int | None = None
           ) -> gpd.GeoDataFrame:
    require_internal(viewer, "reading events")
    return geoframe(engine, as_of_query("events.sql"), query_params(viewer, as_of, event_id=event_id))


def enterprises(engine: EngineLike, viewer: Viewer, as_of: DateLike = None) -> gpd.GeoDataFrame:
    """Active enterprises as points, with the grid of their building."""
    require_internal(viewer, "reading enterprises")
    return geoframe(engine, as_of_query("enterprise_points.sql"), query_params(viewer, as_of))


def _list(values: Sequence[Any] | None) -> list[Any] | None:
    return None if values is None else list(values)
