"""The platform's own layers, registered in the catalog by ``onemap init`` (idempotent, keeps edits to style)."""

from __future__ import annotations

import dataclasses

from sqlalchemy.dialects.postgresql import insert

from layers.catalog import Field, Layer
from spatial.database import engine_for
from spatial.schema import layer as layer_table

TEXT, INT, NUM, DATE, TIME = "string", "integer", "number", "date", "datetime"


def _admin_layer(level: str, title: str, min_zoom: int) -> Layer:
    return Layer(
        id=f"{level}s" if level != "community" else "communities", title=title, owner_department="grid",
        source="admin_area", source_filter={"level": level}, id_column="code", sensitivity="public",
        fields=(Field("code", TEXT, "代码"), Field("name", TEXT, "名称"), Field("parent_code", TEXT, "上级代码")),
        time_field="valid_from", versioned=True, min_zoom=min_zoom, grid_column="code" if level == "grid" else None,
    )


BUILTIN_LAYERS: tuple[Layer, ...] = (
    _admin_layer("street", "街道 Streets", 8),
    _admin_layer("community", "社区 Communities", 10),
    _admin_layer("grid", "网格 Grids", 12),
    Layer(
        id="buildings", title="建筑 Buildings", owner_department="housing", source="building",
        description="Building footprints with their standard address and facts (one building, one file).",
        # Overview tiles carry what thematic styles and clicks need; names and addresses come with detail.
        fields=(Field("code", TEXT, "建筑编码"), Field("name", TEXT, "名称", detail=True),
                Field("address", TEXT, "标准地址", detail=True), Field("use", TEXT, "用途"),
                Field("floors", INT, "层数"), Field("height_m", NUM, "高度"),
                Field("structure", TEXT, "结构", detail=True), Field("built_year", INT, "建成年份"),
                Field("street_code", TEXT, detail=True), Field("community_code", TEXT, detail=True),
                Field("grid_code", TEXT)),
        time_field="valid_from", versioned=True, sensitivity="public", editable=True, grid_column="grid_code",
        min_zoom=10,
    ),
    Layer(
        id="enterprises", title="企业 Enterprises", owner_department="market", source="enterprise",
        fields=(Field("credit_code", TEXT, "统一社会信用代码"), Field("credit_code_check_ok", "boolean"),
                Field("name", TEXT, "名称"), Field("kind", TEXT), Field("industry", TEXT), Field("status", TEXT),
                Field("registered_on", DATE), Field("employees", INT), Field("building_id", INT)),
        time_field="valid_from", versioned=True, sensitivity="internal", editable=True, min_zoom=12,
    ),
    Layer(
        id="events", title="事件 Events", owner_department="grid", source="event",
        fields=(Field("kind", TEXT), Field("severity", INT), Field("occurred_at", TIME), Field("building_id", INT),
                Field("grid_code", TEXT), Field("description", TEXT), Field("status", TEXT)),
        time_field="occurred_at", sensitivity="internal", editable=True, grid_column="grid_code",
    ),
    Layer(
        id="verification_issues", title="核验问题 Verification issues", owner_department="grid",
        source="verification_issue",
        # entity_key is an ID number for person issues: masked for whoever may not see personal data.
        fields=(Field("entity_kind", TEXT), Field("entity_key", TEXT, personal=True, mask="id_number"),
                Field("attribute", TEXT), Field("authoritative_department", TEXT), Field("status", TEXT),
                Field("building_id", INT), Field("grid_code", TEXT), Field("created_at", TIME)),
        time_field="created_at", sensitivity="internal", grid_column="grid_code",
    ),
    Layer(
        id="cases", title="工单 Cases", owner_department="grid", source="service_case",
        description="Cases from warnings, verification issues, grid workers' and citizens' reports, with their "
                    "state, responsible department and time limit (citizens' contacts are not in this layer).",
        fields=(Field("category", TEXT, "类别"), Field("state", TEXT, "状态"), Field("department", TEXT, "责任部门"),
                Field("grid_code", TEXT), Field("street_code", TEXT, detail=True),
                Field("escalation_level", INT, "升级"), Field("overdue", "boolean", "超时"),
                Field("due_at", TIME, "时限"), Field("source_kind", TEXT, detail=True),
                Field("description", TEXT, "描述", detail=True), Field("created_at", TIME, "受理时间")),
        time_field="valid_from", versioned=True, sensitivity="internal", grid_column="grid_code",
    ),
    Layer(
        id="economic_potential", title="经济潜力 Economic potential", owner_department="industry",
        source="economic_potential", kind="view",
        description="Buildings with commercial, industrial or office space and few or no active enterprises; "
                    "potential_m2 is the space beyond 120 m2 per registered enterprise.",
        fields=(Field("code", TEXT, "建筑编码"), Field("address", TEXT, "标准地址"), Field("use", TEXT, "用途"),
                Field("business_m2", NUM, "经营面积"), Field("enterprises", INT, "在营企业"),
                Field("potential_m2", NUM, "潜力面积"), Field("street_code", TEXT), Field("community_code", TEXT),
                Field("grid_code", TEXT)),
        time_field="valid_from", sensitivity="internal", grid_column="grid_code", min_zoom=10,
    ),
    # The shipped SRTM DEM (public domain); tiles/raster.py makes the COG in the raster directory on first use.
    Layer(
        id="dem", title="高程 Elevation (SRTM 30 m)", owner_department="urban_management",
        source="shenzhen_dem_srtmgl1_30m.cog.tif", kind="raster", sensitivity="public", max_zoom=16,
        description="Shenzhen digital elevation model, NASA SRTMGL1 (30 m), metres above EGM96.",
    ),
)


def layer_row(layer: Layer) -> dict[str, object]:
    row = dataclasses.asdict(layer)
    row["fields"] = [dataclasses.asdict(f) for f in layer.fields]
    row["readers"], row["editors"] = list(layer.readers), list(layer.editors)
    return row


def register_builtin_layers(url: str) -> None:
    with engine_for(url).begin() as conn:
        for layer in BUILTIN_LAYERS:
            row = layer_row(layer)
            statement = insert(layer_table).values(**row)
            # Re-running init refreshes the definition but keeps a style an admin has changed.
            updates = {k: statement.excluded[k] for k in row if k not in ("id", "style", "version")}
            conn.execute(statement.on_conflict_do_update(index_elements=["id"], set_=updates))
