"""Settings of the map viewers (``ONEMAP_MAP_*``), read through the cached ``get_viewer_settings()``.

The base map is one of:

- ``none`` (default): no external tiles at all; the platform's own layers (admin areas, DEM hillshade) are the
  background. This is the only mode whose page references nothing but the platform itself.
- ``xyz``: an intranet XYZ tile URL with ``{z}``, ``{x}``, ``{y}`` (and optionally ``{s}``) in Web Mercator.
- ``wmts``: an intranet WMTS endpoint (KVP GetTile); ``wmts_layer``/``wmts_tile_matrix_set`` say what to
  ask for.
- ``tianditu``: Tianditu with ``tianditu_key``, in Web Mercator (``*_w`` services) or CGCS2000 (``*_c``
  services, then the map itself is drawn in a geographic CRS and the overlays come from the CGCS2000 tile
  matrix set).
- ``gcj02``: an XYZ base map in GCJ-02 (AMap, Tencent or an intranet copy of them). See ``basemap.py`` for how
  the overlays are kept aligned with it.

A base map that cannot be used (no URL, no key, a malformed template) never breaks the page: it falls back
to the platform background and the page says why.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ViewerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONEMAP_MAP_", extra="ignore")

    basemap: Literal["none", "xyz", "wmts", "tianditu", "gcj02"] = "none"
    basemap_url: str = Field(default="", description="XYZ template or WMTS endpoint of the base map.")
    basemap_attribution: str = ""
    basemap_subdomains: str = Field(default="", description="Values of {s} in the URL, e.g. 'abc' or '1234'.")
    basemap_max_zoom: int = 18
    wmts_layer: str = ""
    wmts_tile_matrix_set: str = "GoogleMapsCompatible"
    wmts_style: str = "default"
    wmts_format: str = "image/png"
    tianditu_key: str = ""
    tianditu_crs: Literal["web_mercator", "cgcs2000"] = "web_mercator"
    tianditu_layer: Literal["vec", "img", "ter"] = "vec"
    tianditu_labels: bool = True
    tianditu_host: str = Field(default="https://t{s}.tianditu.gov.cn",
                               description="Tianditu host; government networks often have a mirror.")
    # The platform's own background: DEM hillshade under the admin areas.
    hillshade: bool = True
    hillshade_layer: str = "dem"  # the raster layer whose hillshade is the background
    # Vector tiles: "canvas" (fast with many polygons) or "svg".
    renderer: Literal["canvas", "svg"] = "canvas"
    # The heatmap shown on /map: population (residents per cell), events, or none.
    heatmap: Literal["population", "events", "none"] = "population"
    heat_cell_degrees: float = Field(default=0.002, description="Heatmap aggregation cell (about 200 m).")
    # Event-like layers (a time field, no history) show the events of this many days up to the slider's date.
    event_window_days: int = 90
    max_zoom: int = 19


@lru_cache
def get_viewer_settings() -> ViewerSettings:
    return ViewerSettings()
