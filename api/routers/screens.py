"""The screens: ``/dashboard`` (the operations centre's wall, 1920x1080 or the 3840x1080 LED wall) and
``/communities/{code}`` (a community's own command platform: its map, buildings, residents masked by role,
warnings, pending declarations, grid workers' tasks, and its data as xlsx, audited)."""

from __future__ import annotations

import html
import urllib.parse
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from psycopg import AsyncConnection
from starlette.concurrency import run_in_threadpool

from api.db import connection
from api.deps import get_principal
from api.errors import Forbidden
from api.links import root_path
from api.routers.cases import record_transition
from api.routers.kpis import READERS, figures_as_of, scope_for
from api.routers.maps import PageError, PageRoute, Who
from api.routers.saved_maps import read_saved_map
from api.routers.streams import CASE_STREAM_ROLES, WARNING_STREAM_ROLES
from layers.access import Principal
from layers.audit import record
from layers.catalog import readable_layers
from layers.screens import MODES, DashboardConfig, dashboard_html, mode_from_saved_map, workspace_html
from layers.screens.page import TILES
from layers.screens.settings import get_screen_settings
from layers.screens.workspace import (
    SECTIONS,
    Section,
    assign_task,
    community_grids,
    finish_task,
    grid_workers,
    section_rows,
    sections_for,
    workbook,
)
from spatial.cases.store import take_action
from spatial.cases.transitions import Request as ActionRequest
from spatial.errors import InvalidInput
from spatial.kpis import Scope, resolve_scope
from spatial.schema import TASK_KINDS

router = APIRouter(tags=["Screens"], route_class=PageRoute)

Conn = Annotated[AsyncConnection[Any], Depends(connection)]
Caller = Annotated[Principal, Depends(get_principal)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def require_screen_reader(who: Principal) -> None:
    if who.role == "public":
        raise PageError(401, "需要有效的密钥 The screens need an API key (…?api_key=KEY).")
    if who.role not in READERS:
        raise PageError(403, f"你的密钥不能查看大屏 Your key (role {who.role}) may not open the screens.")


@router.get("/dashboard", response_class=HTMLResponse, summary="The operations centre's wall")
async def dashboard(
    request: Request,
    conn: Conn,
    who: Who,
    layout: Annotated[
        str, Query(pattern="^(1920|3840)$", description="1920x1080 or the 3840x1080 LED wall")
    ] = "1920",
    code: Annotated[
        str | None, Query(max_length=64, description="Open at this street, community or grid.")
    ] = None,
    mode: Annotated[
        str | None, Query(max_length=32, description="population, economy, safety or housing")
    ] = None,
    saved: Annotated[
        int | None, Query(alias="map", ge=1, description="A saved map, as the first mode.")
    ] = None,
    refresh: Annotated[
        int | None, Query(ge=1, le=3600, description="Seconds between figure updates.")
    ] = None,
    cycle: Annotated[
        int | None, Query(ge=0, le=3600, description="Seconds per mode; 0 stops cycling.")
    ] = None,
    as_of: Annotated[str | None, Query(max_length=40)] = None,
) -> HTMLResponse:
    require_screen_reader(who)
    if as_of:
        figures_as_of(as_of)
    scope = await scope_for(conn, who, code, None)  # 403 outside the key's area, 404 unknown
    settings = get_screen_settings()
    modes = [dict(m) for m in MODES]
    if saved is not None:
        modes.insert(0, mode_from_saved_map(await read_saved_map(conn, who, saved)))
    ids = [m["id"] for m in modes]
    if mode is not None and mode not in ids:
        raise PageError(400, f"未知专题 unknown mode {mode!r}: use one of {', '.join(ids)}")
    key = request.query_params.get("api_key")
    layers = [layer.id for layer in await readable_layers(conn, who)]
    streams = [
        url
        for url, allowed in (
            ("/cases/stream", who.role in CASE_STREAM_ROLES and "cases" in layers),
            ("/warnings/stream", who.role in WARNING_STREAM_ROLES and "events" in layers),
        )
        if allowed
    ] + ([settings.stream_url] if settings.stream_url else [])
    config = DashboardConfig(
        layout=layout,
        code=scope.area.code,
        floor=who.scope_code if who.scoped else None,
        auth={"api_key": key} if key else {},
        refresh_seconds=refresh or settings.refresh_seconds,
        cycle_seconds=settings.cycle_seconds if cycle is None else cycle,
        mode=ids.index(mode) if mode else 0,
        as_of=as_of,
        streams=streams,
        bounds=list(scope.area.bounds) if scope.area.bounds else None,
        layers=layers,
        modes=modes,
        root=root_path(request),
    )
    return HTMLResponse(dashboard_html(config))


async def community_scope(conn: AsyncConnection[Any], who: Principal, code: str) -> tuple[Scope, list[str]]:
    """The community `code` and the grids of it the caller covers: all of them, or a grid worker's own; 403 for
    a key of another community or street."""
    scope = await resolve_scope(conn, code)
    if scope.area.level != "community":
        raise InvalidInput(f"{code} is a {scope.area.level}, not a community")
    return scope, community_grids(who, list(scope.grids))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return html.escape(value.isoformat()[:16].replace("T", " "))
    return html.escape(str(value))


COLUMNS: dict[str, list[tuple[str, str]]] = {
    "buildings": [
        ("code", "编码"),
        ("address", "地址 address"),
        ("use", "用途 use"),
        ("floors", "层"),
        ("units", "房屋"),
        ("residents", "居民"),
        ("enterprises", "企业"),
        ("open_events", "事件"),
    ],
    "residents": [
        ("name", "姓名 name"),
        ("id_number", "身份证 ID"),
        ("phone", "电话 phone"),
        ("address", "地址"),
        ("room_no", "房号"),
        ("relation", "关系"),
        ("household_type", "户籍"),
    ],
    "enterprises": [
        ("name", "名称 name"),
        ("credit_code", "信用代码"),
        ("status", "状态"),
        ("industry", "行业"),
        ("address", "地址"),
    ],
    "warnings": [
        ("id", "编号"),
        ("severity", "级"),
        ("kind", "类型 kind"),
        ("occurred_at", "时间"),
        ("description", "描述"),
        ("address", "地址"),
    ],
    "cases": [
        ("id", "工单 case"),
        ("category", "类别"),
        ("state", "状态 state"),
        ("department", "部门"),
        ("due_at", "时限 due"),
        ("overdue", "超时"),
        ("grid_name", "网格"),
        ("description", "描述"),
        ("tasks", "任务 tasks"),
    ],
    "door_access": [
        ("id", "编号"),
        ("rule", "规则 rule"),
        ("severity", "级"),
        ("occurred_at", "时间"),
        ("description", "描述"),
        ("address", "地址"),
    ],
    "declarations": [
        ("kind", "类型"),
        ("name", "姓名"),
        ("phone", "电话"),
        ("address", "地址"),
        ("imported_at", "导入"),
    ],
    "tasks": [
        ("id", "编号"),
        ("grid_name", "网格"),
        ("kind", "类型"),
        ("subject", "对象"),
        ("note", "说明"),
        ("status", "状态"),
        ("done_note", "反馈"),
    ],
}


def table(section: Section, rows: list[dict[str, Any]], matched: int, auth: str, root: str = "") -> str:
    columns = COLUMNS[section.name]
    head = "".join(f"<th>{html.escape(title)}</th>" for _, title in columns)
    body = []
    for row in rows:
        cells = []
        for name, _ in columns:
            text = _cell(row.get(name))
            if section.name == "buildings" and name == "code":
                href = f"{root}/map/buildings/{urllib.parse.quote(str(row['code']))}{auth}"
                text = f'<a href="{html.escape(href)}">{text}</a>'
            cells.append(f"<td>{text}</td>")
        body.append(f'<tr data-grid="{_cell(row.get("grid_code"))}">{"".join(cells)}</tr>')
    more = f'<div class="om-note">{len(rows)} / {matched} 条 rows; 全部见下载 all in the download</div>'
    empty = '<div class="om-note">暂无 none</div>'
    return (f"<table><tr>{head}</tr>{''.join(body)}</table>" if rows else empty) + (
        more if matched > len(rows) else ""
    )


def task_form(code: str, grids: list[dict[str, str]], workers: list[dict[str, Any]]) -> str:
    options = "".join(
        f'<option value="{html.escape(g["code"])}">{html.escape(g["name"])}</option>' for g in grids
    )
    kinds = "".join(f'<option value="{k}">{k}</option>' for k in TASK_KINDS)
    # A case goes to one grid worker (the case's assign action); checks and events to the grid.
    assignees = '<option value="">执行人(工单) assignee for a case</option>' + "".join(
        f'<option value="{w["id"]}" data-grid="{html.escape(w["grid_code"])}">'
        f'{html.escape(w["label"])} ({html.escape(w["grid_code"])})</option>'
        for w in workers
    )
    return (
        f'<form data-post="/communities/{html.escape(code)}/tasks"><select name="grid_code">{options}</select>'
        f'<select name="kind">{kinds}</select><select name="assignee">{assignees}</select>'
        '<input name="subject" placeholder="工单号、楼栋编码或事件编号 case, building or event">'
        '<input name="note" placeholder="说明 note"><button>派发 Assign</button><span class="om-note"></span></form>'
    )


@router.get("/communities/{code}", response_class=HTMLResponse, summary="A community's workspace")
async def community_page(
    request: Request, conn: Conn, who: Who, code: Annotated[str, Path(max_length=64)]
) -> Response:
    require_screen_reader(who)
    scope, grids = await community_scope(conn, who, code)
    readable = {layer.id for layer in await readable_layers(conn, who)}
    settings = get_screen_settings()
    key = request.query_params.get("api_key")
    auth = f"?api_key={urllib.parse.quote(key)}" if key else ""
    parts = []
    for section in sections_for(readable):
        rows, matched = await section_rows(conn, section, grids, who, settings.workspace_rows)
        inner = table(section, rows, matched, auth, root_path(request))
        if section.name == "tasks" and who.role in ("admin", "community_operator", "street_operator"):
            names = [{"code": g, "name": scope.names.get(g, g)} for g in grids]
            inner += task_form(code, names, await grid_workers(conn, grids))
        parts.append((section.name, html.escape(section.title), inner))
        if section.personal and rows and who.sees_personal_data:
            await record(
                conn,
                who,
                "read",
                "community",
                code,
                {"section": section.name, "returned": len(rows), "masked": False},
            )
    config = {
        "code": scope.area.code,
        "name": scope.area.name,
        "auth": {"api_key": key} if key else {},
        "bounds": list(scope.area.bounds or ()),
        "layers": sorted(readable),
        "download": f"/communities/{scope.area.code}/download.xlsx",
        "tiles": [list(t) for t in TILES],
    }
    title = f"{scope.area.name} 社区综合指挥平台"
    return HTMLResponse(workspace_html(title, config, parts, root_path(request)))


@router.get(
    "/communities/{code}/download.xlsx",
    summary="The community's own data as xlsx (masked, audited)",
    responses={200: {"content": {XLSX: {}}}},
)
async def community_download(conn: Conn, who: Caller, code: Annotated[str, Path(max_length=64)]) -> Response:
    if who.role not in READERS:
        raise Forbidden(f"community data needs one of the roles {', '.join(READERS)}")
    scope, grids = await community_scope(conn, who, code)
    readable = {layer.id for layer in await readable_layers(conn, who)}
    sheets: dict[str, list[dict[str, Any]]] = {}
    for section in sections_for(readable):
        rows, _ = await section_rows(conn, section, grids, who, None)
        sheets[section.title] = rows
    masked = not who.sees_personal_data
    note = f"{scope.area.name} ({scope.area.code}) · {len(grids)} grids · " + (
        "personal fields masked" if masked else "personal fields NOT masked: handle under the data rules"
    )
    await record(
        conn,
        who,
        "download",
        "community",
        scope.area.code,
        {
            "format": "xlsx",
            "masked": masked,
            "grids": grids,
            "rows": {name: len(rows) for name, rows in sheets.items()},
        },
    )
    content = await run_in_threadpool(workbook, sheets, note)
    filename = urllib.parse.quote(f"{scope.area.code}.xlsx")
    return Response(
        content, media_type=XLSX, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"}
    )


@router.get("/communities/{code}/tasks", summary="The tasks of the community's grid workers")
async def community_tasks(
    conn: Conn, who: Caller, code: Annotated[str, Path(max_length=64)]
) -> dict[str, Any]:
    if who.role not in READERS:
        raise Forbidden(f"tasks need one of the roles {', '.join(READERS)}")
    _, grids = await community_scope(conn, who, code)
    section = next(s for s in SECTIONS if s.name == "tasks")
    rows, matched = await section_rows(conn, section, grids, who, 500)
    return {"tasks": rows, "numberMatched": matched}


@router.post("/communities/{code}/tasks", status_code=201, summary="Give a grid worker a task")
async def create_task(
    conn: Conn,
    who: Caller,
    code: Annotated[str, Path(max_length=64)],
    grid_code: Annotated[str, Body(max_length=64)],
    kind: Annotated[str, Body(max_length=16)],
    subject: Annotated[str, Body(min_length=1, max_length=64)],
    note: Annotated[str, Body(max_length=2000)] = "",
    assignee: Annotated[int | None, Body(ge=1, description="case tasks: the grid worker key's id")] = None,
) -> dict[str, Any]:
    _, grids = await community_scope(conn, who, code)
    if kind == "case":  # a case is assigned on its own timeline: the one path is the case's assign action
        return await _assign_case(conn, who, grids, grid_code, subject.strip(), note, assignee)
    async with conn.transaction():
        task = await assign_task(conn, who, grids, grid_code, kind, subject.strip(), note)
        await record(
            conn,
            who,
            "task.assign",
            "grid_task",
            str(task["id"]),
            {"grid_code": grid_code, "kind": kind, "subject": subject},
        )
    return task


async def _assign_case(
    conn: AsyncConnection[Any],
    who: Principal,
    grids: list[str],
    grid: str,
    subject: str,
    note: str,
    assignee: int | None,
) -> dict[str, Any]:
    if grid not in grids:
        raise InvalidInput(f"grid {grid!r} is not a grid of this community: use one of {', '.join(grids)}")
    if not subject.isdigit():
        raise InvalidInput(
            f"the subject of a case task is an open case's id of grid {grid}: {subject!r} is not"
        )
    if assignee is None:
        raise InvalidInput("a case task names its assignee: the id of a grid worker key of the case's grid")
    async with conn.transaction():
        done = await take_action(
            conn, who, int(subject), ActionRequest("assign", note or None, assignee=assignee)
        )
        if done["task"]["grid_code"] != grid:
            raise InvalidInput(
                f"the subject of a case task is an open case's id of grid {grid}: {subject!r} is not"
            )
        await record_transition(conn, who, done)
        task: dict[str, Any] = done["task"]
        await record(
            conn,
            who,
            "task.assign",
            "grid_task",
            str(task["id"]),
            {"grid_code": grid, "kind": "case", "subject": subject},
        )
    return task


@router.post("/tasks/{task_id}/done", summary="A grid worker marks a task done")
async def task_done(
    conn: Conn,
    who: Caller,
    task_id: Annotated[int, Path(ge=1)],
    note: Annotated[str, Body(embed=True, min_length=1, max_length=2000)],
) -> dict[str, Any]:
    async with conn.transaction():
        task = await finish_task(conn, who, task_id, note)
        await record(conn, who, "task.done", "grid_task", str(task_id), {"note": note})
    return task
