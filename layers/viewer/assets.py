"""Every script and style sheet of a viewer page comes from the platform itself (``/static``), never a CDN.

Folium and its plugins declare their assets as ``default_js``/``default_css`` lists of (name, CDN URL); before
a map renders, ``localise`` rewrites them, on every element of the map, to the copies vendored in ``static/``
(Leaflet 1.9.4, Leaflet.VectorGrid 1.3.0, Leaflet.heat, jQuery, Bootstrap, Font Awesome, awesome-markers, from
their npm packages; see ``static/README.md``). """

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from branca.element import Element
from folium.elements import JSCSSMixin

log = logging.getLogger("onemap.viewer")

STATIC_DIR = Path(__file__).parent / "static"

# name or file name of a folium asset -> path under /static
LOCAL_ASSETS: dict[str, str] = {
    "leaflet": "leaflet/leaflet.js",
    "leaflet.js": "leaflet/leaflet.js",
    "leaflet_css": "leaflet/leaflet.css",
    "leaflet.css": "leaflet/leaflet.css",
    "jquery": "jquery/jquery.min.js",
    "jquery-3.7.1.min.js": "jquery/jquery.min.js",
    "bootstrap": "bootstrap/bootstrap.bundle.min.js",
    "bootstrap.bundle.min.js": "bootstrap/bootstrap.bundle.min.js",
    "bootstrap_css": "bootstrap/bootstrap.min.css",
    "bootstrap.min.css": "bootstrap/bootstrap.min.css",
    "awesome_markers": "awesome-markers/leaflet.awesome-markers.js",
    "leaflet.awesome-markers.js": "awesome-markers/leaflet.awesome-markers.js",
    "awesome_markers_css": "awesome-markers/leaflet.awesome-markers.css",
    "leaflet.awesome-markers.css": "awesome-markers/leaflet.awesome-markers.css",
    "awesome_markers_font_css": "fontawesome/css/all.min.css",
    "all.min.css": "fontawesome/css/all.min.css",
    "awesome_rotate_css": "folium/leaflet.awesome.rotate.min.css",
    "leaflet.awesome.rotate.min.css": "folium/leaflet.awesome.rotate.min.css",
    "vectorGrid": "vectorgrid/Leaflet.VectorGrid.bundled.min.js",
    "Leaflet.VectorGrid.bundled.js": "vectorgrid/Leaflet.VectorGrid.bundled.min.js",
    "leaflet-heat.js": "folium/leaflet_heat.min.js",
    "leaflet_heat.min.js": "folium/leaflet_heat.min.js",
    "onemap_js": "onemap/viewer.js",
    "onemap_css": "onemap/viewer.css",
}
# Bootstrap 3 glyphicons have no maintained package; folium only uses them for glyphicon marker icons.
DROPPED = {"glyphicons_css", "bootstrap-glyphicons.css"}
# What a served page needs; jQuery, Bootstrap and Font Awesome are only loaded for notebook maps.
LEAN_SKIP = {"jquery", "bootstrap", "bootstrap_css", "awesome_markers", "awesome_markers_css",
             "awesome_markers_font_css", "awesome_rotate_css"}


def local_url(static_url: str, name_or_url: str) -> str | None:
    key = name_or_url if name_or_url in LOCAL_ASSETS else name_or_url.rsplit("/", 1)[-1]
    path = LOCAL_ASSETS.get(key)
    return f"{static_url.rstrip('/')}/{path}" if path else None


def _rewrite(static_url: str, assets: list[tuple[str, str]], lean: bool) -> list[tuple[str, str]]:
    rewritten = []
    for name, url in assets:
        if name in DROPPED or (lean and name in LEAN_SKIP):
            continue
        local = local_url(static_url, name) or local_url(static_url, url)
        if local is None and url.startswith(("http://", "https://", "//")):
            log.warning("asset %s (%s) is not vendored; it will not load without internet", name, url)
        rewritten.append((name, local or url))
    return rewritten


def _walk(element: Element) -> list[Element]:
    found = [element]
    for child in list(element._children.values()):
        found.extend(_walk(child))
    return found


def localise(root: Element, static_url: str, lean: bool = False) -> None:
    """Point every element's JS/CSS at ``static_url`` (instance attributes; classes are left alone)."""
    for element in _walk(root):
        if isinstance(element, JSCSSMixin):
            instance: Any = element
            instance.default_js = _rewrite(static_url, list(element.default_js), lean)
            instance.default_css = _rewrite(static_url, list(element.default_css), lean)
