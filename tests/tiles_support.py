"""Helpers shared by the tile tests: a scratch tile cache and raster directory, keys per role, tile addresses,
and decoded MVT geometry in lon/lat (to compare with PostGIS)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import shape

from tiles.settings import get_tile_settings
from tiles.tms import TileAddress, get_tms, tile_address


@pytest.fixture(scope="module")
def tile_env(platform_env: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Tile cache and raster directory in a scratch directory for this module."""
    root = tmp_path_factory.mktemp("tiles")
    saved = {k: os.environ.get(k) for k in ("ONEMAP_TILES_CACHE_DIR", "ONEMAP_TILES_RASTER_DIR")}
    os.environ["ONEMAP_TILES_CACHE_DIR"] = str(root / "cache")
    os.environ["ONEMAP_TILES_RASTER_DIR"] = str(root / "rasters")
    get_tile_settings.cache_clear()
    yield root
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    get_tile_settings.cache_clear()


def address_at(tms_id: str, lon: float, lat: float, z: int) -> TileAddress:
    tile = get_tms(tms_id).tile(lon, lat, z)
    return tile_address(tms_id, z, tile.x, tile.y)


def url_of(layer: str, address: TileAddress) -> str:
    tms_id, z, x, y = address.key
    return f"/collections/{layer}/tiles/{tms_id}/{z}/{x}/{y}"


def decode(body: bytes) -> dict[str, Any]:
    return mapbox_vector_tile.decode(body)


def to_lonlat(address: TileAddress, geometry: dict[str, Any], extent: int = 4096) -> Any:
    """A decoded MVT geometry (tile units, y up) as a shapely geometry in lon/lat."""
    left, bottom, right, top = address.xy_bounds()
    to_geographic = None
    if not address.tms.crs._pyproj_crs.is_geographic:
        to_geographic = Transformer.from_crs(3857, 4326, always_xy=True)

    def project(points: np.ndarray) -> np.ndarray:
        x = left + points[:, 0] / extent * (right - left)
        y = bottom + points[:, 1] / extent * (top - bottom)
        if to_geographic is not None:
            x, y = to_geographic.transform(x, y)
        return np.column_stack([x, y])

    return shapely.transform(shape(geometry), project)
