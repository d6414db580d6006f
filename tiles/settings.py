"""Settings of the tile server (``ONEMAP_TILES_*``), read through the cached ``get_tile_settings()``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class TileSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONEMAP_TILES_", extra="ignore")

    extent: int = Field(default=4096, description="MVT tile extent (integer grid per tile side).")
    buffer: int = Field(default=64, description="MVT buffer around the tile, in extent units.")
    max_features: int = Field(default=20_000, description="Per layer and tile: at most this many features.")
    # Below this zoom, polygon layers with a grid column are sent as per-grid statistics instead of features:
    # a z10 tile over 170k buildings would otherwise be megabytes of sub-pixel polygons.
    aggregate_below_zoom: int = 13
    # Polygons whose bounding box is smaller than this many tile pixels (1/256 of the tile side) are dropped.
    min_feature_pixels: float = 0.5
    # From this zoom on, tiles carry every field; below it, fields marked `detail` are left out (at z13 they
    # were a third of a tile over Longgang's urban villages).
    detail_zoom: int = 15
    cache: bool = Field(default=True, description="Cache tiles (memory, and disk when cache_dir is usable).")
    cache_memory_mb: int = 256
    catalog_max_age: float = Field(
        default=5.0, description="With the cache off (no change notifications): re-read the catalog this often (s)."
    )
    cache_dir: Path | None = Field(default=None, description="Disk cache; default <data_dir>/tile-cache.")
    cache_disk: bool = True
    # Off by default for now: on the full district with two workers on two cores, re-rendering after every edit
    # still halves the writes 16 writers get acknowledged (198 -> 99 writes/s, benchmarks/load_mixed.py), as every
    # write's tiles are rendered again while the next writes arrive. With it on, an edited tile is back warm and
    # fresh in p95 0.5-1.1 s at z10-z18 under 16 readers (benchmarks/tile_freshness.py). Turn it on where edits
    # are rare and tiles are read often.
    refresh: bool = Field(
        default=False, description="Re-render in the background the cached tiles an edit purged (tiles/refresh.py)."
    )
    refresh_min_zoom: int = Field(default=10, description="Re-render purged tiles from this zoom ...")
    refresh_max_zoom: int = Field(default=18, description="... to this zoom (the zooms users look at).")
    refresh_queue: int = Field(default=2000, description="At most this many purged tiles wait to be re-rendered.")
    refresh_concurrency: int = Field(default=2, description="Re-renders at a time, per server process.")
    refresh_recent_seconds: float = Field(
        default=300.0, description="Re-render only tiles served within this many seconds before the purge."
    )
    static_front: bool = Field(
        default=False,
        description="Also write anonymous plain tiles for nginx to send from the disk cache (tiles/static_front.py;"
        " `onemap tiles nginx` writes its configuration).",
    )
    max_age: int = Field(default=60, description="Cache-Control max-age of tile responses, in seconds.")
    raster_dir: Path | None = Field(default=None, description="Where COGs live; default <data_dir>/rasters.")


@lru_cache
def get_tile_settings() -> TileSettings:
    return TileSettings()


def cache_dir() -> Path:
    from spatial.settings import get_settings

    configured = get_tile_settings().cache_dir
    return configured if configured is not None else get_settings().data_dir / "tile-cache"


def raster_dir() -> Path:
    from spatial.settings import get_settings

    configured = get_tile_settings().raster_dir
    return configured if configured is not None else get_settings().data_dir / "rasters"
