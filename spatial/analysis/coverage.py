"""Facility coverage: each residential building's nearest facility (``sjoin_nearest`` in EPSG:4547, metres) and
whether it lies within reach. Facilities are buildings of use 'public' (schools, clinics, service centres) unless
the caller brings their own; 1000 m is the reach of Shenzhen's 15-minute community life circle."""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd

from spatial.analysis import read
from spatial.analysis.connect import EngineLike
from spatial.analysis.population import population_table
from spatial.analysis.viewer import Analyst, Viewer
from spatial.errors import InvalidInput

METRIC_CRS = 4547
DEFAULT_REACH_M = 1000.0
RESIDENTIAL_USES = ("residential", "urban_village", "mixed")
# Public buildings are a public layer: a grid worker's nearest clinic may well lie outside their grid.
_PUBLIC_READER = Analyst(role="planner")


def nearest_facility(demand: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, reach_m: float,
                     facility_id: str = "id") -> gpd.GeoDataFrame:
    """`demand` with `facility_id` and `distance_m` of its nearest facility (footprint to footprint) and
    `covered` (distance <= reach). Ties keep the lowest facility id, so the answer is deterministic."""
    if reach_m <= 0:
        raise InvalidInput("the reach must be positive")
    if facilities.empty:
        raise InvalidInput("there are no facilities to measure coverage against")
    left = demand.to_crs(METRIC_CRS)
    right = facilities[[facility_id, facilities.geometry.name]].rename(columns={facility_id: "facility_id"})
    joined = gpd.sjoin_nearest(left, right.to_crs(METRIC_CRS), how="left", distance_col="distance_m")
    joined = joined.sort_values("facility_id").loc[lambda f: ~f.index.duplicated(keep="first")].sort_index()
    joined = joined.drop(columns="index_right").to_crs(4326)
    joined["covered"] = joined["distance_m"] <= reach_m
    return joined


def facility_coverage(engine: EngineLike, viewer: Viewer, as_of: read.DateLike = None,
                      reach_m: float = DEFAULT_REACH_M, facility_uses: Sequence[str] = ("public",)
                      ) -> gpd.GeoDataFrame:
    """Residential buildings with `residents`, their nearest facility, distance and coverage."""
    homes = read.buildings(engine, viewer, as_of, uses=RESIDENTIAL_USES)
    persons = population_table(engine, viewer, "building", as_of).set_index("code")["persons"]
    homes["residents"] = homes["id"].astype(str).map(persons).fillna(0).astype("int64")
    facilities = read.buildings(engine, _PUBLIC_READER, as_of, uses=facility_uses)
    return nearest_facility(homes, facilities, reach_m)


def coverage_summary(covered: gpd.GeoDataFrame) -> dict[str, float | None]:
    residents = covered["residents"].sum()
    reached = covered.loc[covered["covered"], "residents"].sum()
    return {"buildings": len(covered), "residents": int(residents), "residents_covered": int(reached),
            "share_covered": float(reached / residents) if residents else 0.0,
            # None, not NaN, when the caller's scope holds no building (a grid worker's empty grid).
            "median_distance_m": float(covered["distance_m"].median()) if len(covered) else None}
