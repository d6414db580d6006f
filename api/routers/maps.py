"""``/map``: the one-map viewers (Folium pages), the focused views, and the heatmap data they fetch.

Pages are HTML for people: a bad key, an unknown code or a missing right gives a friendly HTML page with the
right status and nothing of the data. Every asset comes from ``/static`` (see ``layers/viewer/assets.py``).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from psycopg import AsyncConnection
from starlette.concurrency import run_in_threadpool
from starlette.routing import NoMatchFound

from api.db import Db, connection
from api.deps import get_principal
from api.errors import Unauthorized, status_for
from api.execute import fetch_one
from api.links import root_path
from layers.access import Principal
from layers.catalog import layer_from_mapping, readable_layer, readable_layers
from layers.viewer import Endpoints, Focus, ViewerContext, build_map, get_viewer_settings, render_page
from layers.viewer.data import bounds_of, heat_points, heat_query, padded, sql
from spatial.errors import Forbidden, OnemapError

log = logging.getLogger("onemap.api")



class PageRoute(APIRoute):
    """HTML pages answer every error with an HTML page (the JSON routes keep the API's problem responses)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.response_class is not HTMLResponse:
            return handler

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return error_page(400, f"参数有误 invalid parameter: {exc.errors()[0].get('msg', '')}",
                                  root_path(request))
            except Exception as exc:
                error = as_page_error(exc)
                if error.status >= 500:
                    log.exception("map page failed")
                return error_page(error.status, str(error), root_path(request))

        return page_handler


router = APIRouter(tags=["maps"], route_class=PageRoute)


class PageError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


_TITLES = {401: "需要有效的密钥 A valid key is needed", 403: "无权查看 Not allowed",
           404: "未找到 Not found", 400: "请求有误 Bad request", 503: "暂不可用 Unavailable"}


def error_page(status: int, message: str, root: str = "") -> HTMLResponse:
    """A self-contained page: no script, no external URL, no data beyond the message."""
    title = _TITLES.get(status, "出错了 Something went wrong")
    body = f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font:15px/1.5 system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:10vh auto;
max-width:36em;color:#263238}}h1{{font-size:1.4em}}.code{{color:#90a4ae}}</style></head>
<body><h1>{html.escape(title)} <span class="code">{status}</span></h1><p>{html.escape(message)}</p>
<p><a href="{html.escape(root)}/map">返回一张图 Back to the one map</a></p></body></html>"""
    return HTMLResponse(body, status_code=status)


async def page_principal(
    request: Request,
    db: Db,
    x_api_key: str | None = Header(default=None, include_in_schema=False),
    api_key: str | None = Query(default=None, description="API key (pages are opened by link)."),
) -> Principal:
    try:
        return await get_principal(request, db, x_api_key, api_key)
    except Unauthorized as exc:
        raise PageError(401, str(exc)) from exc


Who = Annotated[Principal, Depends(page_principal)]
Conn = Annotated[AsyncConnection[Any], Depends(connection)]


def endpoints(request: Request, hillshade_layer: str | None) -> Endpoints:
    """Which platform services exist in this app (the viewer leaves out what is missing rather than drawing
    failed requests)."""
    tile = _path_for(request, "layer_tile", layer_id="a", tms_id="b", z="1", x="2", y="3")
    building = _path_for(request, "building", code="c")
    tiles = tile == "/collections/a/tiles/b/1/2/3"
    archives = building == "/archives/buildings/c"
    hillshade = (f"/collections/{hillshade_layer}/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}?style=hillshade"
                 if tiles and hillshade_layer else None)
    return Endpoints(tiles=tiles, heat=True, archives=archives, hillshade_url=hillshade)


def _path_for(request: Request, name: str, **params: str) -> str | None:
    try:
        return str(request.app.url_path_for(name, **params))
    except NoMatchFound:
        return None


async def hillshade_layer(conn: AsyncConnection[Any], who: Principal) -> str | None:
    """The raster layer of the background's hillshade (setting ``ONEMAP_MAP_HILLSHADE_LAYER``), if readable."""
    wanted = get_viewer_settings().hillshade_layer
    row = await fetch_one(conn, "SELECT * FROM onemap.layer WHERE id = %(id)s AND kind = 'raster'", {"id": wanted})
    return wanted if row is not None and layer_from_mapping(row).can_read(who) else None


async def fetch(conn: AsyncConnection[Any], name: str, params: dict[str, Any] | None = None,
                many: bool = False) -> Any:
    cursor = await conn.execute(sql(name), params or {})
    return await cursor.fetchall() if many else await cursor.fetchone()


async def context(request: Request, conn: AsyncConnection[Any], who: Principal) -> ViewerContext:
    extent = await fetch(conn, "extent")
    span = await fetch(conn, "time_range")
    key = request.query_params.get("api_key")
    return ViewerContext(
        principal=who, layers=await readable_layers(conn, who), bounds=bounds_of(extent),
        time_range=(span["first"], span["last"]) if span else None,
        base_url=root_path(request),  # behind a proxy's path prefix every URL the page asks for carries it
        auth={"api_key": key} if key else {},
        endpoints=endpoints(request, await hillshade_layer(conn, who)),
    )


async def page(ctx: ViewerContext, focus: Focus | None = None, heatmap: str | None = None,
               title: str = "一张图 One map") -> HTMLResponse:
    settings = get_viewer_settings()

    def render() -> str:
        return render_page(build_map(ctx, settings=settings, focus=focus, heatmap=heatmap, title=title))

    return HTMLResponse(await run_in_threadpool(render))


def as_page_error(exc: Exception) -> PageError:
    if isinstance(exc, PageError):
        return exc
    status = status_for(exc)
    if status >= 500 or not isinstance(exc, OnemapError):
        return PageError(500, "内部错误，已记录 Internal error; it has been logged.")
    return PageError(status, str(exc))


HeatmapParam = Query(default=None, pattern="^(population|events|none)$",
                     description="The heatmap to show (default: ONEMAP_MAP_HEATMAP).")


@router.get("/map", response_class=HTMLResponse, summary="The one-map viewer")
async def one_map_page(request: Request, conn: Conn, who: Who,
                       heatmap: str | None = HeatmapParam) -> HTMLResponse:
    return await page(await context(request, conn, who), heatmap=heatmap)


@router.get("/map/buildings/{code}", response_class=HTMLResponse, summary="One building and its file")
async def building_page(request: Request, code: str, conn: Conn, who: Who) -> HTMLResponse:
    ctx = await context(request, conn, who)
    if not any(layer.id == "buildings" for layer in ctx.layers):
        raise PageError(403, "你的密钥不能查看建筑图层 Your key may not read the buildings layer.")
    row = await fetch(conn, "building", {"code": code})
    if row is None:
        raise PageError(404, f"没有编码为 {code} 的建筑 There is no building with code {code}.")
    if not who.covers_grid(row["grid_code"]):  # the same scope as the building's file and the layer's rows
        raise PageError(403, f"这栋建筑不在你的范围 {who.scope_code} "
                             f"This building is outside your area {who.visibility_class}.")
    footprint = bounds_of(row) or (row["lon"], row["lat"], row["lon"], row["lat"])
    bounds = padded(footprint, 0.0015)
    panel = (f"<h3>{html.escape(row['name'] or row['address'])}</h3><div>{html.escape(row['code'])}</div>"
             f"<div>{html.escape(row['address'])}</div>")
    focus = Focus("building", code, bounds=bounds, point=(row["lon"], row["lat"]), north=footprint[3],
                  panel_html=panel)
    return await page(ctx, focus, heatmap="none", title=f"建筑 {code}")


def may_see_grid(who: Principal, code: str, ctx: ViewerContext) -> bool:
    if who.scoped:
        return who.covers_grid(code)
    readable = {layer.id for layer in ctx.layers}
    return who.is_internal and bool(readable & {"events", "verification_issues"})


def grid_panel(row: dict[str, Any], warnings: list[dict[str, Any]]) -> str:
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(str(w['severity']))}</td><td>{e(w['occurred'])}</td><td>{e(w['description'])}</td></tr>"
        for w in warnings
    )
    head = "<tr><th>级</th><th>时间</th><th>预警 warning</th></tr>"
    return (f"<h3>网格 {e(row['name'])}</h3><div>{e(row['code'])} · {e(row['community'] or '')}</div>"
            f"<div>建筑 buildings {row['buildings']} · 待办事件 open events {row['open_events']} · "
            f"待核问题 open issues {row['open_issues']}</div>"
            + (f"<table class='om-warnings'>{head}{rows}</table>"
               if rows else "<div>无待办预警 no open warnings</div>"))


@router.get("/map/grids/{code}", response_class=HTMLResponse, summary="A grid: what its grid worker sees")
async def grid_page(request: Request, code: str, conn: Conn, who: Who) -> HTMLResponse:
    row = await fetch(conn, "grid", {"code": code})
    ctx = await context(request, conn, who)
    if row is None:
        raise PageError(404, f"没有编码为 {code} 的网格 There is no grid with code {code}.")
    if not may_see_grid(who, code, ctx):
        raise PageError(403, "你的密钥不能查看这个网格 Your key may not see this grid.")
    warnings = await fetch(conn, "grid_warnings", {"code": code}, many=True)
    focus = Focus("grid", code, bounds=padded(bounds_of(row) or ctx.bounds or (0, 0, 0, 0), 0.001),
                  panel_html=grid_panel(row, warnings))
    return await page(ctx, focus, heatmap="events", title=f"网格 {code}")


@router.get("/map/layers/{layer_id}", response_class=HTMLResponse, summary="One layer on the map")
async def layer_page(request: Request, layer_id: str, conn: Conn, who: Who) -> HTMLResponse:
    layer = await readable_layer(conn, layer_id, who)
    ctx = await context(request, conn, who)
    panel = f"<h3>{html.escape(layer.title)}</h3><div>{html.escape(layer.description)}</div>"
    return await page(ctx, Focus("layer", layer.id, panel_html=panel), heatmap="none", title=layer.title)


@router.get("/map/heat", summary="Heatmap cells of population or events (aggregated, ~200 m)")
async def heat(
    conn: Conn,
    who: Annotated[Principal, Depends(get_principal)],
    kind: str = Query(default="population", pattern="^(population|events)$"),
    datetime: str | None = Query(default=None, max_length=64),
    grid: str | None = Query(default=None, max_length=64),
) -> JSONResponse:
    if not who.is_internal:
        raise Forbidden("heatmaps need an internal role")
    if kind == "events" and not any(layer.id == "events" for layer in await readable_layers(conn, who)):
        raise Forbidden("your key may not read the events layer")
    if grid is not None and not who.covers_grid(grid):
        raise Forbidden(f"your key covers {who.visibility_class} only")
    grids = [grid] if grid is not None else (list(who.grids) if who.scoped else None)
    query, params = heat_query(kind, datetime, grids, get_viewer_settings())
    cursor = await conn.execute(query, params)
    return JSONResponse({"kind": kind, "points": heat_points(await cursor.fetchall())})
