"""The base map under the platform's layers, from ``ViewerSettings``.

GCJ-02 decision: with a GCJ-02 base map (AMap, Tencent, or an intranet copy) the *base map tiles* are moved
onto WGS-84/CGCS2000 in the browser, instead of moving every overlay onto GCJ-02. Each base tile is translated
by the GCJ-02 offset at its centre (``onemap.gcj02Offset`` in ``static/onemap/viewer.js``, the standard
forward transform); within one tile the offset varies by well under a pixel at street zooms. The result on
screen is the same as shifting the overlays, but it needs no server support, and it keeps *everything else*
correct without exception: vector tiles, GeoJSON of a notebook's GeoDataFrame, the heatmap, popups,
fit-to-bounds, and the coordinates a user reads off the map are all true CGCS2000 coordinates. Shifting the
overlays instead would need a ``gcj02`` variant of every tile (a separate cache class) and would still leave
client-side layers unshifted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from layers.viewer.settings import ViewerSettings

WEB_MERCATOR = "EPSG3857"
GEOGRAPHIC = "EPSG4326"
_UNSAFE = re.compile(r"[\s'\"<>\\`]")


@dataclass(frozen=True)
class TileSource:
    name: str
    url: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BaseMap:
    kind: str  # "none" | "xyz" | "wmts" | "tianditu" | "gcj02"
    sources: tuple[TileSource, ...] = ()
    crs: str = WEB_MERCATOR  # Leaflet CRS of the whole map
    tile_matrix_set: str = "WebMercatorQuad"  # the overlays' tile matrix set
    gcj02: bool = False  # base tiles are GCJ-02 and get moved onto CGCS2000 in the browser
    problem: str | None = None  # why the configured base map is not used

    @property
    def external(self) -> bool:
        return bool(self.sources)


def _check_url(url: str, *, template: bool) -> str | None:
    """Why ``url`` is not usable as a tile URL, or None."""
    if not url:
        return "no base map URL is configured (ONEMAP_MAP_BASEMAP_URL)"
    if _UNSAFE.search(url):
        return "the base map URL contains spaces, quotes or angle brackets"
    parts = urlsplit(url)
    if not (parts.scheme in ("http", "https") and parts.netloc) and not url.startswith("/"):
        return "the base map URL must be an http(s) URL or a path on this server"
    if template and not all(f"{{{k}}}" in url or (k == "y" and "{-y}" in url) for k in ("z", "x", "y")):
        return "the base map URL template needs {z}, {x} and {y}"
    return None


def _fallback(problem: str) -> BaseMap:
    return BaseMap("none", problem=f"base map not used: {problem}; showing the platform's own background")


def _common(settings: ViewerSettings) -> dict[str, Any]:
    options: dict[str, Any] = {"maxZoom": settings.max_zoom, "maxNativeZoom": settings.basemap_max_zoom}
    if settings.basemap_attribution:
        options["attribution"] = settings.basemap_attribution
    return options


def _xyz(settings: ViewerSettings, kind: str) -> BaseMap:
    problem = _check_url(settings.basemap_url, template=True)
    if problem:
        return _fallback(problem)
    options = _common(settings)
    if "{s}" in settings.basemap_url:
        options["subdomains"] = settings.basemap_subdomains or "abc"
    source = TileSource("底图 Base map", settings.basemap_url, options)
    return BaseMap(kind, (source,), gcj02=kind == "gcj02")


def _wmts(settings: ViewerSettings) -> BaseMap:
    problem = _check_url(settings.basemap_url, template=False)
    if problem is None and not settings.wmts_layer:
        problem = "a WMTS base map needs ONEMAP_MAP_WMTS_LAYER"
    if problem is None and _UNSAFE.search(settings.wmts_layer + settings.wmts_tile_matrix_set):
        problem = "the WMTS layer or tile matrix set name contains unsafe characters"
    if problem:
        return _fallback(problem)
    join = "&" if "?" in settings.basemap_url else "?"
    url = (f"{settings.basemap_url}{join}SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
           f"&LAYER={settings.wmts_layer}"
           f"&STYLE={settings.wmts_style}&TILEMATRIXSET={settings.wmts_tile_matrix_set}"
           f"&FORMAT={settings.wmts_format}&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}")
    return BaseMap("wmts", (TileSource("底图 Base map", url, _common(settings)),))


_TIANDITU_LABELS = {"vec": "cva", "img": "cia", "ter": "cta"}


def _tianditu(settings: ViewerSettings) -> BaseMap:
    key = settings.tianditu_key
    if not key or not re.fullmatch(r"[0-9A-Za-z]+", key):
        return _fallback("Tianditu needs a key (ONEMAP_MAP_TIANDITU_KEY)")
    problem = _check_url(settings.tianditu_host, template=False)
    if problem:
        return _fallback(problem)
    matrix = "c" if settings.tianditu_crs == "cgcs2000" else "w"
    options = {"subdomains": "01234567", "maxZoom": settings.max_zoom, "maxNativeZoom": 18,
               "attribution": settings.basemap_attribution or "天地图 Tianditu"}
    if matrix == "c":
        options["zoomOffset"] = 1  # Tianditu's *_c level 1 is 2x1 tiles: Leaflet's EPSG4326 zoom 0
    names = [settings.tianditu_layer] + ([_TIANDITU_LABELS[settings.tianditu_layer]]
                                         if settings.tianditu_labels else [])
    sources = tuple(
        TileSource(
            "天地图 Tianditu" if i == 0 else "天地图注记 Tianditu labels",
            f"{settings.tianditu_host}/{name}_{matrix}/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
            f"&LAYER={name}&STYLE=default&TILEMATRIXSET={matrix}&FORMAT=tiles"
            f"&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}",
            options,
        )
        for i, name in enumerate(names)
    )
    if matrix == "c":
        return BaseMap("tianditu", sources, crs=GEOGRAPHIC, tile_matrix_set="CGCS2000Quad")
    return BaseMap("tianditu", sources)


def resolve_basemap(settings: ViewerSettings) -> BaseMap:
    """The base map to draw; never raises: an unusable configuration falls back to the platform background."""
    if settings.basemap == "none":
        return BaseMap("none")
    if settings.basemap in ("xyz", "gcj02"):
        return _xyz(settings, settings.basemap)
    if settings.basemap == "wmts":
        return _wmts(settings)
    return _tianditu(settings)
