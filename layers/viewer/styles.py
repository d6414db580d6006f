"""The viewer's layer switcher groups and legend rows. What a layer is drawn with (its spec, which ``viewer.js``
compiles into VectorGrid style functions) is ``layers.drawing.layer_spec``."""

from __future__ import annotations

from typing import Any

from layers.catalog import Layer
from layers.drawing import base_colour

DEPARTMENT_TITLES = {
    "grid": "网格 Grid management",
    "police": "公安 Police",
    "market": "市场监管 Market supervision",
    "social_security": "社保 Social security",
    "housing": "住建 Housing",
    "emergency": "应急 Emergency",
    "urban_management": "城管 Urban management",
    "water": "水务 Water",
    "education": "教育 Education",
    "health": "卫健 Health",
    "industry": "工信 Industry",
}


def department_title(department: str) -> str:
    return DEPARTMENT_TITLES.get(department, department)


def legend_entries(layer: Layer, spec: dict[str, Any]) -> list[dict[str, str]]:
    """Rows of the legend: colour and label; a single swatch for an unclassified layer."""
    if spec.get("classes"):
        return [{"color": c["color"], "label": str(c.get("label", ""))} for c in spec["classes"]]
    return [{"color": base_colour(spec), "label": layer.title}]
