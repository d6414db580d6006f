"""spatial.crs: supported codes, GCJ-02/BD-09 offsets and transformations, against independent references.

Reference values and where they come from:
- EPSG:4547 easting/northing: an independent Krueger-series Gauss-Kruger projection written out below (GRS80,
  central meridian 114E, false easting 500 km, no zone prefix), plus the values pinned to the millimetre.
- GCJ-02: the test vectors published with googollee/eviltransform (go/transform_test.go), reproduced by every
  port of the standard algorithm (Go, JS, Rust, Swift, Java).
- BD-09: the values in wandergis/coordtransform's README/tests (gcj02_to_bd09(116.404, 39.915)).
- The Shenzhen offset quoted in ../shared/data/real/README.md (+0.0050 deg lon / -0.0027 deg lat, about
  500 m x 300 m).
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, Polygon

from spatial.crs import (
    BD09,
    CANONICAL_EPSG,
    CRS84_URI,
    GCJ02,
    PSEUDO_CRS_ATTR,
    SUPPORTED,
    UnsupportedCrs,
    bd09_to_gcj02,
    bd09_to_wgs84,
    crs_uri,
    from_crs,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    in_china,
    parse_crs,
    served_crs,
    to_crs,
    transform_geometry,
    transform_xy,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

REAL_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
LONGGANG = (114.25, 22.72)


def ground_distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Good enough at the sub-kilometre scale of these tests."""
    east = (lon2 - lon1) * 111_320.0 * math.cos(math.radians(lat1))
    north = (lat2 - lat1) * 110_574.0
    return math.hypot(east, north)


# --- EPSG:4547, checked without trusting PROJ ------------------------------------------------------------


def gauss_kruger_grs80(lon: float, lat: float, central_meridian: float) -> tuple[float, float]:
    """Transverse Mercator by the Krueger n-series (4th order, mm accuracy within a 3-degree zone)."""
    a, f = 6378137.0, 1 / 298.257222101
    n = f / (2 - f)
    big_a = a / (1 + n) * (1 + n**2 / 4 + n**4 / 64)
    alpha = (
        n / 2 - 2 * n**2 / 3 + 5 * n**3 / 16 + 41 * n**4 / 180,
        13 * n**2 / 48 - 3 * n**3 / 5 + 557 * n**4 / 1440,
        61 * n**3 / 240 - 103 * n**4 / 140,
        49561 * n**4 / 161280,
    )
    phi, lam = math.radians(lat), math.radians(lon - central_meridian)
    two_sqrt_n = 2 * math.sqrt(n) / (1 + n)
    t = math.sinh(math.atanh(math.sin(phi)) - two_sqrt_n * math.atanh(two_sqrt_n * math.sin(phi)))
    xi = math.atan2(t, math.cos(lam))
    eta = math.atanh(math.sin(lam) / math.sqrt(1 + t * t))
    easting = eta + sum(al * math.cos(2 * j * xi) * math.sinh(2 * j * eta) for j, al in enumerate(alpha, 1))
    northing = xi + sum(al * math.sin(2 * j * xi) * math.cosh(2 * j * eta) for j, al in enumerate(alpha, 1))
    return 500_000.0 + big_a * easting, big_a * northing


def test_epsg4547_is_the_gauss_kruger_zone_we_think() -> None:
    crs = pyproj.CRS.from_epsg(4547)
    assert crs.coordinate_operation is not None and crs.ellipsoid is not None
    params = {p.name: p.value for p in crs.coordinate_operation.params}
    assert params["Longitude of natural origin"] == 114
    assert params["False easting"] == 500_000  # no "38" zone prefix in 4547 (that is EPSG:4526)
    assert params["Scale factor at natural origin"] == 1
    assert crs.ellipsoid.name == "CGCS2000"
    assert [axis.direction for axis in crs.axis_info] == ["north", "east"]


def test_longgang_to_epsg4547_matches_independent_gauss_kruger() -> None:
    easting, northing = transform_xy(*LONGGANG, 4326, 4547)
    expected_e, expected_n = gauss_kruger_grs80(*LONGGANG, central_meridian=114.0)
    assert easting == pytest.approx(expected_e, abs=0.005)
    assert northing == pytest.approx(expected_n, abs=0.005)
    # Pinned: 0.25 deg east of the central meridian is ~25.7 km east of the 500 km false easting.
    assert easting == pytest.approx(525_683.252, abs=0.002)
    assert northing == pytest.approx(2_513_551.443, abs=0.002)
    lon, lat = transform_xy(easting, northing, "EPSG:4547", "EPSG:4326")
    assert ground_distance_m(lon, lat, *LONGGANG) < 1e-6


def test_cgcs2000_is_wgs84_but_keeps_its_tag() -> None:
    assert transform_xy(*LONGGANG, 4326, 4490) == LONGGANG
    assert transform_xy(*LONGGANG, "CRS84", 4490) == LONGGANG
    assert transform_xy(*LONGGANG, 4490, 4547) == transform_xy(*LONGGANG, 4326, 4547)


def test_web_mercator_matches_spherical_formula() -> None:
    x, y = transform_xy(*LONGGANG, 4326, 3857)
    radius = 6378137.0
    assert x == pytest.approx(radius * math.radians(LONGGANG[0]), abs=1e-6)
    latitude = math.radians(LONGGANG[1])
    assert y == pytest.approx(radius * math.log(math.tan(math.pi / 4 + latitude / 2)), abs=1e-6)


# --- GCJ-02 and BD-09 ------------------------------------------------------------------------------------

# (wgs lon, wgs lat, gcj lon, gcj lat), from googollee/eviltransform's test vectors.
EVILTRANSFORM_VECTORS = [
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),  # Shanghai
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),  # Shenzhen (Nanshan)
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),  # Beijing
]


@pytest.mark.parametrize(("wgs_lon", "wgs_lat", "gcj_lon", "gcj_lat"), EVILTRANSFORM_VECTORS)
def test_gcj02_reference_vectors(wgs_lon: float, wgs_lat: float, gcj_lon: float, gcj_lat: float) -> None:
    lon, lat = wgs84_to_gcj02(wgs_lon, wgs_lat)
    assert (lon, lat) == pytest.approx((gcj_lon, gcj_lat), abs=1e-9)
    # The inverse is iterated, not the one-step approximation: it must land back to ~0.1 mm.
    lon, lat = gcj02_to_wgs84(gcj_lon, gcj_lat)
    assert (lon, lat) == pytest.approx((wgs_lon, wgs_lat), abs=1e-9)


def test_shenzhen_offset_matches_the_data_readme() -> None:
    """GCJ-02 data read as WGS-84 sits ~+0.005 deg lon / -0.003 deg lat (~500 m east, ~300 m south)."""
    gcj_lon, gcj_lat = wgs84_to_gcj02(*LONGGANG)
    dlon, dlat = gcj_lon - LONGGANG[0], gcj_lat - LONGGANG[1]
    assert 0.0045 < dlon < 0.0055
    assert -0.0033 < dlat < -0.0025
    east_m = dlon * 111_320.0 * math.cos(math.radians(LONGGANG[1]))
    north_m = dlat * 110_574.0
    assert 450 < east_m < 550
    assert -350 < north_m < -250


def test_bd09_reference_vectors() -> None:
    assert gcj02_to_bd09(116.404, 39.915) == pytest.approx((116.41036949371029, 39.92133699351021), abs=1e-12)
    # coordtransform's bd09_to_gcj02 is Baidu's one-step approximation; ours is iterated, so it agrees only
    # to centimetres with it but reproduces the forward formula exactly.
    lon, lat = bd09_to_gcj02(116.404, 39.915)
    assert ground_distance_m(lon, lat, 116.39762729119315, 39.90865673957631) < 0.1
    assert gcj02_to_bd09(lon, lat) == pytest.approx((116.404, 39.915), abs=1e-10)


@pytest.mark.parametrize(
    ("lon", "lat", "shifted"),
    [
        (114.25, 22.72, True),  # Longgang
        (116.39, 39.91, True),  # Beijing
        (87.62, 43.83, True),  # Urumqi
        (91.11, 29.65, True),  # Lhasa
        (110.35, 20.02, True),  # Haikou
        (114.158, 22.282, True),  # Hong Kong Central: AMap publishes it in GCJ-02 too
        (121.5654, 25.0330, False),  # Taipei
        (105.8342, 21.0278, False),  # Hanoi: inside the rough box, outside China
        (106.91, 47.92, False),  # Ulaanbaatar
        (126.978, 37.566, False),  # Seoul
        (103.82, 1.35, False),  # Singapore: inside the rough box
        (139.69, 35.69, False),  # Tokyo
        (-0.1276, 51.5072, False),  # London
    ],
)
def test_shifted_only_in_china(lon: float, lat: float, shifted: bool) -> None:
    assert in_china(lon, lat) is shifted
    moved = wgs84_to_gcj02(lon, lat) != (lon, lat)
    assert moved is shifted
    if not shifted:
        assert gcj02_to_wgs84(lon, lat) == (lon, lat)


def well_inside_china(lon: float, lat: float, margin: float = 0.02) -> bool:
    """Away from the edge of the shifted region, where the inverse is ambiguous by definition."""
    offsets = (-margin, 0.0, margin)
    return all(bool(in_china(lon + dx, lat + dy)) for dx in offsets for dy in offsets)


china_lon = st.floats(min_value=73.0, max_value=135.0)
china_lat = st.floats(min_value=18.0, max_value=54.0)


@settings(max_examples=300, deadline=None)
@given(china_lon, china_lat)
def test_gcj02_round_trip_is_sub_centimetre(lon: float, lat: float) -> None:
    assume(well_inside_china(lon, lat))
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert ground_distance_m(*back, lon, lat) < 0.01


@settings(max_examples=300, deadline=None)
@given(china_lon, china_lat)
def test_bd09_round_trips_are_sub_centimetre(lon: float, lat: float) -> None:
    back = bd09_to_gcj02(*gcj02_to_bd09(lon, lat))
    assert ground_distance_m(*back, lon, lat) < 0.01
    assume(well_inside_china(lon, lat))
    back = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    assert ground_distance_m(*back, lon, lat) < 0.01


outside_box = st.one_of(
    st.tuples(st.floats(-180.0, 72.0), st.floats(-90.0, 90.0)),
    st.tuples(st.floats(137.9, 180.0), st.floats(-90.0, 90.0)),
    st.tuples(st.floats(-180.0, 180.0), st.floats(-90.0, 0.8)),
    st.tuples(st.floats(-180.0, 180.0), st.floats(55.9, 90.0)),
)


@given(outside_box)
def test_gcj02_is_identity_outside_china(point: tuple[float, float]) -> None:
    assert wgs84_to_gcj02(*point) == point
    assert gcj02_to_wgs84(*point) == point


points_in_china = st.lists(st.tuples(china_lon, china_lat), min_size=1, max_size=20)


@given(points_in_china)
def test_vectorised_equals_scalar(points: list[tuple[float, float]]) -> None:
    lons, lats = np.array(points).T
    for func in (wgs84_to_gcj02, gcj02_to_wgs84, wgs84_to_bd09, bd09_to_wgs84):
        out_lon, out_lat = func(lons, lats)
        for i, (lon, lat) in enumerate(points):
            # Iterated inverses stop when the *whole batch* has converged, so allow 1e-10 deg (~0.01 mm).
            assert func(lon, lat) == pytest.approx((out_lon[i], out_lat[i]), abs=1e-10)


def test_shapes_are_preserved() -> None:
    lon = np.full((2, 3), 114.25)
    lat = np.full((2, 3), 22.72)
    for func in (wgs84_to_gcj02, gcj02_to_wgs84, gcj02_to_bd09, bd09_to_gcj02, wgs84_to_bd09, bd09_to_wgs84):
        out_lon, out_lat = func(lon, lat)
        assert out_lon.shape == out_lat.shape == (2, 3)
        scalar_lon, scalar_lat = func(114.25, 22.72)
        assert type(scalar_lon) is float and type(scalar_lat) is float
    x, y = transform_xy(lon, lat, GCJ02, 4547)
    assert x.shape == y.shape == (2, 3)
    assert isinstance(transform_xy(114.25, 22.72, BD09, 3857)[0], float)


def test_nan_passes_through_without_warnings() -> None:
    with np.errstate(all="raise"):
        lon, _ = gcj02_to_wgs84(np.array([np.nan, 114.25]), np.array([22.72, 22.72]))
    assert np.isnan(lon[0])
    assert not np.isnan(lon[1])


# --- parse_crs -------------------------------------------------------------------------------------------

ACCEPTED = [
    ("EPSG:4490", "EPSG:4490"),
    ("epsg:4490", "EPSG:4490"),
    ("4490", "EPSG:4490"),
    (4490, "EPSG:4490"),
    (" 4547 ", "EPSG:4547"),
    ("http://www.opengis.net/def/crs/EPSG/0/4490", "EPSG:4490"),
    ("HTTP://WWW.OPENGIS.NET/DEF/CRS/EPSG/0/3857", "EPSG:3857"),
    ("urn:ogc:def:crs:EPSG::4326", "EPSG:4326"),
    ("http://www.opengis.net/def/crs/OGC/1.3/CRS84", "OGC:CRS84"),
    ("CRS84", "OGC:CRS84"),
    ("OGC:CRS84", "OGC:CRS84"),
    ("gcj02", "GCJ02"),
    ("GCJ-02", "GCJ02"),
    ("bd09", "BD09"),
    ("BD-09", "BD09"),
]
REJECTED = ["EPSG:4479", 32650, "4326x", "", "wgs84", "http://www.opengis.net/def/crs/EPSG/0/9", True, 4326.0]


@pytest.mark.parametrize(("value", "code"), ACCEPTED)
def test_parse_crs_accepts(value: str | int, code: str) -> None:
    assert parse_crs(value).code == code


@pytest.mark.parametrize("value", REJECTED)
def test_parse_crs_rejects_with_the_accepted_list(value: object) -> None:
    with pytest.raises(UnsupportedCrs, match="accepted: CRS84, EPSG:4326, EPSG:4490") as excinfo:
        parse_crs(value)  # type: ignore[arg-type]
    assert isinstance(excinfo.value, ValueError)


def test_every_supported_value_parses() -> None:
    assert {parse_crs(value).code for value in SUPPORTED} == {
        "OGC:CRS84", "EPSG:4326", "EPSG:4490", "EPSG:4547", "EPSG:3857", "GCJ02", "BD09",
    }  # fmt: skip


def test_crs_refs_agree_with_pyproj() -> None:
    for ref in served_crs():
        assert ref.epsg is not None and ref.uri is not None
        official = pyproj.CRS("OGC:CRS84") if ref.code == "OGC:CRS84" else pyproj.CRS.from_epsg(ref.epsg)
        assert ref.axis_order_lat_first is (official.axis_info[0].direction == "north"), ref.code
        assert ref.is_geographic is official.is_geographic, ref.code
    crs84 = parse_crs("CRS84")
    assert (crs84.uri, crs84.epsg, crs84.axis_order_lat_first) == (CRS84_URI, 4326, False)
    assert parse_crs(4547).axis_order_lat_first is True
    assert parse_crs(4490).uri == crs_uri(4490) == "http://www.opengis.net/def/crs/EPSG/0/4490"
    assert served_crs()[0] == crs84
    for pseudo in (GCJ02, BD09):
        ref = parse_crs(pseudo)
        assert ref.is_pseudo and ref.epsg is None and ref.uri is None and ref.is_geographic
        assert ref not in served_crs()


# --- transform_xy and geometries -------------------------------------------------------------------------


def test_pseudo_crs_chain_through_wgs84() -> None:
    gcj = wgs84_to_gcj02(*LONGGANG)
    assert transform_xy(*gcj, GCJ02, 4326) == pytest.approx(LONGGANG, abs=1e-9)
    assert transform_xy(*gcj, GCJ02, 4547) == pytest.approx(transform_xy(*LONGGANG, 4326, 4547), abs=1e-4)
    easting, northing = transform_xy(*LONGGANG, 4326, 4547)
    assert transform_xy(easting, northing, 4547, GCJ02) == pytest.approx(gcj, abs=1e-9)
    bd = transform_xy(*gcj, GCJ02, BD09)
    assert bd == gcj02_to_bd09(*gcj)
    assert transform_xy(*bd, BD09, "EPSG:4490") == pytest.approx(LONGGANG, abs=1e-9)


def test_transform_xy_rejects_unsupported() -> None:
    with pytest.raises(UnsupportedCrs):
        transform_xy(1.0, 2.0, 4326, 32650)


def test_transform_geometry_keeps_z_none_and_dimension() -> None:
    polygon = Polygon([(114.2, 22.7, 10.0), (114.3, 22.7, 20.0), (114.3, 22.8, 30.0), (114.2, 22.7, 10.0)])
    out = transform_geometry(polygon, 4326, 4547)
    assert out.has_z
    assert [c[2] for c in out.exterior.coords] == [10.0, 20.0, 30.0, 10.0]
    assert out.exterior.coords[1][:2] == pytest.approx(transform_xy(114.3, 22.7, 4326, 4547), abs=1e-6)
    flat = transform_geometry(Point(*LONGGANG), 4326, GCJ02)
    assert not flat.has_z
    assert (flat.x, flat.y) == wgs84_to_gcj02(*LONGGANG)
    assert transform_geometry(None, 4326, 3857) is None


def test_transform_geometry_over_an_array() -> None:
    geoms = np.array([Point(*LONGGANG), LineString([(114.0, 22.5), (114.5, 22.6)]), None], dtype=object)
    out = transform_geometry(geoms, GCJ02, 4326)
    assert out[2] is None
    assert shapely.get_coordinates(out[0])[0] == pytest.approx(gcj02_to_wgs84(*LONGGANG), abs=1e-12)
    assert shapely.get_num_coordinates(out[1]) == 2


# --- GeoDataFrames ---------------------------------------------------------------------------------------


@pytest.fixture
def districts() -> gpd.GeoDataFrame:
    path = REAL_DATA / "shenzhen" / "shenzhen_districts_tbd.json"
    if not path.exists():
        pytest.skip(f"real data not found at {path}")
    return gpd.read_file(path)


def test_from_crs_fixes_amap_boundaries(districts: gpd.GeoDataFrame) -> None:
    # Simulate an AMap/DataV download: GCJ-02 coordinates that GDAL tags as WGS-84.
    amap = to_crs(districts, GCJ02)
    assert amap.crs.to_epsg() == 4326
    assert amap.attrs[PSEUDO_CRS_ATTR] == GCJ02
    original = shapely.get_coordinates(districts.geometry.to_numpy())
    dlon, dlat = (shapely.get_coordinates(amap.geometry.to_numpy()) - original).T
    assert (dlon > 0.004).all() and (dlon < 0.006).all()
    assert (dlat > -0.0035).all() and (dlat < -0.002).all()

    amap.attrs.clear()  # a real download carries no marker, only the (wrong) EPSG:4326 tag
    fixed = from_crs(amap, GCJ02)
    assert fixed.crs.to_epsg() == CANONICAL_EPSG
    assert PSEUDO_CRS_ATTR not in fixed.attrs
    assert len(fixed) == len(districts)
    assert fixed.index.equals(districts.index)
    assert fixed.drop(columns="geometry").equals(districts.drop(columns="geometry"))
    restored = shapely.get_coordinates(fixed.geometry.to_numpy())
    assert np.abs(original - restored).max() < 1e-9  # ~0.1 mm


def test_to_crs_reads_its_own_pseudo_marker(districts: gpd.GeoDataFrame) -> None:
    back = to_crs(to_crs(districts, BD09), 4326)
    original = shapely.get_coordinates(districts.geometry.to_numpy())
    assert np.abs(original - shapely.get_coordinates(back.geometry.to_numpy())).max() < 1e-9


def test_to_crs_keeps_the_tag_asked_for(districts: gpd.GeoDataFrame) -> None:
    cgcs = to_crs(districts, "EPSG:4490")
    assert cgcs.crs.to_epsg() == 4490
    original = shapely.get_coordinates(districts.geometry.to_numpy())
    assert (shapely.get_coordinates(cgcs.geometry.to_numpy()) == original).all()
    gk = to_crs(cgcs, 4547)
    assert gk.crs.to_epsg() == 4547
    minx, miny, maxx, maxy = gk.total_bounds
    assert 420_000 < minx < maxx < 570_000  # Shenzhen spans 113.75E..114.63E around the 114E meridian
    assert 2_470_000 < miny < maxy < 2_540_000
    crs84 = to_crs(gk, "CRS84")
    assert crs84.crs == pyproj.CRS("OGC:CRS84")
    assert np.abs(original - shapely.get_coordinates(crs84.geometry.to_numpy())).max() < 1e-9


def test_gdf_conversion_keeps_rows_attributes_and_geometry_name() -> None:
    gdf = gpd.GeoDataFrame(
        {"name": ["龙岗", "坪山", "空"], "height": [12.5, 30.0, None]},
        geometry=[Point(*LONGGANG), Point(114.35, 22.69), None],
        crs=4326,
        index=[10, 20, 30],
    ).rename_geometry("geom")
    gdf.attrs["source"] = "test"
    out = to_crs(gdf, 4547)
    assert out.geometry.name == "geom"
    assert list(out.index) == [10, 20, 30]
    assert out["name"].tolist() == ["龙岗", "坪山", "空"]
    assert out.geometry.iloc[2] is None
    assert out.attrs == {"source": "test"}
    assert (out.geometry.iloc[0].x, out.geometry.iloc[0].y) == pytest.approx(
        transform_xy(*LONGGANG, 4326, 4547), abs=1e-6
    )
    assert gdf.crs.to_epsg() == 4326  # the input is untouched


def test_gdf_without_crs_needs_from_crs() -> None:
    untagged = gpd.GeoDataFrame(geometry=[Point(525_683.25, 2_513_551.44)])
    with pytest.raises(UnsupportedCrs, match="from_crs"):
        to_crs(untagged, 4326)
    fixed = from_crs(untagged, 4547)
    assert (fixed.geometry.iloc[0].x, fixed.geometry.iloc[0].y) == pytest.approx(LONGGANG, abs=1e-7)
