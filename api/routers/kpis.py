"""``/kpis``: the figures of the wall and the workspaces for a scope (district, street, community, grid) as of
an instant, and each figure as a time series. Scoped roles get their own area only; figures over layers a key
may not read are withheld (named in ``withheld``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from psycopg import AsyncConnection

from api.db import connection
from api.deps import require_role
from api.links import root_path
from api.openapi import problem_response
from layers.access import Principal
from layers.catalog import readable_layers
from layers.query.temporal import parse_as_of
from spatial import beijing_time
from spatial.cases.store import scope_of as case_scope_of
from spatial.errors import Forbidden, InvalidInput, NotFound
from spatial.kpis import (
    FIGURES,
    Figure,
    FigureValue,
    Scope,
    figure,
    figure_at,
    figure_series,
    resolve_scope,
)
from spatial.kpis import readable as readable_figures

router = APIRouter(prefix="/kpis", tags=["Figures"])

Conn = Annotated[AsyncConnection[Any], Depends(connection)]
READERS = ("admin", "planner", "department_editor", "grid_worker", "community_operator", "street_operator")
Reader = Annotated[Principal, Depends(require_role(*READERS))]
CodeParam = Annotated[
    str | None,
    Query(
        max_length=64,
        description="A street, community or grid code; none for the district (scoped keys: their own area).",
    ),
]
LevelParam = Annotated[
    str | None, Query(pattern="^(district|street|community|grid)$", description="The level `code` must be.")
]


def named_figure(name: str) -> Figure:
    """A figure asked for in ``names``: an unknown name is a bad parameter (400), not a missing resource."""
    try:
        return figure(name)
    except NotFound as exc:
        raise InvalidInput(str(exc)) from None


def figures_as_of(text: str | None) -> dt.datetime:
    """The instant the figures are for: an instant, or a date meaning the end of that day; now when None."""
    value = parse_as_of(text) or dt.datetime.now(dt.UTC)
    if not 1900 <= value.year <= 2999:
        raise InvalidInput(f"as_of {text!r} is outside the years 1900 to 2999")
    return value


async def scope_for(conn: AsyncConnection[Any], who: Principal, code: str | None, level: str | None) -> Scope:
    scope = await resolve_scope(conn, code or who.scope_code, list(who.grids) if who.scoped else None)
    if level is not None and scope.area.level != level:
        raise InvalidInput(f"{scope.area.code} is a {scope.area.level}, not a {level}")
    return scope


async def shown_figures(
    conn: AsyncConnection[Any], who: Principal, wanted: list[Figure]
) -> tuple[list[Figure], list[str]]:
    layer_ids = {layer.id for layer in await readable_layers(conn, who)}
    return readable_figures(wanted, layer_ids)


def scope_json(scope: Scope) -> dict[str, Any]:
    area = scope.area
    return {
        "code": area.code,
        "name": area.name,
        "level": area.level,
        "parent": {"code": area.parent_code, "name": area.parent_name} if area.parent_code else None,
        "bbox": list(area.bounds) if area.bounds else None,
        "child_level": scope.child_level,
        "areas": [{"code": code, "name": name} for code, name in scope.names.items()],
    }


def figure_json(value: FigureValue) -> dict[str, Any]:
    f = value.figure
    return {
        "title": f.title,
        "title_en": f.title_en,
        "unit": f.unit,
        "kind": f.kind,
        "labels": dict(f.labels),
        "total": value.total,
        "by_area": value.by_area,
    }


@router.get(
    "",
    summary="Figures for a scope as of an instant, in total and per child area",
    responses={404: problem_response("No admin area has that code.")},
)
async def kpis(
    request: Request,
    conn: Conn,
    who: Reader,
    code: CodeParam = None,
    level: LevelParam = None,
    as_of: Annotated[
        str | None, Query(max_length=40, description="A date or an instant; default now.")
    ] = None,
    names: Annotated[str | None, Query(max_length=1000, description="Comma-separated figure names.")] = None,
) -> dict[str, Any]:
    at = figures_as_of(as_of)
    wanted = [named_figure(n.strip()) for n in names.split(",") if n.strip()] if names else list(FIGURES.values())
    scope = await scope_for(conn, who, code, level)
    shown, withheld = await shown_figures(conn, who, wanted)
    department = case_scope_of(who).department  # a department editor counts its own cases only
    values = {f.name: figure_json(await figure_at(conn, f, scope, at, department)) for f in shown}
    return {
        "scope": scope_json(scope),
        "as_of": at.isoformat(),
        "figures": values,
        "withheld": withheld,
        "links": [{"rel": "series", "href": f"{root_path(request)}/kpis/{f.name}/series"} for f in shown],
    }


@router.get("/{name}/series", summary="One figure at the end of each day, week or month")
async def series(
    conn: Conn,
    who: Reader,
    name: Annotated[str, Path(max_length=64)],
    start: Annotated[dt.date, Query(alias="from", description="First day (Beijing time).")],
    end: Annotated[dt.date | None, Query(alias="to", description="Last day; default today.")] = None,
    step: Annotated[str, Query(pattern="^(day|week|month)$")] = "day",
    code: CodeParam = None,
    level: LevelParam = None,
) -> dict[str, Any]:
    wanted = figure(name)
    scope = await scope_for(conn, who, code, level)
    shown, _ = await shown_figures(conn, who, [wanted])
    if not shown:
        raise Forbidden(
            f"figure {name!r} counts layers your key may not read ({', '.join(wanted.requires)})"
        )
    last = end or beijing_time.today()
    points = await figure_series(conn, wanted, scope, start, last, step, case_scope_of(who).department)
    return {
        "name": name,
        "title": wanted.title,
        "title_en": wanted.title_en,
        "unit": wanted.unit,
        "labels": dict(wanted.labels),
        "step": step,
        "scope": scope_json(scope),
        "points": points,
    }
