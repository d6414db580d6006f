"""Readers that stream a dataset in chunks: vector files through pyogrio's Arrow stream, CSV through pandas,
.xlsx through calamine. Each chunk is attributes (named as in the file) plus geometries in the file's CRS (or
none, for rows located by address)."""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyogrio
import shapely

from spatial.ingest import encoding as enc
from spatial.ingest.archive import Dataset
from spatial.ingest.errors import BadColumns, LayerChoiceNeeded, NoFeatures, UnsupportedFormat

# Types of fields, as the catalog names them, and their PostgreSQL column types.
PG_TYPES = {
    "integer": "bigint",
    "number": "double precision",
    "boolean": "boolean",
    "date": "date",
    "datetime": "timestamptz",
    "string": "text",
}
X_NAMES = ("lon", "lng", "long", "longitude", "x", "经度", "东经", "x坐标", "gps经度", "坐标x")
Y_NAMES = ("lat", "latitude", "y", "纬度", "北纬", "y坐标", "gps纬度", "坐标y")
ADDRESS_NAMES = ("address", "addr", "standard_address", "地址", "标准地址", "详细地址", "门牌地址")


@dataclass
class Chunk:
    attributes: pd.DataFrame  # columns = source field names
    geometries: np.ndarray | None  # shapely geometries in the source CRS, None when located by address
    first_row: int  # 1-based number of the chunk's first feature/row in the file


@dataclass
class SourceField:
    name: str  # as in the file
    type: str  # catalog type


@dataclass
class Source:
    kind: str
    layer: str | None
    crs: str | None  # as the file declares it (EPSG:xxxx or WKT), None when it does not
    declared_type: str | None  # "Polygon", "MultiLineString", ... or None when unknown/mixed
    total: int | None
    encoding: str | None
    fields: list[SourceField] = field(default_factory=list)
    address_column: str | None = None  # located by address instead of coordinates
    notes: list[str] = field(default_factory=list)
    _chunks: Iterator[Chunk] | None = None

    def chunks(self) -> Iterator[Chunk]:
        assert self._chunks is not None
        return self._chunks


# ---------------------------------------------------------------------------------------------- vector files


def _arrow_type(arrow_type: Any) -> str:
    import pyarrow as pa

    if pa.types.is_boolean(arrow_type):
        return "boolean"
    if pa.types.is_integer(arrow_type):
        return "integer"
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return "number"
    if pa.types.is_date(arrow_type):
        return "date"
    if pa.types.is_timestamp(arrow_type):
        return "datetime"
    return "string"


def _choose_layer(dataset: Dataset, layer: str | None) -> str | None:
    if dataset.kind in ("ESRI Shapefile", "GeoJSON", "FlatGeobuf"):
        return None
    layers = [str(row[0]) for row in pyogrio.list_layers(dataset.path)]
    if layer is not None:
        if layer not in layers:
            raise LayerChoiceNeeded(f"the file has no layer {layer!r}; its layers: {', '.join(layers)}")
        return layer
    if len(layers) > 1:
        raise LayerChoiceNeeded(
            f"the file holds {len(layers)} layers ({', '.join(layers)}): choose one with layer="
        )
    return layers[0] if layers else None


def _pandas_types(arrow_type: Any) -> Any:
    import pyarrow as pa

    if pa.types.is_integer(arrow_type):
        return pd.Int64Dtype()
    if pa.types.is_boolean(arrow_type):
        return pd.BooleanDtype()
    return None


def _vector_chunks(dataset: Dataset, source: Source, batch_size: int) -> Iterator[Chunk]:
    kwargs: dict[str, Any] = {"layer": source.layer, "batch_size": batch_size, "use_pyarrow": True}
    if source.encoding is not None:
        kwargs["encoding"] = source.encoding
    row = 1
    with pyogrio.open_arrow(dataset.path, **kwargs) as (meta, reader):
        geometry_name = meta.get("geometry_name") or "wkb_geometry"
        for batch in reader:
            if batch.num_rows == 0:
                continue
            names = [n for n in batch.schema.names if n != geometry_name]
            if not source.fields:
                source.fields = [SourceField(n, _arrow_type(batch.schema.field(n).type)) for n in names]
            wkb = batch.column(geometry_name).to_numpy(zero_copy_only=False)
            attributes = (
                batch.select(names).to_pandas(types_mapper=_pandas_types)
                if names
                else pd.DataFrame(index=range(batch.num_rows))
            )
            yield Chunk(attributes, shapely.from_wkb(wkb), row)
            row += batch.num_rows


def open_vector(dataset: Dataset, layer: str | None, encoding: str | None, batch_size: int) -> Source:
    chosen_encoding = None
    if dataset.kind == "ESRI Shapefile":
        sample = enc.dbf_text_sample(dataset.path.with_name(_dbf_name(dataset.path)))
        chosen_encoding = enc.choose(
            sample, encoding, dataset.cpg, f"the attribute file {dataset.path.stem}.dbf"
        )
    chosen_layer = _choose_layer(dataset, layer)
    try:
        info = pyogrio.read_info(dataset.path, layer=chosen_layer, encoding=chosen_encoding)
    except pyogrio.errors.DataSourceError as exc:
        raise UnsupportedFormat(
            f"cannot read the {dataset.kind} file: {str(exc).splitlines()[0][:200]}"
        ) from None
    declared = info.get("geometry_type")
    if declared in (None, "Unknown", "GeometryCollection") or "Unknown" in str(declared):
        declared = None
    elif declared is not None:
        declared = str(declared).replace(" Z", "").replace(" M", "").replace("25D", "")
    total = int(info["features"]) if info.get("features", -1) >= 0 else None
    source = Source(dataset.kind, chosen_layer, info.get("crs"), declared, total, chosen_encoding)
    source._chunks = _vector_chunks(dataset, source, batch_size)
    return source


def _dbf_name(shp: Path) -> str:
    for candidate in shp.parent.iterdir():
        if candidate.stem == shp.stem and candidate.suffix.lower() == ".dbf":
            return candidate.name
    return shp.stem + ".dbf"


# ---------------------------------------------------------------------------------------------- tables

_ID_LIKE = re.compile(r"^(0\d+|\d{11,})$")  # leading zeros or long digit strings: codes, phones, ID numbers


def _infer(values: pd.Series) -> str:
    present = values.dropna()
    present = present[present.astype(str).str.strip() != ""]
    if present.empty:
        return "string"
    if present.map(lambda v: isinstance(v, pd.Timestamp) or hasattr(v, "isoformat")).all():
        return "datetime"
    if present.astype(str).str.strip().str.match(_ID_LIKE).any():
        return "string"
    numbers = pd.to_numeric(present, errors="coerce")
    if numbers.notna().all():
        return "integer" if (numbers % 1 == 0).all() and numbers.abs().max() < 2**53 else "number"
    return "string"


def _text_or_none(value: Any) -> str | None:
    """A text cell: an empty cell is read as NaN and stays empty, never the text "nan"."""
    if value is None or isinstance(value, str):
        return value
    return None if pd.isna(value) else str(value)


def _convert(frame: pd.DataFrame, fields: list[SourceField], first_row: int) -> pd.DataFrame:
    out: dict[str, Any] = {}
    for spec in fields:
        column = frame[spec.name]
        if spec.type in ("integer", "number"):
            text = column.astype("string").str.strip()
            numbers = pd.to_numeric(text.mask(text == ""), errors="coerce")
            bad = numbers.isna() & text.notna() & (text != "")
            if bad.any():
                at = int(np.flatnonzero(bad.to_numpy())[0])
                raise BadColumns(
                    f"column {spec.name!r} row {first_row + at}: {column.iloc[at]!r} is not a number"
                )
            if spec.type == "integer" and not (numbers.dropna() % 1 == 0).all():
                at = int(np.flatnonzero((numbers % 1 != 0).fillna(False).to_numpy())[0])
                raise BadColumns(
                    f"column {spec.name!r} row {first_row + at}: {column.iloc[at]!r} is not a whole "
                    "number like the rows above it; make the column's values consistent"
                )
            out[spec.name] = numbers.astype("Int64") if spec.type == "integer" else numbers.astype("float64")
        elif spec.type == "datetime":
            out[spec.name] = pd.to_datetime(column, errors="coerce")
        else:
            out[spec.name] = column.map(_text_or_none)
    return pd.DataFrame(out, index=frame.index)


def _match_column(
    columns: list[str], given: str | None, candidates: tuple[str, ...], what: str
) -> str | None:
    if given is not None:
        if given not in columns:
            raise BadColumns(f"no column {given!r} for {what}; the columns are: {', '.join(columns)}")
        return given
    lowered = {c.strip().lower(): c for c in columns}
    return next((lowered[name] for name in candidates if name in lowered), None)


@dataclass
class TableOptions:
    x: str | None = None
    y: str | None = None
    address: str | None = None
    # Department deliveries: rows need no location (a household register has none), every column stays text
    # (each row is checked on its own instead of a whole column refused), and the header row is the first one
    # holding one of these names (title rows above it, a second header row below it).
    location_optional: bool = False
    as_text: bool = False
    header_names: frozenset[str] = frozenset()


def _locate(columns: list[str], options: TableOptions) -> tuple[str | None, str | None, str | None]:
    x = _match_column(columns, options.x, X_NAMES, "x (longitude)")
    y = _match_column(columns, options.y, Y_NAMES, "y (latitude)")
    if x and y and options.address is None:
        return x, y, None
    address = _match_column(columns, options.address, ADDRESS_NAMES, "the address")
    if address and not options.location_optional:
        return None, None, address
    if options.location_optional:
        return None, None, None
    raise BadColumns(
        "found no coordinate columns (lon/lat, 经度/纬度, x/y) and no address column (地址, address) among: "
        f"{', '.join(columns)}; name them with x= and y=, or address="
    )


def _table_chunks(frames: Iterator[pd.DataFrame], source: Source, options: TableOptions) -> Iterator[Chunk]:
    row = 1
    x = y = None
    for raw in frames:
        raw.columns = [str(c).strip() for c in raw.columns]
        if not source.fields:
            columns = list(raw.columns)
            x, y, source.address_column = _locate(columns, options)
            source.fields = [SourceField(c, "string" if options.as_text else _infer(raw[c])) for c in columns]
            for spec in source.fields:
                if spec.name in (x, y):
                    spec.type = "number"
        frame = _convert(raw, source.fields, row)
        geometries = None
        if x is not None and y is not None:
            xs, ys = (
                frame[x].to_numpy(dtype="float64", na_value=np.nan),
                frame[y].to_numpy("float64", na_value=np.nan),
            )
            geometries = np.asarray(shapely.points(xs, ys), dtype=object)
            geometries[~(np.isfinite(xs) & np.isfinite(ys))] = None
        yield Chunk(frame.reset_index(drop=True), geometries, row)
        row += len(frame)


def _sniff_delimiter(header: str) -> str:
    try:
        return csv.Sniffer().sniff(header, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def open_csv(dataset: Dataset, encoding: str | None, options: TableOptions, batch_size: int) -> Source:
    with dataset.path.open("rb") as handle:
        sample = handle.read(enc.SAMPLE_BYTES)
    chosen = enc.choose(sample, encoding, None, "the CSV file")
    codec = "utf-8-sig" if chosen == "UTF-8" else chosen
    header = sample.decode(codec, errors="ignore").splitlines()[0] if sample else ""
    frames = pd.read_csv(
        dataset.path,
        encoding=codec,
        dtype=str,
        keep_default_na=False,
        na_values=[""],
        chunksize=batch_size,
        sep=_sniff_delimiter(header),
        skipinitialspace=True,
    )
    source = Source("CSV", None, "EPSG:4326", "Point", None, chosen)
    source._chunks = _table_chunks(iter(frames), source, options)
    return source


def _is_header(values: tuple[Any, ...], names: frozenset[str]) -> bool:
    if not names:
        return any(v is not None for v in values)
    return any(_cell_name(v) in names for v in values)


def _cell_name(value: Any) -> str:
    return "".join(str(value).split()) if value is not None else ""


def _combine_header(top: tuple[Any, ...], below: tuple[Any, ...] | None, names: frozenset[str]) -> list[str]:
    """One header from a row and, when the row below holds two or more known names, that second row too: a
    merged group heading (基本信息 over 姓名 | 性别) gives way to the sub-heading below it. A merged heading keeps
    its text in its first cell only; the cells to its right are filled with it."""
    if not names:
        return [str(v) if v is not None else f"column_{i + 1}" for i, v in enumerate(top)]
    filled: list[str] = []
    for value in top:
        filled.append(_cell_name(value) or (filled[-1] if filled else ""))
    if below is not None and sum(_cell_name(v) in names for v in below) >= 2:
        sub = [_cell_name(v) for v in below] + [""] * max(len(filled) - len(below), 0)
        filled = [s if s in names or (s and not t) else t for t, s in zip(filled, sub, strict=False)]
    return [name or f"column_{i + 1}" for i, name in enumerate(filled)]


def _sheet_rows(
    rows: Iterator[tuple[Any, ...]], names: frozenset[str]
) -> tuple[list[str], Iterator[tuple[Any, ...]]] | None:
    """(header, the data rows after it) of one sheet, or None when no row looks like the header."""
    for values in rows:
        if not _is_header(values, names):
            continue
        below = next(rows, None)
        header = _combine_header(values, below, names)
        if below is not None and sum(_cell_name(v) in names for v in below) < 2:
            return header, itertools.chain([below], rows)
        return header, rows
    return None


def _sheet_values(rows: Iterator[list[Any]]) -> Iterator[tuple[Any, ...]]:
    """A sheet's rows with empty cells as None (calamine reads them as empty text)."""
    for row in rows:
        yield tuple(None if v == "" else v for v in row)


def _xlsx_frames(
    path: Path, sheet: str | None, batch_size: int, names: frozenset[str] = frozenset()
) -> Iterator[pd.DataFrame]:
    """Rows of the chosen sheet; with known header names and no sheet chosen, of every sheet whose header holds
    one of them (departments split a register into one sheet per street), in the first such sheet's columns.
    Read with calamine (Rust) rather than openpyxl: a 40,000-row survey sheet takes 0.3 s instead of 8 s."""
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    if sheet is not None and sheet not in book.sheet_names:
        raise LayerChoiceNeeded(f"the workbook has no sheet {sheet!r}; its sheets: {', '.join(book.sheet_names)}")
    if sheet is not None:
        sheets = [sheet]
    elif names:
        sheets = list(book.sheet_names)
    else:
        sheets = book.sheet_names[:1]
    columns: list[str] | None = None
    for name in sheets:
        found = _sheet_rows(_sheet_values(book.get_sheet_by_name(name).iter_rows()), names)
        if found is None:
            continue
        header, rows = found
        columns = columns or header
        batch: list[tuple[Any, ...]] = []
        for values in rows:
            if all(v is None for v in values):
                continue
            batch.append(tuple(values[: len(header)]) + (None,) * max(len(header) - len(values), 0))
            if len(batch) >= batch_size:
                yield _frame(batch, header, columns)
                batch = []
        if batch:
            yield _frame(batch, header, columns)
    if columns is None:
        raise NoFeatures(
            "the workbook's first sheet is empty"
            if not names
            else "no sheet of the workbook has a header row with a known column"
        )


def _frame(batch: list[tuple[Any, ...]], header: list[str], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(batch, columns=header, dtype=object)
    frame = frame.loc[:, ~frame.columns.duplicated()]
    return frame.reindex(columns=columns) if list(frame.columns) != columns else frame


def open_xlsx(dataset: Dataset, sheet: str | None, options: TableOptions, batch_size: int) -> Source:
    source = Source("XLSX", sheet, "EPSG:4326", "Point", None, None)
    frames = _xlsx_frames(dataset.path, sheet, batch_size, options.header_names)
    source._chunks = _table_chunks(frames, source, options)
    return source
