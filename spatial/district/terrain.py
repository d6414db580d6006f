"""The real Shenzhen DEM, to keep generated buildings off water, steep slopes and hill tops."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import rasterio
from rasterio.transform import rowcol

from spatial.data import SHENZHEN_DEM, data_path

MAX_SLOPE_DEG = 10.0
MIN_ELEVATION_M = 1.0  # below: sea, reservoirs, SRTM artefacts
MAX_ELEVATION_M = 180.0


@dataclass(frozen=True)
class Terrain:
    elevation: np.ndarray  # float32 metres, NaN where nodata
    slope_deg: np.ndarray
    transform: rasterio.Affine

    def sample(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows, cols = rowcol(self.transform, lon, lat)
        rows = np.clip(np.asarray(rows), 0, self.elevation.shape[0] - 1)
        cols = np.clip(np.asarray(cols), 0, self.elevation.shape[1] - 1)
        return self.elevation[rows, cols], self.slope_deg[rows, cols]

    def buildable(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        elevation, slope = self.sample(lon, lat)
        return (elevation >= MIN_ELEVATION_M) & (elevation <= MAX_ELEVATION_M) & (slope <= MAX_SLOPE_DEG)


def load_terrain() -> Terrain:
    with rasterio.open(data_path(SHENZHEN_DEM)) as src:
        raw = src.read(1)
        transform = src.transform
        elevation = np.where(raw == src.nodata, np.nan, raw).astype("float32")
    # Pixel size in metres: degrees times the length of a degree at this latitude.
    lat0 = np.deg2rad(transform.f + transform.e * elevation.shape[0] / 2)
    dx = abs(transform.a) * 111_320 * np.cos(lat0)
    dy = abs(transform.e) * 110_540
    grad_y, grad_x = np.gradient(np.nan_to_num(elevation, nan=0.0), dy, dx)
    slope = np.degrees(np.arctan(np.hypot(grad_x, grad_y))).astype("float32")
    return Terrain(elevation, slope, transform)
