"""CRS for onemap: supported codes, the Chinese GCJ-02/BD-09 offsets, and transformations.

All coordinates are passed x first (lon/easting, then lat/northing), whatever the CRS's official axis order.
"""

from spatial.crs.chinese_offsets import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    in_china,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from spatial.crs.codes import (
    BD09,
    CANONICAL_EPSG,
    CRS84,
    CRS84_URI,
    GCJ02,
    PSEUDO_CRS,
    SUPPORTED,
    CrsRef,
    UnsupportedCrs,
    crs_uri,
    parse_crs,
    served_crs,
)
from spatial.crs.transform import (
    PSEUDO_CRS_ATTR,
    CrsLike,
    from_crs,
    to_crs,
    transform_geometry,
    transform_xy,
)

__all__ = [
    "BD09",
    "CANONICAL_EPSG",
    "CRS84",
    "CRS84_URI",
    "GCJ02",
    "PSEUDO_CRS",
    "PSEUDO_CRS_ATTR",
    "SUPPORTED",
    "CrsLike",
    "CrsRef",
    "UnsupportedCrs",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "crs_uri",
    "from_crs",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_china",
    "parse_crs",
    "served_crs",
    "to_crs",
    "transform_geometry",
    "transform_xy",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]
