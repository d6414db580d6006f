"""Per-chunk geometry work: 2D, CRS to EPSG:4326, the China extent check, families and Multi promotion."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

import numpy as np
import shapely
from pyproj import CRS, Transformer

from spatial.crs import UnsupportedCrs, parse_crs, transform_geometry
from spatial.ingest.errors import CoordinatesOutsideChina, CoordinatesSwapped, MissingCrs

# A generous rectangle around China (incl. Hong Kong, Macao, Taiwan and the South China Sea islands' north).
CHINA = (73.0, 3.0, 136.0, 54.0)
FAMILY_OF_TYPE = {0: "point", 4: "point", 1: "line", 2: "line", 5: "line", 3: "polygon", 6: "polygon"}
FAMILY_DIMENSION = {"point": 0, "line": 1, "polygon": 2}


@dataclass
class Reprojector:
    """Source CRS -> EPSG:4326, x/y order always."""

    label: str
    onemap_code: str | None = None  # a CRS spatial.crs knows (incl. GCJ-02 / BD-09)
    transformer: Transformer | None = None

    @classmethod
    def for_crs(cls, given: str | None, declared: str | None, what: str) -> Reprojector:
        text = given or declared
        if not text:
            raise MissingCrs(
                f"{what} says nothing about its coordinate reference system (no .prj or CRS tag): upload "
                "again with "
                "crs=, e.g. crs=EPSG:4490 (CGCS2000 lon/lat), crs=EPSG:4547 (Shenzhen Gauss-Kruger), "
                "crs=GCJ02 "
                "(AMap/Tencent), crs=BD09 (Baidu)"
            )
        try:
            return cls(parse_crs(text).code, onemap_code=parse_crs(text).code)
        except UnsupportedCrs:
            pass
        try:
            crs = CRS.from_user_input(text)
        except Exception:
            raise MissingCrs(
                f"cannot understand the CRS {text[:80]!r}: give crs= as EPSG:xxxx, GCJ02 or BD09"
            ) from None
        epsg = crs.to_epsg()
        if epsg is not None:
            try:
                ref = parse_crs(epsg)
                return cls(ref.code, onemap_code=ref.code)
            except UnsupportedCrs:
                pass
        return cls(
            f"EPSG:{epsg}" if epsg else crs.name, transformer=Transformer.from_crs(crs, 4326, always_xy=True)
        )

    def apply(self, geoms: np.ndarray) -> np.ndarray:
        if self.onemap_code is not None:
            if self.onemap_code in ("EPSG:4326", "OGC:CRS84", "EPSG:4490"):
                return geoms
            return transform_geometry(geoms, self.onemap_code, 4326)
        assert self.transformer is not None
        transformer = self.transformer

        def project(coords: np.ndarray) -> np.ndarray:
            x, y = transformer.transform(coords[:, 0], coords[:, 1])
            return np.column_stack([x, y])

        return shapely.transform(geoms, project)


def first_outside_china(geoms: np.ndarray) -> tuple[int, bool] | None:
    """The index of the first geometry not inside China, and whether all such geometries would fit with x and y
    swapped; None when all are inside. The one extent rule of uploads, deliveries and edits."""
    bounds = shapely.bounds(geoms)
    if not np.isfinite(bounds).all():
        return int(np.flatnonzero(~np.isfinite(bounds).all(axis=1))[0]), False
    minx, miny, maxx, maxy = CHINA
    inside = (bounds[:, 0] >= minx) & (bounds[:, 2] <= maxx) & (bounds[:, 1] >= miny) & (bounds[:, 3] <= maxy)
    if inside.all():
        return None
    swapped = (
        (bounds[:, 1] >= minx) & (bounds[:, 3] <= maxx) & (bounds[:, 0] >= miny) & (bounds[:, 2] <= maxy)
    )
    return int(np.flatnonzero(~inside)[0]), bool(swapped[~inside].all())


def check_extent(geoms: np.ndarray, first_row: int, crs_label: str) -> None:
    """Refuse features outside China, saying when they would fit with x and y swapped."""
    found = first_outside_china(geoms)
    if found is None:
        return
    at, swapped = found
    x, y = shapely.bounds(geoms[at])[:2]
    if swapped:
        raise CoordinatesSwapped(
            f"row {first_row + at}: ({x:.6f}, {y:.6f}) lies outside China, but would lie inside with the two "
            "coordinates swapped: longitude/latitude look reversed; swap the columns (or x=/y=) and upload "
            "again"
        )
    raise CoordinatesOutsideChina(
        f"row {first_row + at}: ({x:.6f}, {y:.6f}) lies outside China after reading the coordinates as "
        f"{crs_label}: is the CRS right? Give crs= (e.g. EPSG:4547 for Gauss-Kruger metres); for data abroad "
        "upload with allow_outside_china=true"
    )


@dataclass
class Families:
    """Which geometry families were seen, with counts."""

    counts: dict[str, int] = field(default_factory=dict)
    multipoints: bool = False

    def add(self, families: np.ndarray) -> None:
        names, counts = np.unique(families, return_counts=True)
        for name, count in zip(names, counts, strict=True):
            self.counts[str(name)] = self.counts.get(str(name), 0) + int(count)

    def describe(self) -> str:
        return ", ".join(f"{count:,} {name}s" for name, count in sorted(self.counts.items()))


def _collection_to_multi(geom: shapely.Geometry) -> shapely.Geometry:
    parts = shapely.get_parts(geom)
    families = {FAMILY_OF_TYPE.get(int(t), "collection") for t in shapely.get_type_id(parts)}
    if len(families) != 1:
        return geom
    family = families.pop()
    flat = shapely.get_parts(parts)
    if family == "polygon":
        return cast(shapely.Geometry, shapely.multipolygons(flat))
    if family == "line":
        return cast(shapely.Geometry, shapely.multilinestrings(flat))
    return cast(shapely.Geometry, shapely.multipoints(flat))


def classify_and_promote(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(geometries with polygons/lines made Multi, each one's family)."""
    geoms = geoms.copy()
    types = shapely.get_type_id(geoms)
    collections = np.flatnonzero(types == 7)
    for i in collections:
        geoms[i] = _collection_to_multi(geoms[i])
    if len(collections):
        types = shapely.get_type_id(geoms)
    single_polygons = types == 3
    if single_polygons.any():
        geoms[single_polygons] = shapely.multipolygons(
            geoms[single_polygons], indices=np.arange(int(single_polygons.sum()))
        )
    single_lines = (types == 1) | (types == 2)
    if single_lines.any():
        lines = shapely.linestrings(
            shapely.get_coordinates(geoms[single_lines]),
            indices=np.repeat(
                np.arange(int(single_lines.sum())), shapely.get_num_coordinates(geoms[single_lines])
            ),
        )
        line_array = np.asarray(lines, dtype=object)
        geoms[single_lines] = shapely.multilinestrings(line_array, indices=np.arange(len(line_array)))
    return geoms, _families(types)


def _families(types: np.ndarray) -> np.ndarray:
    out = np.full(len(types), "collection", dtype=object)
    for type_id, family in FAMILY_OF_TYPE.items():
        out[types == type_id] = family
    return out
