"""Departments' own layers: an uploaded file becomes table ``onemap.dept_<id>`` plus its catalog row, in one
transaction (all or nothing), versioned (``<table>_history``) and editable by the owner department.

Grants widen who may read or edit a layer; only the owner department (or an admin) may change them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pydantic
from psycopg import sql
from psycopg.types.json import Jsonb

from layers.access import Principal, require_owner_or_admin
from layers.audit import record_sync
from layers.catalog import Field, Layer
from layers.errors import LayerNotFound
from layers.thematic import default_style
from spatial.database import libpq_url
from spatial.errors import Forbidden
from spatial.ingest import IngestOptions, IngestReport, NameTaken, UploadRefused, check_layer_id, ingest
from spatial.ingest.load_upload import FAMILY_SUFFIX, Progress
from spatial.schema import DEPARTMENTS, SCHEMA, SENSITIVITIES

TABLE_PREFIX = "dept_"


class UploadRequest(pydantic.BaseModel):
    """What an upload asks for: the catalog row's fields and how to read the file. ``POST /layers`` takes it as
    its form and ``onemap layer add`` builds it from its options, so both ask the same."""

    model_config = pydantic.ConfigDict(populate_by_name=True, frozen=True)

    layer_id: str = pydantic.Field(alias="id", description="layer id: lower-case letters, digits, _")
    title: str
    description: str = ""
    department: str | None = pydantic.Field(None, description="owner (admins only; else your key's)")
    sensitivity: str = "internal"
    update_schedule: str | None = None
    lineage: str | None = None
    crs: str | None = pydantic.Field(None, description="EPSG:xxxx, GCJ02, BD09; overrides the file")
    encoding: str | None = pydantic.Field(None, description="e.g. GBK; detected when omitted")
    layer: str | None = pydantic.Field(None, description="layer/sheet/dataset inside the file")
    x: str | None = None
    y: str | None = None
    address: str | None = None
    split_mixed: bool = False
    allow_outside_china: bool = False

    @property
    def options(self) -> IngestOptions:
        # Reading options a user upload does not offer (a delivery's mapping settings) keep their defaults.
        given = {f.name for f in dataclasses.fields(IngestOptions)} & set(type(self).model_fields)
        return IngestOptions(**{name: getattr(self, name) for name in given})


@dataclass
class UploadResult:
    layers: list[Layer]
    report: IngestReport

    def as_dict(self) -> dict[str, object]:
        report = dataclasses.asdict(self.report)
        report["rows"] = self.report.rows
        return {
            "layers": [
                {
                    "id": lyr.id,
                    "title": lyr.title,
                    "source": lyr.source,
                    "rows": t.rows,
                    "geometry_type": t.geometry_type,
                    "bbox": t.bbox,
                }
                for lyr, t in zip(self.layers, self.report.tables, strict=True)
            ],
            "report": report,
        }


def owner_for(who: Principal, department: str | None) -> str:
    """The department that will own an upload by `who`; refuses roles that may not upload."""
    if who.role == "admin":
        if department is None:
            raise UploadRefused(
                "an administrator uploading must say which department owns the layer: department="
            )
        owner = department
    elif who.role == "department_editor":
        if department is not None and department != who.department:
            raise Forbidden(f"your key belongs to {who.department!r}; it cannot upload for {department!r}")
        owner = str(who.department)
    else:
        raise Forbidden("uploading layers needs a department editor's (or an administrator's) key")
    if owner not in DEPARTMENTS:
        raise UploadRefused(f"unknown department {owner!r}: use one of {', '.join(DEPARTMENTS)}")
    return owner


def _check_request(request: UploadRequest) -> None:
    check_layer_id(request.layer_id)
    if request.sensitivity not in SENSITIVITIES:
        raise UploadRefused(f"sensitivity must be one of {', '.join(SENSITIVITIES)}")
    if not request.title.strip():
        raise UploadRefused("a layer needs a title (any text, e.g. 消防栓 Fire hydrants)")


def _check_free(conn: psycopg.Connection, layer_ids: list[str]) -> None:
    taken = conn.execute("SELECT id FROM onemap.layer WHERE id = ANY(%s)", [layer_ids]).fetchall()
    tables = conn.execute(
        "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND relname = ANY(%s)",
        [SCHEMA, [TABLE_PREFIX + i for i in layer_ids]],
    ).fetchall()
    if taken or tables:
        name = taken[0][0] if taken else str(tables[0][0])[len(TABLE_PREFIX) :]
        raise NameTaken(
            f"a layer called {name!r} already exists: choose another id (or delete that layer first)"
        )


def _lineage(request: UploadRequest, filename: str, report: IngestReport, who: Principal) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    facts = f"uploaded by {who.actor} on {when} from {filename!r} ({report.format}"
    facts += f", layer {report.source_layer}" if report.source_layer else ""
    facts += f", CRS {report.source_crs}" + (f", encoding {report.encoding}" if report.encoding else "") + ")"
    if report.repaired:
        facts += f"; {report.repaired} invalid geometries repaired with ST_MakeValid"
    return f"{request.lineage.strip()}\n{facts}" if request.lineage else facts


def _fields(report: IngestReport) -> list[Field]:
    fields = [Field(f.name, f.type, f.title) for f in report.fields]
    if report.located_by_address:
        fields.append(Field("building_id", "integer", "建筑 building"))
    return fields


def _insert_layer(conn: psycopg.Connection, layer: Layer, request: UploadRequest, lineage: str) -> None:
    row = {
        "id": layer.id,
        "title": layer.title,
        "description": layer.description,
        "owner_department": layer.owner_department,
        "kind": "upload",
        "source": layer.source,
        "time_field": "valid_from",
        "versioned": True,
        "editable": True,
        "sensitivity": layer.sensitivity,
        "fields": Jsonb([dataclasses.asdict(f) for f in layer.fields]),
        "readers": Jsonb([]),
        "editors": Jsonb([]),
        "style": Jsonb(layer.style),
        "update_schedule": request.update_schedule,
        "lineage": lineage,
    }
    statement = sql.SQL("INSERT INTO onemap.layer ({}) VALUES ({})").format(
        sql.SQL(", ").join(sql.Identifier(k) for k in row),
        sql.SQL(", ").join(sql.Placeholder(k) for k in row),
    )
    try:
        conn.execute(statement, row)
    except psycopg.errors.UniqueViolation:
        raise NameTaken(f"a layer called {layer.id!r} already exists: choose another id") from None


def upload_layer(
    url: str,
    path: Path,
    filename: str,
    request: UploadRequest,
    who: Principal,
    progress: Progress | None = None,
) -> UploadResult:
    """Ingest `path` and register it; on any error nothing is left behind."""
    owner = owner_for(who, request.department)
    _check_request(request)
    with psycopg.connect(libpq_url(url)) as conn, conn.transaction():
        conn.execute("SELECT set_config('onemap.actor', %s, true)", [who.actor])
        candidates = [request.layer_id] + [f"{request.layer_id}_{s}" for s in FAMILY_SUFFIX.values()]
        _check_free(conn, candidates if request.options.split_mixed else [request.layer_id])
        report = ingest(
            conn, path, filename, TABLE_PREFIX + request.layer_id, request.options, progress=progress
        )
        lineage = _lineage(request, filename, report, who)
        fields = tuple(_fields(report))
        created = []
        for table in report.tables:
            suffix = table.table[len(TABLE_PREFIX + request.layer_id) :]
            title = request.title + (f" ({suffix.lstrip('_')})" if suffix else "")
            layer = Layer(
                id=request.layer_id + suffix,
                title=title,
                owner_department=owner,
                source=table.table,
                kind="upload",
                description=request.description,
                time_field="valid_from",
                versioned=True,
                fields=fields,
                sensitivity=request.sensitivity,
                editable=True,
                style=default_style(table.family),
            )
            conn.execute("SELECT onemap.enable_history(%s::regclass)", [f"{SCHEMA}.{table.table}"])
            _insert_layer(conn, layer, request, lineage)
            created.append(layer)
        record_sync(
            conn,
            who,
            "upload",
            "layer",
            request.layer_id,
            {"file": filename, "rows": report.rows, "tables": [t.table for t in report.tables]},
        )
    return UploadResult(created, report)


def set_grants(
    conn: psycopg.Connection,
    layer: Layer,
    who: Principal,
    readers: list[str] | None,
    editors: list[str] | None,
) -> Layer:
    """Replace the departments granted read / edit access (None leaves that list as it is)."""
    require_owner_or_admin(who, layer.owner_department, f"change layer {layer.id!r}")
    for department in (readers or []) + (editors or []):
        if department not in DEPARTMENTS:
            raise UploadRefused(f"unknown department {department!r}: use one of {', '.join(DEPARTMENTS)}")
    new_readers = sorted(set(readers)) if readers is not None else list(layer.readers)
    new_editors = sorted(set(editors)) if editors is not None else list(layer.editors)
    # Whoever may edit may read.
    new_readers = sorted(set(new_readers) | set(new_editors))
    conn.execute(
        "UPDATE onemap.layer SET readers = %s, editors = %s, updated_at = now(), version = version + 1 "
        "WHERE id = %s",
        [Jsonb(new_readers), Jsonb(new_editors), layer.id],
    )
    record_sync(conn, who, "grant", "layer", layer.id, {"readers": new_readers, "editors": new_editors})
    return dataclasses.replace(layer, readers=tuple(new_readers), editors=tuple(new_editors))


def delete_layer(conn: psycopg.Connection, layer: Layer, who: Principal) -> None:
    """Remove an uploaded layer: its table, its history and its catalog row."""
    if layer.kind != "upload":
        raise Forbidden(f"layer {layer.id!r} is a platform layer; only uploaded layers can be deleted")
    require_owner_or_admin(who, layer.owner_department, f"change layer {layer.id!r}")
    deleted = conn.execute("DELETE FROM onemap.layer WHERE id = %s RETURNING id", [layer.id]).fetchone()
    if deleted is None:
        raise LayerNotFound(f"no layer {layer.id!r}")
    for table in (layer.source, f"{layer.source}_history"):
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(SCHEMA, table)))
    record_sync(conn, who, "delete", "layer", layer.id, {"table": layer.source})
