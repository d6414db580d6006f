"""The HTML of the wall and of the community workspace: a shell with the panels of the layout and the page's
configuration as JSON; ``static/dashboard.js`` and ``static/workspace.js`` draw everything from the API."""

from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATIC_DIR = Path(__file__).parent / "static"
STATIC_URL = "/static/screens"
VIEWER_STATIC_URL = "/static"

# Panels per column, left to right; "map" is the central map. Both layouts are 1080 px high.
LAYOUTS: dict[str, dict[str, Any]] = {
    "1920": {
        "width": 1920,
        "height": 1080,
        "columns": [["tiles", "trend", "breakdown"], ["map"], ["by_area", "departments", "modes"]],
    },
    "3840": {
        "width": 3840,
        "height": 1080,
        "columns": [
            ["tiles", "trend"],
            ["breakdown", "uses"],
            ["map"],
            ["by_area", "departments", "freshness"],
            ["events", "stack", "modes"],
        ],
    },
}
PANEL_TITLES = {
    "tiles": ("核心指标", "Key figures"),
    "trend": ("趋势", "Trend"),
    "breakdown": ("构成", "Breakdown"),
    "by_area": ("分区对比", "By area"),
    "departments": ("部门", "By department"),  # the mode's department figure (see MODES)
    "freshness": ("数据鲜度", "Data freshness: overdue items by department"),
    "modes": ("专题", "Thematic modes"),
    "uses": ("楼栋用途", "Buildings by use"),
    "events": ("网格事件 (12周)", "Grid events, 12 weeks"),
    "stack": ("户籍与流动人口", "Registered and other residents"),
}

# Thematic modes (一张图 themes) the wall cycles through: which figure colours the areas, which one the trend,
# the breakdown, the by-area bars and the by-department bars show, and which heat layer the map shows.
MODES: list[dict[str, Any]] = [
    {
        "id": "population",
        "title": "人口态势",
        "title_en": "Population",
        "area": ["population", "actual"],
        "trend": {"figure": "population", "keys": ["actual", "registered"], "step": "day", "days": 30},
        "breakdown": ["files", None],
        "departments": "verification_backlog",
        "heat": "population",
        "ramp": ["#0b2545", "#1b4b7a", "#2f7fc1", "#5fb3f0", "#a7dcff"],
    },
    {
        "id": "economy",
        "title": "经济挖潜",
        "title_en": "Economic potential",
        "area": ["economic_potential", "potential_m2"],
        "trend": {
            "figure": "enterprises_by_status",
            "keys": ["active", "suspended"],
            "step": "month",
            "days": 365,
        },
        "breakdown": ["enterprises_by_status", None],
        "departments": "data_freshness",
        "heat": None,
        "ramp": ["#2b1d0e", "#5c3b12", "#a0661b", "#e09a2d", "#ffd27a"],
    },
    {
        "id": "safety",
        "title": "安全与工单",
        "title_en": "Safety and cases",
        "area": ["cases", "open"],
        "trend": {"figure": "cases", "keys": ["open", "overdue"], "step": "day", "days": 30},
        "breakdown": ["warnings_by_rule", None],
        "departments": "cases_by_department",
        "heat": "events",
        "ramp": ["#2a0b12", "#5e1424", "#a3223b", "#e0455c", "#ff9aa8"],
    },
    {
        "id": "housing",
        "title": "房屋住房",
        "title_en": "Housing",
        "area": ["housing", "vacant"],
        "trend": {"figure": "population", "keys": ["actual"], "step": "week", "days": 84},
        "breakdown": ["housing", None],
        "departments": "verification_backlog",
        "heat": "population",
        "ramp": ["#0c2a1f", "#13503a", "#1f8a5f", "#3cc48a", "#9cf0c8"],
    },
]
TILES: list[list[str | None]] = [
    ["population", "actual", "实有人口", "Actual population"],
    ["population", "registered", "户籍人口", "Registered population"],
    ["files", "building", "一楼一档", "Building files"],
    ["files", "enterprise", "一企一档", "Enterprise files"],
    ["warnings_by_rule", None, "待处置预警", "Open warnings"],
    ["verification_backlog", None, "待核验", "Verification backlog"],
    ["events_by_kind", None, "今日事件", "Events today"],
    ["declarations_pending", None, "待落地申报", "Pending declarations"],
    ["economic_potential", "potential_m2", "潜力面积 ㎡", "Potential floor space"],
    ["grid_tasks", "assigned", "网格任务", "Tasks assigned"],
    ["housing", "occupancy_rate", "入住率", "Occupancy"],
    ["cases", "open", "在办工单", "Open cases"],
    ["cases", "overdue", "超时工单", "Overdue cases"],
    ["cases_closed", "closed", "今日结案", "Cases closed today"],
    ["cases_closed", "on_time_rate", "按时结案率", "Closed on time"],
    ["door_anomalies", None, "门禁异常", "Door-access anomalies"],
]


@dataclass
class DashboardConfig:
    layout: str
    code: str | None  # the scope on opening (None: the district, or a scoped key's own area)
    floor: str | None  # the widest scope the key may see (its own area for scoped keys)
    auth: dict[str, str]
    refresh_seconds: int
    cycle_seconds: int
    mode: int = 0
    as_of: str | None = None
    # SSE URLs whose events mean "figures changed" (the case and warning streams the key may read); the page
    # polls /kpis only when it has none
    streams: list[str] = field(default_factory=list)
    # The path prefix the server is reached under behind a reverse proxy ("" at the host's root): the page's
    # assets and every URL its script asks for start with it.
    root: str = ""
    bounds: list[float] | None = None
    scoped_layer: str | None = None  # the admin layer whose rows the key's row filter narrows
    layers: list[str] = field(default_factory=list)  # readable layers (tiles the map may ask for)
    modes: list[dict[str, Any]] = field(default_factory=lambda: [dict(m) for m in MODES])
    tiles: list[list[str | None]] = field(default_factory=lambda: [list(t) for t in TILES])


def mode_from_saved_map(saved: dict[str, Any]) -> dict[str, Any]:
    """A saved one-map mode as a dashboard mode: its layers and view on the central map, the population figures
    beside them (a saved map names layers, not figures)."""
    definition = saved["definition"]
    return {
        **MODES[0],
        "id": f"map-{saved['id']}",
        "title": saved["title"],
        "title_en": "Saved map",
        "saved": {
            "id": saved["id"],
            "layers": definition.get("layers", []),
            "view": definition.get("view"),
            "as_of": definition.get("as_of"),
            "filters": definition.get("filters", {}),
            "styles": definition.get("styles", {}),
        },
    }


def _json(value: Any) -> str:
    # inside <script>: no "</" may close the element early
    return json.dumps(value, ensure_ascii=False).replace("</", "<\\/")


def _panel(name: str) -> str:
    if name == "map":
        return (
            '<section class="om-map-wrap"><div id="om-map" class="om-map" data-panel="map"></div>'
            '<div class="om-map-title" id="om-mode-title"></div><div class="om-legend" id="om-legend"></div>'
            "</section>"
        )
    zh, en = PANEL_TITLES[name]
    return (
        f'<section class="om-panel" data-panel="{name}"><h2>{html.escape(zh)}<small>{html.escape(en)}</small>'
        f'</h2><div class="om-panel-body" id="om-{name}"></div></section>'
    )


def dashboard_html(config: DashboardConfig) -> str:
    layout = LAYOUTS[config.layout]
    columns = "".join(
        f'<div class="om-col{" om-col-map" if column == ["map"] else ""}">{"".join(_panel(p) for p in column)}</div>'
        for column in layout["columns"]
    )
    panels = [p for column in layout["columns"] for p in column]
    payload = {**asdict(config), "panels": panels, "width": layout["width"], "height": layout["height"]}
    s, v = config.root + STATIC_URL, config.root + VIEWER_STATIC_URL
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>城市运行一张图 One map · operations centre</title>
<meta name="viewport" content="width={layout["width"]}">
<link rel="stylesheet" href="{v}/leaflet/leaflet.css">
<link rel="stylesheet" href="{s}/dashboard.css">
</head>
<body class="om-dark layout-{config.layout}">
<div id="om-screen" style="width:{layout["width"]}px;height:{layout["height"]}px">
<header class="om-header">
  <div class="om-brand">龙岗区城市运行一张图<small>One map · city operations centre</small></div>
  <nav class="om-crumbs" id="om-crumbs"></nav>
  <div class="om-status"><span id="om-asof"></span><span id="om-clock"></span><span id="om-live">●</span></div>
</header>
<main class="om-body">{columns}</main>
</div>
<script type="application/json" id="om-config">{_json(payload)}</script>
<script src="{v}/leaflet/leaflet.js"></script>
<script src="{v}/vectorgrid/Leaflet.VectorGrid.bundled.min.js"></script>
<script src="{v}/folium/leaflet_heat.min.js"></script>
<script src="{s}/echarts/echarts.common.min.js"></script>
<script src="{s}/dashboard.js"></script>
</body></html>"""


def workspace_html(title: str, config: dict[str, Any], sections: list[tuple[str, str, str]], root: str = "") -> str:
    """The community workspace: a map, figure tiles and server-rendered sections (id, heading, inner HTML);
    ``root`` is the path prefix behind a reverse proxy (see DashboardConfig.root)."""
    s, v = root + STATIC_URL, root + VIEWER_STATIC_URL
    config = {**config, "root": root}
    body = "".join(
        f'<section class="om-panel om-ws-section" id="ws-{sid}" data-panel="{sid}"><h2>{heading}</h2>'
        f'<div class="om-panel-body">{inner}</div></section>'
        for sid, heading, inner in sections
    )
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>{html.escape(title)}</title>
<link rel="stylesheet" href="{v}/leaflet/leaflet.css">
<link rel="stylesheet" href="{s}/dashboard.css">
</head>
<body class="om-dark om-workspace">
<header class="om-header">
  <div class="om-brand">{html.escape(title)}<small>Community command platform · 数据回家</small></div>
  <div class="om-status"><a id="om-download" class="om-button" href="#">下载本社区数据 Download (xlsx)</a></div>
</header>
<main class="om-ws">
  <section class="om-panel" data-panel="map"><div id="om-map" class="om-map om-ws-map"></div></section>
  <section class="om-panel" data-panel="tiles"><h2>核心指标<small>Key figures</small></h2>
    <div class="om-panel-body" id="om-tiles"></div></section>
  {body}
</main>
<script type="application/json" id="om-config">{_json(config)}</script>
<script src="{v}/leaflet/leaflet.js"></script>
<script src="{v}/vectorgrid/Leaflet.VectorGrid.bundled.min.js"></script>
<script src="{s}/workspace.js"></script>
</body></html>"""
