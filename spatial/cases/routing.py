"""Routing rules: category + location -> responsible department, and the time limits of each state.

The packaged ``routing.yaml`` gives each category its department and limits; rows of ``onemap.case_route``
override a category for the whole district (area '') or for a street, community or grid. The most specific
area wins; at the same area a database row replaces the packaged one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

import yaml

from spatial.errors import InvalidInput
from spatial.schema import DEPARTMENTS


@dataclass(frozen=True)
class Category:
    name: str
    title: str
    department: str
    limits: dict[str, float]
    open311: bool = False


@dataclass(frozen=True)
class Route:
    category: str
    area_code: str  # '' = whole district
    department: str
    limits: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Routing:
    categories: dict[str, Category]
    routes: tuple[Route, ...]

    def category(self, name: str) -> Category:
        if name not in self.categories:
            raise InvalidInput(f"unknown category {name!r}: use one of {', '.join(self.categories)}")
        return self.categories[name]

    def route(self, category: str, areas: list[str]) -> Route:
        """The route for a case located in `areas` (its grid, community and street codes, most specific first)."""
        known = self.category(category)
        candidates = {r.area_code: r for r in self.routes if r.category == category}
        for area in [*areas, ""]:
            if area in candidates:
                return candidates[area]
        return Route(category, "", known.department)

    def limit(self, category: str, state: str, route: Route | None = None) -> float | None:
        if route is not None and state in route.limits:
            return route.limits[state]
        return self.category(category).limits.get(state)

    def routes_param(self) -> list[dict[str, Any]]:
        """The routes as rows for SQL that routes many cases at once (most specific first wins there too)."""
        rows = [
            {"category": r.category, "area_code": r.area_code, "department": r.department}
            for r in self.routes
            if r.area_code
        ]
        # District-wide: the category's department (a district-wide override has already replaced it).
        return rows + [
            {"category": c.name, "area_code": "", "department": c.department}
            for c in self.categories.values()
        ]


def _limits(raw: Any, where: str) -> dict[str, float]:
    from spatial.cases.machine import STATES

    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InvalidInput(f"{where}: limits must be a mapping of state to working hours")
    limits: dict[str, float] = {}
    for state, hours in raw.items():
        if state not in STATES:
            raise InvalidInput(f"{where}: unknown state {state!r} in limits")
        if not isinstance(hours, int | float) or hours <= 0:
            raise InvalidInput(f"{where}: the limit of {state} must be a positive number of hours")
        limits[state] = float(hours)
    return limits


def parse_routing(document: dict[str, Any]) -> Routing:
    defaults = _limits((document.get("defaults") or {}).get("limits"), "defaults")
    categories: dict[str, Category] = {}
    for name, spec in (document.get("categories") or {}).items():
        department = spec.get("department")
        if department not in DEPARTMENTS:
            raise InvalidInput(f"category {name}: unknown department {department!r}")
        limits = {**defaults, **_limits(spec.get("limits"), f"category {name}")}
        categories[name] = Category(
            name, spec.get("title", name), department, limits, bool(spec.get("open311"))
        )
    routes = tuple(
        Route(r["category"], r.get("area", "") or "", r["department"], _limits(r.get("limits"), "route"))
        for r in document.get("routes") or ()
    )
    return Routing(categories, routes)


@cache
def packaged_routing() -> Routing:
    text = files(__package__).joinpath("routing.yaml").read_text(encoding="utf-8")
    return parse_routing(yaml.safe_load(text))


def with_overrides(base: Routing, rows: list[dict[str, Any]]) -> Routing:
    """`base` with the rows of ``onemap.case_route`` on top."""
    overridden = {(r.category, r.area_code): r for r in base.routes}
    categories = dict(base.categories)
    for row in rows:
        if row["category"] not in categories:
            continue  # a retired category: its override has nothing left to change
        limits = _limits(row.get("limits"), f"case_route {row['category']}")
        if row["area_code"] == "":
            c = categories[row["category"]]
            categories[c.name] = Category(
                c.name, c.title, row["department"], {**c.limits, **limits}, c.open311
            )
        overridden[(row["category"], row["area_code"])] = Route(
            row["category"], row["area_code"], row["department"], limits
        )
    return Routing(categories, tuple(overridden.values()))


ROUTES_SQL = "SELECT category, area_code, department, limits FROM onemap.case_route"
