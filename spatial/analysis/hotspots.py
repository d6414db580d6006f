"""Enterprise density per grid and its hot spots: Getis-Ord Gi* and local Moran's I (esda, libpysal).

Contiguity is Queen on the grid polygons; a grid with no neighbour (an island) is attached to its nearest grid so
that every statistic is defined. Significance is by conditional permutation with a fixed seed (reproducible).
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
from esda.getisord import G_Local
from esda.moran import Moran_Local
from libpysal.weights import KNN, W, attach_islands
from libpysal.weights import Queen as QueenWeights

from spatial.analysis import read
from spatial.analysis.connect import EngineLike
from spatial.analysis.population import attach
from spatial.analysis.sql import as_of_query
from spatial.analysis.viewer import Viewer, require_internal
from spatial.errors import InvalidInput

METRIC_CRS = 4547
COUNT_COLUMNS = ("enterprises", "companies", "individual_businesses", "employees")
MORAN_QUADRANTS = {1: "high-high", 2: "low-high", 3: "low-low", 4: "high-low"}


def contiguity_weights(areas: gpd.GeoDataFrame) -> W:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # libpysal warns about islands; we attach them below
        queen = QueenWeights.from_dataframe(areas, use_index=False)
        if queen.islands:
            queen = attach_islands(queen, KNN.from_dataframe(areas.representative_point().to_frame(), k=1))
    return queen


def hot_spots(areas: gpd.GeoDataFrame, column: str, permutations: int = 999, alpha: float = 0.05,
              seed: int = 12345) -> gpd.GeoDataFrame:
    """`areas` with Gi* (binary weights, self included) and local Moran's I (row-standardised) of `column`."""
    if len(areas) < 3:
        raise InvalidInput("hot-spot statistics need at least three areas")
    values = areas[column].to_numpy(dtype="float64")
    weights = contiguity_weights(areas)
    gi = G_Local(values, weights, transform="B", star=True, permutations=permutations, seed=seed)
    weights.transform = "R"
    moran = Moran_Local(values, weights, permutations=permutations, seed=seed)
    out = areas.copy()
    out["gi_star"] = gi.Gs
    out["gi_z"] = gi.Zs
    out["gi_p"] = gi.p_sim
    out["hot_spot"] = np.select([(gi.p_sim < alpha) & (gi.Zs > 0), (gi.p_sim < alpha) & (gi.Zs < 0)],
                                ["hot", "cold"], "not significant")
    out["moran_i"] = moran.Is
    out["moran_p"] = moran.p_sim
    quadrant = np.vectorize(MORAN_QUADRANTS.get)(moran.q)
    out["moran_cluster"] = np.where(moran.p_sim < alpha, quadrant, "not significant")
    return out


def enterprise_density(engine: EngineLike, viewer: Viewer, as_of: read.DateLike = None) -> gpd.GeoDataFrame:
    """Grids with active enterprises, companies, individual businesses, employees, and enterprises per km²."""
    require_internal(viewer, "enterprise figures")
    params = read.query_params(viewer, as_of, level="grid")
    stats = read.frame(engine, as_of_query("enterprises.sql"), params)
    grids = attach(read.areas(engine, viewer, "grid", as_of), stats, COUNT_COLUMNS)
    grids["area_km2"] = grids.geometry.to_crs(METRIC_CRS).area / 1e6
    grids["enterprises_per_km2"] = grids["enterprises"] / grids["area_km2"]
    return grids


def enterprise_hot_spots(engine: EngineLike, viewer: Viewer, as_of: read.DateLike = None,
                         permutations: int = 999) -> gpd.GeoDataFrame:
    return hot_spots(enterprise_density(engine, viewer, as_of), "enterprises_per_km2", permutations)
