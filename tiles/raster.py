"""Raster tiles from Cloud-Optimized GeoTIFFs with rio-tiler: colour relief and hillshade (PNG/WebP), plus
``info``, ``statistics`` and ``point`` queries. Files become COGs through GDAL's COG driver (``ensure_cog``).

Everything here is synchronous (GDAL); the web layer runs it in worker threads.
"""

from __future__ import annotations

import math
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.shutil
from rasterio.errors import RasterioError
from rio_tiler.colormap import cmap
from rio_tiler.constants import WGS84_CRS
from rio_tiler.errors import PointOutsideBounds, RioTilerError, TileOutsideBounds
from rio_tiler.io import Reader
from rio_tiler.models import ImageData

from tiles.errors import InvalidRaster, InvalidTileRequest, RasterNotFound
from tiles.settings import raster_dir
from tiles.tms import TileAddress

FORMATS = {"png": ("PNG", "image/png"), "webp": ("WEBP", "image/webp")}
STYLES = ("relief", "hillshade")
SHIPPED = Path(__file__).resolve().parent.parent / "spatial" / "data"
DEM_COG = "shenzhen_dem_srtmgl1_30m.cog.tif"
# Built-in raster sources that are made from a file shipped with onemap on first use.
SHIPPED_SOURCES = {DEM_COG: SHIPPED / "shenzhen_dem_srtmgl1_30m.tif"}
METRES_PER_DEGREE = 111_320.0


def validate_geotiff(path: Path) -> None:
    """Raise InvalidRaster unless ``path`` is a readable GeoTIFF with a CRS."""
    try:
        with rasterio.open(path) as src:
            if src.driver not in ("GTiff", "COG"):
                raise InvalidRaster(f"{path.name} is a {src.driver} raster, not a GeoTIFF")
            if src.crs is None:
                raise InvalidRaster(
                    f"{path.name} has no CRS: assign one first (gdal_edit.py -a_srs EPSG:4326)"
                )
            src.read(1, window=((0, min(src.height, 8)), (0, min(src.width, 8))))  # corrupt files fail here
    except RasterioError as exc:
        raise InvalidRaster(
            f"{path.name} is not a readable GeoTIFF ({' '.join(str(exc).split())[:200]})"
        ) from None


def ensure_cog(source: Path, target: Path) -> Path:
    """Write ``source`` as a COG at ``target`` (atomically, so concurrent processes never see half a file)."""
    validate_geotiff(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Unique per process and thread: the first tile requests of a fresh server convert in parallel threads.
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with rasterio.open(source) as src:
            rasterio.shutil.copy(
                src,
                temporary,
                driver="COG",
                COMPRESS="DEFLATE",
                PREDICTOR="2",
                BLOCKSIZE="512",
                OVERVIEW_RESAMPLING="AVERAGE",
                RESAMPLING="BILINEAR",
            )
        os.replace(temporary, target)
    except RasterioError as exc:
        temporary.unlink(missing_ok=True)
        raise InvalidRaster(
            f"cannot convert {source.name} to a COG ({' '.join(str(exc).split())[:200]})"
        ) from None
    return target


def raster_path(source: str) -> Path:
    """The COG of a raster layer's ``source`` (absolute, or relative to the raster directory)."""
    path = Path(source) if os.path.isabs(source) else raster_dir() / source
    if not path.exists() and source in SHIPPED_SOURCES:
        ensure_cog(SHIPPED_SOURCES[source], path)
    if not path.exists():
        raise RasterNotFound(
            f"the raster file of this layer is missing ({path.name}); re-add it with onemap raster add"
        )
    return path


@lru_cache(maxsize=64)
def value_range(path: Path, mtime: float) -> tuple[float, float]:
    """The 2nd-98th percentile range of band 1, for stretching the colour relief (cached per file version)."""
    with Reader(str(path)) as reader:
        stats = reader.statistics(indexes=1, percentiles=[2, 98])
    band = next(iter(stats.values()))
    return (float(band.percentile_2), float(band.percentile_98))


def _read_tile(path: Path, address: TileAddress, buffer: float | None = None) -> ImageData:
    try:
        with Reader(str(path), tms=address.tms) as reader:
            return reader.tile(
                address.x, address.y, address.z, indexes=1, buffer=buffer, resampling_method="bilinear"
            )
    except TileOutsideBounds:
        raise
    except (RioTilerError, RasterioError) as exc:
        raise InvalidRaster(f"cannot read this raster ({type(exc).__name__})") from None


def render_tile(
    path: Path, address: TileAddress, style: str, fmt: str, rescale: tuple[float, float] | None = None
) -> bytes | None:
    """A styled tile, or None when the tile lies outside the raster."""
    if style not in STYLES:
        raise InvalidTileRequest(f"unknown raster style {style!r}: use one of {', '.join(STYLES)}")
    if fmt not in FORMATS:
        raise InvalidTileRequest(f"unknown image format {fmt!r}: use one of {', '.join(FORMATS)}")
    driver = FORMATS[fmt][0]
    try:
        if style == "hillshade":
            return _hillshade(path, address).render(img_format=driver)
        image = _read_tile(path, address)
    except TileOutsideBounds:
        return None
    low, high = rescale or value_range(path, path.stat().st_mtime)
    stretched = image.rescale(in_range=((low, high),))
    return stretched.render(img_format=driver, colormap=cmap.get("terrain"))


def _hillshade(path: Path, address: TileAddress, azimuth: float = 315.0, altitude: float = 45.0) -> ImageData:
    """Shaded relief (Horn's method via numpy gradients), computed on a tile read with a one-pixel buffer
    so that neighbouring tiles join without seams."""
    image = _read_tile(path, address, buffer=1)
    elevation = np.ma.filled(np.ma.masked_array(image.array[0]).astype("float64"), np.nan)
    left, bottom, right, top = address.xy_bounds()
    size_x, size_y = (right - left) / 256, (top - bottom) / 256
    if address.tms.crs._pyproj_crs.is_geographic:
        latitude = math.radians((top + bottom) / 2)
        size_x, size_y = size_x * METRES_PER_DEGREE * math.cos(latitude), size_y * METRES_PER_DEGREE
    else:  # Web Mercator metres are stretched by 1/cos(latitude)
        _, latitude_deg = address.tms.lnglat((left + right) / 2, (top + bottom) / 2)
        scale = math.cos(math.radians(latitude_deg))
        size_x, size_y = size_x * scale, size_y * scale
    dz_dy, dz_dx = np.gradient(elevation, size_y, size_x)
    slope = np.arctan(np.hypot(dz_dx, dz_dy))
    aspect = np.arctan2(-dz_dx, dz_dy)
    zenith, azimuth_rad = math.radians(90 - altitude), math.radians(azimuth)
    shade = np.cos(zenith) * np.cos(slope) + np.sin(zenith) * np.sin(slope) * np.cos(azimuth_rad - aspect)
    shaded = np.clip(shade * 255, 0, 255)
    valid = ~np.isnan(shaded)
    data = np.where(valid, shaded, 0).astype("uint8")[1:-1, 1:-1]
    mask = np.where(valid, 255, 0).astype("uint8")[1:-1, 1:-1]
    return ImageData(np.ma.MaskedArray(data[np.newaxis], mask=(mask == 0)[np.newaxis]))


def info(path: Path) -> dict[str, Any]:
    with Reader(str(path)) as reader:
        return reader.info().model_dump(mode="json", exclude_none=True)


def geographic_bounds(path: Path) -> list[float]:
    """(west, south, east, north) in lon/lat: the spatial extent of the raster's collection document."""
    with Reader(str(path)) as reader:
        return [float(v) for v in reader.get_geographic_bounds(WGS84_CRS)]


def statistics(path: Path) -> dict[str, Any]:
    with Reader(str(path)) as reader:
        stats = reader.statistics(percentiles=[2, 50, 98])
    return {band: value.model_dump(mode="json", exclude_none=True) for band, value in stats.items()}


def point(path: Path, lon: float, lat: float) -> dict[str, Any]:
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidTileRequest("lon must lie within ±180 and lat within ±90")
    try:
        with Reader(str(path)) as reader:
            found = reader.point(lon, lat)
    except PointOutsideBounds:
        raise InvalidTileRequest(f"the point ({lon}, {lat}) lies outside this raster") from None
    values = [
        None if bool(np.ma.getmaskarray(found.array)[i]) else float(found.array[i])
        for i in range(found.count)
    ]
    return {"coordinates": [lon, lat], "values": values, "band_names": found.band_names}
