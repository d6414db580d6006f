"""A layer's thematic style in the database: the field's values it is classified from, and the catalog row it
is stored in. Classification itself is ``layers/thematic.py``."""

from __future__ import annotations

import dataclasses
from typing import Any

import psycopg
import pydantic
from psycopg import sql
from psycopg.types.json import Jsonb

from layers.catalog import Layer
from layers.errors import InvalidLayer
from layers.thematic import METHODS, NUMERIC, ThematicStyle, classify, ramp

SAMPLE_ROWS = 200_000


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
    conn.execute(
        "UPDATE onemap.layer SET style = %s, updated_at = now(), version = version + 1 WHERE id = %s",
        [Jsonb(style.to_dict()), layer.id],
    )
