"""Bulk loading with COPY: resumable, all-or-nothing per part, never duplicating rows.

A load has a dataset key (what was generated, e.g. ``small:seed=42:rate=0.02``). Each part is copied in its own
transaction together with its row in ``load_progress``, so an interrupted load resumes after the last finished
part. Loading a different dataset first empties the tables, so a re-run replaces and never duplicates.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv
import shapely
import sqlalchemy as sa
from geoalchemy2 import Geometry
from psycopg import sql
from sqlalchemy.dialects import postgresql
from tqdm import tqdm

from spatial.database import libpq_url
from spatial.schema import SCHEMA, SRID, load_progress, metadata

COPY_BATCH_ROWS = 200_000
DATA_TABLES = (
    "planted_disagreement",
    "verification_issue",
    "source_record",
    "event",
    "enterprise",
    "residence",
    "person",
    "house_unit",
    "building",
    "admin_area",
)


def load_parts(
    url: str,
    dataset: str,
    parts: Iterable[tuple[str, str, pd.DataFrame]],
    total: int | None = None,
    progress: bool = True,
) -> dict[str, int]:
    """COPY each (part name, table, rows); returns rows written per table (skipped parts count 0)."""
    written: dict[str, int] = {}
    # Autocommit, so that each `conn.transaction()` below is a real transaction that survives a later failure.
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        done = _prepare(conn, dataset)
        fresh = not done
        if fresh:
            _drop_constraints_and_indexes(conn)
        bar = tqdm(parts, total=total, unit="part", disable=not progress, desc=f"loading {dataset}")
        for name, table, rows in bar:
            bar.set_postfix_str(f"{name} ({len(rows):,} rows)")
            if name in done:
                continue
            with conn.transaction():
                copy_frame(conn, table, rows)
                conn.execute(
                    sql.SQL("INSERT INTO {}.load_progress (dataset, chunk_name) VALUES (%s, %s)").format(
                        sql.Identifier(SCHEMA)
                    ),
                    [dataset, name],
                )
            written[table] = written.get(table, 0) + len(rows)
        with conn.transaction():
            _restore_constraints_and_indexes(conn)
            _reset_sequences(conn)
        conn.execute("ANALYZE")
    return written


def _prepare(conn: psycopg.Connection, dataset: str) -> set[str]:
    """Names of parts of `dataset` already loaded; empties the tables if another dataset is there."""
    rows = conn.execute(
        sql.SQL("SELECT dataset, chunk_name FROM {}.load_progress").format(sql.Identifier(SCHEMA))
    ).fetchall()
    if all(row[0] == dataset for row in rows) and rows:
        return {row[1] for row in rows}
    with conn.transaction():
        tables = sql.SQL(", ").join(sql.Identifier(SCHEMA, t) for t in DATA_TABLES)
        conn.execute(sql.SQL("TRUNCATE {}, {}.load_progress CASCADE").format(tables, sql.Identifier(SCHEMA)))
        for table in DATA_TABLES:
            if f"{table}_history" in _history_tables(conn):
                conn.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(SCHEMA, f"{table}_history")))
    return set()


def _history_tables(conn: psycopg.Connection) -> set[str]:
    rows = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename LIKE %s", [SCHEMA, "%\\_history"]
    ).fetchall()
    return {row[0] for row in rows}


def _foreign_keys() -> list[sa.ForeignKeyConstraint]:
    loaded = set(DATA_TABLES)
    return [
        fk for table in metadata.sorted_tables if table.name in loaded for fk in table.foreign_key_constraints
    ]


def _secondary_indexes() -> list[sa.Index | sa.UniqueConstraint]:
    loaded = set(DATA_TABLES)
    found: list[sa.Index | sa.UniqueConstraint] = []
    for table in metadata.sorted_tables:
        if table.name in loaded:
            found += sorted(table.indexes, key=lambda index: str(index.name))
            found += [c for c in table.constraints if isinstance(c, sa.UniqueConstraint)]
    return found


def _drop_constraints_and_indexes(conn: psycopg.Connection) -> None:
    # Checking foreign keys row by row and inserting random keys into B-trees are the slowest parts of a large
    # COPY; both are rebuilt in one sorted pass each when the load ends (and so verified again).
    with conn.transaction():
        for fk in _foreign_keys():
            conn.execute(
                sql.SQL("ALTER TABLE {} DROP CONSTRAINT IF EXISTS {}").format(
                    sql.Identifier(SCHEMA, fk.table.name), sql.Identifier(str(fk.name))
                )
            )
        for item in _secondary_indexes():
            if isinstance(item, sa.UniqueConstraint):
                conn.execute(
                    sql.SQL("ALTER TABLE {} DROP CONSTRAINT IF EXISTS {}").format(
                        sql.Identifier(SCHEMA, item.table.name), sql.Identifier(str(item.name))
                    )
                )
            else:
                conn.execute(
                    sql.SQL("DROP INDEX IF EXISTS {}").format(sql.Identifier(SCHEMA, str(item.name)))
                )


def _restore_constraints_and_indexes(conn: psycopg.Connection) -> None:
    constraints = {
        row[0]
        for row in conn.execute(
            "SELECT conname FROM pg_constraint WHERE connamespace = %s::regnamespace", [SCHEMA]
        )
    }
    indexes = {
        row[0] for row in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = %s", [SCHEMA])
    }
    dialect = postgresql.dialect()
    # isolate_from_table=False: by default AddConstraint marks the shared metadata's constraint as "added
    # later", and every CREATE TABLE this process runs afterwards (another database's migration) leaves it out.
    for item in _secondary_indexes():
        if isinstance(item, sa.UniqueConstraint) and item.name not in constraints:
            conn.execute(
                str(sa.schema.AddConstraint(item, isolate_from_table=False).compile(dialect=dialect))
            )
        elif isinstance(item, sa.Index) and item.name not in indexes:
            conn.execute(
                str(
                    sa.schema.CreateIndex(item).compile(
                        dialect=dialect, compile_kwargs={"literal_binds": True}
                    )
                )
            )
    for fk in _foreign_keys():
        if fk.name not in constraints:
            conn.execute(str(sa.schema.AddConstraint(fk, isolate_from_table=False).compile(dialect=dialect)))


def _reset_sequences(conn: psycopg.Connection) -> None:
    for table in metadata.sorted_tables:
        id_column = table.c.get("id")
        if id_column is None or not isinstance(id_column.type, sa.BigInteger | sa.Integer):
            continue
        conn.execute(
            sql.SQL(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), coalesce(max(id), 0) + 1, false) FROM {}"
            ).format(sql.Identifier(SCHEMA, table.name)),
            [f"{SCHEMA}.{table.name}"],
        )


def copy_frame(conn: psycopg.Connection, table_name: str, frame: pd.DataFrame) -> None:
    """COPY the columns of `frame` that the declared table has; geometries go as hex EWKB."""
    table = metadata.tables[f"{SCHEMA}.{table_name}"]
    columns = [
        c for c in table.columns if c.name in frame.columns or (c.name == "geom" and "geometry" in frame)
    ]
    for start in range(0, len(frame), COPY_BATCH_ROWS):
        batch = frame.iloc[start : start + COPY_BATCH_ROWS]
        copy_columns(conn, table_name, {c.name: _column_values(batch, c) for c in columns})


def copy_statement(table_name: str, names: list[str]) -> sql.Composed:
    return sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        sql.Identifier(SCHEMA, table_name), sql.SQL(", ").join(sql.Identifier(name) for name in names)
    )


def csv_data(columns: Mapping[str, Any]) -> memoryview:
    """Equally long columns (pandas Series, numpy or Arrow arrays, lists) as COPY's CSV, written by Arrow."""
    arrays = {
        name: v if isinstance(v, pa.Array) else pa.array(v, from_pandas=True) for name, v in columns.items()
    }
    buffer = io.BytesIO()
    pa_csv.write_csv(pa.table(arrays), buffer, pa_csv.WriteOptions(include_header=False))
    return buffer.getbuffer()


def copy_columns(conn: psycopg.Connection, table_name: str, columns: Mapping[str, Any]) -> None:
    """COPY equally long columns (pandas Series, numpy or Arrow arrays) into ``onemap.<table_name>``.

    The rows travel as CSV written by Arrow, several times faster than pandas' to_csv on millions of rows.
    """
    with conn.cursor().copy(copy_statement(table_name, list(columns))) as copy:
        copy.write(csv_data(columns))


def ewkb_hex(geoms: np.ndarray) -> pa.Array:
    """Geometries as hex EWKB with the canonical SRID: what PostGIS parses fastest from COPY text."""
    return pa.array(shapely.to_wkb(shapely.set_srid(geoms, SRID), hex=True, include_srid=True))


def _column_values(batch: pd.DataFrame, column: sa.Column[Any]) -> Any:
    if isinstance(column.type, Geometry):
        source = batch["geometry"] if "geometry" in batch else batch[column.name]
        geoms = np.asarray(source.to_numpy(), dtype=object)
        if column.type.geometry_type == "MULTIPOLYGON":
            polygons = shapely.get_type_id(geoms) == 3
            geoms = geoms.copy()
            geoms[polygons] = shapely.multipolygons(geoms[polygons], indices=np.arange(int(polygons.sum())))
        return ewkb_hex(geoms)
    return batch[column.name]


__all__ = ["copy_columns", "copy_frame", "ewkb_hex", "load_parts", "load_progress"]
