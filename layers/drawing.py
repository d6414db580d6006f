"""How a layer is drawn, and its legend: one plain JSON-able spec per layer, which every renderer reads (the
Folium viewer's ``viewer.js``, whose colouring ``colour_for`` repeats, MapLibre styles, legends), so they never
disagree.

A spec: ``{"geometry": "polygon"|"line"|"point", "property": str|None, "classes": [...], "base": {...}}``
where a class is ``{"value": v, "color": c, "label": l}`` (categorical) or
``{"min": a, "max": b, "color": c, "label": l}`` (graduated, ``max`` exclusive, either end may be None).
A feature no class takes is drawn in the base colour (``fillColor``, or ``color`` for unfilled outlines).
A layer's catalog ``style`` in that shape (a ``layers.thematic`` style, with its stored classes) wins over the
defaults of the built-in layers.
"""

from __future__ import annotations

import hashlib
from html import escape
from typing import Any

from layers.catalog import Layer

# fmt: off
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
# fmt: on


def _colour_for(layer_id: str) -> str:
    return "#" + hashlib.sha1(layer_id.encode()).hexdigest()[:6]


def _from_catalog(style: dict[str, Any]) -> dict[str, Any] | None:
    """A catalog/thematic style in the spec's shape, or None when it is not recognisable."""
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


def layer_spec(layer: Layer) -> dict[str, Any]:
    """The spec of ``layer``: its own (thematic) style when recognisable, else the default."""
    default = DEFAULT_STYLES.get(layer.id) or {
        "geometry": "polygon",
        "base": {
            "fill": True,
            "fillOpacity": 0.5,
            "weight": 1,
            "radius": 4,
            "color": _colour_for(layer.id),
            "fillColor": _colour_for(layer.id),
        },
    }
    own = _from_catalog(layer.style or {})
    if own is None:
        return dict(default)
    merged = {**default, **own}
    merged["base"] = {**default.get("base", {}), **own.get("base", {})}
    return merged


def _filled(spec: dict[str, Any]) -> bool:
    return spec.get("base", {}).get("fill") is not False


def base_colour(spec: dict[str, Any]) -> str:
    base = spec.get("base", {})
    return str((base.get("fillColor") if _filled(spec) else None) or base.get("color") or "#3388ff")


def colour_for(spec: dict[str, Any], value: Any) -> str:
    """The colour of a feature whose classified property is ``value`` (what ``viewer.js`` computes)."""
    if spec.get("property") and value is not None:
        for c in spec.get("classes") or []:
            if "value" in c:
                if str(c["value"]) == str(value):
                    return str(c["color"])
                continue
            try:
                number = float(value)
            except (TypeError, ValueError):
                break
            if (c.get("min") is None or number >= c["min"]) and (c.get("max") is None or number < c["max"]):
                return str(c["color"])
    return base_colour(spec)


def colour_expression(spec: dict[str, Any]) -> Any:
    """``colour_for`` as a MapLibre expression."""
    classes, prop, fallback = spec.get("classes") or [], spec.get("property"), base_colour(spec)
    if not classes or not prop:
        return fallback
    get = ["get", prop]
    if "value" in classes[0]:
        expression: list[Any] = ["match", ["to-string", get]]
        for c in classes:
            expression += [str(c["value"]), c["color"]]
        return [*expression, fallback]
    # Below the first class's lower edge (when it has one) or above the last's upper edge: the base colour.
    step: list[Any] = [
        "step",
        ["to-number", get],
        fallback if classes[0].get("min") is not None else classes[0]["color"],
    ]
    for i, c in enumerate(classes):
        if i or c.get("min") is not None:
            step += [c["min"], c["color"]]
    if classes[-1].get("max") is not None:
        step += [classes[-1]["max"], fallback]
    return ["case", ["==", get, None], fallback, step]


def maplibre_layers(
    spec: dict[str, Any], layer_id: str, source: str, source_layer: str | None = None, **zooms: int
) -> list[dict[str, Any]]:
    """MapLibre style layers drawing `source_layer` of source `source` as the spec says (``zooms``: minzoom,
    maxzoom)."""
    common: dict[str, Any] = {"source": source, **zooms}
    if source_layer is not None:
        common["source-layer"] = source_layer
    base, colour = spec.get("base", {}), colour_expression(spec)
    if spec.get("geometry") == "point":
        paint = {
            "circle-color": colour,
            "circle-radius": base.get("radius", 4),
            "circle-stroke-color": base.get("color", "#ffffff"),
            "circle-stroke-width": base.get("weight", 0.5),
            "circle-opacity": base.get("fillOpacity", 0.9),
        }
        return [{"id": layer_id, "type": "circle", **common, "paint": paint}]
    if spec.get("geometry") == "line" or not _filled(spec):
        paint = {
            "line-color": colour,
            "line-width": base.get("weight", 2),
            "line-opacity": base.get("opacity", 0.9),
        }
        return [{"id": layer_id, "type": "line", **common, "paint": paint}]
    return [
        {
            "id": layer_id,
            "type": "fill",
            **common,
            "paint": {"fill-color": colour, "fill-opacity": base.get("fillOpacity", 0.7)},
        },
        {
            "id": f"{layer_id}-outline",
            "type": "line",
            **common,
            "paint": {"line-color": base.get("color", "#555555"), "line-width": base.get("weight", 0.5)},
        },
    ]


def legend(spec: dict[str, Any], title: str = "") -> dict[str, Any]:
    items = [
        {k: c.get(k) for k in ("label", "color", "min", "max", "value") if k in c}
        for c in spec.get("classes") or []
    ]
    title = title or str(spec.get("title") or "")
    if not items:
        items = [{"label": title, "color": base_colour(spec)}]
    elif spec.get("property"):
        items.append({"label": "无数据 no data", "color": base_colour(spec)})
    return {
        "title": title,
        "field": spec.get("property"),
        "method": spec.get("method"),
        "geometry": spec.get("geometry"),
        "items": items,
    }


def legend_html(spec: dict[str, Any], title: str = "") -> str:
    found = legend(spec, title)
    rows = "".join(
        f'<div><span style="display:inline-block;width:14px;height:14px;margin-right:6px;'
        f'background:{escape(str(i["color"]))}"></span>{escape(str(i["label"]))}</div>'
        for i in found["items"]
    )
    return f'<div class="onemap-legend"><strong>{escape(found["title"])}</strong>{rows}</div>'
