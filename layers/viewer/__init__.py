"""One-map viewers: Folium maps of the platform's layers, served by the API (``/map``) and used in notebooks.

In a notebook::

    from layers.viewer import one_map
    m = one_map(server="http://onemap.intranet:8000", api_key="om_...")
    m.add_gdf(my_gdf, "我的分析 my analysis")
    m   # renders in Jupyter; every asset and tile comes from the platform server, nothing from the internet
"""

from __future__ import annotations

import hashlib
from typing import Any

from layers.access import PUBLIC, Principal
from layers.sql import read_sql
from layers.viewer.assets import STATIC_DIR
from layers.viewer.build import Endpoints, Focus, OneMap, ViewerContext, build_map, render_page
from layers.viewer.settings import ViewerSettings, get_viewer_settings

__all__ = ["STATIC_DIR", "Endpoints", "Focus", "OneMap", "ViewerContext", "ViewerSettings", "build_map",
           "get_viewer_settings", "one_map", "render_page"]


def _principal(conn: Any, api_key: str | None) -> Principal:
    if not api_key:
        return PUBLIC
    row = conn.exec_driver_sql(
        read_sql("key_lookup.sql"), {"hash": hashlib.sha256(api_key.encode()).hexdigest()}
    ).mappings().first()
    if row is None or row["revoked_at"] is not None:
        raise PermissionError("unknown or revoked API key")
    return Principal(row["role"], row["department"], row["grid_code"], actor="notebook",
                     area_code=row["area_code"], grids=tuple(row["grids"] or ()))


def one_map(database_url: str | None = None, *, server: str = "http://127.0.0.1:8000",
            api_key: str | None = None, principal: Principal | None = None, heatmap: str | None = None,
            settings: ViewerSettings | None = None, static_url: str | None = None) -> OneMap:
    """The one-map viewer as a ``folium.Map`` for Jupyter: the layers the key may read, as vector tiles from
    ``server`` (the platform's API), with the switcher, legends, heatmap and time slider of ``/map``.

    ``database_url`` (default: the platform's) is read for the catalog, the extent and the time range only.
    Add any GeoDataFrame with ``m.add_gdf(gdf, name)`` or plain Folium; it joins the layer switcher.
    """
    from layers.catalog import list_layers
    from layers.viewer.data import bounds_of, sql
    from spatial.database import database_url as platform_url
    from spatial.database import engine_for

    with engine_for(database_url or platform_url()).connect() as conn:
        who = principal or _principal(conn, api_key)
        layers = [layer for layer in list_layers(conn, who) if layer.kind != "raster"]
        extent = conn.exec_driver_sql(sql("extent")).mappings().first()
        span = conn.exec_driver_sql(sql("time_range")).mappings().first()
    ctx = ViewerContext(
        principal=who, layers=layers, bounds=bounds_of(dict(extent) if extent else None),
        time_range=(span["first"], span["last"]) if span else None, base_url=server.rstrip("/"),
        static_url=static_url, auth={"api_key": api_key} if api_key else {},
        endpoints=Endpoints(hillshade_url=None),
    )
    return build_map(ctx, settings=settings, heatmap=heatmap, lean=False)
