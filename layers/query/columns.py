"""Identifiers and column expressions of a layer: the one place names become SQL.

Only names the catalog declares for a layer (its fields, id, geometry and time columns) become identifiers,
and they are quoted by ``quote``. Personal fields become masked expressions for principals who may not see
them; the same expression is used in SELECT, WHERE and ORDER BY, so nobody can filter or sort on a value they
cannot see.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from psycopg import sql

from layers.access import Principal
from layers.catalog import Field, Layer
from spatial.errors import InvalidInput

# Field type -> SQL type of its bound values (trusted text, never from a request).
SQL_TYPES = {
    "string": "text",
    "integer": "bigint",
    "number": "double precision",
    "boolean": "boolean",
    "date": "date",
    "datetime": "timestamptz",
}
MASK_FUNCTIONS = {"name": "mask_name", "phone": "mask_phone", "id_number": "mask_id_number"}
GEOMETRY_ALIASES = ("geometry", "geom")


def quote(name: str) -> sql.Identifier:
    """The quoting helper: every column name in composed SQL goes through here."""
    return sql.Identifier(name)


def field_names(layer: Layer) -> list[str]:
    return [f.name for f in layer.fields]


def known_columns(layer: Layer) -> dict[str, Field]:
    """Every name a request may refer to, with its type: fields, the id and the time field."""
    columns = {f.name: f for f in layer.fields}
    columns.setdefault(
        layer.id_column, Field(layer.id_column, "string" if layer.id_column == "code" else "integer")
    )
    if layer.time_field:
        columns.setdefault(layer.time_field, Field(layer.time_field, "datetime"))
    return columns


def require_field(layer: Layer, name: str, purpose: str = "property") -> Field:
    found = known_columns(layer).get(name)
    if found is None:
        choices = ", ".join(known_columns(layer))
        raise InvalidInput(f"unknown {purpose} {name!r} for collection {layer.id!r}: use one of {choices}")
    return found


def is_geometry(layer: Layer, name: str) -> bool:
    return name == layer.geometry_column or name in GEOMETRY_ALIASES


def hides(field: Field, who: Principal) -> bool:
    return (field.personal or field.mask is not None) and not who.sees_personal_data


def column_expression(layer: Layer, name: str, who: Principal) -> sql.Composable:
    """The value of column ``name`` as ``who`` may see it: raw, masked by onemap.mask_*, or NULL."""
    field = require_field(layer, name)
    column = quote(field.name)
    if not hides(field, who):
        return column
    if field.mask in MASK_FUNCTIONS:
        return sql.SQL("onemap.{}({}::text)").format(sql.Identifier(MASK_FUNCTIONS[field.mask]), column)
    return sql.SQL("NULL::text")  # personal without a mask rule: withheld entirely


def coerce(field: Field, value: Any) -> Any:
    """A request's literal as a Python value of the field's type; InvalidInput says what was expected."""
    try:
        return _COERCERS[field.type](value)
    except (TypeError, ValueError, KeyError, OverflowError):
        raise InvalidInput(
            f"property {field.name!r} holds {field.type} values; {value!r} is not one"
        ) from None


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError
    number = float(value)
    if not number.is_integer() or abs(number) >= 2**63:
        raise ValueError
    return int(number)


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise TypeError
    number = float(value)
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError
    return number


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValueError


def _string(value: Any) -> str:
    if isinstance(value, (dict, list)) or value is None:
        raise TypeError
    text = value if isinstance(value, str) else str(value)
    if "\x00" in text:
        raise ValueError
    return text


def _datetime(value: Any) -> dt.datetime:
    from layers.query.temporal import parse_instant

    if isinstance(value, dict):
        value = value.get("timestamp", value.get("date"))
    return parse_instant(_string(value))


def _date(value: Any) -> dt.date:
    if isinstance(value, dict):
        value = value.get("date", value.get("timestamp"))
    return dt.date.fromisoformat(_string(value)[:10])


_COERCERS = {
    "integer": _integer,
    "number": _number,
    "boolean": _boolean,
    "string": _string,
    "datetime": _datetime,
    "date": _date,
}
