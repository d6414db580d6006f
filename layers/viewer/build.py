"""Assemble a one-map viewer: a ``folium.Map`` with the platform's layers as vector tiles, a layer switcher
grouped by department, legends, a heatmap, a time slider and building popups. Used by ``api/routers/maps.py``
(served pages) and by notebooks (``layers.viewer.one_map``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import folium
from branca.element import MacroElement
from folium.map import Layer as FoliumLayer

from layers.access import Principal
from layers.catalog import Layer
from layers.drawing import layer_spec
from layers.viewer.assets import localise
from layers.viewer.basemap import BaseMap, resolve_basemap
from layers.viewer.elements import (
    Call,
    Panel,
    PlatformVectorLayer,
    Register,
    RemoteHeatMap,
    Runtime,
    WatchBase,
)
from layers.viewer.settings import ViewerSettings, get_viewer_settings
from layers.viewer.styles import department_title, legend_entries

DEFAULT_VISIBLE = ("streets", "communities", "grids", "buildings")
BACKGROUND_GROUP = "底图 Background"
NOTEBOOK_GROUP = "笔记本 Notebook"
THEMATIC_GROUP = "专题 Thematic"
# Shenzhen Longgang, for a map without any data yet.
DEFAULT_BOUNDS = (114.05, 22.55, 114.45, 22.85)


@dataclass(frozen=True)
class Endpoints:
    """Which platform services the page may call (a served page checks the app's routes)."""

    tiles: bool = True
    heat: bool = True
    archives: bool = True
    hillshade_url: str | None = None  # XYZ template of the DEM hillshade, relative to the platform


@dataclass(frozen=True)
class Focus:
    kind: str  # "building" | "grid" | "layer"
    code: str
    bounds: tuple[float, float, float, float] | None = None  # lon/lat
    point: tuple[float, float] | None = None  # lon, lat of a building to open
    north: float | None = None  # the building's northmost latitude: its file's popup points there
    panel_html: str | None = None  # already escaped


@dataclass
class ViewerContext:
    principal: Principal
    layers: list[Layer]  # the layers the principal may read
    bounds: tuple[float, float, float, float] | None = None  # lon/lat of the district
    time_range: tuple[str, str] | None = None  # "YYYY-MM" first and last month of the slider
    base_url: str = ""  # prefix of every platform URL ("" = the page's own server)
    static_url: str | None = None  # default: base_url + "/static"
    auth: dict[str, str] = field(default_factory=dict)  # appended to every platform request
    endpoints: Endpoints = field(default_factory=Endpoints)

    @property
    def static(self) -> str:
        return self.static_url if self.static_url is not None else f"{self.base_url}/static"


class OneMap(folium.Map):
    """A ``folium.Map`` that knows the platform: ``add_gdf`` puts a GeoDataFrame next to the platform's
    layers, and rendering points every asset at the platform's ``/static`` (no CDN) and lists every layer in
    the switcher."""

    def __init__(self, *, static_url: str = "/static", lean: bool = False, **kwargs: Any) -> None:
        super().__init__(tiles=None, **kwargs)
        self.static_url = static_url
        self.lean = lean
        self.controls: list[MacroElement] = []
        self._registered: set[str] = set()

    def mark_registered(self, element: MacroElement) -> None:
        self._registered.add(element.get_name())

    def add_gdf(self, gdf: Any, name: str, *, color: str = "#e4572e", tooltip: list[str] | None = None,
                show: bool = True, group: str = NOTEBOOK_GROUP, **style: Any) -> folium.GeoJson:
        """Add a GeoDataFrame (any CRS; drawn in CGCS2000/WGS 84 degrees) as a layer of its own."""
        data = gdf.to_crs(4326) if gdf.crs is not None and gdf.crs.to_epsg() != 4326 else gdf
        fields = [c for c in (tooltip or []) if c in data.columns]
        base = {"color": color, "weight": 2, "fillOpacity": 0.4, **style}
        layer = folium.GeoJson(
            data.__geo_interface__, name=name, show=show, style_function=lambda _: base,
            tooltip=folium.GeoJsonTooltip(fields=fields) if fields else None,
            marker=folium.CircleMarker(radius=5, fill=True, color=color, fill_opacity=0.8),
        )
        layer.add_to(self)
        self.add_child(Register(layer, {"id": f"nb_{layer.get_name()}", "title": name, "group": group,
                                        "legend": [{"color": color, "label": name}]}))
        self.mark_registered(layer)
        return layer

    def add_heatmap(self, points: Any, name: str, weight: str | None = None, show: bool = True,
                    **options: Any) -> folium.plugins.HeatMap:
        """A heatmap (Folium's HeatMap) of a GeoDataFrame's points, or of a list of [lat, lon(, weight)]."""
        if hasattr(points, "geometry"):
            data = points.to_crs(4326) if points.crs is not None and points.crs.to_epsg() != 4326 else points
            geoms = data.geometry.representative_point()
            weights = data[weight] if weight else None
            points = [[p.y, p.x] + ([float(weights.iloc[i])] if weights is not None else [])
                      for i, p in enumerate(geoms)]
        heat = folium.plugins.HeatMap(points, name=name, show=show, **options)
        heat.add_to(self)
        entry = {"id": f"nb_{heat.get_name()}", "title": name, "group": NOTEBOOK_GROUP}
        self.add_child(Register(heat, entry))
        self.mark_registered(heat)
        return heat

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        # Layers a notebook added with plain Folium (``folium.GeoJson(...).add_to(m)``) join the switcher too.
        for child in list(self._children.values()):
            if isinstance(child, FoliumLayer) and child.control and child.get_name() not in self._registered:
                self.add_child(Register(child, {"id": f"nb_{child.get_name()}", "title": child.layer_name,
                                                "group": NOTEBOOK_GROUP}))
                self.mark_registered(child)
        # Controls read the runtime's registry, so they render after every layer.
        for control in self.controls:
            self._children.pop(control.get_name(), None)
            self.add_child(control)
        localise(self, self.static_url, lean=self.lean)
        super().render(**kwargs)


def _tile_url(ctx: ViewerContext, layer_id: str, tms: str) -> str:
    return f"{ctx.base_url}/collections/{quote(layer_id)}/tiles/{tms}/{{z}}/{{x}}/{{y}}"


def _with_params(url: str, params: dict[str, str]) -> str:
    if not params:
        return url
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params, quote_via=quote)}"


def _temporal(layer: Layer) -> str | None:
    if layer.versioned:
        return "instant"  # what existed at that moment
    if layer.time_field is None:
        return None
    if layer.id == "events" or layer.time_field == "occurred_at":
        return "window"  # what happened in the days before that moment
    return "until"  # what had been created by then


def _layer_filters(layer: Layer, focus: Focus | None) -> dict[str, str]:
    if focus is None or focus.kind != "grid" or layer.grid_column is None:
        return {}
    code = focus.code.replace("'", "''")
    column = "code" if layer.grid_column == "code" else layer.grid_column
    text = f"{column}='{code}'"
    if layer.field("status") is not None:
        text += " AND status='open'"
    return {"filter": text, "filter-lang": "cql2-text"}


def _visible(layer: Layer, focus: Focus | None) -> bool:
    if focus is not None and focus.kind == "layer":
        return layer.id == focus.code or layer.id in ("streets", "communities")
    if focus is not None and focus.kind == "grid":
        return layer.id in ("grids", "buildings", "events", "verification_issues")
    return layer.id in DEFAULT_VISIBLE


def _add_platform_layers(m: OneMap, ctx: ViewerContext, settings: ViewerSettings, basemap: BaseMap,
                         focus: Focus | None) -> None:
    # Draw polygons below lines below points; within a kind, the catalog's order.
    order = {"polygon": 0, "line": 1, "point": 2}
    specs = [(layer, layer_spec(layer)) for layer in ctx.layers if layer.kind != "raster"]
    for layer, spec in sorted(specs, key=lambda ls: order.get(ls[1].get("geometry", "polygon"), 0)):
        temporal = _temporal(layer)
        # Outlines (admin areas) are context: clicks go through them to the buildings and points below.
        interactive = spec.get("base", {}).get("fill", True) is not False
        params = {**_layer_filters(layer, focus)}
        entry = {
            "id": layer.id, "title": layer.title, "group": department_title(layer.owner_department),
            "kind": "vector", "url": _tile_url(ctx, layer.id, basemap.tile_matrix_set), "params": params,
            "temporal": temporal, "window_days": settings.event_window_days,
            "interactive": interactive, "min_zoom": layer.min_zoom, "legend": legend_entries(layer, spec),
        }
        full_spec = {**spec, "renderer": settings.renderer, "interactive": interactive,
                     "min_zoom": layer.min_zoom,
                     "max_native_zoom": min(layer.max_zoom, 18)}
        if focus is not None and focus.kind == "building" and layer.id == "buildings":
            full_spec["focus_code"] = focus.code
        initial = _with_params(str(entry["url"]), {**params, **ctx.auth})
        vector = PlatformVectorLayer(entry, full_spec, initial, show=_visible(layer, focus))
        vector.add_to(m)
        m.mark_registered(vector)


def _add_background(m: OneMap, ctx: ViewerContext, settings: ViewerSettings, basemap: BaseMap) -> None:
    fallback: list[MacroElement] = []
    if settings.hillshade and ctx.endpoints.hillshade_url and basemap.crs == "EPSG3857":
        url = _with_params(f"{ctx.base_url}{ctx.endpoints.hillshade_url}", ctx.auth)
        # Added once the vector layers have drawn (``defer``), so the relief never delays the data.
        hillshade = folium.TileLayer(url, attr="DEM", name="地形晕渲 Hillshade", overlay=True, show=False,
                                     pane="om-background", opacity=0.45, max_zoom=settings.max_zoom,
                                     max_native_zoom=15)
        hillshade.add_to(m)
        m.add_child(Register(hillshade, {"id": "hillshade", "title": "地形晕渲 Hillshade",
                                         "group": BACKGROUND_GROUP, "defer": not basemap.external}))
        m.mark_registered(hillshade)
        fallback.append(hillshade)
    base_layers: list[MacroElement] = []
    for i, source in enumerate(basemap.sources):
        tile = folium.TileLayer(source.url, attr=source.options.get("attribution", " "), name=source.name,
                                overlay=True, show=True,
                                **{k: v for k, v in source.options.items() if k != "attribution"})
        tile.add_to(m)
        m.add_child(Register(tile, {"id": f"basemap{i}", "title": source.name, "group": BACKGROUND_GROUP}))
        m.mark_registered(tile)
        base_layers.append(tile)
    if base_layers:
        m.add_child(WatchBase(base_layers, fallback, basemap.gcj02))


def _add_heatmap(m: OneMap, ctx: ViewerContext, kind: str, focus: Focus | None) -> None:
    readable = {layer.id for layer in ctx.layers}
    if not ctx.endpoints.heat or kind == "none" or not ctx.principal.is_internal:
        return
    if kind == "events" and "events" not in readable:
        return
    params = {"kind": kind}
    if focus is not None and focus.kind == "grid":
        params["grid"] = focus.code
    title = "人口热力 Population" if kind == "population" else "事件热力 Events"
    entry = {"id": f"heat_{kind}", "title": title, "group": THEMATIC_GROUP, "url": f"{ctx.base_url}/map/heat",
             "params": params, "temporal": "instant" if kind == "population" else "window",
             "window_days": 365, "legend": [{"color": "#ff0000", "label": "高 high"},
                                             {"color": "#00ffff", "label": "低 low"}]}
    heat = RemoteHeatMap(entry, show=focus is None)
    heat.add_to(m)
    m.mark_registered(heat)


def build_map(ctx: ViewerContext, *, settings: ViewerSettings | None = None, focus: Focus | None = None,
              heatmap: str | None = None, lean: bool = True, title: str = "一张图 One map") -> OneMap:
    settings = settings or get_viewer_settings()
    basemap = resolve_basemap(settings)
    bounds = (focus.bounds if focus and focus.bounds else None) or ctx.bounds or DEFAULT_BOUNDS
    west, south, east, north = bounds
    m = OneMap(static_url=ctx.static, lean=lean, location=[(south + north) / 2, (west + east) / 2],
               zoom_start=12, crs=basemap.crs, max_zoom=settings.max_zoom, control_scale=True,
               prefer_canvas=True)
    figure: Any = m.get_root()
    figure.header.add_child(folium.Element(f"<title>{_escape(title)}</title>"), name="title")
    figure.header.add_child(folium.Element('<link rel="icon" href="data:,">'), name="favicon")
    archive = f"{ctx.base_url}/archives/buildings/{{code}}" if ctx.endpoints.archives else None
    m.add_child(Runtime({"auth": ctx.auth, "archive_url": archive}))
    _add_background(m, ctx, settings, basemap)
    if ctx.endpoints.tiles:
        _add_platform_layers(m, ctx, settings, basemap, focus)
    _add_heatmap(m, ctx, heatmap or settings.heatmap, focus)
    m.fit_bounds([[south, west], [north, east]], max_zoom=18)
    m.controls.append(Call("switcher", {"title": "图层 Layers"}))
    m.controls.append(Call("legend", {}))
    if ctx.time_range:
        m.controls.append(Call("timeSlider", {"start": ctx.time_range[0], "end": ctx.time_range[1]}))
    if basemap.problem:
        m.controls.append(Call("notice", basemap.problem))
    if focus is not None and focus.panel_html:
        m.controls.append(Panel(focus.panel_html))
    if focus is not None and focus.kind == "building" and focus.point:
        lon, lat = focus.point
        where = {"building": focus.code, "lon": lon, "lat": lat}
        if focus.north is not None:
            where["north"] = focus.north
        m.controls.append(Call("focus", where))
    return m


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_page(m: folium.Map) -> str:
    html: str = m.get_root().render()
    return html
