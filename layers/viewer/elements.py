"""Folium elements of the viewer: each renders a few lines calling ``onemap.*`` in
``static/onemap/viewer.js``, so that a page stays small and every behaviour lives in one cached, vendored
script."""

from __future__ import annotations

from typing import Any

from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.map import Layer as FoliumLayer
from folium.plugins import VectorGridProtobuf
from folium.template import Template

RUNTIME_JS = ("onemap_js", "/static/onemap/viewer.js")
RUNTIME_CSS = ("onemap_css", "/static/onemap/viewer.css")


class Runtime(JSCSSMixin, MacroElement):
    """Loads the runtime and configures it (panes, auth, archive URL); added to the map before any layer."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        onemap.setup({{ this._parent.get_name() }}, {{ this.config|tojson }});
        {% endmacro %}
    """)
    default_js = [RUNTIME_JS]  # noqa: RUF012 - folium reads these class lists
    default_css = [RUNTIME_CSS]  # noqa: RUF012

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self._name = "OnemapRuntime"
        self.config = config


class PlatformVectorLayer(VectorGridProtobuf):
    """A platform layer as Mapbox vector tiles (Leaflet.VectorGrid via Folium's plugin), styled by its
    spec and registered with the runtime (layer switcher, legend, time slider, popups)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = onemap.register({{ this._parent.get_name() }},
            L.vectorGrid.protobuf({{ this.initial_url|tojson }},
                                  onemap.vectorOptions({{ this.spec|tojson }})),
            {{ this.entry|tojson }});
        {% endmacro %}
    """)

    def __init__(self, entry: dict[str, Any], spec: dict[str, Any], initial_url: str,
                 show: bool = True) -> None:
        super().__init__(url=initial_url, name=entry["title"], show=show)
        self.entry = entry
        self.spec = spec
        self.initial_url = initial_url


class RemoteHeatMap(JSCSSMixin, FoliumLayer):
    """Leaflet.heat (Folium's HeatMap plugin script) with its points fetched from the platform, so the
    page does not inline them, and re-fetched when the time slider moves."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = onemap.remoteHeat({{ this._parent.get_name() }},
            L.heatLayer([], {{ this.options|tojson }}), {{ this.entry|tojson }});
        {% endmacro %}
    """)
    default_js = [("leaflet-heat.js", "leaflet_heat.min.js")]  # noqa: RUF012

    def __init__(self, entry: dict[str, Any], show: bool = True, **options: Any) -> None:
        super().__init__(name=entry["title"], overlay=True, control=True, show=show)
        self._name = "RemoteHeatMap"
        self.entry = entry
        self.options = {"minOpacity": 0.3, "radius": 18, "blur": 15, "maxZoom": 16, "pane": "om-heat",
                        **options}


class Register(MacroElement):
    """Makes any Folium layer (a base map, the hillshade, a notebook's GeoDataFrame) known to the switcher."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        onemap.register({{ this._parent.get_name() }}, {{ this.layer.get_name() }}, {{ this.entry|tojson }});
        {% endmacro %}
    """)

    def __init__(self, layer: MacroElement, entry: dict[str, Any]) -> None:
        super().__init__()
        self._name = "OnemapRegister"
        self.layer = layer
        self.entry = entry


class Call(MacroElement):
    """``onemap.<function>(map, options)``: switcher, legend, time slider, focus, notice."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        onemap.{{ this.function }}({{ this._parent.get_name() }}, {{ this.options|tojson }});
        {% endmacro %}
    """)

    def __init__(self, function: str, options: Any) -> None:
        super().__init__()
        self._name = f"Onemap_{function}"
        self.function = function
        self.options = options


class WatchBase(MacroElement):
    """Swap an unreachable base map for the platform background; shift GCJ-02 base tiles onto CGCS2000."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        {%- if this.gcj02 %}
        {%- for b in this.base %}onemap.shiftGcj02({{ b.get_name() }});{% endfor %}
        {%- endif %}
        onemap.watchBase({{ this._parent.get_name() }},
            [{% for b in this.base %}{{ b.get_name() }}{% if not loop.last %}, {% endif %}{% endfor %}],
            [{% for f in this.fallback %}{{ f.get_name() }}{% if not loop.last %}, {% endif %}{% endfor %}]);
        {% endmacro %}
    """)

    def __init__(self, base: list[MacroElement], fallback: list[MacroElement], gcj02: bool) -> None:
        super().__init__()
        self._name = "OnemapWatchBase"
        self.base = base
        self.fallback = fallback
        self.gcj02 = gcj02


class Panel(MacroElement):
    """A small HTML panel over the map (a focused view's summary); ``html`` is escaped by the caller."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var div = L.DomUtil.create("div", "om-panel", {{ this._parent.get_name() }}.getContainer());
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            div.innerHTML = {{ this.html|tojson }};
        })();
        {% endmacro %}
    """)

    def __init__(self, html: str) -> None:
        super().__init__()
        self._name = "OnemapPanel"
        self.html = html
