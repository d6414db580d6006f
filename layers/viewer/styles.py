"""How a layer is drawn in the viewer, and its legend, as one plain JSON-able spec that ``viewer.js``
compiles into VectorGrid style functions.

A spec: ``{"geometry": "polygon"|"line"|"point", "property": str|None, "classes": [...], "base": {...}}``
where a class is ``{"value": v, "color": c, "label": l}`` (categorical) or
``{"min": a, "max": b, "color": c, "label": l}`` (graduated, ``max`` exclusive, either end may be None).
A layer's catalog ``style`` in that shape (or the thematic engine's, when present) wins over the defaults.
"""

from __future__ import annotations

import hashlib
from typing import Any

from layers.catalog import Layer

DEPARTMENT_TITLES = {
    "grid": "网格 Grid management", "police": "公安 Police", "market": "市场监管 Market supervision",
    "social_security": "社保 Social security", "housing": "住建 Housing", "emergency": "应急 Emergency",
    "urban_management": "城管 Urban management", "water": "水务 Water", "education": "教育 Education",
    "health": "卫健 Health", "industry": "工信 Industry",
}
USE_COLORS = {
    "residential": ("#f4a259", "住宅 residential"), "urban_village": ("#e76f51", "城中村 urban village"),
    "commercial": ("#e63946", "商业 commercial"), "industrial": ("#8d6a9f", "工业 industrial"),
    "office": ("#457b9d", "办公 office"), "public": ("#2a9d8f", "公共 public"),
    "mixed": ("#b5838d", "混合 mixed"),
}
SEVERITY = ["#ffe066", "#fcbf49", "#f77f00", "#d62828", "#7f0000"]

_OUTLINE = {"fill": False, "weight": 1, "opacity": 0.9}
DEFAULT_STYLES: dict[str, dict[str, Any]] = {
    "streets": {"geometry": "polygon", "base": {**_OUTLINE, "color": "#37474f", "weight": 2.5}},
    "communities": {"geometry": "polygon", "base": {**_OUTLINE, "color": "#607d8b", "weight": 1.5,
                                                    "dashArray": "4 3"}},
    "grids": {"geometry": "polygon", "base": {**_OUTLINE, "color": "#90a4ae", "weight": 0.8}},
    "buildings": {
        "geometry": "polygon", "property": "use",
        "base": {"fill": True, "fillOpacity": 0.75, "weight": 0.5, "color": "#5d4037",
                 "fillColor": "#bcaaa4"},
        "classes": [{"value": k, "color": c, "label": lbl} for k, (c, lbl) in USE_COLORS.items()],
    },
    "enterprises": {
        "geometry": "point", "property": "kind",
        "base": {"radius": 3, "fill": True, "fillOpacity": 0.9, "weight": 0.5, "color": "#ffffff"},
        "classes": [{"value": "company", "color": "#6a4c93", "label": "企业 company"},
                    {"value": "individual", "color": "#1982c4", "label": "个体 individual"}],
    },
    "events": {
        "geometry": "point", "property": "severity",
        "base": {"radius": 5, "fill": True, "fillOpacity": 0.9, "weight": 1, "color": "#ffffff"},
        "classes": [{"min": s, "max": s + 1, "color": SEVERITY[s - 1], "label": f"严重程度 severity {s}"}
                    for s in range(1, 6)],
    },
    "verification_issues": {
        "geometry": "point", "property": "status",
        "base": {"radius": 4, "fill": True, "fillOpacity": 0.9, "weight": 1, "color": "#ffffff"},
        "classes": [{"value": "open", "color": "#ff006e", "label": "待核 open"},
                    {"value": "confirmed", "color": "#fb5607", "label": "确认 confirmed"},
                    {"value": "dismissed", "color": "#8d99ae", "label": "驳回 dismissed"}],
    },
}


def department_title(department: str) -> str:
    return DEPARTMENT_TITLES.get(department, department)


def _colour_for(layer_id: str) -> str:
    return "#" + hashlib.sha1(layer_id.encode()).hexdigest()[:6]


def _from_catalog(style: dict[str, Any]) -> dict[str, Any] | None:
    """A catalog/thematic style in the viewer's shape, or None when it is not recognisable."""
    classes = style.get("classes")
    if not isinstance(classes, list) or not all(isinstance(c, dict) and "color" in c for c in classes):
        return None
    spec: dict[str, Any] = {"property": style.get("property") or style.get("field"), "classes": []}
    for c in classes:
        entry = {k: c[k] for k in ("value", "min", "max", "color", "label") if k in c}
        entry.setdefault("label", str(c.get("value", f"{c.get('min', '')}–{c.get('max', '')}")))
        spec["classes"].append(entry)
    if isinstance(style.get("base"), dict):
        spec["base"] = style["base"]
    if style.get("geometry") in ("polygon", "line", "point"):
        spec["geometry"] = style["geometry"]
    return spec


def thematic_style(layer: Layer) -> dict[str, Any]:
    """The viewer spec of ``layer``: its own (thematic) style when recognisable, else the default."""
    default = DEFAULT_STYLES.get(layer.id) or {
        "geometry": "polygon",
        "base": {"fill": True, "fillOpacity": 0.5, "weight": 1, "radius": 4, "color": _colour_for(layer.id),
                 "fillColor": _colour_for(layer.id)},
    }
    own = _from_catalog(layer.style or {})
    if own is None:
        return dict(default)
    merged = {**default, **own}
    merged["base"] = {**default.get("base", {}), **own.get("base", {})}
    return merged


def legend_entries(layer: Layer, spec: dict[str, Any]) -> list[dict[str, str]]:
    """Rows of the legend: colour and label; a single swatch for an unclassified layer."""
    if spec.get("classes"):
        return [{"color": c["color"], "label": str(c.get("label", ""))} for c in spec["classes"]]
    base = spec.get("base", {})
    return [{"color": str(base.get("fillColor") or base.get("color") or "#3388ff"), "label": layer.title}]
