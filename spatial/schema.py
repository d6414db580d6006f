"""The platform's tables, declared once (SQLAlchemy Core + GeoAlchemy2) in schema ``onemap``.

Alembic migrations create them from this metadata; the loader, the feature server and the tests read column names
from here. Geometries are EPSG:4326 (CGCS2000 is treated as identical within centimetres).

Tables whose rows change keep history: a trigger copies the previous version of a row into ``<table>_history``
with its validity period, so every question can be asked "as of" a date (see ``sql/history.sql``).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import JSONB

SCHEMA = "onemap"
SRID = 4326
ADMIN_LEVELS = ("district", "street", "community", "grid")
BUILDING_USES = ("residential", "urban_village", "commercial", "industrial", "office", "public", "mixed")
UNIT_USES = ("residential", "commercial", "industrial", "office", "public")
# What a department's record is about: an archive entity, or a person's residence (the grid survey).
ENTITY_KINDS = ("person", "enterprise", "building", "residence", "house_unit")
ENTERPRISE_KINDS = ("company", "individual")
ROLES = (
    "admin", "planner", "department_editor", "grid_worker", "community_operator", "street_operator", "public",
)
ISSUE_STATUSES = ("open", "confirmed", "dismissed")
SENSITIVITIES = ("public", "internal", "restricted")
DEPARTMENTS = (
    "grid",
    "police",
    "market",
    "social_security",
    "housing",
    "emergency",
    "urban_management",
    "water",
    "education",
    "health",
    "industry",
)

# Deterministic constraint names, so the loader can drop and re-add foreign keys around a bulk load.
NAMING = {
    "pk": "%(table_name)s_pkey",
    "fk": "%(table_name)s_%(column_0_name)s_fkey",
    "uq": "%(table_name)s_%(column_0_name)s_key",
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "ck": "%(table_name)s_%(constraint_name)s",
}
metadata = sa.MetaData(schema=SCHEMA, naming_convention=NAMING)


def _valid_from() -> sa.Column[Any]:
    return sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def _in(column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    quoted = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({quoted})", name=f"{column}_allowed")


admin_area = sa.Table(
    "admin_area",
    metadata,
    sa.Column("code", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("level", sa.Text, nullable=False),
    sa.Column("parent_code", sa.Text, sa.ForeignKey("admin_area.code", deferrable=True), index=True),
    sa.Column("geom", Geometry("MULTIPOLYGON", SRID, spatial_index=True), nullable=False),
    _valid_from(),
    _in("level", ADMIN_LEVELS),
)

building = sa.Table(
    "building",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("code", sa.Text, nullable=False, unique=True),
    sa.Column("name", sa.Text),
    sa.Column("address", sa.Text, nullable=False, index=True),
    sa.Column("use", sa.Text, nullable=False),
    sa.Column("floors", sa.SmallInteger, nullable=False),
    sa.Column("height_m", sa.Float, nullable=False),
    sa.Column("structure", sa.Text),
    sa.Column("built_year", sa.SmallInteger, nullable=False),
    sa.Column("ground_elevation_m", sa.Float),
    sa.Column("street_code", sa.Text, sa.ForeignKey("admin_area.code"), nullable=False),
    sa.Column("community_code", sa.Text, sa.ForeignKey("admin_area.code"), nullable=False),
    sa.Column("grid_code", sa.Text, sa.ForeignKey("admin_area.code"), nullable=False, index=True),
    sa.Column("geom", Geometry("MULTIPOLYGON", SRID, spatial_index=True), nullable=False),
    _valid_from(),
    _in("use", BUILDING_USES),
    sa.CheckConstraint("floors BETWEEN 1 AND 200", name="floors_range"),
    sa.CheckConstraint("height_m > 0", name="height_positive"),
    sa.CheckConstraint("built_year BETWEEN 1900 AND 2100", name="built_year_range"),
)

house_unit = sa.Table(
    "house_unit",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column(
        "building_id",
        sa.BigInteger,
        sa.ForeignKey("building.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("unit_no", sa.Text, nullable=False),
    sa.Column("floor", sa.SmallInteger, nullable=False),
    sa.Column("room_no", sa.Text, nullable=False),
    sa.Column("area_m2", sa.Float, nullable=False),
    sa.Column("use", sa.Text, nullable=False),
    _valid_from(),
    sa.UniqueConstraint("building_id", "unit_no", "room_no", name="house_unit_room_unique"),
    # The target of residence's (house_unit_id, building_id) foreign key.
    sa.UniqueConstraint("id", "building_id"),
    sa.CheckConstraint("area_m2 > 0", name="area_positive"),
    _in("use", UNIT_USES),
)

person = sa.Table(
    "person",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("id_number", sa.CHAR(18), nullable=False, unique=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("sex", sa.CHAR(1), nullable=False),
    sa.Column("birth_date", sa.Date, nullable=False),
    sa.Column("phone", sa.Text),
    sa.Column("household_type", sa.Text, nullable=False),
    _valid_from(),
    sa.CheckConstraint("sex IN ('M', 'F')", name="sex_allowed"),
    sa.CheckConstraint("household_type IN ('local', 'migrant')", name="household_type_allowed"),
    sa.CheckConstraint("id_number ~ '^[0-9]{17}[0-9X]$'", name="id_number_format"),
)

residence = sa.Table(
    "residence",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column(
        "person_id", sa.BigInteger, sa.ForeignKey("person.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column("house_unit_id", sa.BigInteger, nullable=False, index=True),
    # The unit's building, kept with the residence so that residents per building, grid or street join 170k
    # buildings instead of 2.9M units; the foreign key below keeps it equal to the unit's, edits included.
    sa.Column("building_id", sa.BigInteger, nullable=False, index=True),
    sa.Column("relation", sa.Text, nullable=False),
    sa.Column("valid_from", sa.Date, nullable=False),
    sa.Column("valid_to", sa.Date),
    sa.ForeignKeyConstraint(
        ["house_unit_id", "building_id"],
        ["house_unit.id", "house_unit.building_id"],
        ondelete="CASCADE",
        onupdate="CASCADE",
    ),
    sa.CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="period_ordered"),
)

enterprise = sa.Table(
    "enterprise",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("credit_code", sa.CHAR(18), nullable=False, unique=True),
    sa.Column("credit_code_check_ok", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("industry", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("registered_on", sa.Date, nullable=False),
    sa.Column("employees", sa.Integer),
    sa.Column("building_id", sa.BigInteger, sa.ForeignKey("building.id"), nullable=False, index=True),
    sa.Column("house_unit_id", sa.BigInteger, sa.ForeignKey("house_unit.id"), index=True),
    sa.Column("geom", Geometry("POINT", SRID, spatial_index=True), nullable=False),
    _valid_from(),
    _in("kind", ENTERPRISE_KINDS),
    sa.CheckConstraint("status IN ('active', 'suspended', 'deregistered')", name="status_allowed"),
)

source_record = sa.Table(
    "source_record",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("department", sa.Text, nullable=False),
    sa.Column("entity_kind", sa.Text, nullable=False),
    sa.Column("entity_key", sa.Text, nullable=False),
    sa.Column("payload", JSONB, nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    # The delivery (file, push batch or pull) the record came in; NULL for records written before 0007.
    # No foreign key: 0001 builds this table from the current metadata, before source_delivery exists.
    sa.Column("delivery_id", sa.BigInteger, index=True),
    sa.Index("source_record_entity", "entity_kind", "entity_key"),
    _in("department", DEPARTMENTS),
    sa.CheckConstraint(
        "entity_kind IN ({})".format(", ".join(f"'{kind}'" for kind in ENTITY_KINDS)), name="kind_allowed"
    ),
)

# The generator's answer key: which source values it made disagree on purpose (for measuring fusion).
planted_disagreement = sa.Table(
    "planted_disagreement",
    metadata,
    sa.Column("department", sa.Text, primary_key=True),
    sa.Column("entity_kind", sa.Text, primary_key=True),
    sa.Column("entity_key", sa.Text, primary_key=True),
    sa.Column("attribute", sa.Text, primary_key=True),
)

verification_issue = sa.Table(
    "verification_issue",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("entity_kind", sa.Text, nullable=False),
    sa.Column("entity_key", sa.Text, nullable=False),
    sa.Column("attribute", sa.Text, nullable=False),
    sa.Column("authoritative_department", sa.Text),
    sa.Column("values", JSONB, nullable=False),
    sa.Column("status", sa.Text, nullable=False, server_default="open"),
    sa.Column("building_id", sa.BigInteger, sa.ForeignKey("building.id"), index=True),
    sa.Column("grid_code", sa.Text, sa.ForeignKey("admin_area.code"), index=True),
    sa.Column("geom", Geometry("POINT", SRID, spatial_index=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("decided_by", sa.Text),
    sa.Column("decided_at", sa.DateTime(timezone=True)),
    sa.Column("note", sa.Text),
    _valid_from(),
    _in("status", ISSUE_STATUSES),
    sa.UniqueConstraint("entity_kind", "entity_key", "attribute", name="verification_issue_subject"),
)

event = sa.Table(
    "event",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("severity", sa.SmallInteger, nullable=False),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("building_id", sa.BigInteger, sa.ForeignKey("building.id"), index=True),
    sa.Column("grid_code", sa.Text, sa.ForeignKey("admin_area.code"), nullable=False, index=True),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False, server_default="open"),
    sa.Column("geom", Geometry("POINT", SRID, spatial_index=True), nullable=False),
    _valid_from(),
    sa.CheckConstraint("severity BETWEEN 1 AND 5", name="severity_range"),
    sa.CheckConstraint("status IN ('open', 'acknowledged', 'closed')", name="event_status_allowed"),
)

layer = sa.Table(
    "layer",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("owner_department", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("source_filter", JSONB, nullable=False, server_default="{}"),  # column = value, all must hold
    sa.Column("geometry_column", sa.Text, nullable=False, server_default="geom"),
    sa.Column("id_column", sa.Text, nullable=False, server_default="id"),
    sa.Column("grid_column", sa.Text),  # the grid code column, for grid workers' row filter
    sa.Column("time_field", sa.Text),  # start of each feature's temporal extent
    sa.Column("versioned", sa.Boolean, nullable=False, server_default=sa.false()),  # has <source>_history
    sa.Column("fields", JSONB, nullable=False, server_default="[]"),
    sa.Column("sensitivity", sa.Text, nullable=False, server_default="public"),
    sa.Column("editable", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("readers", JSONB, nullable=False, server_default="[]"),
    sa.Column("editors", JSONB, nullable=False, server_default="[]"),
    sa.Column("style", JSONB, nullable=False, server_default="{}"),
    sa.Column("min_zoom", sa.SmallInteger, nullable=False, server_default="0"),
    sa.Column("max_zoom", sa.SmallInteger, nullable=False, server_default="22"),
    sa.Column("update_schedule", sa.Text),
    sa.Column("lineage", sa.Text),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    _in("kind", ("table", "view", "sql", "raster", "upload")),
    _in("sensitivity", SENSITIVITIES),
    sa.CheckConstraint("id ~ '^[a-z][a-z0-9_]{0,62}$'", name="layer_id_format"),
)

api_key = sa.Table(
    "api_key",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("key_hash", sa.Text, nullable=False, unique=True),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("department", sa.Text),
    sa.Column("grid_code", sa.Text, sa.ForeignKey("admin_area.code")),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    # The community (community_operator) or street (street_operator) a key is scoped to (migration 0009).
    sa.Column("area_code", sa.Text, sa.ForeignKey("admin_area.code")),
    _in("role", ROLES),
    sa.CheckConstraint("role <> 'grid_worker' OR grid_code IS NOT NULL", name="grid_worker_has_grid"),
    sa.CheckConstraint("role <> 'department_editor' OR department IS NOT NULL", name="editor_has_department"),
    sa.CheckConstraint(
        "role NOT IN ('community_operator', 'street_operator') OR area_code IS NOT NULL", name="operator_has_area"
    ),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now(), index=True),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("target_kind", sa.Text, nullable=False),
    sa.Column("target_id", sa.Text),
    sa.Column("detail", JSONB, nullable=False, server_default="{}"),
)

# Resumable bulk loads: one row per finished chunk of a generated district.
load_progress = sa.Table(
    "load_progress",
    metadata,
    sa.Column("dataset", sa.Text, primary_key=True),
    sa.Column("chunk_name", sa.Text, primary_key=True),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

# Tables whose previous versions are kept in <name>_history by the trigger of sql/history.sql.
VERSIONED_TABLES = (
    "admin_area",
    "building",
    "house_unit",
    "person",
    "enterprise",
    "event",
    "verification_issue",
)

# --- Fusion, declarations and monitoring (migration 0003) ---------------------------------------------------

MATCH_KINDS = ("exact", "normalised", "phone", "number", "fuzzy")

# Admin overrides of the packaged source rules (spatial/fusion/rules.yaml): one row replaces one attribute's rule.
fusion_rule = sa.Table(
    "fusion_rule",
    metadata,
    sa.Column("entity_kind", sa.Text, primary_key=True),
    sa.Column("attribute", sa.Text, primary_key=True),
    sa.Column("authority", sa.Text, nullable=False),
    sa.Column("verifiers", JSONB, nullable=False, server_default="[]"),
    sa.Column("match", sa.Text, nullable=False, server_default="exact"),
    sa.Column("threshold", sa.Float),
    sa.Column("updated_by", sa.Text),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

# Provenance per attribute: for each archive entity and department, the source record fusion used and the
# attributes that department was the authority for, or verified, under the rules of that run.
attribute_provenance = sa.Table(
    "attribute_provenance",
    metadata,
    sa.Column("entity_kind", sa.Text, primary_key=True),
    sa.Column("entity_key", sa.Text, primary_key=True),
    sa.Column("department", sa.Text, primary_key=True),
    sa.Column("source_record_id", sa.BigInteger, nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("authoritative_for", sa.ARRAY(sa.Text), nullable=False),
    sa.Column("verifies", sa.ARRAY(sa.Text), nullable=False),
    sa.Column("fused_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

fusion_run = sa.Table(
    "fusion_run",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("report", JSONB, nullable=False, server_default="{}"),
)

# Source records fusion could not use, with the reason (one per record and run).
fusion_rejection = sa.Table(
    "fusion_rejection",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column(
        "run_id",
        sa.BigInteger,
        sa.ForeignKey("fusion_run.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("source_record_id", sa.BigInteger, nullable=False, index=True),
    sa.Column("reason", sa.Text, nullable=False),
)

# Cleaned citizen declarations, matched to buildings and units where possible.
declaration = sa.Table(
    "declaration",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("batch", sa.Text, nullable=False, index=True),
    sa.Column("row_no", sa.Integer, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),  # person | business
    sa.Column("id_number", sa.Text),
    sa.Column("credit_code", sa.Text),
    sa.Column("name", sa.Text),
    sa.Column("phone", sa.Text),
    sa.Column("address", sa.Text, nullable=False),
    sa.Column("building_id", sa.BigInteger, sa.ForeignKey("building.id"), index=True),
    sa.Column("house_unit_id", sa.BigInteger, sa.ForeignKey("house_unit.id"), index=True),
    sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.UniqueConstraint("batch", "row_no", name="declaration_row"),
    sa.CheckConstraint("kind IN ('person', 'business')", name="kind_allowed"),
)

# A monitoring rule's hit on a subject (unit, building, enterprise), tied to the event it raised: one open
# warning per subject however often the rules run; acknowledging / closing notes live here.
warning = sa.Table(
    "warning",
    metadata,
    sa.Column("event_id", sa.BigInteger, sa.ForeignKey("event.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("rule", sa.Text, nullable=False),
    sa.Column("subject_key", sa.Text, nullable=False),
    sa.Column("detail", JSONB, nullable=False, server_default="{}"),
    sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column(
        "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now(), index=True
    ),
    sa.Column("handled_by", sa.Text),
    sa.Column("note", sa.Text),
    sa.UniqueConstraint("rule", "subject_key", name="warning_subject"),
)

# --- Cases, change feed, jobs and door access (migration 0008) -----------------------------------------------

CASE_STATES = (
    "reported", "registered", "dispatched", "accepted", "returned", "in_progress", "resolved", "verified",
    "closed", "escalated", "reopened",
)
CASE_SOURCES = ("warning", "verification_issue", "report", "open311")

# A case (工单): one thing a department must act on, from a warning, an issue, a grid worker's or a citizen's
# report. Versioned (``service_case_history``) so that lists and the map can be asked "as of" a date.
service_case = sa.Table(
    "service_case", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("category", sa.Text, nullable=False, index=True),
    sa.Column("state", sa.Text, nullable=False, index=True),
    sa.Column("source_kind", sa.Text, nullable=False),
    sa.Column("source_ref", sa.Text),  # the warning's event id, the issue id
    sa.Column("idempotency_key", sa.Text),  # a repeated submission returns the first case
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("address", sa.Text),
    sa.Column("building_id", sa.BigInteger, sa.ForeignKey("building.id"), index=True),
    sa.Column("grid_code", sa.Text, sa.ForeignKey("admin_area.code"), index=True),
    sa.Column("street_code", sa.Text),
    sa.Column("department", sa.Text, nullable=False, index=True),
    sa.Column("reporter", sa.Text, nullable=False),
    sa.Column("contact", JSONB, nullable=False, server_default="{}"),  # a citizen's name, phone, email: personal
    sa.Column("escalation_level", sa.SmallInteger, nullable=False, server_default="0"),  # 1 street, 2 district
    sa.Column("due_at", sa.DateTime(timezone=True), index=True),
    sa.Column("overdue", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("returned_count", sa.SmallInteger, nullable=False, server_default="0"),
    sa.Column("reopened_count", sa.SmallInteger, nullable=False, server_default="0"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("geom", Geometry("POINT", SRID, spatial_index=True), nullable=False),
    _valid_from(),
    _in("state", CASE_STATES),
    _in("source_kind", CASE_SOURCES),
    sa.CheckConstraint("escalation_level BETWEEN 0 AND 2", name="escalation_range"),
    sa.UniqueConstraint("source_kind", "source_ref", name="service_case_source"),
    sa.UniqueConstraint("reporter", "idempotency_key", name="service_case_idempotency"),
    # Lists show the newest change first: a page of 100 reads 100 index entries, not every case.
    sa.Index("service_case_recent", sa.text("valid_from DESC"), sa.text("id DESC")),
)

# Every transition of a case: the timeline, with who, when, the note and the attachments; append-only.
case_transition = sa.Table(
    "case_transition", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("case_id", sa.BigInteger, sa.ForeignKey("service_case.id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("from_state", sa.Text),
    sa.Column("to_state", sa.Text, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("department", sa.Text),  # the responsible department when it happened (for evaluation)
    sa.Column("note", sa.Text),
    sa.Column("attachments", JSONB, nullable=False, server_default="[]"),
    sa.Column("due_at", sa.DateTime(timezone=True)),  # the limit the state left had
    sa.Column("on_time", sa.Boolean),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    # assign: the grid worker key the case was given to, by its actor name (key:<id>:<label>), migration 0012
    sa.Column("assignee", sa.Text),
)

case_attachment = sa.Table(
    "case_attachment", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("case_id", sa.BigInteger, sa.ForeignKey("service_case.id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("media_type", sa.Text, nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("uploaded_by", sa.Text, nullable=False),
    sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.UniqueConstraint("case_id", "sha256", name="case_attachment_content"),
)

# Overrides of the packaged routing rules (spatial/cases/routing.yaml): category + area -> department, limits.
case_route = sa.Table(
    "case_route", metadata,
    sa.Column("category", sa.Text, primary_key=True),
    sa.Column("area_code", sa.Text, primary_key=True, server_default=""),  # '' = the whole district
    sa.Column("department", sa.Text, nullable=False),
    sa.Column("limits", JSONB),  # {state: working hours}; null keeps the packaged ones
    sa.Column("updated_by", sa.Text),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    _in("department", DEPARTMENTS),
)

# Days that differ from the holiday calendar the platform ships with (an extra holiday, a shifted workday).
case_calendar = sa.Table(
    "case_calendar", metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("working", sa.Boolean, nullable=False),
    sa.Column("note", sa.Text),
)

# What changed, for the SSE streams: triggers append here and NOTIFY, clients resume from an id.
change_feed = sa.Table(
    "change_feed", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("stream", sa.Text, nullable=False),
    sa.Column("entity_id", sa.BigInteger, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.CheckConstraint("stream IN ('cases', 'warnings')", name="stream_allowed"),
)

job_schedule = sa.Table(
    "job_schedule", metadata,
    sa.Column("job", sa.Text, primary_key=True),
    sa.Column("cron", sa.Text, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

job_run = sa.Table(
    "job_run", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("job", sa.Text, nullable=False),
    sa.Column("scheduled_for", sa.DateTime(timezone=True)),  # null for a run by hand
    sa.Column("attempt", sa.SmallInteger, nullable=False, server_default="1"),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("duration_ms", sa.Integer),
    sa.Column("outcome", sa.Text, nullable=False, server_default="running"),
    sa.Column("detail", JSONB, nullable=False, server_default="{}"),
    sa.Column("worker", sa.Text, nullable=False),
    sa.Index("job_run_recent", "job", "started_at"),
    # One run per job and fire time, whichever worker got there first.
    sa.Index("job_run_once", "job", "scheduled_for", "attempt", unique=True),
    sa.CheckConstraint("outcome IN ('running', 'succeeded', 'failed', 'skipped')", name="outcome_allowed"),
)

# Door-access (视频门禁) gates of urban villages, and their events: a time series partitioned by day.
door_device = sa.Table(
    "door_device", metadata,
    sa.Column("code", sa.Text, primary_key=True),
    sa.Column("building_id", sa.BigInteger, sa.ForeignKey("building.id"), nullable=False, index=True),
    sa.Column("name", sa.Text),
    sa.Column("installed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

door_access_event = sa.Table(
    "door_access_event", metadata,
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("device_code", sa.Text, nullable=False),
    sa.Column("building_id", sa.BigInteger, nullable=False),
    sa.Column("direction", sa.CHAR(1), nullable=False),  # i(n) / o(ut)
    sa.Column("key_kind", sa.Text, nullable=False),  # id_number (face match) | card
    sa.Column("person_key", sa.Text, nullable=False),
    sa.Column("confidence", sa.REAL, nullable=False),
    sa.CheckConstraint("direction IN ('i', 'o')", name="direction_allowed"),
    sa.CheckConstraint("key_kind IN ('id_number', 'card')", name="key_kind_allowed"),
    sa.CheckConstraint("confidence BETWEEN 0 AND 1", name="confidence_range"),
    postgresql_partition_by="RANGE (occurred_at)",
)

# Per (Beijing) day pre-aggregates of door_access_event, written with every load and dropped with their day's
# partition, so the rules read days x distinct keys instead of raw events. Face matches: the best confidence of
# the day and of its late and early night hours (the hours of door_night_basis).
door_face_day = sa.Table(
    "door_face_day", metadata,
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("building_id", sa.BigInteger, nullable=False),
    sa.Column("person_key", sa.Text, nullable=False),
    sa.Column("best", sa.REAL, nullable=False),
    sa.Column("late", sa.REAL),  # best confidence from night_starts to midnight; null: not seen then
    sa.Column("early", sa.REAL),  # best confidence from midnight to night_ends (the previous day's night)
    postgresql_partition_by="RANGE (day)",
)

# The cards swiped at each building per day (shared_card looks at the raw swipes of cards seen at several).
door_card_day = sa.Table(
    "door_card_day", metadata,
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("building_id", sa.BigInteger, nullable=False),
    sa.Column("card", sa.Text, nullable=False),
    postgresql_partition_by="RANGE (day)",
)

# The last instant each face key was matched at each building with a confidence the rules count (the
# min_confidence of door_night_basis), kept by every load: "not seen for 30 days" reads 2.7M rows instead of
# 30 days of door_face_day (68M rows, a minute of hashing at full scale).
door_last_seen = sa.Table(
    "door_last_seen", metadata,
    sa.Column("person_key", sa.Text, primary_key=True),
    sa.Column("building_id", sa.BigInteger, primary_key=True),
    sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
)

# The settings the door-access aggregates were computed with: the night hours of door_face_day's late and
# early columns and the confidence door_last_seen counts (one row; the rules rebuild the aggregates when the
# settings say otherwise).
door_night_basis = sa.Table(
    "door_night_basis", metadata,
    sa.Column("night_starts", sa.SmallInteger, nullable=False),
    sa.Column("night_ends", sa.SmallInteger, nullable=False),
    sa.Column("min_confidence", sa.Float, nullable=False),
    sa.Column("one_row", sa.Boolean, primary_key=True, server_default=sa.true()),
    sa.CheckConstraint("one_row", name="one_row_only"),
)

# The door-access generator's answer key: the anomalies it planted (rule, subject).
planted_door_anomaly = sa.Table(
    "planted_door_anomaly", metadata,
    sa.Column("rule", sa.Text, primary_key=True),
    sa.Column("subject_key", sa.Text, primary_key=True),
)

# --- Screens: figures, saved one-map modes, grid workers' tasks (migration 0009) ---------------------------

# The pre-aggregated figures (spatial/kpis/aggregates.py) per grid and Beijing day: the value at the day's last
# instant, for each key of the figure (zeros left out). Counting 5M residences or 2.9M house units per request
# is seconds; a day of the aggregate for the whole district is a few thousand rows.
kpi_daily = sa.Table(
    "kpi_daily", metadata,
    sa.Column("figure", sa.Text, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("grid_code", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.Float, nullable=False),
    sa.Index("kpi_daily_grid", "figure", "grid_code"),  # a refresh replaces a stale grid's rows
)

# One row per pre-aggregated figure: the days it holds and when it was last refreshed.
kpi_aggregate = sa.Table(
    "kpi_aggregate", metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("first_day", sa.Date),
    sa.Column("last_day", sa.Date),
    sa.Column("refreshed_at", sa.DateTime(timezone=True)),
)

# Grids whose aggregated figures of a topic ('archives', 'cases') a change has made stale (set by triggers on
# what the figures count, see spatial/kpis/sql/span_triggers.sql): the figures count them live until a refresh
# clears the mark it read.
kpi_dirty_grid = sa.Table(
    "kpi_dirty_grid", metadata,
    sa.Column("topic", sa.Text, primary_key=True),
    sa.Column("grid_code", sa.Text, primary_key=True),
    sa.Column("mark", sa.BigInteger, nullable=False),
)

# A saved one-map mode (一张图): layers, styles, filters, view and "as of", readable by the roles and
# departments it is shared with.
saved_map = sa.Table(
    "saved_map", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("owner", sa.Text, nullable=False),
    sa.Column("owner_role", sa.Text, nullable=False),
    sa.Column("owner_department", sa.Text),
    sa.Column("definition", JSONB, nullable=False),
    sa.Column("shared_roles", JSONB, nullable=False, server_default="[]"),
    sa.Column("shared_departments", JSONB, nullable=False, server_default="[]"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

TASK_KINDS = ("case", "check", "warning")
TASK_STATUSES = ("assigned", "done")

# A task a community or street gives one of its grid workers: a case, a door-to-door check or a warning.
grid_task = sa.Table(
    "grid_task", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("grid_code", sa.Text, sa.ForeignKey("admin_area.code"), nullable=False, index=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),  # a case id, a building code or a warning's event id
    sa.Column("note", sa.Text, nullable=False, server_default=""),
    sa.Column("status", sa.Text, nullable=False, server_default="assigned"),
    sa.Column("assigned_by", sa.Text, nullable=False),
    sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("done_by", sa.Text),
    sa.Column("done_at", sa.DateTime(timezone=True)),
    sa.Column("done_note", sa.Text),
    _in("kind", TASK_KINDS),
    _in("status", TASK_STATUSES),
)

# --- The source catalogue and deliveries (migration 0007) ----------------------------------------------------
# The "three lists" (三张清单) of each department: functions, matters and systems, and per system its data
# items. A data item says which entity kind and attributes the department sends, for which it is the authority
# and which it verifies, how often, in which format, and optionally where to pull it from.

CHANNELS = ("file", "push", "pull")

source_function = sa.Table(
    "source_function",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("department", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("basis", sa.Text, nullable=False, server_default=""),
    sa.Column("extra", JSONB, nullable=False, server_default="{}"),
    sa.UniqueConstraint("department", "name", name="source_function_name"),
    _in("department", DEPARTMENTS),
)

source_matter = sa.Table(
    "source_matter",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("department", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("function_name", sa.Text, nullable=False, server_default=""),
    sa.Column("kind", sa.Text, nullable=False, server_default=""),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("extra", JSONB, nullable=False, server_default="{}"),
    sa.UniqueConstraint("department", "name", name="source_matter_name"),
    _in("department", DEPARTMENTS),
)

source_system = sa.Table(
    "source_system",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("department", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("contact", sa.Text, nullable=False, server_default=""),
    sa.Column("extra", JSONB, nullable=False, server_default="{}"),
    sa.UniqueConstraint("department", "name", name="source_system_name"),
    _in("department", DEPARTMENTS),
)

source_item = sa.Table(
    "source_item",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("department", sa.Text, nullable=False),
    sa.Column("system_name", sa.Text, nullable=False, server_default=""),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("entity_kind", sa.Text, nullable=False),
    sa.Column("authoritative_for", sa.ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("verifies", sa.ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("frequency", sa.Text, nullable=False, server_default="daily"),
    sa.Column("format", sa.Text, nullable=False, server_default=""),
    sa.Column("contact", sa.Text, nullable=False, server_default=""),
    # Where to pull from: {"kind": "postgresql", "dsn_env": ..., "query": ..., "mark": ...} or
    # {"kind": "ogcapi", "url": ..., "collection": ..., "mark": ...}; secrets are named, never stored here.
    sa.Column("pull", JSONB),
    sa.Column("pull_mark", sa.Text),  # the high-water mark reached by the last successful pull
    sa.Column("pull_state", JSONB, nullable=False, server_default="{}"),  # last attempt, error, next try
    sa.Column("extra", JSONB, nullable=False, server_default="{}"),
    sa.UniqueConstraint("department", "entity_kind", "name", name="source_item_name"),
    _in("department", DEPARTMENTS),
    _in("entity_kind", ENTITY_KINDS),
)

source_delivery = sa.Table(
    "source_delivery",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("department", sa.Text, nullable=False),
    sa.Column("item_id", sa.BigInteger, sa.ForeignKey("source_item.id", ondelete="SET NULL"), index=True),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("filename", sa.Text),
    sa.Column("content_hash", sa.Text, nullable=False),
    sa.Column("idempotency_key", sa.Text),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("accepted", sa.Integer, nullable=False),
    sa.Column("rejected", sa.Integer, nullable=False),
    sa.Column("report", JSONB, nullable=False, server_default="{}"),
    _in("channel", CHANNELS),
    # A re-sent file (same bytes) is the same delivery; a push re-sent with its Idempotency-Key likewise.
    sa.Index(
        "source_delivery_file",
        "department",
        "content_hash",
        unique=True,
        postgresql_where=sa.text("channel = 'file'"),
    ),
    sa.Index(
        "source_delivery_key",
        "department",
        "idempotency_key",
        unique=True,
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    ),
)

# The rows of a delivery that were not accepted, with the reason (the delivery's report, downloadable as CSV).
source_rejection = sa.Table(
    "source_rejection",
    metadata,
    sa.Column(
        "delivery_id",
        sa.BigInteger,
        sa.ForeignKey("source_delivery.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("row_no", sa.Integer, primary_key=True),
    sa.Column("entity_key", sa.Text),
    sa.Column("reason", sa.Text, nullable=False),
)

# How fusion linked a record sent without a usable key to an entity: by which attributes, with what confidence.
source_resolution = sa.Table(
    "source_resolution",
    metadata,
    sa.Column("source_record_id", sa.BigInteger, primary_key=True),
    sa.Column("entity_kind", sa.Text, nullable=False),
    sa.Column("entity_key", sa.Text, nullable=False),
    sa.Column("method", sa.Text, nullable=False),
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("run_id", sa.BigInteger, nullable=False),
    sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)
