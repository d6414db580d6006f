"""The coordinate reference systems onemap accepts and serves, and how to name them.

Geometry is stored in EPSG:4326 (CANONICAL_EPSG). CGCS2000 (EPSG:4490) is accepted and served as an alias of
WGS-84: the two differ by centimetres, far below the accuracy of any department's data.

GCJ-02 and BD-09 are "pseudo-CRS": obfuscated lon/lat used by AMap/Tencent and Baidu. They have no EPSG
code and no OGC URI, so they are never advertised in an OGC API ``crs`` list, but data can be converted
from and to them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CANONICAL_EPSG = 4326

CRS84 = "CRS84"
GCJ02 = "GCJ02"
BD09 = "BD09"

SUPPORTED: frozenset[str | int] = frozenset({CRS84, 4326, 4490, 4547, 3857, GCJ02, BD09})
PSEUDO_CRS: frozenset[str] = frozenset({GCJ02, BD09})

_EPSG_URI_PREFIX = "http://www.opengis.net/def/crs/EPSG/0/"
CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def crs_uri(epsg: int) -> str:
    """The OGC URI of an EPSG code, as OGC API Features Part 2 wants it in ``crs`` lists and headers."""
    if isinstance(epsg, bool) or not isinstance(epsg, int) or epsg <= 0:
        raise ValueError(f"not an EPSG code: {epsg!r}")
    return f"{_EPSG_URI_PREFIX}{epsg}"


@dataclass(frozen=True)
class CrsRef:
    """One supported CRS.

    ``epsg`` is the SRID to use in PostGIS (4326 for CRS84 too: same datum, same stored lon/lat order) and is
    None for GCJ-02/BD-09. ``axis_order_lat_first`` is the *official* axis order (first axis points north:
    latitude or northing), which only matters when writing OGC API Features Part 2 output; every function in
    this package itself always takes and returns x=lon/easting, y=lat/northing.
    """

    code: str  # "EPSG:4490", "OGC:CRS84", "GCJ02", "BD09": stable key, and what pyproj/geopandas understand
    epsg: int | None
    name: str
    uri: str | None
    is_geographic: bool
    axis_order_lat_first: bool

    @property
    def is_pseudo(self) -> bool:
        """GCJ-02 or BD-09: not a real CRS, converted by ``chinese_offsets`` rather than PROJ."""
        return self.epsg is None


def _epsg_ref(epsg: int, name: str, *, geographic: bool, lat_first: bool) -> CrsRef:
    return CrsRef(f"EPSG:{epsg}", epsg, name, crs_uri(epsg), geographic, lat_first)


# Axis orders checked against pyproj's CRS.axis_info (EPSG:4547 is "Northing (X), Easting (Y)").
_REFS: dict[str | int, CrsRef] = {
    CRS84: CrsRef("OGC:CRS84", 4326, "WGS 84 (CRS84, lon/lat)", CRS84_URI, True, False),
    4326: _epsg_ref(4326, "WGS 84", geographic=True, lat_first=True),
    4490: _epsg_ref(4490, "CGCS2000", geographic=True, lat_first=True),
    4547: _epsg_ref(4547, "CGCS2000 / 3-degree Gauss-Kruger CM 114E", geographic=False, lat_first=True),
    3857: _epsg_ref(3857, "WGS 84 / Pseudo-Mercator", geographic=False, lat_first=False),
    GCJ02: CrsRef(GCJ02, None, "GCJ-02 (AMap, Tencent)", None, True, False),
    BD09: CrsRef(BD09, None, "BD-09 (Baidu)", None, True, False),
}

# Everything that may precede a bare EPSG number, lower-cased.
_EPSG_FORMS = re.compile(
    r"^(?:epsg:{1,2}|urn:ogc:def:crs:epsg:[\d.]*:|https?://www\.opengis\.net/def/crs/epsg/0/)?(\d+)/?$"
)
_NAMED_FORMS: dict[str, str] = {
    "crs84": CRS84,
    "ogc:crs84": CRS84,
    "urn:ogc:def:crs:ogc:1.3:crs84": CRS84,
    "http://www.opengis.net/def/crs/ogc/1.3/crs84": CRS84,
    "https://www.opengis.net/def/crs/ogc/1.3/crs84": CRS84,
    "gcj02": GCJ02,
    "gcj-02": GCJ02,
    "gcj_02": GCJ02,
    "bd09": BD09,
    "bd-09": BD09,
    "bd_09": BD09,
}

_ACCEPTED_HELP = (
    "accepted: CRS84, EPSG:4326, EPSG:4490, EPSG:4547, EPSG:3857, GCJ02, BD09; "
    "written as 'EPSG:4490', '4490', 4490, 'http://www.opengis.net/def/crs/EPSG/0/4490', "
    "'http://www.opengis.net/def/crs/OGC/1.3/CRS84', "
    "'GCJ-02' or 'BD-09' (case-insensitive)"
)


class UnsupportedCrs(ValueError):
    """The value does not name a CRS onemap supports."""


def _lookup_key(value: str | int) -> str | int | None:
    if isinstance(value, int):
        return value
    text = value.strip().lower()
    if text in _NAMED_FORMS:
        return _NAMED_FORMS[text]
    match = _EPSG_FORMS.match(text)
    return int(match.group(1)) if match else None


def parse_crs(value: str | int | CrsRef) -> CrsRef:
    """Resolve any accepted spelling of a supported CRS; raise UnsupportedCrs otherwise."""
    if isinstance(value, CrsRef):
        return value
    # bool is an int subclass; True must not silently mean EPSG:1.
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise UnsupportedCrs(f"unsupported CRS {value!r}; {_ACCEPTED_HELP}")
    key = _lookup_key(value)
    if key is None or key not in _REFS:
        raise UnsupportedCrs(f"unsupported CRS {value!r}; {_ACCEPTED_HELP}")
    return _REFS[key]


def served_crs() -> tuple[CrsRef, ...]:
    """The CRS an OGC API advertises, CRS84 first (the Part 2 default); pseudo-CRS are left out."""
    return tuple(ref for ref in _REFS.values() if ref.uri is not None)
