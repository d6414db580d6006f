"""The figures the wall and the workspaces show: one entry per figure, each one SQL file.

Adding a figure (cases, data freshness, ...) is one ``register(Figure(...))`` and one ``.sql`` file in ``sql/``
that takes the scope's grids and areas and the instants (see ``warnings_by_rule.sql`` for the contract) and
returns ``(at, area_code, key, value)``; or, for a figure too slow to count per request, a spans file in
``sql/spans/`` and ``spans=`` (see aggregates.py): the same definition is then counted live and pre-aggregated.
Figures are sums over areas; a ratio is registered as its parts plus a ``derive`` that computes it from the
summed parts, so that it is right for any scope.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from spatial.errors import NotFound

Values = dict[str, float]

# A pre-aggregated figure is defined by its spans (sql/spans/<name>.sql, see aggregates.py); how they begin and
# end says which stored day an instant reads.
CHANGES_AT_MIDNIGHT = "at_midnight"  # dated rows: spans begin and end at Beijing midnights, a day has one value
CHANGES_WHEN_RECORDED = "when_recorded"  # spans begin and end at instants already recorded, never in the future


@dataclass(frozen=True)
class Figure:
    name: str
    sql_file: str
    title: str  # Chinese label on the screens
    title_en: str
    unit: str = ""
    # Layers whose rows the figure counts: a caller who may not read one of them does not get the figure.
    requires: tuple[str, ...] = ()
    # "state" figures are as of the instant; "flow" figures count what happened in the step before it.
    kind: str = "state"
    keys: tuple[str, ...] = ()  # the keys always present (0 when nothing is counted)
    labels: Mapping[str, str] = field(default_factory=dict)  # key -> Chinese label
    derive: Callable[[Values], Values] | None = None
    # More parameters its SQL takes (the rules or vocabularies it counts by, from their one home in the code).
    params: Callable[[], dict[str, Any]] | None = None
    # False: what it counts is not in any area (a department's deliveries); the rows say area_code NULL and the
    # figure is the same for every scope, with nothing per child area.
    areal: bool = True
    # Set for a pre-aggregated figure (CHANGES_AT_MIDNIGHT or CHANGES_WHEN_RECORDED): sql_file is then its spans.
    spans: str | None = None
    # The changes that make its aggregate stale (the triggers' topic in sql/span_triggers.sql).
    stale_by: str = "archives"
    # Keys counted live beside the aggregated ones (they move with the clock), by this SQL file.
    live_sql: str | None = None
    # Its spans' keys are departments: a department's editor counts its own key only.
    department_keys: bool = False


FIGURES: dict[str, Figure] = {}


def register(figure: Figure) -> Figure:
    if figure.name in FIGURES:
        raise ValueError(f"figure {figure.name!r} is registered twice")
    FIGURES[figure.name] = figure
    return figure


def figure(name: str) -> Figure:
    try:
        return FIGURES[name]
    except KeyError:
        raise NotFound(
            f"no figure {name!r}: GET /kpis lists the figures ({', '.join(sorted(FIGURES))})"
        ) from None


USE_LABELS = {
    "residential": "住宅",
    "urban_village": "城中村",
    "commercial": "商业",
    "industrial": "工业",
    "office": "办公",
    "public": "公共",
    "mixed": "混合",
}
DEPARTMENT_LABELS = {
    "grid": "网格",
    "police": "公安",
    "market": "市监",
    "social_security": "社保",
    "housing": "住建",
    "emergency": "应急",
    "urban_management": "城管",
    "water": "水务",
    "education": "教育",
    "health": "卫健",
    "industry": "工信",
    "none": "未定",
}

register(
    Figure(
        "population",
        "spans/population.sql",
        "人口",
        "Population",
        "人",
        requires=("buildings",),
        spans=CHANGES_AT_MIDNIGHT,
        keys=("registered", "actual"),
        labels={"registered": "户籍人口", "actual": "实有人口"},
    )
)
register(
    Figure(
        "files",
        "spans/files.sql",
        "一楼一档 · 一企一档",
        "Building and enterprise files",
        "档",
        requires=("buildings", "enterprises"),
        spans=CHANGES_WHEN_RECORDED,
        keys=("building", "enterprise", "house_unit"),
        labels={"building": "楼栋", "enterprise": "企业", "house_unit": "房屋"},
    )
)
register(
    Figure(
        "enterprises_by_status",
        "spans/enterprises_by_status.sql",
        "企业状态",
        "Enterprises by status",
        "家",
        requires=("enterprises",),
        spans=CHANGES_WHEN_RECORDED,
        keys=("active", "suspended", "deregistered"),
        labels={"active": "在营", "suspended": "停业", "deregistered": "注销"},
    )
)
register(
    Figure(
        "buildings_by_use",
        "spans/buildings_by_use.sql",
        "楼栋用途",
        "Buildings by use",
        "栋",
        requires=("buildings",),
        spans=CHANGES_WHEN_RECORDED,
        keys=tuple(USE_LABELS),
        labels=USE_LABELS,
    )
)
register(
    Figure(
        "warnings_by_rule",
        "warnings_by_rule.sql",
        "待处置预警",
        "Open warnings by rule",
        "条",
        requires=("events",),
        labels={
            "overcrowded_unit": "群租",
            "commercial_vacancy": "商业空置",
            "residents_without_units": "人房不符",
            "enterprise_in_residential_unit": "住改商",
        },
    )
)
register(
    Figure(
        "warnings_raised",
        "warnings_raised.sql",
        "新增预警",
        "Warnings raised",
        "条",
        requires=("events",),
        kind="flow",
    )
)
register(
    Figure(
        "events_by_kind",
        "events_by_kind.sql",
        "网格事件",
        "Grid events by kind",
        "件",
        requires=("events",),
        kind="flow",
    )
)
register(
    Figure(
        "verification_backlog",
        "verification_backlog.sql",
        "待核验",
        "Verification backlog by department",
        "条",
        requires=("verification_issues",),
        labels=DEPARTMENT_LABELS,
    )
)
register(
    Figure(
        "declarations_pending",
        "declarations_pending.sql",
        "待落地申报",
        "Pending declarations",
        "条",
        requires=("buildings", "enterprises"),
        keys=("person", "business"),
        labels={"person": "人员申报", "business": "经营申报"},
    )
)
register(
    Figure(
        "economic_potential",
        "spans/economic_potential.sql",
        "经济挖潜",
        "Economic potential",
        "㎡",
        requires=("economic_potential",),
        spans=CHANGES_AT_MIDNIGHT,
        keys=("potential_m2", "business_m2", "buildings"),
        labels={"potential_m2": "潜力面积", "business_m2": "经营面积", "buildings": "潜力楼栋"},
    )
)


def _occupancy(values: Values) -> Values:
    units = values.get("units", 0.0)
    return {**values, "occupancy_rate": round(values.get("occupied", 0.0) / units, 4) if units else 0.0}


register(
    Figure(
        "housing",
        "spans/housing.sql",
        "房屋",
        "House units",
        "套",
        requires=("buildings",),
        spans=CHANGES_WHEN_RECORDED,
        keys=("units", "residential", "occupied", "vacant"),
        labels={
            "units": "房屋",
            "residential": "住宅",
            "occupied": "有人居住",
            "vacant": "空置",
            "occupancy_rate": "入住率",
        },
        derive=_occupancy,
    )
)
register(
    Figure(
        "grid_tasks",
        "grid_tasks.sql",
        "网格任务",
        "Grid workers' tasks",
        "项",
        requires=("events",),
        kind="flow",
        keys=("assigned", "done"),
        labels={"assigned": "待办", "done": "完成"},
    )
)


def _on_time(values: Values) -> Values:
    closed = values.get("closed", 0.0)
    return {**values, "on_time_rate": round(values.get("on_time", 0.0) / closed, 4) if closed else 0.0}


def _open_cases(values: Values) -> Values:
    """Open cases summed over the departments they are counted by, and the overdue ones."""
    return {
        "open": sum(v for k, v in values.items() if k not in ("open", "overdue")),
        "overdue": values.get("overdue", 0.0),
    }


register(
    Figure(
        "cases",
        "spans/open_cases.sql",
        "工单",
        "Open and overdue cases",
        "件",
        requires=("cases",),
        spans=CHANGES_WHEN_RECORDED,
        stale_by="cases",
        live_sql="cases_overdue.sql",
        department_keys=True,
        keys=("open", "overdue"),
        labels={"open": "在办", "overdue": "超时"},
        derive=_open_cases,
    )
)
register(
    Figure(
        "cases_closed",
        "cases_closed.sql",
        "结案",
        "Cases closed, and on time",
        "件",
        requires=("cases",),
        kind="flow",
        keys=("closed", "on_time"),
        labels={"closed": "结案", "on_time": "按时结案", "on_time_rate": "按时率"},
        derive=_on_time,
    )
)
register(
    Figure(
        "cases_by_department",
        "spans/open_cases.sql",
        "部门在办工单",
        "Open cases by department",
        "件",
        requires=("cases",),
        spans=CHANGES_WHEN_RECORDED,
        stale_by="cases",
        department_keys=True,
        labels=DEPARTMENT_LABELS,
    )
)


def _door_params() -> dict[str, Any]:
    from spatial.door_access.rules import DOOR_RULES

    return {"door_rules": list(DOOR_RULES)}


register(
    Figure(
        "door_anomalies",
        "door_anomalies.sql",
        "门禁异常",
        "Door-access anomalies",
        "条",
        requires=("events",),
        keys=("unregistered_resident", "moved_out", "shared_card"),
        labels={"unregistered_resident": "未登记住户", "moved_out": "已搬离仍通行", "shared_card": "一卡多用"},
        params=_door_params,
    )
)


def _freshness_params() -> dict[str, Any]:
    import json

    from spatial.sources.vocabulary import FREQUENCIES

    return {"frequencies": json.dumps({k: v[0].total_seconds() for k, v in FREQUENCIES.items()})}


register(
    Figure(
        "data_freshness",
        "data_freshness.sql",
        "数据鲜度",
        "Data freshness by department",
        "项",
        # "<department>:items", "<department>:overdue" and "<department>:hours_since_delivery"
        labels={f"{d}:overdue": f"{zh}超期" for d, zh in DEPARTMENT_LABELS.items()},
        params=_freshness_params,
        areal=False,
    )
)
