"""Versions of the features of a versioned layer (its ``<table>_history``), and restoring one.

Version numbers count a feature's states from 1 (the oldest kept) by the time they began; the current row,
when
the feature still exists, is the last. Restoring writes the old values as a new change, so the history
keeps the
state it replaced: nothing is ever lost by a restore.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from layers.access import Principal
from layers.catalog import Layer, require_editable
from layers.errors import InvalidLayer, LayerNotFound
from layers.query.columns import column_expression
from spatial.schema import SCHEMA

HISTORY_EXTRA = ("valid_to", "operation", "changed_by")


def _require_versioned(layer: Layer) -> None:
    if not layer.versioned:
        raise InvalidLayer(f"layer {layer.id!r} keeps no history")


def data_columns(conn: psycopg.Connection, table: str) -> list[str]:
    """The table's columns a restore copies back (all but the validity start)."""
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND "
        "table_name = %s ORDER BY ordinal_position",
        [SCHEMA, table],
    ).fetchall()
    return [r[0] for r in rows if r[0] not in ("valid_from", *HISTORY_EXTRA)]


def _properties(layer: Layer, who: Principal) -> sql.Composable:
    """The declared fields of a state as ``who`` may see them: masked or withheld like in feature pages."""
    pairs = [
        sql.SQL("{}, {}").format(sql.Literal(f.name), column_expression(layer, f.name, who))
        for f in layer.fields
        if f.name != layer.geometry_column
    ]
    return sql.SQL("jsonb_build_object({})").format(sql.SQL(", ").join(pairs)) if pairs else sql.SQL("'{}'")


def _states(conn: psycopg.Connection, layer: Layer, fid: Any, who: Principal) -> list[dict[str, Any]]:
    base = sql.Identifier(SCHEMA, layer.source)
    history = sql.Identifier(SCHEMA, f"{layer.source}_history")
    key = sql.Identifier(layer.id_column)
    # A scoped role sees the states of features in its grids only (as in every other read).
    in_scope = (
        sql.SQL("{} = ANY(%(grids)s::text[])").format(sql.Identifier(layer.grid_column))
        if who.scoped and layer.grid_column
        else sql.SQL("TRUE")
    )
    statement = sql.SQL(
        "SELECT * FROM ("
        " SELECT {props} AS properties,"
        "  ST_AsGeoJSON({gi})::jsonb AS geometry, valid_from, valid_to, operation, changed_by"
        "  FROM {history} WHERE {key} = %(fid)s AND {in_scope}"
        " UNION ALL"
        " SELECT {props}, ST_AsGeoJSON({gi})::jsonb, valid_from, NULL, 'CURRENT', NULL"
        "  FROM {base} WHERE {key} = %(fid)s AND {in_scope}) s ORDER BY valid_from, valid_to NULLS LAST"
    ).format(
        props=_properties(layer, who),
        gi=sql.Identifier(layer.geometry_column),
        history=history,
        base=base,
        key=key,
        in_scope=in_scope,
    )
    show_editors = layer.can_edit(who) or who.role == "admin"
    with conn.cursor(row_factory=dict_row) as cursor:
        rows = cursor.execute(statement, {"fid": fid, "grids": list(who.grids)}).fetchall()
    return [
        {
            "version": i,
            "valid_from": r["valid_from"],
            "valid_to": r["valid_to"],
            "current": r["operation"] == "CURRENT",
            "ended_by": None if r["operation"] == "CURRENT" else r["operation"].lower(),
            "changed_by": r["changed_by"] if show_editors else None,
            "properties": r["properties"],
            "geometry": r["geometry"],
        }
        for i, r in enumerate(rows, start=1)
    ]


def feature_versions(
    conn: psycopg.Connection, layer: Layer, fid: Any, who: Principal
) -> list[dict[str, Any]]:
    _require_versioned(layer)
    states = _states(conn, layer, fid, who)
    if not states:
        raise LayerNotFound(f"layer {layer.id!r} has no feature {fid!r}, now or in its history")
    return states


def _set_actor(conn: psycopg.Connection, who: Principal) -> None:
    conn.execute("SELECT set_config('onemap.actor', %s, true)", [who.actor])


def restore_version(
    conn: psycopg.Connection, layer: Layer, fid: Any, version: int, who: Principal
) -> dict[str, Any]:
    """Make version `version` of feature `fid` current again (re-creating the feature if it was deleted)."""
    require_editable(layer, who)
    states = feature_versions(conn, layer, fid, who)
    chosen = next((s for s in states if s["version"] == version), None)
    if chosen is None:
        raise LayerNotFound(f"feature {fid!r} of layer {layer.id!r} has versions 1 to {len(states)}")
    if chosen["current"]:
        return chosen
    columns = data_columns(conn, layer.source)
    base = sql.Identifier(SCHEMA, layer.source)
    history = sql.Identifier(SCHEMA, f"{layer.source}_history")
    key = sql.Identifier(layer.id_column)
    names = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    picked = sql.SQL(
        "SELECT {names} FROM {history} WHERE {key} = %(fid)s AND valid_from = %(vf)s "
        "AND valid_to = %(vt)s LIMIT 1"
    ).format(names=names, history=history, key=key)
    _set_actor(conn, who)
    exists = states[-1]["current"]
    if exists:
        conn.execute(
            sql.SQL("UPDATE {base} SET ({names}) = ({picked}) WHERE {key} = %(fid)s").format(
                base=base, names=names, picked=picked, key=key
            ),
            {"fid": fid, "vf": chosen["valid_from"], "vt": chosen["valid_to"]},
        )
    else:
        conn.execute(
            sql.SQL("INSERT INTO {base} ({names}) {picked}").format(base=base, names=names, picked=picked),
            {"fid": fid, "vf": chosen["valid_from"], "vt": chosen["valid_to"]},
        )
    return feature_versions(conn, layer, fid, who)[-1]


def layer_changes(
    conn: psycopg.Connection, layer: Layer, who: Principal, limit: int = 200
) -> list[dict[str, Any]]:
    """The layer's edits, newest first: when, who, what kind, how many features. Only for those who may edit
    the layer (an edit log names its editors)."""
    require_editable(layer, who)  # an edit log names its editors
    _require_versioned(layer)
    history = sql.Identifier(SCHEMA, f"{layer.source}_history")
    statement = sql.SQL(
        "SELECT valid_to AS at, changed_by, lower(operation) AS operation, count(*) AS features, "
        "array_agg({key} ORDER BY {key}) AS ids FROM {history} GROUP BY 1, 2, 3 "
        "ORDER BY 1 DESC LIMIT %s"
    ).format(key=sql.Identifier(layer.id_column), history=history)
    with conn.cursor(row_factory=dict_row) as cursor:
        return cursor.execute(statement, [limit]).fetchall()


def restore_layer(conn: psycopg.Connection, layer: Layer, as_of: datetime, who: Principal) -> dict[str, int]:
    """Bring the whole layer back to its state at `as_of` (as new changes; the history keeps today's
    state)."""
    require_editable(layer, who)
    _require_versioned(layer)
    columns = data_columns(conn, layer.source)
    base = sql.Identifier(SCHEMA, layer.source)
    history = sql.Identifier(SCHEMA, f"{layer.source}_history")
    key = sql.Identifier(layer.id_column)
    names = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    snapshot = sql.SQL(
        "SELECT {names} FROM {base} WHERE valid_from <= %(t)s UNION ALL SELECT {names} FROM "
        "{history} WHERE valid_from <= %(t)s AND valid_to > %(t)s"
    ).format(names=names, base=base, history=history)
    _set_actor(conn, who)
    params = {"t": as_of}
    conn.execute(sql.SQL("CREATE TEMP TABLE restore_snapshot ON COMMIT DROP AS {}").format(snapshot), params)
    deleted = conn.execute(
        sql.SQL("DELETE FROM {base} WHERE {key} NOT IN (SELECT {key} FROM restore_snapshot)").format(
            base=base, key=key
        )
    ).rowcount
    updated = conn.execute(
        sql.SQL(
            "UPDATE {base} b SET ({names}) = (SELECT {names} FROM restore_snapshot s WHERE s.{key} = "
            "b.{key}) "
            "WHERE b.valid_from > %(t)s AND b.{key} IN (SELECT {key} FROM restore_snapshot)"
        ).format(base=base, names=names, key=key),
        params,
    ).rowcount
    inserted = conn.execute(
        sql.SQL(
            "INSERT INTO {base} ({names}) SELECT {names} FROM restore_snapshot WHERE {key} NOT IN "
            "(SELECT {key} FROM {base})"
        ).format(base=base, names=names, key=key)
    ).rowcount
    conn.execute("DROP TABLE restore_snapshot")
    return {"deleted": deleted, "updated": updated, "inserted": inserted}
