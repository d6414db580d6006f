"""Economic potential (Harris's market potential): each area's reach to the economic mass of all areas,
P_i = sum_j M_j / d_ij, with centroid distances in metres (EPSG:4547) and the area's own mass at its internal
distance d_ii = (2/3) * sqrt(area_i / pi), the mean distance to a point of a disc of the same area."""

from __future__ import annotations

import geopandas as gpd
import numpy as np

METRIC_CRS = 4547


def economic_potential(areas: gpd.GeoDataFrame, mass: str = "employees") -> gpd.GeoDataFrame:
    """`areas` with `potential` (mass per km of distance) and its share of the maximum."""
    metric = areas.geometry.to_crs(METRIC_CRS)
    centroids = np.column_stack([metric.centroid.x, metric.centroid.y])
    distance_m = np.hypot(*(centroids[:, None, :] - centroids[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(distance_m, (2.0 / 3.0) * np.sqrt(metric.area.to_numpy() / np.pi))
    masses = areas[mass].to_numpy(dtype="float64")
    out = areas.copy()
    out["potential"] = (masses[None, :] / (distance_m / 1000.0)).sum(axis=1)
    top = out["potential"].max()
    out["potential_index"] = out["potential"] / top if top > 0 else 0.0
    return out
