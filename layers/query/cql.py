"""CQL2 (OGC API Features Part 3) -> SQL, with every literal a bound parameter.

The maintained ``cql2`` package parses and validates CQL2 text and JSON; its own SQL output inlines literals,
so this module walks the parsed CQL2 JSON tree instead. Properties are checked against the layer's fields and
quoted by ``columns.quote``; literals are coerced to the property's type in Python and bound. Operators that
the platform's data cannot answer (array operators, functions, interval-valued properties) are refused with a
400 that names them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import cql2
from psycopg import sql

from layers.access import Principal
from layers.catalog import Field, Layer
from layers.query.columns import SQL_TYPES, coerce, column_expression, is_geometry, quote, require_field
from layers.query.geometry import DEFAULT_CRS, geometry_literal
from layers.query.params import Params
from layers.query.temporal import TimeInterval, parse_instant
from spatial.crs import CrsRef
from spatial.errors import InvalidInput
from spatial.schema import SRID

Node = Any
COMPARISONS = {"=": "=", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
ARITHMETIC = {"+": "+", "-": "-", "*": "*", "/": "/"}
SPATIAL = {
    "s_intersects": "ST_Intersects",
    "s_equals": "ST_Equals",
    "s_disjoint": "ST_Disjoint",
    "s_touches": "ST_Touches",
    "s_within": "ST_Within",
    "s_overlaps": "ST_Overlaps",
    "s_crosses": "ST_Crosses",
    "s_contains": "ST_Contains",
}
MAX_FILTER_LENGTH = 20_000
MAX_DEPTH = 40
MAX_LIST_ITEMS = 1_000
# The cql2 parser recurses once per bracket, NOT and sign: a few thousand of them overflow its native stack and
# kill the whole process (a segfault, not an exception), so they are counted before the parser sees the text.
_NESTING = re.compile(r"""'(?:[^']|'')*'|"(?:[^"\\]|\\.)*"|[(\[{]|[)\]},]|\b(?:not|and|or)\b|[-+](?=\s*[-+(\d.])""",
                      re.IGNORECASE)


def check_nesting(text: str) -> None:
    """Refuse a filter nested deeper than MAX_DEPTH (brackets, NOT, runs of signs) before it is parsed."""
    depth = prefix = 0
    for match in _NESTING.finditer(text):
        token = match.group()
        if token[0] in "'\"":
            continue  # string literal: its brackets are text
        if token in "([{":
            depth += 1
        elif token in ")]}":
            depth -= 1
            prefix = 0
        elif token == "," or token.lower() in ("and", "or"):
            prefix = 0  # the operand that the prefixes applied to has ended
        else:
            prefix += 1  # NOT or a sign: nests like a bracket until its operand ends
        if depth + prefix > MAX_DEPTH:
            raise InvalidInput(
                f"filter nested too deeply (more than {MAX_DEPTH} levels of brackets, NOT or signs): simplify it"
            )


def _check_lists(node: Node) -> None:
    if isinstance(node, list):
        if len(node) > MAX_LIST_ITEMS:
            raise InvalidInput(f"a filter list has {len(node)} values, at most {MAX_LIST_ITEMS}: split the request")
        for item in node:
            _check_lists(item)
    elif isinstance(node, dict):
        for value in node.values():
            _check_lists(value)


def parse_filter(text: str, lang: str | None = None) -> dict[str, Any]:
    """CQL2 text or JSON (``filter-lang``) -> the CQL2 JSON tree; InvalidInput shows the parser's message."""
    if len(text) > MAX_FILTER_LENGTH:
        raise InvalidInput(f"filter too long ({len(text)} characters, at most {MAX_FILTER_LENGTH})")
    check_nesting(text)
    lang = (lang or ("cql2-json" if text.lstrip().startswith("{") else "cql2-text")).lower()
    try:
        if lang == "cql2-text":
            expr = cql2.parse_text(text)
        elif lang == "cql2-json":
            expr = cql2.parse_json(text)
        else:
            raise InvalidInput(f"unknown filter-lang {lang!r}: use cql2-text or cql2-json")
        tree = expr.to_json()
    except (cql2.ParseError, cql2.ValidationError, ValueError) as exc:
        first = " ".join(str(exc).split())[:300]
        raise InvalidInput(f"invalid CQL2 filter ({lang}): {first}") from None
    if not isinstance(tree, dict):
        raise InvalidInput("a CQL2 filter must be a boolean expression, e.g. floors > 10")
    _check_lists(tree)
    return tree


class CqlCompiler:
    """Compiles one CQL2 JSON tree for one layer and principal."""

    def __init__(
        self,
        layer: Layer,
        who: Principal,
        params: Params,
        filter_crs: CrsRef = DEFAULT_CRS,
        column_srid: int = SRID,
    ) -> None:
        self.layer, self.who, self.params = layer, who, params
        self.filter_crs, self.column_srid = filter_crs, column_srid

    def compile(self, tree: Node) -> sql.Composable:
        return self._boolean(tree, 0)

    # --- boolean expressions -------------------------------------------------------------------------------
    def _boolean(self, node: Node, depth: int) -> sql.Composable:
        if depth > MAX_DEPTH:
            raise InvalidInput(f"CQL2 filter nested too deeply (more than {MAX_DEPTH} levels)")
        if isinstance(node, bool):
            return sql.SQL("TRUE" if node else "FALSE")
        if not isinstance(node, dict) or "op" not in node:
            raise InvalidInput(f"expected a condition in the CQL2 filter, found {_short(node)}")
        op, args = str(node["op"]).lower(), list(node.get("args") or [])
        handler = self._handler(op)
        return handler(op, args, depth)

    def _handler(self, op: str) -> Callable[[str, list[Node], int], sql.Composable]:
        if op in ("and", "or"):
            return self._junction
        if op == "not":
            return self._not
        if op in COMPARISONS:
            return self._comparison
        if op in SPATIAL:
            return self._spatial
        if op.startswith("t_"):
            return self._temporal
        simple = {"like": self._like, "between": self._between, "in": self._in, "isnull": self._is_null}
        if op in simple:
            return simple[op]
        if op.startswith("a_"):
            raise InvalidInput(f"CQL2 array operator {op!r} is not supported: no layer has array properties")
        raise InvalidInput(f"CQL2 operator or function {op!r} is not supported here")

    def _junction(self, op: str, args: list[Node], depth: int) -> sql.Composable:
        if not args:
            raise InvalidInput(f"CQL2 {op.upper()} needs arguments")
        joined = sql.SQL(f" {op.upper()} ").join(self._boolean(a, depth + 1) for a in args)
        return sql.SQL("({})").format(joined)

    def _not(self, _: str, args: list[Node], depth: int) -> sql.Composable:
        _arity("NOT", args, 1)
        return sql.SQL("(NOT {})").format(self._boolean(args[0], depth + 1))

    def _comparison(self, op: str, args: list[Node], depth: int) -> sql.Composable:
        _arity(op, args, 2)
        left, right = self._pair(args[0], args[1], depth)
        return sql.SQL("({} {} {})").format(left, sql.SQL(COMPARISONS[op]), right)

    def _like(self, _: str, args: list[Node], depth: int) -> sql.Composable:
        _arity("LIKE", args, 2)
        left, right = self._pair(args[0], args[1], depth, as_text=True)
        return sql.SQL("({}::text LIKE {} ESCAPE '\\')").format(left, right)

    def _between(self, _: str, args: list[Node], depth: int) -> sql.Composable:
        _arity("BETWEEN", args, 3)
        subject, low = self._pair(args[0], args[1], depth)
        high = self._pair(args[0], args[2], depth)[1]
        return sql.SQL("({} BETWEEN {} AND {})").format(subject, low, high)

    def _in(self, _: str, args: list[Node], depth: int) -> sql.Composable:
        _arity("IN", args, 2)
        if not isinstance(args[1], list) or not args[1]:
            raise InvalidInput("CQL2 IN needs a non-empty list, e.g. use IN ('office','commercial')")
        subject = self._scalar(args[0], depth, None)
        values = [self._scalar(v, depth, self._field_of(args[0])) for v in args[1]]
        return sql.SQL("({} IN ({}))").format(subject, sql.SQL(", ").join(values))

    def _is_null(self, _: str, args: list[Node], depth: int) -> sql.Composable:
        _arity("IS NULL", args, 1)
        return sql.SQL("({} IS NULL)").format(self._scalar(args[0], depth, None))

    def _spatial(self, op: str, args: list[Node], depth: int) -> sql.Composable:
        _arity(op, args, 2)
        first, second = (self._geometry(a) for a in args)
        return sql.SQL("{}({}, {})").format(sql.SQL(SPATIAL[op]), first, second)

    def _temporal(self, op: str, args: list[Node], depth: int) -> sql.Composable:
        _arity(op, args, 2)
        subject, other = args
        if _is_literal_time(subject) and isinstance(other, dict) and "property" in other:
            subject, other = other, subject
            op = _MIRRORED.get(op, op)
        field = self._field_of(subject)
        if field is None or field.type not in ("date", "datetime"):
            raise InvalidInput(
                f"CQL2 {op.upper()} compares a date or datetime property with a time, e.g. "
                f"T_AFTER({self.layer.time_field or 'occurred_at'}, TIMESTAMP('2024-01-01T00:00:00Z'))"
            )
        column = self._scalar(subject, depth, None)
        interval = _time_literal(other)
        return _temporal_condition(op, column, interval, self.params)

    # --- scalar expressions --------------------------------------------------------------------------------
    def _pair(
        self, a: Node, b: Node, depth: int, as_text: bool = False
    ) -> tuple[sql.Composable, sql.Composable]:
        """Both sides of a comparison; a literal takes the type of the property on the other side."""
        hint_a, hint_b = self._field_of(b), self._field_of(a)
        if as_text:
            hint_a = hint_b = Field("_", "string")
        return self._scalar(a, depth, hint_a), self._scalar(b, depth, hint_b)

    def _field_of(self, node: Node) -> Field | None:
        if (
            isinstance(node, dict)
            and "property" in node
            and not is_geometry(self.layer, str(node["property"]))
        ):
            return require_field(self.layer, str(node["property"]))
        if isinstance(node, dict) and node.get("op") == "casei" and node.get("args"):
            return self._field_of(node["args"][0])
        return None

    def _scalar(self, node: Node, depth: int, hint: Field | None) -> sql.Composable:
        if depth > MAX_DEPTH:
            raise InvalidInput(f"CQL2 filter nested too deeply (more than {MAX_DEPTH} levels)")
        if isinstance(node, dict) and "property" in node:
            name = str(node["property"])
            if is_geometry(self.layer, name):
                raise InvalidInput(
                    f"{name!r} is the geometry: compare it with spatial operators (S_INTERSECTS...)"
                )
            return column_expression(self.layer, name, self.who)
        if isinstance(node, dict) and "op" in node:
            return self._scalar_op(str(node["op"]).lower(), list(node.get("args") or []), depth, hint)
        return self._literal(node, hint)

    def _scalar_op(self, op: str, args: list[Node], depth: int, hint: Field | None) -> sql.Composable:
        if op == "casei":
            _arity("CASEI", args, 1)
            return sql.SQL("lower({}::text)").format(self._scalar(args[0], depth + 1, Field("_", "string")))
        if op in ARITHMETIC:
            _arity(op, args, 2)
            number = Field("_", "number")
            left, right = (self._scalar(a, depth + 1, number) for a in args)
            return sql.SQL("({} {} {})").format(left, sql.SQL(ARITHMETIC[op]), right)
        if (
            op in COMPARISONS
            or op in ("and", "or", "not", "like", "between", "in", "isnull")
            or op in SPATIAL
        ):
            return self._boolean({"op": op, "args": args}, depth + 1)
        raise InvalidInput(f"CQL2 function {op!r} is not supported here")

    def _literal(self, value: Node, hint: Field | None) -> sql.Composable:
        if value is None:
            return sql.SQL("NULL")
        if isinstance(value, dict) and ("timestamp" in value or "date" in value):
            hint = hint if hint is not None and hint.type in ("date", "datetime") else Field("_", "datetime")
        if isinstance(value, (dict, list)) and hint is None:
            raise InvalidInput(f"unexpected value {_short(value)} in the CQL2 filter")
        if hint is None:
            hint = Field(
                "_",
                "boolean"
                if isinstance(value, bool)
                else "number"
                if isinstance(value, (int, float))
                else "string",
            )
        return self.params.add(coerce(hint, value), SQL_TYPES[hint.type])

    def _geometry(self, node: Node) -> sql.Composable:
        if isinstance(node, dict) and "property" in node:
            name = str(node["property"])
            if not is_geometry(self.layer, name):
                raise InvalidInput(
                    f"{name!r} is not a geometry; the geometry property is {self.layer.geometry_column!r}"
                )
            return quote(self.layer.geometry_column)
        return geometry_literal(node, self.filter_crs, self.params, self.column_srid)


# Swapping the arguments of a temporal operator turns it into its mirror image.
_MIRRORED = {"t_after": "t_before", "t_before": "t_after", "t_during": "t_contains", "t_contains": "t_during"}


def _is_literal_time(node: Node) -> bool:
    return isinstance(node, dict) and any(k in node for k in ("timestamp", "date", "interval"))


def _time_literal(node: Node) -> TimeInterval:
    try:
        if isinstance(node, dict) and "interval" in node:
            start, end = node["interval"]
            return TimeInterval(_instant(start, False), _instant(end, True))
        if isinstance(node, dict) and ("timestamp" in node or "date" in node):
            if "date" in node:
                return TimeInterval(_instant(node, False), _instant(node, True))
            return TimeInterval.at(_instant(node, False))
    except (TypeError, ValueError, OverflowError):
        pass
    raise InvalidInput(
        f"expected TIMESTAMP(...), DATE(...) or INTERVAL(...) in the CQL2 filter, found {_short(node)}"
    )


def _instant(node: Node, end: bool) -> Any:
    if isinstance(node, dict):
        node = node.get("timestamp", node.get("date"))
    if node in ("..", None):
        return None
    return parse_instant(str(node), end_of_day=end)


def _temporal_condition(
    op: str, column: sql.Composable, when: TimeInterval, params: Params
) -> sql.Composable:
    """An instant-valued property against an instant or interval literal (closed interval [start, end])."""
    start = params.add(when.start, "timestamptz") if when.start else None
    end = params.add(when.end, "timestamptz") if when.end else None
    after_start = sql.SQL("{} >= {}").format(column, start) if start else sql.SQL("TRUE")
    before_end = sql.SQL("{} <= {}").format(column, end) if end else sql.SQL("TRUE")
    inside = sql.SQL("({} AND {})").format(after_start, before_end)
    conditions: dict[str, sql.Composable] = {
        "t_after": sql.SQL("({} > {})").format(column, end) if end else sql.SQL("FALSE"),
        "t_before": sql.SQL("({} < {})").format(column, start) if start else sql.SQL("FALSE"),
        "t_intersects": inside,
        "t_during": inside,
        "t_disjoint": sql.SQL("(NOT {})").format(inside),
        "t_equals": sql.SQL("({} = {})").format(column, start)
        if when.is_instant and start
        else sql.SQL("FALSE"),
    }
    if op not in conditions:
        raise InvalidInput(
            f"CQL2 {op.upper()} relates two intervals; this layer's time properties are instants: "
            "use T_AFTER, T_BEFORE, T_DURING, T_INTERSECTS, T_DISJOINT or T_EQUALS"
        )
    return conditions[op]


def _arity(op: str, args: list[Node], count: int) -> None:
    if len(args) != count:
        raise InvalidInput(f"CQL2 {op.upper()} takes {count} argument(s), got {len(args)}")


def _short(node: Node) -> str:
    text = json.dumps(node, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."
