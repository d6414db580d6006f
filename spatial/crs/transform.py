"""Coordinate transformation between the supported CRS, including GCJ-02 and BD-09.

AXIS ORDER - READ THIS: every function here takes and returns coordinates in traditional GIS order,
x = longitude or easting, y = latitude or northing (pyproj ``always_xy=True``). That holds EVEN for EPSG:4326,
EPSG:4490 and EPSG:4547, whose official axis order is latitude/longitude and northing/easting respectively.
PostGIS, shapely, GeoJSON and geopandas all use x/y order too; only OGC API Features Part 2 output with a
lat-first CRS must swap axes, at the edge, using ``CrsRef.axis_order_lat_first``.

GCJ-02 and BD-09 are not in PROJ: conversions to or from them go through WGS-84 (EPSG:4326) with
``chinese_offsets``. CGCS2000 (EPSG:4490) is treated as identical to WGS-84 (they differ by centimetres), so
4490 <-> 4326/CRS84 is an exact identity rather than whatever PROJ's ballpark transformation happens to do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, TypeVar, overload

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Transformer

from spatial.crs import chinese_offsets
from spatial.crs.codes import BD09, CANONICAL_EPSG, GCJ02, CrsRef, UnsupportedCrs, parse_crs

if TYPE_CHECKING:
    import geopandas as gpd

FloatArray = npt.NDArray[np.float64]
CrsLike = str | int | CrsRef
OptionalGeometry = TypeVar("OptionalGeometry", bound=shapely.Geometry | None)
_OffsetFunction = Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]]

# GeoDataFrames converted *to* GCJ-02/BD-09 are tagged EPSG:4326 (geopandas cannot name a pseudo-CRS); this
# attrs key records what their coordinates really are, so that to_crs() can convert them back correctly.
PSEUDO_CRS_ATTR = "onemap_pseudo_crs"

_TO_WGS84: dict[str, _OffsetFunction] = {
    GCJ02: chinese_offsets.gcj02_to_wgs84,
    BD09: chinese_offsets.bd09_to_wgs84,
}
_FROM_WGS84: dict[str, _OffsetFunction] = {
    GCJ02: chinese_offsets.wgs84_to_gcj02,
    BD09: chinese_offsets.wgs84_to_bd09,
}
# Between the two pseudo-CRS, skip the detour through WGS-84 (it would cost an iteration for nothing).
_BETWEEN_PSEUDO: dict[tuple[str, str], _OffsetFunction] = {
    (GCJ02, BD09): chinese_offsets.gcj02_to_bd09,
    (BD09, GCJ02): chinese_offsets.bd09_to_gcj02,
}
# Geographic CRS treated as the same datum as WGS-84 for transformation purposes.
_SAME_AS_WGS84 = {4490: CANONICAL_EPSG}


@lru_cache(maxsize=64)
def _transformer(src_epsg: int, dst_epsg: int) -> Transformer:
    # Building a Transformer costs ~1 ms (a proj.db lookup); using one is microseconds. pyproj >= 3.1
    # Transformers are thread-safe, so one cached instance can serve all request threads.
    return Transformer.from_crs(src_epsg, dst_epsg, always_xy=True)


def _project(x: FloatArray, y: FloatArray, src_epsg: int, dst_epsg: int) -> tuple[FloatArray, FloatArray]:
    src_epsg = _SAME_AS_WGS84.get(src_epsg, src_epsg)
    dst_epsg = _SAME_AS_WGS84.get(dst_epsg, dst_epsg)
    if src_epsg == dst_epsg:
        return x.copy(), y.copy()
    out_x, out_y = _transformer(src_epsg, dst_epsg).transform(x, y)
    return np.asarray(out_x, dtype=np.float64), np.asarray(out_y, dtype=np.float64)


def _apply_offset(func: _OffsetFunction, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    # The public offset functions hand scalars back as floats; keep arrays here, whatever the shape.
    out_x, out_y = func(x, y)
    return np.asarray(out_x, dtype=np.float64), np.asarray(out_y, dtype=np.float64)


def _transform_arrays(
    x: FloatArray, y: FloatArray, src: CrsRef, dst: CrsRef
) -> tuple[FloatArray, FloatArray]:
    if src.code == dst.code:
        return x.copy(), y.copy()
    if (src.code, dst.code) in _BETWEEN_PSEUDO:
        return _apply_offset(_BETWEEN_PSEUDO[(src.code, dst.code)], x, y)
    if src.epsg is None:
        x, y = _apply_offset(_TO_WGS84[src.code], x, y)
    src_epsg = CANONICAL_EPSG if src.epsg is None else src.epsg
    if dst.epsg is None:
        return _apply_offset(_FROM_WGS84[dst.code], *_project(x, y, src_epsg, CANONICAL_EPSG))
    return _project(x, y, src_epsg, dst.epsg)


@overload
def transform_xy(x: float, y: float, src: CrsLike, dst: CrsLike) -> tuple[float, float]: ...
@overload
def transform_xy(
    x: npt.ArrayLike, y: npt.ArrayLike, src: CrsLike, dst: CrsLike
) -> tuple[FloatArray, FloatArray]: ...
def transform_xy(x: npt.ArrayLike, y: npt.ArrayLike, src: CrsLike, dst: CrsLike) -> tuple[object, object]:
    """Transform x/y (lon/lat or easting/northing, ALWAYS x first) from ``src`` to ``dst``.

    Scalars give floats, arrays give arrays of the broadcast shape. Raises UnsupportedCrs for unknown CRS.
    """
    src_ref, dst_ref = parse_crs(src), parse_crs(dst)
    x_arr, y_arr = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    out_x, out_y = _transform_arrays(x_arr, y_arr, src_ref, dst_ref)
    if out_x.ndim == 0:
        return float(out_x), float(out_y)
    return out_x.reshape(x_arr.shape), out_y.reshape(x_arr.shape)


@overload
def transform_geometry(geom: OptionalGeometry, src: CrsLike, dst: CrsLike) -> OptionalGeometry: ...
@overload
def transform_geometry(
    geom: npt.NDArray[np.object_] | Sequence[shapely.Geometry | None], src: CrsLike, dst: CrsLike
) -> npt.NDArray[np.object_]: ...
def transform_geometry(geom: object, src: CrsLike, dst: CrsLike) -> object:
    """Transform a shapely geometry, or an array of them, in one vectorised pass over all coordinates.

    Z values (heights) are carried through unchanged; 2D geometries stay 2D; None stays None.
    """
    src_ref, dst_ref = parse_crs(src), parse_crs(dst)

    def transform_coords(coords: FloatArray) -> FloatArray:
        out = coords.copy()
        out[:, 0], out[:, 1] = _transform_arrays(coords[:, 0], coords[:, 1], src_ref, dst_ref)
        return out

    return shapely.transform(geom, transform_coords, include_z=True)


def _declared_crs(gdf: gpd.GeoDataFrame) -> CrsRef:
    if gdf.crs is None:
        raise UnsupportedCrs("the GeoDataFrame has no CRS; say what its coordinates are: from_crs(gdf, src)")
    authority = gdf.crs.to_authority()
    if authority is None:
        raise UnsupportedCrs(f"cannot identify the GeoDataFrame's CRS {gdf.crs.name!r}; use from_crs()")
    declared = parse_crs(f"{authority[0]}:{authority[1]}")
    marker = gdf.attrs.get(PSEUDO_CRS_ATTR)
    # Honour the marker only on the 4326 tag we wrote: after a plain geopandas to_crs() it would be stale.
    if marker is not None and declared.epsg == CANONICAL_EPSG:
        return parse_crs(marker)
    return declared


def _convert(gdf: gpd.GeoDataFrame, src: CrsRef, dst: CrsRef) -> gpd.GeoDataFrame:
    import geopandas as gpd  # imported lazily: the rest of the package must not pay for pandas

    geometry = gdf.geometry
    converted = transform_geometry(geometry.to_numpy(), src, dst)
    tag = f"EPSG:{CANONICAL_EPSG}" if dst.is_pseudo else dst.code
    out = gdf.copy()
    out[geometry.name] = gpd.GeoSeries(converted, index=gdf.index, crs=tag)
    attrs = {key: value for key, value in gdf.attrs.items() if key != PSEUDO_CRS_ATTR}
    if dst.is_pseudo:
        attrs[PSEUDO_CRS_ATTR] = dst.code
    out.attrs = attrs
    return out


def to_crs(gdf: gpd.GeoDataFrame, dst: CrsLike) -> gpd.GeoDataFrame:
    """Convert a GeoDataFrame from its own CRS to ``dst``, which may be GCJ-02/BD-09 (unlike geopandas).

    The result is tagged with the CRS asked for (EPSG:4490 stays 4490). GCJ-02/BD-09 results are tagged
    EPSG:4326 plus ``attrs[PSEUDO_CRS_ATTR]``, which a later to_crs() reads to convert them back.
    """
    return _convert(gdf, _declared_crs(gdf), parse_crs(dst))


def from_crs(gdf: gpd.GeoDataFrame, src: CrsLike, dst: CrsLike = CANONICAL_EPSG) -> gpd.GeoDataFrame:
    """Convert a GeoDataFrame whose coordinates are really in ``src``, whatever its tag says, to ``dst``.

    This is the fix for AMap/DataV downloads: GCJ-02 coordinates that GDAL reads as WGS-84. By default the
    result is in EPSG:4326, the platform's storage CRS.
    """
    return _convert(gdf, parse_crs(src), parse_crs(dst))
