"""Population density rasterised to a Cloud-Optimized GeoTIFF in EPSG:4547: residents are placed at their
building's centroid and summed per square cell, the value is persons per km²."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
from rasterio.transform import from_origin

from spatial.analysis import read
from spatial.analysis.connect import EngineLike
from spatial.analysis.population import population_table
from spatial.analysis.viewer import Viewer
from spatial.errors import InvalidInput

METRIC_CRS = 4547
NODATA = -1.0


@dataclass(frozen=True)
class DensityGrid:
    density: np.ndarray  # persons per km², float32, row 0 = north
    transform: rasterio.Affine
    cell_m: float


def rasterise_points(x: np.ndarray, y: np.ndarray, weights: np.ndarray, cell_m: float) -> DensityGrid:
    """Sum `weights` per `cell_m` square cell, on cell edges snapped to multiples of `cell_m` (EPSG:4547)."""
    if cell_m <= 0:
        raise InvalidInput("the cell size must be positive")
    if len(x) == 0:
        raise InvalidInput("there are no residents to rasterise")
    west, south = np.floor(x.min() / cell_m) * cell_m, np.floor(y.min() / cell_m) * cell_m
    east, north = (np.floor(x.max() / cell_m) + 1) * cell_m, (np.floor(y.max() / cell_m) + 1) * cell_m
    columns, rows = round((east - west) / cell_m), round((north - south) / cell_m)
    col = np.minimum(((x - west) // cell_m).astype(int), columns - 1)
    row = np.minimum(((north - y) // cell_m).astype(int), rows - 1)
    counts = np.zeros((rows, columns), dtype="float64")
    np.add.at(counts, (row, col), weights)
    density = (counts / (cell_m * cell_m / 1e6)).astype("float32")
    return DensityGrid(density, from_origin(west, north, cell_m, cell_m), cell_m)


def write_cog(grid: DensityGrid, path: Path) -> Path:
    """A single-band float32 COG (deflate, internal overviews), readable by rio-tiler."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed: a concurrent reader (another API worker) never sees half a file.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    profile = {"driver": "COG", "height": grid.density.shape[0], "width": grid.density.shape[1], "count": 1,
               "dtype": "float32", "crs": f"EPSG:{METRIC_CRS}", "transform": grid.transform, "nodata": NODATA,
               "compress": "deflate", "blocksize": 256, "overview_resampling": "average"}
    with rasterio.open(temporary, "w", **profile) as target:
        target.write(grid.density, 1)
        target.update_tags(units="persons per km2", cell_m=str(grid.cell_m))
    os.replace(temporary, path)
    return path


def resident_points(engine: EngineLike, viewer: Viewer, as_of: read.DateLike = None) -> gpd.GeoDataFrame:
    """Building centroids (EPSG:4547) weighted by their residents."""
    persons = population_table(engine, viewer, "building", as_of).set_index("code")["persons"]
    homes = read.buildings(engine, viewer, as_of, ids=[int(code) for code in persons.index])
    homes["persons"] = homes["id"].astype(str).map(persons).astype("int64")
    return homes.set_geometry(homes.geometry.to_crs(METRIC_CRS).centroid)


def population_density_raster(engine: EngineLike, viewer: Viewer, path: Path, as_of: read.DateLike = None,
                              cell_m: float = 100.0) -> Path:
    points = resident_points(engine, viewer, as_of)
    grid = rasterise_points(points.geometry.x.to_numpy(), points.geometry.y.to_numpy(),
                            points["persons"].to_numpy(dtype="float64"), cell_m)
    return write_cog(grid, path)
