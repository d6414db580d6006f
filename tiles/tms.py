"""The tile matrix sets onemap serves, from one morecantile registry: WebMercatorQuad, WorldCRS84Quad and a
CGCS2000 quad on EPSG:4490 (the Chinese geodetic datum, laid out like WorldCRS84Quad: 2x1 tiles at zoom 0).

All tile math goes through morecantile; nothing else in onemap computes tile bounds."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import morecantile
from morecantile import TileMatrixSet
from pyproj import CRS, Transformer

from tiles.errors import TileOutOfRange, UnknownTileMatrixSet

CGCS2000_QUAD = "CGCS2000Quad"
SERVED = ("WebMercatorQuad", "WorldCRS84Quad", CGCS2000_QUAD)
# No register of the OGC names this set, so its identifier is onemap's own: a URN, stable whatever host serves it
# (clients compare tileMatrixSetURI strings to tell sets apart, and fetch the definition from the tiling-scheme
# link when they do not know it).
CGCS2000_URI = "urn:onemap:def:tilematrixset:CGCS2000Quad"


@cache
def registry() -> morecantile.defaults.TileMatrixSets:
    cgcs2000 = TileMatrixSet.custom(
        [-180.0, -90.0, 180.0, 90.0],
        CRS.from_epsg(4490),
        matrix_scale=[2, 1],
        minzoom=0,
        maxzoom=22,
        id=CGCS2000_QUAD,
        title="CGCS2000 geographic quad (EPSG:4490)",
        # EPSG:4490's own axis order, which the pointOfOrigin (90, -180) follows.
        orderedAxes=["Lat", "Lon"],
        uri=CGCS2000_URI,
    )
    return morecantile.tms.register({CGCS2000_QUAD: cgcs2000})


def get_tms(tms_id: str) -> TileMatrixSet:
    if tms_id not in SERVED:
        raise UnknownTileMatrixSet(f"unknown tile matrix set {tms_id!r}: use one of {', '.join(SERVED)}")
    return _served(tms_id)


@cache
def _served(tms_id: str) -> TileMatrixSet:
    # The registry hands out a deep copy on every get (0.3 ms, once per tile request otherwise).
    return registry().get(tms_id)


def definition(tms_id: str, with_tms1: bool = False) -> dict[str, Any]:
    """The OGC TMS 2.0 JSON of a served set; ``with_tms1``: with the TMS 1.0 members beside it, for the
    tiling-scheme links of tilesets. GDAL before 3.7 (Debian bookworm's, and QGIS built on it) reads only the
    1.0 encoding; the two share no member name and lenient 2.0 readers (GDAL 3.7+, OpenLayers) skip what they
    do not know. Strict ones refuse the mix (morecantile), so the plain definition stays pure 2.0."""
    tms = get_tms(tms_id)
    current: dict[str, Any] = tms.model_dump(mode="json", exclude_none=True)
    if not with_tms1:
        return current
    crs = current["crs"] if isinstance(current["crs"], str) else str(tms.crs)
    bounds = tms.xy_bbox
    lower, upper = [bounds.left, bounds.bottom], [bounds.right, bounds.top]
    if tms._invert_axis:  # 1.0 corners are in the CRS's axis order, as 2.0's pointOfOrigin is
        lower, upper = lower[::-1], upper[::-1]
    legacy = {
        "type": "TileMatrixSetType",
        "identifier": tms_id,
        "supportedCRS": crs,
        "boundingBox": {"type": "BoundingBoxType", "crs": crs, "lowerCorner": lower, "upperCorner": upper},
        "tileMatrix": [
            {
                "type": "TileMatrixType",
                "identifier": matrix["id"],
                "scaleDenominator": matrix["scaleDenominator"],
                "topLeftCorner": matrix["pointOfOrigin"],
                "tileWidth": matrix["tileWidth"],
                "tileHeight": matrix["tileHeight"],
                "matrixWidth": matrix["matrixWidth"],
                "matrixHeight": matrix["matrixHeight"],
            }
            for matrix in current["tileMatrices"]
        ],
    }
    if "wellKnownScaleSet" in current:
        legacy["wellKnownScaleSet"] = current["wellKnownScaleSet"]
    return {**current, **legacy}


def srid_of(tms: TileMatrixSet) -> int:
    """The PostGIS SRID tile geometry is expressed in. Geographic sets (CRS84, EPSG:4490) use the column's
    own 4326 coordinates: CGCS2000 and WGS 84 agree within centimetres (DESIGN.md), far below a pixel."""
    epsg = tms.crs._pyproj_crs.to_epsg()
    return 3857 if epsg == 3857 else 4326


@dataclass(frozen=True)
class TileAddress:
    tms: TileMatrixSet
    z: int
    x: int
    y: int

    @property
    def tile(self) -> morecantile.Tile:
        return morecantile.Tile(self.x, self.y, self.z)

    @property
    def key(self) -> tuple[str, int, int, int]:
        return (str(self.tms.id), self.z, self.x, self.y)

    def xy_bounds(self) -> tuple[float, float, float, float]:
        """Tile bounds in the SRID of ``srid_of`` (x = easting/longitude first)."""
        b = self.tms.xy_bounds(self.tile)
        return (b.left, b.bottom, b.right, b.top)

    def geographic_bounds(self, margin: float = 0.0) -> tuple[float, float, float, float]:
        """Lon/lat bounds, grown by ``margin`` tile widths on every side (for the MVT buffer)."""
        return _geographic_bounds(str(self.tms.id), self.z, self.x, self.y, margin)


# A tile request asks for its lon/lat bounds several times (generalisation, envelope, MVT frame), and each
# answer is two PROJ transformations.
@lru_cache(maxsize=4096)
def _geographic_bounds(tms_id: str, z: int, x: int, y: int, margin: float) -> tuple[float, float, float, float]:
    tms = _served(tms_id)
    b = tms.xy_bounds(morecantile.Tile(x, y, z))
    dx, dy = (b.right - b.left) * margin, (b.top - b.bottom) * margin
    west, south = tms.lnglat(b.left - dx, b.bottom - dy, truncate=True)
    east, north = tms.lnglat(b.right + dx, b.top + dy, truncate=True)
    return (west, south, east, north)


def tile_address(tms_id: str, z: int, x: int, y: int) -> TileAddress:
    tms = get_tms(tms_id)
    if not tms.minzoom <= z <= tms.maxzoom:
        raise TileOutOfRange(f"zoom {z} is outside {tms_id} ({tms.minzoom}-{tms.maxzoom})")
    matrix = tms.matrix(z)
    if not (0 <= x < matrix.matrixWidth and 0 <= y < matrix.matrixHeight):
        raise TileOutOfRange(
            f"tile {z}/{x}/{y} is outside {tms_id}: at zoom {z} x is 0-{matrix.matrixWidth - 1} "
            f"and y is 0-{matrix.matrixHeight - 1}"
        )
    return TileAddress(tms, z, x, y)


def tile_ranges(
    tms: TileMatrixSet, bbox: tuple[float, float, float, float], zoom: int, margin: float = 0.0
) -> tuple[int, int, int, int]:
    """(xmin, ymin, xmax, ymax) of the tiles at ``zoom`` that a lon/lat bbox touches, allowing for tiles whose
    buffer (``margin`` tile widths) reaches the bbox. The same tiles as ``tms.tile(..., truncate=True)`` of its
    corners."""
    west, south, east, north = bbox
    left, top = _to_tms_crs(str(tms.id), west, north)
    right, bottom = _to_tms_crs(str(tms.id), east, south)
    # morecantile's public ``tile`` builds two transformers and a densified transform of the set's bounds on
    # every call (150 us): each edit's purge calls this per cached zoom in every process, which made writes
    # slow down as the cache filled. ``_tile`` is the index arithmetic alone.
    upper_left = tms._tile(left, top, zoom, ignore_coalescence=False)
    lower_right = tms._tile(right, bottom, zoom, ignore_coalescence=False)
    grow = 1 if margin > 0 else 0
    matrix = tms.matrix(zoom)
    return (
        max(upper_left.x - grow, 0),
        max(upper_left.y - grow, 0),
        min(lower_right.x + grow, matrix.matrixWidth - 1),
        min(lower_right.y + grow, matrix.matrixHeight - 1),
    )


@dataclass(frozen=True)
class _Projection:
    """Lon/lat to a set's CRS, with the set's lon/lat extent to clamp to first (morecantile's truncate)."""

    transformer: Transformer
    extent: tuple[float, float, float, float]


@cache
def _projection(tms_id: str) -> _Projection:
    tms = _served(tms_id)
    geographic = tms.geographic_crs
    to_geographic = Transformer.from_crs(tms.crs._pyproj_crs, geographic, always_xy=True)
    left, bottom, right, top = tms.xy_bbox
    extent = to_geographic.transform_bounds(left, bottom, right, top, densify_pts=21)
    return _Projection(Transformer.from_crs(geographic, tms.crs._pyproj_crs, always_xy=True), extent)


def _to_tms_crs(tms_id: str, lon: float, lat: float) -> tuple[float, float]:
    projection = _projection(tms_id)
    west, south, east, north = projection.extent
    x, y = projection.transformer.transform(min(max(lon, west), east), min(max(lat, south), north))
    return float(x), float(y)
