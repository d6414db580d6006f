"""Thematic maps: classify a field and colour the classes (no database, no drawing).

A ``ThematicStyle`` is stored as a layer's catalog ``style`` (plain JSON, see ``to_dict``) by
``layers/thematic_store.py``; ``layers/drawing.py`` draws it (MapLibre, Folium, legends) from that JSON.
Classes are
``{"min": a, "max": b, "color": c, "label": l}`` (``min`` inclusive, ``max`` exclusive, open ends None) or
``{"value": v, "color": c, "label": l}`` for categories: the spec ``layers/drawing.py`` reads.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import mapclassify
import numpy as np

from layers.errors import InvalidLayer

METHODS = ("single", "quantiles", "equal_interval", "natural_breaks", "manual", "categories")
NUMERIC = ("integer", "number")
NO_DATA = "#cccccc"
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
        # The base colour is what a feature no class takes: "no data" once the field is classified.
        fallback = NO_DATA if self.field is not None and self.classes else self.color
        if self.geometry == "line":
            return {"color": fallback, "weight": 2, "opacity": 0.9}
        if self.geometry == "point":
            return {
                "radius": 4,
                "fill": True,
                "fillOpacity": 0.9,
                "weight": 0.5,
                "color": "#ffffff",
                "fillColor": fallback,
            }
        return {
            "fill": True,
            "fillOpacity": self.opacity,
            "weight": 0.5,
            "color": "#555555",
            "fillColor": fallback,
        }


def default_style(family: str) -> dict[str, Any]:
    """A single-colour style for a new layer of geometry `family`."""
    return ThematicStyle(geometry=family, color=FAMILY_COLOUR.get(family, "#3182bd")).to_dict()
