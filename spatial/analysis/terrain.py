"""Terrain per building from the DEM: zonal elevation statistics (rasterstats, every touched pixel, since most
footprints are smaller than a 30 m SRTM pixel) and a flood-prone flag for low-lying buildings."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
from rasterio.windows import Window, from_bounds
from rasterstats import zonal_stats

from spatial.analysis import read
from spatial.analysis.connect import EngineLike
from spatial.analysis.viewer import Viewer
from spatial.data import SHENZHEN_DEM, data_path

# Below this ground elevation a building is flood-prone: Shenzhen's storm-surge and river-flood plains lie within
# a few metres of mean sea level.
DEFAULT_FLOOD_LEVEL_M = 5.0


def zonal_elevation(buildings: gpd.GeoDataFrame, dem: Path | None = None) -> gpd.GeoDataFrame:
    """`buildings` with elevation_min/mean/max (metres) from the DEM; NaN where the DEM has no data."""
    path = Path(dem or data_path(SHENZHEN_DEM))
    out = buildings.copy()
    if buildings.empty:
        return out.assign(elevation_min=np.nan, elevation_mean=np.nan, elevation_max=np.nan)
    with rasterio.open(path) as source:
        shapes = buildings.geometry.to_crs(source.crs)
        # One read of the window around all buildings, then zonal statistics in memory: reading the file once
        # per building is a hundred times slower.
        window = from_bounds(*shapes.total_bounds, transform=source.transform).round_offsets().round_lengths()
        window = Window(window.col_off - 1, window.row_off - 1, window.width + 3, window.height + 3)
        elevation = source.read(1, window=window, boundless=True, fill_value=source.nodata)
        transform, nodata = source.window_transform(window), source.nodata
    stats = zonal_stats(list(shapes), elevation, affine=transform, stats=["min", "mean", "max"],
                        all_touched=True, nodata=nodata)
    for name in ("min", "mean", "max"):
        out[f"elevation_{name}"] = np.array([s[name] if s[name] is not None else np.nan for s in stats], float)
    return out


def flood_prone(buildings: gpd.GeoDataFrame, flood_level_m: float = DEFAULT_FLOOD_LEVEL_M) -> gpd.GeoDataFrame:
    out = buildings.copy()
    out["flood_prone"] = out["elevation_min"] < flood_level_m
    return out


def building_terrain(engine: EngineLike, viewer: Viewer, as_of: read.DateLike = None, dem: Path | None = None,
                     flood_level_m: float = DEFAULT_FLOOD_LEVEL_M) -> gpd.GeoDataFrame:
    return flood_prone(zonal_elevation(read.buildings(engine, viewer, as_of), dem), flood_level_m)
