"""Each analysis against figures worked out by hand on a small world inserted into a fresh, migrated database.

The world, in EPSG:4547 metres from (E0, N0) near Longgang: grids G1, G2, G3 are 1 km squares side by side
along x. Buildings are 20 m squares: B1 (residential) centred at x=500, B5 (urban village) at x=800, both in G1;
B2 (residential, made commercial later) at x=1500 in G2; B3 (public, the facility) at x=2500 in G3; all at y=500.

People as of 2025-06-30 (age bands 0-14, 15-59, 60+):
  U1 (B1, 25 m²): P1 born 1950 (75), P2 born 2015 (10), P3 born 1990-06-30 (35, migrant)
  U2 (B1, 60 m²): P4 born 1985 (40), moved here from U3 on 2024-01-01
  U3 (B2, 100 m²): P5 born 2010-07-01 (14: turns 15 the next day)
  U5 (B5, 18 m²): P6 born 1965-06-30 (60 that very day); P7 moves in on 2025-07-01
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import psycopg
import pytest
import rasterio
import shapely
from fastapi.testclient import TestClient
from rasterio.transform import from_origin
from sqlalchemy.engine import Engine

from layers.access import ADMIN, PUBLIC, Principal
from spatial.analysis import AnalysisForbidden, connect, read
from spatial.analysis.buffers import event_buffer, metric_buffer
from spatial.analysis.coverage import coverage_summary, facility_coverage
from spatial.analysis.density_raster import population_density_raster, rasterise_points
from spatial.analysis.hotspots import enterprise_density, hot_spots
from spatial.analysis.overcrowding import overcrowding, persons_per_unit
from spatial.analysis.population import population, population_change
from spatial.analysis.potential import economic_potential
from spatial.analysis.terrain import building_terrain
from spatial.database import libpq_url
from tests.conftest import create_database

E0, N0 = 520_000.0, 2_510_000.0
PLANNER = Principal("planner")
G1, G2, G3 = "440307901001001", "440307901001002", "440307901001003"
DAY = "2025-06-30"


def wkt4326(geom: shapely.Geometry) -> str:
    return gpd.GeoSeries([geom], crs=4547).to_crs(4326).iloc[0].wkt


def square(x: float, y: float, half: float) -> shapely.Geometry:
    return shapely.box(E0 + x - half, N0 + y - half, E0 + x + half, N0 + y + half)


ADMIN_AREAS = [
    ("440307", "测试区", "district", None, shapely.box(E0, N0, E0 + 3000, N0 + 1000)),
    ("440307901", "测试街道", "street", "440307", shapely.box(E0, N0, E0 + 3000, N0 + 1000)),
    ("440307901001", "测试社区", "community", "440307901", shapely.box(E0, N0, E0 + 3000, N0 + 1000)),
    (G1, "第1网格", "grid", "440307901001", shapely.box(E0, N0, E0 + 1000, N0 + 1000)),
    (G2, "第2网格", "grid", "440307901001", shapely.box(E0 + 1000, N0, E0 + 2000, N0 + 1000)),
    (G3, "第3网格", "grid", "440307901001", shapely.box(E0 + 2000, N0, E0 + 3000, N0 + 1000)),
]
BUILDINGS = [  # id, use, centre x, grid
    (1, "residential", 500, G1), (5, "urban_village", 800, G1), (2, "residential", 1500, G2), (3, "public", 2500, G3),
]
UNITS = [(1, 1, 25.0, "residential"), (2, 1, 60.0, "residential"), (3, 2, 100.0, "residential"),
         (4, 3, 200.0, "public"), (5, 5, 18.0, "residential")]
PERSONS = [  # id, name, birth, household type
    (1, "张三丰", "1950-01-01", "local"), (2, "李小龙", "2015-03-01", "local"), (3, "王五", "1990-06-30", "migrant"),
    (4, "赵六", "1985-01-01", "local"), (5, "钱七", "2010-07-01", "local"), (6, "孙八", "1965-06-30", "local"),
    (7, "周九", "2000-01-01", "migrant"),
]
RESIDENCES = [  # id, person, unit, from, to
    (1, 1, 1, "2010-01-01", None), (2, 2, 1, "2015-03-02", None), (3, 3, 1, "2020-01-01", None),
    (4, 4, 3, "2018-01-01", "2024-01-01"), (5, 4, 2, "2024-01-01", None), (6, 5, 3, "2011-01-01", None),
    (7, 6, 5, "2019-01-01", None), (8, 7, 5, "2025-07-01", None),
]
ENTERPRISES = [  # id, kind, status, registered, employees, building
    (1, "company", "active", "2015-01-01", 10, 1), (2, "individual", "active", "2024-01-01", 2, 1),
    (3, "company", "deregistered", "2016-01-01", 50, 2), (4, "company", "active", "2026-01-01", 30, 3),
]


def insert_world(conn: psycopg.Connection) -> None:
    for code, name, level, parent, geom in ADMIN_AREAS:
        conn.execute("INSERT INTO onemap.admin_area (code, name, level, parent_code, geom, valid_from) VALUES "
                     "(%s, %s, %s, %s, ST_Multi(ST_GeomFromText(%s, 4326)), '2017-01-01')",
                     (code, name, level, parent, wkt4326(geom)))
    for bid, use, x, grid in BUILDINGS:
        conn.execute(
            "INSERT INTO onemap.building (id, code, address, use, floors, height_m, built_year, street_code, "
            "community_code, grid_code, geom, valid_from) VALUES (%s, %s, %s, %s, 3, 9, 2000, '440307901', "
            "'440307901001', %s, ST_Multi(ST_GeomFromText(%s, 4326)), '2000-01-01')",
            (bid, f"B{bid}", f"测试路{bid}号", use, grid, wkt4326(square(x, 500, 10))))
    for uid, bid, area, use in UNITS:
        conn.execute("INSERT INTO onemap.house_unit (id, building_id, unit_no, floor, room_no, area_m2, use, "
                     "valid_from) VALUES (%s, %s, '1', 1, %s, %s, %s, '2000-01-01')", (uid, bid, str(uid), area, use))
    for pid, name, born, kind in PERSONS:
        conn.execute("INSERT INTO onemap.person (id, id_number, name, sex, birth_date, phone, household_type, "
                     "valid_from) VALUES (%s, %s, %s, 'M', %s, %s, %s, %s)",
                     (pid, f"44030719900101{pid:03d}X", name, born, f"1381234{pid:04d}", kind, born))
    for rid, pid, uid, start, end in RESIDENCES:
        conn.execute("INSERT INTO onemap.residence (id, person_id, house_unit_id, building_id, relation, valid_from, "
                     "valid_to) SELECT %s, %s, id, building_id, 'tenant', %s, %s FROM onemap.house_unit WHERE id = %s",
                     (rid, pid, start, end, uid))
    for eid, kind, status, registered, employees, bid in ENTERPRISES:
        x = next(b[2] for b in BUILDINGS if b[0] == bid)
        conn.execute(
            "INSERT INTO onemap.enterprise (id, credit_code, name, kind, industry, status, registered_on, employees, "
            "building_id, geom, valid_from) VALUES (%s, %s, %s, %s, 'retail', %s, %s, %s, %s, "
            "ST_GeomFromText(%s, 4326), %s)",
            (eid, f"91440300MA5F{eid:06d}", f"企业{eid}", kind, status, registered, employees, bid,
             wkt4326(shapely.Point(E0 + x, N0 + 500)), registered))
    conn.execute("INSERT INTO onemap.event (id, kind, severity, occurred_at, building_id, grid_code, description, "
                 "geom) VALUES (1, 'epidemic', 3, '2025-06-30T10:00:00+08:00', 1, %s, '测试', "
                 "ST_GeomFromText(%s, 4326))", (G1, wkt4326(shapely.Point(E0 + 500, N0 + 500))))
    # A change with history: B2 becomes commercial today, so "as of 2025-06-30" must read it from building_history.
    conn.execute("UPDATE onemap.building SET use = 'commercial' WHERE id = 2")


@pytest.fixture(scope="module")
def world_url(empty_database_url: str) -> Iterator[str]:
    from api.setup import initialise_database

    url = create_database(empty_database_url, f"onemap_analysis_{os.getpid()}")
    initialise_database(url)
    with psycopg.connect(libpq_url(url)) as conn:
        insert_world(conn)
    yield url
    connect(url).dispose()


@pytest.fixture(scope="module")
def engine(world_url: str) -> Engine:
    return connect(world_url)


def by_code(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return frame.set_index("code")


def test_population_and_age_bands_as_of_a_date(engine: Engine) -> None:
    grids = by_code(population(engine, PLANNER, "grid", DAY))
    assert grids.loc[G1, ["persons", "children_0_14", "working_15_59", "elderly_60_plus", "migrants"]].tolist() \
        == [5, 1, 2, 2, 1]
    assert grids.loc[G2, ["persons", "children_0_14"]].tolist() == [1, 1]  # P5 is 14 for one more day
    assert grids.loc[G3, "persons"] == 0
    assert grids.loc[G1, "density_per_km2"] == pytest.approx(5.0, rel=1e-3)  # 1 km² measured in EPSG:4547
    assert grids.loc[G1, "mean_age"] == pytest.approx(
        np.mean([(dt.date(2025, 6, 30) - dt.date.fromisoformat(b)).days / 365.2425
                 for pid, _, b, _ in PERSONS if pid in (1, 2, 3, 4, 6)]))
    street = population(engine, PLANNER, "street", DAY)
    assert street["persons"].tolist() == [6]
    later = by_code(population(engine, PLANNER, "grid", "2025-12-31"))
    assert later.loc[G1, "persons"] == 6  # P7 moved in on 2025-07-01


def test_population_change_between_two_dates(engine: Engine) -> None:
    change = by_code(population_change(engine, PLANNER, "2023-06-30", DAY))
    assert change.loc[G1, ["persons_before", "persons_after", "persons_change"]].tolist() == [4, 5, 1]
    assert change.loc[G2, ["persons_before", "persons_after", "persons_change"]].tolist() == [2, 1, -1]
    assert change.loc[G3, "persons_change"] == 0


def test_persons_per_unit_and_overcrowding(engine: Engine) -> None:
    units = persons_per_unit(engine, PLANNER, DAY).set_index("unit_id")
    assert units["persons"].to_dict() == {1: 3, 2: 1, 3: 1, 5: 1}  # unit 4 is public, not a home
    assert units.loc[1, "m2_per_person"] == pytest.approx(25 / 3)
    assert units["overcrowded"].to_dict() == {1: True, 2: False, 3: False, 5: False}
    grids = by_code(overcrowding(engine, PLANNER, "grid", DAY))
    assert grids.loc[G1, ["units", "occupied_units", "persons", "overcrowded_units", "persons_overcrowded"]
                     ].tolist() == [3, 3, 5, 1, 3]
    assert grids.loc[G1, "persons_per_occupied_unit"] == pytest.approx(5 / 3)
    assert grids.loc[G3, "units"] == 0
    later = by_code(overcrowding(engine, PLANNER, "grid", "2025-12-31"))
    assert later.loc[G1, "overcrowded_units"] == 2  # U5: 18 m² for two people
    loose = by_code(overcrowding(engine, PLANNER, "grid", DAY, min_m2_per_person=8.0))
    assert loose.loc[G1, "overcrowded_units"] == 0  # 25/3 m² is not below 8


def test_enterprise_density_counts_active_enterprises_registered_by_then(engine: Engine) -> None:
    grids = by_code(enterprise_density(engine, PLANNER, DAY))
    assert grids.loc[G1, ["enterprises", "companies", "individual_businesses", "employees"]].tolist() == [2, 1, 1, 12]
    assert grids.loc[G2, "enterprises"] == 0  # deregistered
    assert grids.loc[G3, "enterprises"] == 0  # registered in 2026
    assert grids.loc[G1, "enterprises_per_km2"] == pytest.approx(2.0, rel=1e-3)


def lattice(values: np.ndarray) -> gpd.GeoDataFrame:
    side = int(np.sqrt(len(values)))
    cells = [shapely.box(E0 + c * 500, N0 - r * 500, E0 + (c + 1) * 500, N0 - (r - 1) * 500)
             for r in range(side) for c in range(side)]
    return gpd.GeoDataFrame({"value": values}, geometry=cells, crs=4547).to_crs(4326)


def test_hot_spots_gi_star_and_local_moran_by_hand() -> None:
    values = np.ones(25)
    values[[0, 1, 5, 6]] = 10.0  # a 2x2 block of high values in the north-west corner of a 5x5 lattice
    result = hot_spots(lattice(values), "value", permutations=999)
    total = values.sum()  # 61
    # Gi* with binary Queen weights and the cell itself: the sum over the neighbourhood over the total.
    assert result.loc[0, "gi_star"] == pytest.approx(40 / total)  # the corner and its 3 neighbours
    assert result.loc[1, "gi_star"] == pytest.approx(42 / total)  # 4 high + 2 low
    assert result.loc[24, "gi_star"] == pytest.approx(4 / total)
    assert result.loc[[0, 1, 5, 6], "hot_spot"].eq("hot").all()
    # Local Moran (row-standardised): z_i * mean(z of neighbours) / (sum z² / (n - 1)).
    z = values - values.mean()
    m2 = (z**2).sum() / (len(values) - 1)
    assert result.loc[0, "moran_i"] == pytest.approx(z[0] * np.mean(z[[1, 5, 6]]) / m2)
    assert result.loc[0, "moran_cluster"] == "high-high"
    assert (result.loc[[12, 18], "moran_cluster"] == "not significant").all()


def test_economic_potential_by_hand() -> None:
    areas = gpd.GeoDataFrame({"employees": [10.0, 20.0]},
                             geometry=[shapely.box(E0, N0, E0 + 1000, N0 + 1000),
                                       shapely.box(E0 + 3000, N0, E0 + 4000, N0 + 1000)], crs=4547).to_crs(4326)
    result = economic_potential(areas)
    internal_km = (2 / 3) * np.sqrt(1.0 / np.pi)  # for 1 km²
    assert result.loc[0, "potential"] == pytest.approx(10 / internal_km + 20 / 3.0, rel=1e-4)
    assert result.loc[1, "potential"] == pytest.approx(20 / internal_km + 10 / 3.0, rel=1e-4)
    assert result.loc[1, "potential_index"] == 1.0


def test_metric_buffer_is_metres_in_gauss_kruger() -> None:
    point = gpd.GeoDataFrame(geometry=[shapely.Point(E0, N0)], crs=4547).to_crs(4326)
    zone = metric_buffer(point, 300.0).to_crs(4547).geometry.iloc[0]
    assert zone.area == pytest.approx(np.pi * 300**2, rel=1e-3)


def test_event_buffer_finds_buildings_and_people(engine: Engine) -> None:
    near = event_buffer(engine, PLANNER, 1, 300.0)  # as of the day of the event
    assert sorted(near.buildings["id"]) == [1, 5]  # B5's edge is 290 m away; B2's 990 m
    assert near.buildings.set_index("id")["residents"].to_dict() == {1: 4, 5: 1}
    assert near.summary() == {"buildings": 2, "residents": 5, "children_0_14": 1, "elderly_60_plus": 2}
    assert sorted(event_buffer(engine, PLANNER, 1, 1000.0).buildings["id"]) == [1, 2, 5]


def test_facility_coverage_with_nearest_public_building(engine: Engine) -> None:
    homes = facility_coverage(engine, PLANNER, DAY, reach_m=1000.0).set_index("id")
    assert sorted(homes.index) == [1, 2, 5]  # B2 was still residential then
    assert homes["facility_id"].tolist() == [3, 3, 3]
    assert homes.loc[2, "distance_m"] == pytest.approx(980.0, abs=0.5)  # footprint edge to edge
    assert homes.loc[1, "distance_m"] == pytest.approx(1980.0, abs=0.5)
    assert homes["covered"].to_dict() == {1: False, 2: True, 5: False}
    summary = coverage_summary(homes)
    assert (summary["residents"], summary["residents_covered"]) == (6, 1)
    assert sorted(facility_coverage(engine, PLANNER, None)["id"]) == [1, 5]  # B2 is commercial now


@pytest.fixture(scope="module")
def ramp_dem(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """10 m pixels in EPSG:4547 whose edges sit 5 m off the buildings' edges; elevation = x / 1000 m at the pixel
    centre, so a 20 m building centred at x touches three columns: x-10, x, x+10."""
    path = tmp_path_factory.mktemp("dem") / "ramp.tif"
    columns, rows = 310, 110
    centres = E0 - 50 + 10 * np.arange(columns)
    elevation = np.tile(((centres - E0) / 100.0).astype("float32"), (rows, 1))
    profile = {"driver": "GTiff", "width": columns, "height": rows, "count": 1, "dtype": "float32",
               "crs": "EPSG:4547", "transform": from_origin(E0 - 55, N0 + 1050, 10, 10), "nodata": -9999.0}
    with rasterio.open(path, "w", **profile) as target:
        target.write(elevation, 1)
    return path


def test_terrain_per_building_and_flood_prone(engine: Engine, ramp_dem: Path) -> None:
    terrain = building_terrain(engine, PLANNER, DAY, dem=ramp_dem, flood_level_m=5.0).set_index("id")
    assert terrain.loc[1, ["elevation_min", "elevation_mean", "elevation_max"]].tolist() == pytest.approx(
        [4.9, 5.0, 5.1], abs=1e-4)
    assert terrain.loc[3, "elevation_mean"] == pytest.approx(25.0, abs=1e-4)
    assert terrain["flood_prone"].to_dict() == {1: True, 2: False, 3: False, 5: False}


def test_rasterise_points_by_hand() -> None:
    grid = rasterise_points(np.array([5.0, 15.0, 5.0]), np.array([5.0, 5.0, 15.0]), np.array([2.0, 1.0, 3.0]), 10)
    per_km2 = 1e6 / 100  # one person in a 10 m cell
    assert grid.density.tolist() == [[3 * per_km2, 0], [2 * per_km2, 1 * per_km2]]  # row 0 is north
    assert (grid.transform.c, grid.transform.f) == (0.0, 20.0)


def test_population_density_cog(engine: Engine, tmp_path: Path) -> None:
    path = population_density_raster(engine, PLANNER, tmp_path / "density.tif", DAY, cell_m=100.0)
    with rasterio.open(path) as raster:
        assert raster.crs.to_epsg() == 4547
        assert raster.is_tiled
        density = raster.read(1)
        assert raster.tags()["units"] == "persons per km2"
    assert density.sum() * 0.01 == pytest.approx(6.0)  # every resident, 0.01 km² per cell
    assert density.max() == pytest.approx(400.0)  # B1's four residents in one hectare


def test_history_gives_the_building_as_it_was(engine: Engine) -> None:
    assert read.buildings(engine, PLANNER, DAY, ids=[2])["use"].tolist() == ["residential"]
    assert read.buildings(engine, PLANNER, None, ids=[2])["use"].tolist() == ["commercial"]


def test_masking_follows_the_principal(engine: Engine) -> None:
    masked = read.residents(engine, PLANNER, DAY, building_ids=[1]).set_index("person_id")
    assert masked.loc[1, "name"] == "张**"
    assert masked.loc[1, "phone"] == "138****0001"
    assert masked.loc[1, "id_number"] == "**************001X"
    assert masked["birth_date"].isna().all()
    assert masked.loc[1, "age"] == 75
    clear = read.residents(engine, ADMIN, DAY, building_ids=[1]).set_index("person_id")
    assert clear.loc[1, "name"] == "张三丰"
    police = Principal("department_editor", department="police")
    assert read.residents(engine, police, DAY, building_ids=[1]).set_index("person_id").loc[1, "name"] == "张三丰"


def test_grid_worker_sees_only_their_grid(engine: Engine) -> None:
    worker = Principal("grid_worker", grid_code=G2)
    grids = population(engine, worker, "grid", DAY)
    assert grids["code"].tolist() == [G2]
    assert grids["persons"].tolist() == [1]
    assert read.residents(engine, worker, DAY)["person_id"].tolist() == [5]
    assert enterprise_density(engine, worker, DAY)["enterprises"].sum() == 0


def test_public_sees_no_people(engine: Engine) -> None:
    with pytest.raises(AnalysisForbidden):
        population(engine, PUBLIC, "grid", DAY)
    with pytest.raises(AnalysisForbidden):
        read.residents(engine, PUBLIC, DAY)


def test_analysis_endpoints_return_geojson(platform_env: str, world_url: str) -> None:
    from api.deps import get_principal
    from api.main import app
    from api.routers.analysis import analysis_engine

    app.dependency_overrides[analysis_engine] = lambda: connect(world_url)
    app.dependency_overrides[get_principal] = lambda: PLANNER
    try:
        with TestClient(app) as client:
            found = client.get("/analysis/population", params={"level": "grid", "as_of": DAY})
            assert found.status_code == 200, found.text
            assert found.headers["content-type"].startswith("application/geo+json")
            persons = {f["properties"]["code"]: f["properties"]["persons"] for f in found.json()["features"]}
            assert persons == {G1: 5, G2: 1, G3: 0}
            buffer = client.get("/analysis/events/1/buffer", params={"radius_m": 300}).json()
            assert buffer["summary"]["residents"] == 5 and buffer["zone"]["type"] == "Polygon"
            spots = client.get("/analysis/enterprises/hot-spots", params={"as_of": DAY, "permutations": 99})
            assert spots.status_code == 200 and len(spots.json()["features"]) == 3
            raster = client.get("/analysis/population/density.tif", params={"as_of": DAY})
            assert raster.status_code == 200 and raster.content[:2] in (b"II", b"MM")
            assert client.get("/analysis/events/99/buffer").status_code == 404
            assert client.get("/analysis/population", params={"level": "planet"}).status_code == 400
            far = client.get("/analysis/population", params={"as_of": "9999-12-31"})
            assert far.status_code == 400 and "outside" in far.json()["detail"]
            app.dependency_overrides[get_principal] = lambda: PUBLIC
            assert client.get("/analysis/population").status_code == 403
    finally:
        app.dependency_overrides.clear()
