"""Built-in thematic layers: views for population per grid, enterprises per building, building use,
building age
and open verification issues per community, registered in the catalog with their thematic style recipes (the
classes are computed from the data on first use, see ``layers/thematic.py``).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import json
from typing import Any

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

VIEWS = {
    "thematic_population_per_grid": """
        SELECT g.code, g.name, g.parent_code, coalesce(p.population, 0)::int AS population, g.geom
        FROM onemap.admin_area g
        LEFT JOIN (SELECT b.grid_code, count(DISTINCT r.person_id) AS population
                   FROM onemap.residence r
                   JOIN onemap.house_unit hu ON hu.id = r.house_unit_id
                   JOIN onemap.building b ON b.id = hu.building_id
                   WHERE r.valid_to IS NULL OR r.valid_to > current_date
                   GROUP BY b.grid_code) p ON p.grid_code = g.code
        WHERE g.level = 'grid'""",
    "thematic_enterprises_per_building": """
        SELECT b.id, b.code, b.address, b.use, b.grid_code,
               count(e.id) FILTER (WHERE e.status = 'active')::int AS enterprises, b.geom
        FROM onemap.building b LEFT JOIN onemap.enterprise e ON e.building_id = b.id
        GROUP BY b.id""",
    "thematic_building_use": """
        SELECT b.id, b.code, b.address, b.use, b.grid_code, b.geom FROM onemap.building b""",
    "thematic_building_age": """
        SELECT b.id, b.code, b.address, b.built_year, b.grid_code,
               (extract(year FROM current_date) - b.built_year)::int AS age, b.geom
        FROM onemap.building b""",
    "thematic_open_issues_per_community": """
        SELECT c.code, c.name, coalesce(i.open_issues, 0)::int AS open_issues, c.geom
        FROM onemap.admin_area c
        LEFT JOIN (SELECT g.parent_code, count(*) AS open_issues
                   FROM onemap.verification_issue v JOIN onemap.admin_area g ON g.code = v.grid_code
                   WHERE v.status = 'open' GROUP BY g.parent_code) i ON i.parent_code = c.code
        WHERE c.level = 'community'""",
}
USE_CLASSES = [
    {"value": "residential", "color": "#f4a259", "label": "住宅 residential"},
    {"value": "urban_village", "color": "#e76f51", "label": "城中村 urban village"},
    {"value": "commercial", "color": "#e63946", "label": "商业 commercial"},
    {"value": "industrial", "color": "#8d6a9f", "label": "工业 industrial"},
    {"value": "office", "color": "#457b9d", "label": "办公 office"},
    {"value": "public", "color": "#2a9d8f", "label": "公共 public"},
    {"value": "mixed", "color": "#b5838d", "label": "混合 mixed"},
]


def _style(
    field: str | None,
    method: str,
    ramp: str = "YlOrRd",
    classes: list[dict[str, str]] | None = None,
    k: int = 5,
) -> dict[str, object]:
    return {
        "type": "thematic",
        "geometry": "polygon",
        "field": field,
        "property": field,
        "method": method,
        "k": k,
        "ramp": ramp,
        "breaks": [],
        "classes": classes or [],
        "opacity": 0.7,
        "color": "#3182bd",
    }


def _f(name: str, kind: str, title: str) -> dict[str, object]:
    return {"name": name, "type": kind, "title": title, "personal": False, "mask": None}


LAYERS: list[dict[str, Any]] = [
    {
        "id": "population_per_grid",
        "title": "人口 Population per grid",
        "owner_department": "grid",
        "source": "thematic_population_per_grid",
        "id_column": "code",
        "grid_column": "code",
        "sensitivity": "internal",
        "min_zoom": 10,
        "fields": [
            _f("code", "string", "网格代码"),
            _f("name", "string", "网格"),
            _f("parent_code", "string", "社区"),
            _f("population", "integer", "人口"),
        ],
        "style": _style("population", "quantiles", "YlOrRd"),
    },
    {
        "id": "enterprises_per_building",
        "title": "企业 Enterprises per building",
        "owner_department": "market",
        "source": "thematic_enterprises_per_building",
        "id_column": "id",
        "grid_column": "grid_code",
        "sensitivity": "internal",
        "min_zoom": 12,
        "fields": [
            _f("code", "string", "建筑编码"),
            _f("address", "string", "标准地址"),
            _f("use", "string", "用途"),
            _f("grid_code", "string", "网格"),
            _f("enterprises", "integer", "在营企业数"),
        ],
        "style": _style("enterprises", "natural_breaks", "Purples"),
    },
    {
        "id": "building_use",
        "title": "建筑用途 Building use",
        "owner_department": "housing",
        "source": "thematic_building_use",
        "id_column": "id",
        "grid_column": "grid_code",
        "sensitivity": "public",
        "min_zoom": 12,
        "fields": [
            _f("code", "string", "建筑编码"),
            _f("address", "string", "标准地址"),
            _f("use", "string", "用途"),
            _f("grid_code", "string", "网格"),
        ],
        "style": _style("use", "categories", "YlOrRd", USE_CLASSES),
    },
    {
        "id": "building_age",
        "title": "建筑年代 Building age",
        "owner_department": "housing",
        "source": "thematic_building_age",
        "id_column": "id",
        "grid_column": "grid_code",
        "sensitivity": "public",
        "min_zoom": 12,
        "fields": [
            _f("code", "string", "建筑编码"),
            _f("address", "string", "标准地址"),
            _f("built_year", "integer", "建成年份"),
            _f("grid_code", "string", "网格"),
            _f("age", "integer", "楼龄(年)"),
        ],
        "style": _style("age", "equal_interval", "YlGnBu", k=6),
    },
    {
        "id": "open_issues_per_community",
        "title": "待核问题 Open verification issues per community",
        "owner_department": "grid",
        "source": "thematic_open_issues_per_community",
        "id_column": "code",
        "grid_column": None,
        "sensitivity": "internal",
        "min_zoom": 9,
        "fields": [
            _f("code", "string", "社区代码"),
            _f("name", "string", "社区"),
            _f("open_issues", "integer", "待核问题数"),
        ],
        "style": _style("open_issues", "quantiles", "Reds"),
    },
]


def upgrade() -> None:
    for name, body in VIEWS.items():
        op.execute(f"CREATE OR REPLACE VIEW onemap.{name} AS {body}")
    bind = op.get_bind()
    for layer in LAYERS:
        row = {
            **layer,
            "fields": json.dumps(layer["fields"], ensure_ascii=False),
            "style": json.dumps(layer["style"], ensure_ascii=False),
            "description": "Built-in thematic layer over the view onemap." + str(layer["source"]),
            "lineage": "computed by the platform from its archives (view onemap."
            + str(layer["source"])
            + ")",
        }
        bind.exec_driver_sql(
            "INSERT INTO onemap.layer (id, title, description, owner_department, kind, source, id_column, "
            "grid_column, sensitivity, min_zoom, fields, style, lineage, update_schedule) VALUES (%(id)s, "
            "%(title)s, %(description)s, %(owner_department)s, 'view', %(source)s, %(id_column)s, "
            "%(grid_column)s, "
            "%(sensitivity)s, %(min_zoom)s, %(fields)s::jsonb, %(style)s::jsonb, %(lineage)s, 'live') "
            "ON CONFLICT (id) DO NOTHING",
            row,
        )


def downgrade() -> None:
    ids = ", ".join(f"'{layer['id']}'" for layer in LAYERS)
    op.execute(f"DELETE FROM onemap.layer WHERE id IN ({ids})")  # noqa: S608 (constant ids)
    for name in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS onemap.{name}")
