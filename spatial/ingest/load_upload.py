"""One upload into one new table ``onemap.<table>``, streamed in chunks through COPY.

The caller owns the transaction: it opens it, calls ``ingest`` (and registers the catalog row) inside it, so a
failure anywhere leaves no table and no row. Invalid geometries are repaired with ``ST_MakeValid`` and
reported;
mixed geometry families are refused, or split into one table per family when asked.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import pyogrio.errors
import python_calamine
import shapely
from psycopg import sql

from spatial.ingest import sources
from spatial.ingest.archive import Dataset, open_upload
from spatial.ingest.errors import BadColumns, MixedGeometry, NoFeatures, UploadRefused
from spatial.ingest.geometry import (
    FAMILY_DIMENSION,
    Families,
    Reprojector,
    check_extent,
    classify_and_promote,
)
from spatial.ingest.names import sanitise_all
from spatial.ingest.settings import IngestSettings, get_ingest_settings
from spatial.load_parts import copy_columns, ewkb_hex
from spatial.schema import SCHEMA

Progress = Callable[[int, int | None], None]
POSTGIS_TYPE = {
    "point": "Point",
    "multipoint": "MultiPoint",
    "line": "MultiLineString",
    "polygon": "MultiPolygon",
}
FAMILY_SUFFIX = {"point": "points", "line": "lines", "polygon": "polygons"}
SAMPLE_LIMIT = 100


@dataclass
class IngestOptions:
    layer: str | None = None  # layer of a GeoPackage/KML, dataset of a .zip, or sheet of a workbook
    crs: str | None = None  # overrides what the file declares (e.g. GCJ02 for AMap data tagged WGS-84)
    encoding: str | None = None
    x: str | None = None
    y: str | None = None
    address: str | None = None
    split_mixed: bool = False
    allow_outside_china: bool = False
    # For department deliveries (spatial.sources): see sources.TableOptions.
    location_optional: bool = False
    as_text: bool = False
    header_names: frozenset[str] = frozenset()


@dataclass(frozen=True)
class FieldSpec:
    name: str  # safe SQL identifier
    title: str  # the original name
    type: str  # catalog type


@dataclass
class LoadedTable:
    table: str
    family: str
    geometry_type: str
    rows: int
    bbox: tuple[float, float, float, float] | None


@dataclass
class IngestReport:
    format: str
    source_layer: str | None
    source_crs: str
    encoding: str | None
    fields: list[FieldSpec]
    tables: list[LoadedTable] = field(default_factory=list)
    repaired: int = 0
    repaired_rows: list[int] = field(default_factory=list)
    dropped_empty: int = 0
    dropped_rows: list[int] = field(default_factory=list)
    located_by_address: str | None = None
    unmatched: int = 0
    unmatched_rows: list[dict[str, object]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


def open_source(dataset: Dataset, options: IngestOptions, settings: IngestSettings) -> sources.Source:
    """The chunked reader of an unpacked upload (see ``spatial.ingest.archive.open_upload``)."""
    table_options = sources.TableOptions(
        options.x,
        options.y,
        options.address,
        options.location_optional,
        options.as_text,
        options.header_names,
    )
    if dataset.kind == "CSV":
        return sources.open_csv(dataset, options.encoding, table_options, settings.chunk_rows)
    if dataset.kind == "XLSX":
        return sources.open_xlsx(dataset, options.layer, table_options, settings.chunk_rows)
    zipped_layer = options.layer if dataset.kind not in ("ESRI Shapefile", "GeoJSON", "FlatGeobuf") else None
    return sources.open_vector(dataset, zipped_layer, options.encoding, settings.chunk_rows)


class _Writer:
    """Creates the table on the first chunk and COPYs every chunk into it."""

    def __init__(self, conn: psycopg.Connection, table: str, column_type: str, address: bool) -> None:
        self.conn, self.table, self.column_type, self.address = conn, table, column_type, address
        self.fields: list[FieldSpec] = []
        self.columns: list[str] = []
        self.created = False

    def create(self, source_fields: list[sources.SourceField], settings: IngestSettings) -> None:
        if len(source_fields) > settings.max_fields:
            raise BadColumns(f"the file has {len(source_fields)} fields, more than {settings.max_fields}")
        names = sanitise_all([f.name for f in source_fields])
        self.fields = [FieldSpec(n, f.name, f.type) for n, f in zip(names, source_fields, strict=True)]
        self.columns = [f.title for f in self.fields]
        self.created = True
        columns: list[sql.Composable] = [sql.SQL("id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")]
        columns += [
            sql.SQL("{} {}").format(sql.Identifier(f.name), sql.SQL(sources.PG_TYPES[f.type]))
            for f in self.fields
        ]
        if self.address:
            columns.append(sql.SQL("building_id bigint"))
        columns.append(sql.SQL("geom geometry({}, 4326)").format(sql.SQL(self.column_type)))
        columns.append(sql.SQL("valid_from timestamptz NOT NULL DEFAULT now()"))
        self.conn.execute(
            sql.SQL("CREATE TABLE {} ({})").format(
                sql.Identifier(SCHEMA, self.table), sql.SQL(", ").join(columns)
            )
        )

    def copy(self, ids: np.ndarray, attributes: pd.DataFrame, geoms: np.ndarray | None) -> None:
        columns: dict[str, Any] = {"id": ids}
        columns.update({f.name: attributes[f.title] for f in self.fields})
        if geoms is not None:
            columns["geom"] = ewkb_hex(geoms)
        copy_columns(self.conn, self.table, columns)


def _declared_column_type(source: sources.Source, options: IngestOptions) -> tuple[str, str | None]:
    """(column type to create, the family it commits to or None for a generic column fixed at the end)."""
    if source.address_column is not None or source.kind in ("CSV", "XLSX"):
        return "Point", "point"
    declared = (source.declared_type or "").lower()
    if options.split_mixed or not declared:
        return "Geometry", None
    if declared == "multipoint":
        return "MultiPoint", "point"
    family = {
        "point": "point",
        "linestring": "line",
        "multilinestring": "line",
        "polygon": "polygon",
        "multipolygon": "polygon",
    }.get(declared)
    return (POSTGIS_TYPE[family], family) if family else ("Geometry", None)


@dataclass
class _State:
    report: IngestReport
    families: Families = field(default_factory=Families)
    invalid: list[np.ndarray] = field(default_factory=list)
    written: int = 0


def _prepare_geometries(
    chunk: sources.Chunk,
    ids: np.ndarray,
    state: _State,
    reproject: Reprojector,
    options: IngestOptions,
    committed: str | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Drop empty geometries, reproject, check the extent, promote to Multi, note invalid ones."""
    geoms = chunk.geometries
    assert geoms is not None
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not present.all():
        dropped = ids[~present]
        state.report.dropped_empty += len(dropped)
        state.report.dropped_rows.extend(
            int(r) for r in dropped[: SAMPLE_LIMIT - len(state.report.dropped_rows)]
        )
    keep = np.flatnonzero(present)
    geoms = reproject.apply(geoms[keep])
    if shapely.has_z(geoms).any():
        geoms = shapely.force_2d(geoms)
    if len(geoms) and not options.allow_outside_china:
        check_extent(geoms, chunk.first_row + int(keep[0]) if len(keep) else chunk.first_row, reproject.label)
    geoms, families = classify_and_promote(geoms)
    state.families.add(families)
    if committed is not None and (families != committed).any():
        raise MixedGeometry(
            f"the file declares {committed}s, but row {int(ids[keep][families != committed][0])} is a "
            f"{families[families != committed][0]}: upload again with split_mixed=true to get one layer "
            "per kind"
        )
    state.invalid.append(ids[keep][~shapely.is_valid(geoms)])
    return keep, geoms


def _stream(
    conn: psycopg.Connection,
    source: sources.Source,
    table: str,
    options: IngestOptions,
    settings: IngestSettings,
    state: _State,
    progress: Progress | None,
) -> _Writer:
    column_type, committed = _declared_column_type(source, options)
    writer = _Writer(conn, table, column_type, source.address_column is not None)
    reproject: Reprojector | None = None
    # One chunk is copied (PostgreSQL parses and writes it) while the next is read and prepared in Python: the
    # two halves of the work run on two cores instead of taking turns. Only the copying thread uses `conn`
    # while a copy is in flight.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-copy") as copier:
        in_flight: Future[None] | None = None
        try:
            for chunk in source.chunks():
                if not writer.created:
                    writer.address = source.address_column is not None
                    writer.create(source.fields, settings)
                ids = np.arange(chunk.first_row, chunk.first_row + len(chunk.attributes), dtype=np.int64)
                if chunk.geometries is None:
                    rows: tuple[np.ndarray, pd.DataFrame, np.ndarray | None] = (ids, chunk.attributes, None)
                else:
                    if reproject is None:
                        reproject = Reprojector.for_crs(options.crs, source.crs, f"the {source.kind} file")
                        state.report.source_crs = reproject.label
                    keep, geoms = _prepare_geometries(chunk, ids, state, reproject, options, committed)
                    rows = (ids[keep], chunk.attributes.iloc[keep], geoms)
                if in_flight is not None:
                    in_flight.result()  # in order, and a failed copy stops the upload here
                in_flight = copier.submit(writer.copy, *rows)
                state.written += len(chunk.attributes)
                if progress is not None:
                    progress(state.written, source.total)
            if in_flight is not None:
                in_flight.result()
        finally:
            if in_flight is not None:
                wait([in_flight])  # never leave a copy running on the connection the caller rolls back
    if not writer.created:
        raise NoFeatures("the file holds no features: nothing to upload")
    state.report.fields = writer.fields
    return writer


def _execute(
    conn: psycopg.Connection, statement: sql.Composed | sql.SQL, params: Any = None
) -> psycopg.Cursor:
    return conn.execute(statement, params)


def _match_addresses(conn: psycopg.Connection, table: str, column: str, report: IngestReport) -> None:
    t, c = sql.Identifier(SCHEMA, table), sql.Identifier(column)
    _execute(
        conn,
        sql.SQL(
            "UPDATE {t} AS u SET geom = ST_PointOnSurface(b.geom), building_id = b.id FROM "
            "{schema}.building b "
            "WHERE b.address = normalize(regexp_replace(u.{c}, '\\s+', '', 'g'), NFKC)"
        ).format(t=t, c=c, schema=sql.Identifier(SCHEMA)),
    )
    rows = _execute(conn, sql.SQL("SELECT id, {c} FROM {t} WHERE geom IS NULL ORDER BY id").format(t=t, c=c))
    unmatched = rows.fetchall()
    report.unmatched = len(unmatched)
    report.unmatched_rows = [{"row": int(r[0]), "address": r[1]} for r in unmatched[:SAMPLE_LIMIT]]
    if unmatched:
        _execute(conn, sql.SQL("DELETE FROM {t} WHERE geom IS NULL").format(t=t))
    report.located_by_address = column


def _repair(conn: psycopg.Connection, table: str, family: str | None, state: _State) -> None:
    invalid = np.concatenate(state.invalid) if state.invalid else np.array([], dtype=np.int64)
    if not len(invalid):
        return
    dimension = {"polygon": 3, "line": 2, "point": 1}.get(family or "", 0)
    fix = (
        sql.SQL("ST_Multi(ST_CollectionExtract(ST_MakeValid(geom), {}))").format(sql.Literal(dimension))
        if dimension in (2, 3)
        else sql.SQL("ST_MakeValid(geom)")
    )
    t = sql.Identifier(SCHEMA, table)
    _execute(conn, sql.SQL("UPDATE {} SET geom = {} WHERE id = ANY(%s)").format(t, fix), [invalid.tolist()])
    emptied = _execute(
        conn,
        sql.SQL("DELETE FROM {} WHERE id = ANY(%s) AND ST_IsEmpty(geom) RETURNING id").format(t),
        [invalid.tolist()],
    ).fetchall()
    state.report.repaired = len(invalid) - len(emptied)
    state.report.repaired_rows = [int(i) for i in invalid[:SAMPLE_LIMIT]]
    if emptied:
        state.report.notes.append(
            f"{len(emptied)} invalid geometries were empty after repair and were dropped "
            f"(rows {', '.join(str(r[0]) for r in emptied[:20])})"
        )


def _finish_table(conn: psycopg.Connection, table: str, family: str, retype: bool) -> LoadedTable:
    t = sql.Identifier(SCHEMA, table)
    if retype:
        has_multi = (
            family == "point"
            and _execute(
                conn,
                sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE GeometryType(geom) = 'MULTIPOINT')").format(t),
            ).fetchone()
        )
        target = "MultiPoint" if has_multi and has_multi[0] else POSTGIS_TYPE[family]
        using = "ST_Multi(geom)" if target.startswith("Multi") else "geom"
        _execute(
            conn,
            sql.SQL("ALTER TABLE {} ALTER COLUMN geom TYPE geometry({}, 4326) USING {}").format(
                t, sql.SQL(target), sql.SQL(using)
            ),
        )
    _execute(
        conn, sql.SQL("CREATE INDEX {} ON {} USING gist (geom)").format(sql.Identifier(f"{table}_geom"), t)
    )
    _execute(
        conn,
        sql.SQL(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), coalesce(max(id), 0) + 1, false) FROM {}"
        ).format(t),
        [f"{SCHEMA}.{table}"],
    )
    _execute(conn, sql.SQL("ANALYZE {}").format(t))
    row = _execute(
        conn,
        sql.SQL(
            "SELECT n, ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e), t FROM (SELECT count(*) AS n, "
            "ST_Extent(geom) AS e, max(GeometryType(geom)) AS t FROM {}) x"
        ).format(t),
    ).fetchone()
    if row is None or not row[0]:
        raise NoFeatures("no feature of the file has a usable geometry: nothing to upload")
    bbox = (float(row[1]), float(row[2]), float(row[3]), float(row[4]))
    return LoadedTable(table, family, str(row[5]), int(row[0]), bbox)


def _split(conn: psycopg.Connection, table: str, state: _State) -> list[LoadedTable]:
    loaded = []
    t = sql.Identifier(SCHEMA, table)
    for family in sorted(state.families.counts):
        part = f"{table}_{FAMILY_SUFFIX[family]}"
        p = sql.Identifier(SCHEMA, part)
        _execute(
            conn,
            sql.SQL(
                "CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS)"
            ).format(p, t),
        )
        _execute(conn, sql.SQL("ALTER TABLE {} ADD PRIMARY KEY (id)").format(p))
        _execute(
            conn,
            sql.SQL("INSERT INTO {} SELECT * FROM {} WHERE ST_Dimension(geom) = %s").format(p, t),
            [FAMILY_DIMENSION[family]],
        )
        loaded.append(_finish_table(conn, part, family, retype=True))
    _execute(conn, sql.SQL("DROP TABLE {}").format(t))
    return loaded


def _conclude(
    conn: psycopg.Connection, table: str, source: sources.Source, options: IngestOptions, state: _State
) -> None:
    report = state.report
    column_type, committed = _declared_column_type(source, options)
    if source.address_column is not None:
        _match_addresses(
            conn, table, next(f.name for f in report.fields if f.title == source.address_column), report
        )
    families = sorted(state.families.counts) if source.address_column is None else ["point"]
    if "collection" in families:
        raise MixedGeometry(
            "the file has geometry collections mixing points, lines and polygons: "
            "split them into separate files"
        )
    if len(families) > 1 and not options.split_mixed:
        raise MixedGeometry(
            f"the file mixes geometry types ({state.families.describe()}): a layer holds one kind; "
            "upload again with split_mixed=true to get one layer per kind, or split the file"
        )
    if len(families) > 1:
        _repair(conn, table, None, state)
        report.tables = _split(conn, table, state)
        return
    family = committed or (families[0] if families else "point")
    _repair(conn, table, family, state)
    report.tables = [_finish_table(conn, table, family, retype=column_type == "Geometry")]


# What GDAL and calamine raise for a damaged file (a truncated GeoPackage or workbook, random bytes with a
# known extension).
_READ_ERRORS = (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FieldError,
                pyogrio.errors.FeatureError, pyogrio.errors.GeometryError, python_calamine.CalamineError)


@contextmanager
def unreadable_as_refused(kind: str) -> Iterator[None]:
    try:
        yield
    except UploadRefused:
        raise
    except _READ_ERRORS:
        # GDAL's text names the server's scratch paths: the user gets what to do instead.
        raise UploadRefused(
            f"cannot read the {kind} file: it is truncated, damaged or not really a {kind}; export it again "
            "and upload the new file"
        ) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise UploadRefused(f"cannot read the {kind} file: {str(exc)[:200]}") from None


def ingest(
    conn: psycopg.Connection,
    upload: Path,
    filename: str,
    table: str,
    options: IngestOptions,
    settings: IngestSettings | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Load `upload` (named `filename` by the user) into new table(s) ``onemap.<table>[_family]``.

    Runs inside the caller's transaction (naive times in the file are read as Beijing time).
    """
    settings = settings or get_ingest_settings()
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.INTRANS:
        raise RuntimeError("ingest() must run inside a transaction: use `with conn.transaction():`")
    conn.execute("SET LOCAL TIME ZONE 'Asia/Shanghai'")
    with tempfile.TemporaryDirectory(prefix="onemap-upload-") as workdir:
        dataset = open_upload(upload, filename, Path(workdir), settings, options.layer)
        with unreadable_as_refused(dataset.kind):
            source = open_source(dataset, options, settings)
        report = IngestReport(dataset.kind, source.layer, "", source.encoding, [])
        state = _State(report)
        with unreadable_as_refused(dataset.kind):
            _stream(conn, source, table, options, settings, state, progress)
        if source.kind in ("CSV", "XLSX") and not report.source_crs:
            report.source_crs = "none (located by address)"
        if source.kind in ("CSV", "XLSX") and options.crs is None and source.address_column is None:
            report.notes.append(
                "coordinates read as WGS-84/CGCS2000 lon/lat; for AMap/Tencent (GCJ-02) or Baidu "
                "(BD-09) coordinates upload again with crs=GCJ02 or crs=BD09"
            )
        _conclude(conn, table, source, options, state)
        report.notes.extend(source.notes)
    return report
