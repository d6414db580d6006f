"""Thematic maps: classify a field, colour the classes, and say so once.

A ``ThematicStyle`` is stored as a layer's catalog ``style`` (plain JSON). The same object yields the MapLibre
style layer (tiles), the Folium style function (viewer) and the legend, so the three never disagree.
Classes are
``{"min": a, "max": b, "color": c, "label": l}`` (``min`` inclusive, ``max`` exclusive, open ends None) or
``{"value": v, "color": c, "label": l}`` for categories: the shape ``layers/viewer/styles.py`` reads.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import mapclassify
import numpy as np
import psycopg
import pydantic
from psycopg import sql

from layers.catalog import Layer
from layers.errors import InvalidLayer

METHODS = ("single", "quantiles", "equal_interval", "natural_breaks", "manual", "categories")
NUMERIC = ("integer", "number")
NO_DATA = "#cccccc"
SAMPLE_ROWS = 200_000
# Sequential ramps (ColorBrewer / viridis anchors), interpolated to any number of classes.
RAMPS: dict[str, tuple[str, ...]] = {
    "YlOrRd": ("#ffffcc", "#fed976", "#fd8d3c", "#e31a1c", "#800026"),
    "Reds": ("#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"),
    "Blues": ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"),
    "Greens": ("#edf8e9", "#bae4b3", "#74c476", "#31a354", "#006d2c"),
    "Purples": ("#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f"),
    "OrRd": ("#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000"),
    "YlGnBu": ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"),
    "Viridis": ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"),
    "RdYlGn": ("#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641"),
}
CATEGORICAL = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#aec7e8",
    "#ffbb78",
)
FAMILY_COLOUR = {"point": "#e6550d", "line": "#3182bd", "polygon": "#31a354"}


def ramp(name: str, k: int) -> list[str]:
    """`k` colours spread evenly along ramp `name` (append ``_r`` to reverse it)."""
    reverse = name.endswith("_r")
    anchors = RAMPS.get(name.removesuffix("_r"))
    if anchors is None:
        raise InvalidLayer(f"unknown colour ramp {name!r}: use one of {', '.join(RAMPS)} (or with _r)")
    rgb = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in anchors], dtype=float)
    if reverse:
        rgb = rgb[::-1]
    positions = np.linspace(0, len(anchors) - 1, max(k, 1))
    out = []
    for p in positions:
        lo = int(np.floor(p))
        hi = min(lo + 1, len(anchors) - 1)
        mix = rgb[lo] + (rgb[hi] - rgb[lo]) * (p - lo)
        out.append("#" + "".join(f"{round(v):02x}" for v in mix))
    return out


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:,.4g}"


def classify(
    values: Sequence[float] | np.ndarray, method: str, k: int = 5, breaks: Sequence[float] | None = None
) -> list[float]:
    """Inner class edges (k-1 of them, ascending): a value v is in class i when edge[i-1] <= v < edge[i]."""
    data = np.asarray([v for v in values if v is not None], dtype=float)
    data = data[np.isfinite(data)]
    if method == "manual":
        if not breaks:
            raise InvalidLayer("manual classification needs breaks=[...] (ascending inner class edges)")
        edges = [float(b) for b in breaks]
        if edges != sorted(set(edges)):
            raise InvalidLayer("breaks must be ascending and distinct")
        return edges
    if len(data) == 0:
        return []
    k = max(1, min(k, len(np.unique(data))))
    if k == 1:
        return []
    if method == "quantiles":
        bins = mapclassify.Quantiles(data, k=k).bins
    elif method == "equal_interval":
        bins = mapclassify.EqualInterval(data, k=k).bins
    elif method == "natural_breaks":
        bins = mapclassify.NaturalBreaks(data, k=k).bins
    else:
        raise InvalidLayer(f"unknown classification {method!r}: use one of {', '.join(METHODS)}")
    # mapclassify's bins are inclusive upper bounds; the last is the maximum.
    return sorted({float(b) for b in bins[:-1]})


@dataclass
class ThematicStyle:
    geometry: str = "polygon"  # point | line | polygon
    field: str | None = None
    method: str = "single"
    k: int = 5
    ramp: str = "YlOrRd"
    breaks: list[float] = dataclasses.field(default_factory=list)  # inner edges (or manual breaks)
    classes: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    color: str = "#3182bd"  # single-colour layers, and the outline
    opacity: float = 0.7
    title: str = ""
    base: dict[str, Any] = dataclasses.field(default_factory=dict)

    # ------------------------------------------------------------------------------------------ building
    def with_edges(
        self, edges: list[float], lower: float | None = None, upper: float | None = None
    ) -> ThematicStyle:
        colours = ramp(self.ramp, len(edges) + 1)
        bounds: list[float | None] = [None, *edges, None]
        classes = []
        for i, colour in enumerate(colours):
            lo, hi = bounds[i], bounds[i + 1]
            shown_lo = lo if lo is not None else lower
            shown_hi = hi if hi is not None else upper
            if shown_lo is None and shown_hi is None:
                label = "all"
            elif shown_lo is None:
                label = f"< {_number(shown_hi)}"  # type: ignore[arg-type]
            elif shown_hi is None:
                label = f"≥ {_number(shown_lo)}"
            else:
                label = f"{_number(shown_lo)} – {_number(shown_hi)}"
            classes.append({"min": lo, "max": hi, "color": colour, "label": label})
        return dataclasses.replace(self, breaks=list(edges), classes=classes)

    def with_categories(self, values: Sequence[str], labels: dict[str, str] | None = None) -> ThematicStyle:
        palette = ramp(self.ramp, len(values)) if self.ramp in RAMPS and self.method != "categories" else None
        classes = [
            {
                "value": v,
                "color": (palette or CATEGORICAL)[i % len(palette or CATEGORICAL)],
                "label": (labels or {}).get(v, str(v)),
            }
            for i, v in enumerate(values)
        ]
        return dataclasses.replace(self, classes=classes)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["type"] = "thematic"
        out["property"] = self.field
        out["base"] = self.base or self._base()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ThematicStyle:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def _base(self) -> dict[str, Any]:
        if self.geometry == "line":
            return {"color": self.color, "weight": 2, "opacity": 0.9}
        if self.geometry == "point":
            return {
                "radius": 4,
                "fill": True,
                "fillOpacity": 0.9,
                "weight": 0.5,
                "color": "#ffffff",
                "fillColor": self.color,
            }
        return {
            "fill": True,
            "fillOpacity": self.opacity,
            "weight": 0.5,
            "color": "#555555",
            "fillColor": self.color,
        }

    # ------------------------------------------------------------------------------------------ using
    def color_for(self, value: Any) -> str:
        if not self.classes or self.field is None:
            return self.color
        if value is None:
            return NO_DATA
        if "value" in self.classes[0]:
            return next((c["color"] for c in self.classes if c["value"] == value), NO_DATA)
        try:
            number = float(value)
        except (TypeError, ValueError):
            return NO_DATA
        for c in self.classes:
            if (c["min"] is None or number >= c["min"]) and (c["max"] is None or number < c["max"]):
                return str(c["color"])
        return NO_DATA

    def _colour_expression(self) -> Any:
        if not self.classes or self.field is None:
            return self.color
        get = ["get", self.field]
        if "value" in self.classes[0]:
            expression: list[Any] = ["match", get]
            for c in self.classes:
                expression += [c["value"], c["color"]]
            return [*expression, NO_DATA]
        step: list[Any] = ["step", ["to-number", get], self.classes[0]["color"]]
        for c in self.classes[1:]:
            step += [c["min"], c["color"]]
        return ["case", ["==", get, None], NO_DATA, step]

    def maplibre_layers(
        self, layer_id: str, source: str, source_layer: str | None = None
    ) -> list[dict[str, Any]]:
        """MapLibre style layers drawing `source_layer` of vector source `source` with this style."""
        common: dict[str, Any] = {"source": source}
        if source_layer is not None:
            common["source-layer"] = source_layer
        colour = self._colour_expression()
        if self.geometry == "point":
            return [
                {
                    "id": layer_id,
                    "type": "circle",
                    **common,
                    "paint": {
                        "circle-color": colour,
                        "circle-radius": 4,
                        "circle-stroke-color": "#ffffff",
                        "circle-stroke-width": 0.5,
                        "circle-opacity": 0.9,
                    },
                }
            ]
        if self.geometry == "line":
            return [
                {
                    "id": layer_id,
                    "type": "line",
                    **common,
                    "paint": {"line-color": colour, "line-width": 2, "line-opacity": 0.9},
                }
            ]
        return [
            {
                "id": layer_id,
                "type": "fill",
                **common,
                "paint": {"fill-color": colour, "fill-opacity": self.opacity},
            },
            {
                "id": f"{layer_id}-outline",
                "type": "line",
                **common,
                "paint": {"line-color": "#555555", "line-width": 0.5},
            },
        ]

    def folium_style_function(self) -> Callable[[dict[str, Any]], dict[str, Any]]:
        """A ``style_function`` for ``folium.GeoJson`` giving each feature its class colour."""
        base = self.to_dict()["base"]

        def style(feature: dict[str, Any]) -> dict[str, Any]:
            properties = feature.get("properties") or {}
            colour = self.color_for(properties.get(self.field)) if self.field else self.color
            if self.geometry == "line":
                return {**base, "color": colour}
            return {**base, "fillColor": colour}

        return style

    def legend(self, title: str = "") -> dict[str, Any]:
        items = [
            {k: c.get(k) for k in ("label", "color", "min", "max", "value") if k in c} for c in self.classes
        ]
        if not items:
            items = [{"label": title or self.title or "", "color": self.color}]
        elif self.field is not None:
            items.append({"label": "无数据 no data", "color": NO_DATA})
        return {
            "title": title or self.title,
            "field": self.field,
            "method": self.method,
            "geometry": self.geometry,
            "items": items,
        }

    def legend_html(self, title: str = "") -> str:
        from html import escape

        legend = self.legend(title)
        rows = "".join(
            f'<div><span style="display:inline-block;width:14px;height:14px;margin-right:6px;'
            f'background:{escape(str(i["color"]))}"></span>{escape(str(i["label"]))}</div>'
            for i in legend["items"]
        )
        return f'<div class="onemap-legend"><strong>{escape(legend["title"])}</strong>{rows}</div>'


def default_style(family: str) -> dict[str, Any]:
    """A single-colour style for a new layer of geometry `family`."""
    return ThematicStyle(geometry=family, color=FAMILY_COLOUR.get(family, "#3182bd")).to_dict()


# ---------------------------------------------------------------------------------------------- from the data


def _relation(layer: Layer) -> tuple[sql.Composable, sql.Composable, list[Any]]:
    where = [sql.SQL("{} = %s").format(sql.Identifier(k)) for k in layer.source_filter]
    clause = sql.SQL(" AND ").join(where) if where else sql.SQL("TRUE")
    return sql.Identifier("onemap", layer.source), clause, list(layer.source_filter.values())


def field_values(conn: psycopg.Connection, layer: Layer, field_name: str) -> list[Any]:
    """The field's non-null values (a random sample of SAMPLE_ROWS on big tables)."""
    relation, clause, params = _relation(layer)
    statement = sql.SQL(
        "SELECT {f} FROM {r} WHERE {c} AND {f} IS NOT NULL ORDER BY random() LIMIT %s"
    ).format(f=sql.Identifier(field_name), r=relation, c=clause)
    return [row[0] for row in conn.execute(statement, [*params, SAMPLE_ROWS]).fetchall()]


def field_categories(conn: psycopg.Connection, layer: Layer, field_name: str, limit: int = 24) -> list[Any]:
    relation, clause, params = _relation(layer)
    statement = sql.SQL(
        "SELECT {f} FROM {r} WHERE {c} AND {f} IS NOT NULL GROUP BY {f} ORDER BY count(*) DESC, {f} LIMIT %s"
    ).format(f=sql.Identifier(field_name), r=relation, c=clause)
    return [row[0] for row in conn.execute(statement, [*params, limit]).fetchall()]


class StyleRequest(pydantic.BaseModel):
    """What a style request may set, with its types (so a wrong type is a 400, not a crash)."""

    model_config = pydantic.ConfigDict(extra="ignore")

    geometry: str | None = None
    field: str | None = None
    method: str | None = None
    k: pydantic.StrictInt | None = None
    ramp: str | None = None
    breaks: list[float] | None = None
    color: str | None = None
    opacity: float | None = pydantic.Field(default=None, ge=0, le=1)
    title: str | None = None


def build_style(conn: psycopg.Connection, layer: Layer, spec: dict[str, Any]) -> ThematicStyle:
    """A complete style (classes computed from the layer's data) from a request such as
    ``{"field": "height", "method": "natural_breaks", "k": 5, "ramp": "YlOrRd"}``."""
    try:
        spec = StyleRequest.model_validate(spec).model_dump(exclude_unset=True)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidLayer(f"style {where}: {first['msg']}") from None
    current = (
        ThematicStyle.from_dict(layer.style) if layer.style.get("type") == "thematic" else ThematicStyle()
    )
    style = dataclasses.replace(
        current,
        **{
            k: v
            for k, v in spec.items()
            if k in {f.name for f in dataclasses.fields(ThematicStyle)} and k not in ("classes",)
        },
    )
    style = dataclasses.replace(style, classes=[], base={})
    if style.method not in METHODS:
        raise InvalidLayer(f"unknown classification {style.method!r}: use one of {', '.join(METHODS)}")
    if not 1 <= style.k <= 12:
        raise InvalidLayer("k (the number of classes) must be between 1 and 12")
    ramp(style.ramp, 2)  # validates the name
    if style.method == "single" or style.field is None:
        return dataclasses.replace(style, field=None, method="single", breaks=[])
    found = layer.field(style.field)
    if found is None and style.field not in ("id",):
        names = ", ".join(f.name for f in layer.fields)
        raise InvalidLayer(f"layer {layer.id!r} has no field {style.field!r}; its fields: {names}")
    if style.method == "categories":
        return style.with_categories([v for v in field_categories(conn, layer, style.field)])
    if found is not None and found.type not in NUMERIC:
        raise InvalidLayer(
            f"field {style.field!r} is {found.type}, not numeric: classify it with method=categories"
        )
    values = field_values(conn, layer, style.field)
    edges = classify(values, style.method, style.k, style.breaks if style.method == "manual" else None)
    lower = float(min(values)) if values else None
    upper = float(max(values)) if values else None
    return style.with_edges(edges, lower, upper)


def resolve_style(conn: psycopg.Connection, layer: Layer, persist: bool = True) -> ThematicStyle:
    """The layer's style with its classes; computes (and stores) them when the catalog holds only the
    recipe."""
    data = layer.style or {}
    if data.get("type") != "thematic":
        return ThematicStyle(geometry=str(data.get("geometry", "polygon")), title=layer.title)
    style = ThematicStyle.from_dict(data)
    if style.field is not None and not style.classes:
        style = build_style(conn, layer, {})
        if persist:
            store_style(conn, layer, style)
    return dataclasses.replace(style, title=style.title or layer.title)


def store_style(conn: psycopg.Connection, layer: Layer, style: ThematicStyle) -> None:
    from psycopg.types.json import Jsonb

    conn.execute(
        "UPDATE onemap.layer SET style = %s, updated_at = now(), version = version + 1 WHERE id = %s",
        [Jsonb(style.to_dict()), layer.id],
    )
