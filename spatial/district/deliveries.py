"""The generated departments' records written as the departments deliver them: each in its own file format,
encoding and CRS, under the column names and coded values of its default mapping (so the shipped mappings read
them back), with an answer key saying which true entity each delivered row is about, where a disagreement was
planted and which keys were sent missing or garbled (spatial.district.key_damage).

The headers and the values as sent are read from ``spatial/sources/mappings/<department>.yaml``, the one home of
a department's words: a column the mapping does not know cannot be written."""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial.district.generate import DepartmentTable
from spatial.district.key_damage import damage_keys
from spatial.sources.mapping import ColumnMapping, default_mapping

ANSWER_KEY = "answer_key.parquet"
ANSWER_COLUMNS = (
    "department", "file", "row", "entity_kind", "entity_key", "planted", "planted_attribute", "key_damage",
    "sent_key",
)  # fmt: skip
KEY_DAMAGE_RATE = 0.02  # share of rows of the departments that damage keys sent with a key missing or garbled


@dataclass(frozen=True)
class Shape:
    """How a department delivers: its file, the format, and what it holds beyond the generator's fields."""

    filename: str  # "{street}" is replaced by the street code for departments that deliver per street
    format: str  # csv, xlsx, shapefile or gpkg
    encoding: str = "utf-8"
    also: tuple[str, ...] = ()  # truth columns the department's file also holds (the survey's address, name)
    crs: str | None = None  # the CRS of the footprints; None: the file has no geometry
    title: str | None = None  # a title row above an xlsx header, as departments' sheets have
    per_street: bool = False  # one file per street (grid centres fill in their street's sheet)
    # A verifying department keying by hand: some keys missing or garbled, found again by what else the row
    # holds (its `also` columns are what resolution needs).
    damages_keys: bool = False


# (department, entity kind) -> how it delivers
SHAPES: dict[tuple[str, str], Shape] = {
    ("police", "person"): Shape("police_户籍人口.csv", "csv", encoding="gbk"),
    ("social_security", "person"): Shape(
        "social_security_参保人员.csv", "csv", also=("birth_date",), damages_keys=True
    ),
    ("grid", "residence"): Shape(
        "grid_实有人口居住登记_{street}.xlsx", "xlsx", title="实有人口居住登记表", per_street=True
    ),
    ("market", "enterprise"): Shape("market_市场主体.xlsx", "xlsx", title="市场主体登记信息"),
    # Excel's "CSV UTF-8" starts with a byte-order mark.
    ("industry", "enterprise"): Shape(
        "industry_工业企业.csv", "csv", encoding="utf-8-sig", also=("address",), damages_keys=True
    ),
    ("housing", "building"): Shape(
        "housing_楼栋.zip", "shapefile", encoding="gbk", also=("address", "name"), crs="EPSG:4547"
    ),
    ("housing", "house_unit"): Shape("housing_房屋单元.csv", "csv", encoding="gbk"),
    ("urban_management", "building"): Shape(
        "urban_management_巡查楼栋.gpkg", "gpkg", crs="EPSG:4490", damages_keys=True
    ),
}


def shape_of(table: DepartmentTable) -> Shape:
    return SHAPES[table.source.department, table.source.entity_kind]


@dataclass(frozen=True)
class DeliveredFile:
    department: str
    path: Path
    rows: int
    entity_kind: str


class _Writer(Protocol):
    def append(self, frame: pd.DataFrame) -> None: ...

    def close(self) -> None: ...


class _CsvWriter:
    def __init__(self, path: Path, encoding: str) -> None:
        # Strict encoding: a name GBK cannot hold fails here, not silently as '?' in the delivery.
        self._handle = path.open("w", encoding=encoding, errors="strict", newline="")
        self._header = True

    def append(self, frame: pd.DataFrame) -> None:
        frame.to_csv(self._handle, index=False, header=self._header)
        self._header = False

    def close(self) -> None:
        self._handle.close()


class _XlsxWriter:
    """With XlsxWriter's constant-memory mode, row by row: about four times openpyxl's write-only speed on the
    grid's 250,000-row survey sheets."""

    def __init__(self, path: Path, title: str | None) -> None:
        import xlsxwriter

        self._book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        self._sheet = self._book.add_worksheet(path.stem[:31])
        self._title = title
        self._row = 0

    def _write(self, values: list[Any]) -> None:
        self._sheet.write_row(self._row, 0, values)
        self._row += 1

    def append(self, frame: pd.DataFrame) -> None:
        if self._row == 0:
            if self._title:
                self._write([self._title])
            self._write(list(frame.columns))
        cells = frame.astype(object).where(frame.notna(), None)
        for row in cells.itertuples(index=False, name=None):
            self._write(list(row))  # text stays text: ID numbers keep their digits and X

    def close(self) -> None:
        self._book.close()


class _VectorWriter:
    """Footprints are few (buildings): gathered, then written in one go by pyogrio."""

    def __init__(self, path: Path, shape: Shape) -> None:
        self._path = path
        self._shape = shape
        self._frames: list[gpd.GeoDataFrame] = []

    def append(self, frame: pd.DataFrame) -> None:
        assert isinstance(frame, gpd.GeoDataFrame)
        self._frames.append(frame)

    def close(self) -> None:
        frame = gpd.GeoDataFrame(pd.concat(self._frames), crs=self._frames[0].crs).to_crs(self._shape.crs)
        if self._shape.format == "gpkg":
            frame.to_file(self._path, driver="GPKG", layer=self._path.stem, engine="pyogrio")
            return
        with tempfile.TemporaryDirectory(prefix="onemap-shapefile-") as folder:
            shp = Path(folder) / f"{self._path.stem.split('_', 1)[-1]}.shp"
            # The encoding makes the driver write the DBF in GBK and say so in a .cpg.
            frame.to_file(shp, driver="ESRI Shapefile", encoding=self._shape.encoding, engine="pyogrio")
            with zipfile.ZipFile(self._path, "w", zipfile.ZIP_DEFLATED) as archive:
                for part in sorted(Path(folder).iterdir()):
                    archive.write(part, part.name)


def _writer(path: Path, shape: Shape) -> _Writer:
    if shape.format == "csv":
        return _CsvWriter(path, shape.encoding)
    if shape.format == "xlsx":
        return _XlsxWriter(path, shape.title)
    return _VectorWriter(path, shape)


def _as_sent(translations: dict[str, str]) -> dict[str, str]:
    """Stored code -> the first word the mapping reads as it (M -> 男, active -> 存续)."""
    spoken: dict[str, str] = {}
    for sent, stored in translations.items():
        spoken.setdefault(stored, sent)
    return spoken


def _header(mapping: ColumnMapping, attribute: str, department: str) -> str:
    if attribute not in mapping.columns.values():
        raise ValueError(
            f"the {department} default mapping has no column for {attribute!r}: add its header to the mapping"
        )
    return mapping.alias_of(attribute)


def department_frame(table: DepartmentTable, shape: Shape, mapping: ColumnMapping) -> pd.DataFrame:
    """A slice of a department's records as its file holds them: its headers, its words, its footprints."""
    department = table.source.department
    frame = pd.concat([table.values, table.truth[list(shape.also)]], axis=1)
    for attribute, translations in mapping.values.items():
        if attribute in frame:
            spoken = _as_sent(translations)
            frame[attribute] = frame[attribute].map(lambda value, s=spoken: s.get(value, value))
    frame.columns = [_header(mapping, str(a), department) for a in frame.columns]
    if shape.crs is None:
        return frame
    truth = table.truth
    assert isinstance(truth, gpd.GeoDataFrame), f"{department} delivers footprints: its truth has none"
    return gpd.GeoDataFrame(frame, geometry=truth.geometry.to_numpy(), crs=truth.crs)


def _answer_rows(
    table: DepartmentTable, file: str, first_row: int, piece: pd.DataFrame, damage: pd.DataFrame
) -> pd.DataFrame:
    planted = dict(zip(table.planted["entity_key"], table.planted["attribute"], strict=True))
    keys = table.truth.loc[piece.index, table.source.key].astype(str).to_numpy()
    attribute = pd.Series(keys).map(planted).astype(object)
    return pd.DataFrame(
        {
            "department": table.source.department,
            "file": file,
            "row": range(first_row, first_row + len(piece)),
            "entity_kind": table.source.entity_kind,
            "entity_key": keys,
            "planted": attribute.notna().to_numpy(),
            "planted_attribute": attribute.where(attribute.notna(), None).to_numpy(),
            "key_damage": damage.loc[piece.index, "key_damage"].to_numpy(),
            "sent_key": damage.loc[piece.index, "sent_key"].to_numpy(),
        }
    )


def _damaged(
    table: DepartmentTable, frame: pd.DataFrame, mapping: ColumnMapping, rate: float, rng: np.random.Generator
) -> pd.DataFrame:
    """The key column of `frame` damaged in place at `rate`; returns (key_damage, sent_key) by row."""
    key = table.source.key
    if rate <= 0:
        return pd.DataFrame({"key_damage": None, "sent_key": None}, index=frame.index, dtype=object)
    sent, damage = damage_keys(table.values[key].astype(str).to_numpy(), key, rate, rng)
    frame[_header(mapping, key, table.source.department)] = sent
    return pd.DataFrame({"key_damage": damage, "sent_key": sent}, index=frame.index)


def write_deliveries(
    tables: Iterable[DepartmentTable],
    folder: Path,
    key_damage_rate: float = KEY_DAMAGE_RATE,
    rng: np.random.Generator | None = None,
    written: Callable[[DeliveredFile], Any] | None = None,
) -> list[DeliveredFile]:
    """Write every department's file into `folder`, and the answer key beside them; returns the files. The
    departments that damage keys send a share `key_damage_rate` of them missing or garbled (drawn from `rng`).
    Each file is handed to `written` as soon as it is complete (a source's slices come one after another), so it
    can be delivered while the next ones are written; the answer key is written last."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = rng if rng is not None else np.random.default_rng(0)
    writers: dict[str, _Writer] = {}  # the files of the source being written
    files: list[DeliveredFile] = []
    rows: dict[str, int] = {}
    answers: list[pd.DataFrame] = []
    mappings: dict[tuple[str, str], ColumnMapping] = {}
    source: tuple[str, str] | None = None

    def finish_source() -> None:
        assert source is not None
        for name, writer in writers.items():
            writer.close()
            files.append(DeliveredFile(source[0], folder / name, rows[name], source[1]))
            if written is not None:
                written(files[-1])
        writers.clear()

    for table in tables:
        department, kind = table.source.department, table.source.entity_kind
        if source is not None and source != (department, kind):
            finish_source()
        source = (department, kind)
        shape = shape_of(table)
        mapping = mappings.setdefault(source, default_mapping(department, kind))
        frame = department_frame(table, shape, mapping)
        rate = key_damage_rate if shape.damages_keys else 0.0
        damage = _damaged(table, frame, mapping, rate, rng)
        if shape.per_street:
            street = table.truth["building_code"].astype(str).str[:9].to_numpy()
            pieces = [(shape.filename.format(street=s), frame[street == s]) for s in sorted(set(street))]
        else:
            pieces = [(shape.filename, frame)]
        for name, piece in pieces:
            if name not in writers:
                if name in rows:
                    raise ValueError(f"{name}: the slices of a source must come one after another")
                writers[name] = _writer(folder / name, shape)
                rows[name] = 0
            writers[name].append(piece)
            answers.append(_answer_rows(table, name, rows[name] + 1, piece, damage))
            rows[name] += len(piece)
    if source is not None:
        finish_source()
    key = pd.concat(answers, ignore_index=True) if answers else pd.DataFrame(columns=list(ANSWER_COLUMNS))
    key.to_parquet(folder / ANSWER_KEY, index=False)
    return files
