"""Raster layers: DEM tiles (relief, hillshade; PNG, WebP; three tile matrix sets) that match rasterio reads
of the source, info/statistics/point, roles, and `onemap raster add` with good and bad files."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import rasterio
from fastapi.testclient import TestClient
from rasterio.enums import Resampling
from rasterio.io import MemoryFile
from rasterio.transform import from_origin
from rasterio.windows import from_bounds

from tests.tiles_support import address_at, tile_env
from tiles.raster import DEM_COG, SHIPPED_SOURCES, raster_path, value_range
from tiles.tms import SERVED

__all__ = ["tile_env"]
SOURCE = SHIPPED_SOURCES[DEM_COG]
LON, LAT = 114.25, 22.65


@pytest.fixture(scope="module")
def client(tile_env: Path) -> Iterator[TestClient]:
    from api.main import create_app

    with TestClient(create_app()) as test_client:
        yield test_client


def _tile_url(tms_id: str, z: int, style: str = "relief", fmt: str = "png") -> str:
    address = address_at(tms_id, LON, LAT, z)
    _, z, x, y = address.key
    return f"/collections/dem/tiles/{tms_id}/{z}/{x}/{y}?style={style}&f={fmt}"


def _image(body: bytes) -> np.ndarray:
    with MemoryFile(body) as memory, memory.open() as image:
        return image.read()


@pytest.mark.parametrize("tms_id", SERVED)
@pytest.mark.parametrize(("style", "fmt"), [("relief", "png"), ("hillshade", "png"), ("relief", "webp")])
def test_dem_tiles_render(client: TestClient, tms_id: str, style: str, fmt: str) -> None:
    response = client.get(_tile_url(tms_id, 11, style, fmt))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == f"image/{fmt}"
    pixels = _image(response.content)
    assert pixels.shape[1:] == (256, 256)
    assert pixels[0].std() > 5  # real relief, not a flat fill


def test_relief_tile_matches_a_rasterio_read(client: TestClient) -> None:
    from rio_tiler.colormap import cmap

    address = address_at("WorldCRS84Quad", LON, LAT, 12)  # finer than the source: no overviews involved
    body = client.get(_tile_url("WorldCRS84Quad", 12)).content
    rendered = _image(body)[:3].astype(int)
    with rasterio.open(SOURCE) as src:
        window = from_bounds(*address.xy_bounds(), transform=src.transform)
        heights = src.read(
            1, window=window, out_shape=(256, 256), resampling=Resampling.bilinear, boundless=True
        ).astype(float)
    low, high = value_range(raster_path(DEM_COG), raster_path(DEM_COG).stat().st_mtime)
    scaled = np.clip((heights - low) / (high - low) * 255, 0, 255).astype(int)
    colours = cmap.get("terrain")
    expected = np.array([[colours[v][:3] for v in row] for row in scaled]).transpose(2, 0, 1)
    difference = np.abs(rendered - expected)
    assert np.median(difference) <= 3
    assert np.mean(difference <= 20) > 0.95


def test_point_matches_the_source(client: TestClient) -> None:
    body = client.get("/collections/dem/raster/point", params={"lon": LON, "lat": LAT}).json()
    with rasterio.open(SOURCE) as src:
        expected = next(src.sample([(LON, LAT)]))[0]
    assert body["values"] == [float(expected)]
    outside = client.get("/collections/dem/raster/point", params={"lon": 10, "lat": 10})
    assert outside.status_code == 400


def test_info_and_statistics(client: TestClient) -> None:
    info = client.get("/collections/dem/raster/info").json()
    assert info["dtype"] == "int16" and info["bounds"][0] == pytest.approx(113.75, abs=0.01)
    stats = client.get("/collections/dem/raster/statistics").json()["b1"]
    with rasterio.open(SOURCE) as src:
        data = src.read(1, masked=True)
    assert stats["max"] == pytest.approx(float(data.max()), rel=0.05)


def test_raster_bad_requests(client: TestClient) -> None:
    assert client.get(_tile_url("WebMercatorQuad", 11, style="sepia")).status_code == 400
    assert client.get(_tile_url("WebMercatorQuad", 11, fmt="gif")).status_code == 400
    assert client.get("/collections/buildings/raster/info").status_code == 400
    assert client.get("/collections/dem/tiles/WebMercatorQuad/11/0/0").status_code == 204  # outside the DEM
    assert client.get("/collections/dem/tiles/WebMercatorQuad/11/5000/0").status_code == 404


def _onemap(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from api.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=120,
    )


def _write_tiff(path: Path, crs: str | None) -> None:
    data = np.arange(64 * 64, dtype="float32").reshape(64, 64)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=64,
        height=64,
        count=1,
        dtype="float32",
        crs=crs,
        transform=from_origin(114.2, 22.7, 0.001, 0.001),
    ) as dst:
        dst.write(data, 1)


def test_raster_add(client: TestClient, tmp_path: Path) -> None:
    not_tiff = tmp_path / "notes.tif"
    not_tiff.write_text("not a raster")
    result = _onemap("raster", "add", str(not_tiff))
    assert result.returncode == 2 and "not a readable GeoTIFF" in result.stderr
    no_crs = tmp_path / "nocrs.tif"
    _write_tiff(no_crs, None)
    result = _onemap("raster", "add", str(no_crs))
    assert result.returncode == 2 and "has no CRS" in result.stderr
    good = tmp_path / "flood_depth.tif"
    _write_tiff(good, "EPSG:4326")
    result = _onemap("raster", "add", str(good), "--sensitivity", "internal", "--owner", "water")
    assert result.returncode == 0, result.stderr
    assert client.get("/collections/flood_depth/raster/info").status_code == 404  # public may not see it
    import sqlalchemy as sa

    from api.auth import create_key
    from spatial.database import database_url, engine_for

    with engine_for(database_url()).begin() as conn:
        key = create_key(conn, "raster planner", "planner").key
    info = client.get("/collections/flood_depth/raster/info", headers={"X-API-Key": key})
    assert info.status_code == 200, info.text
    assert info.json()["width"] == 64
    with engine_for(database_url()).connect() as conn:
        kind = conn.execute(sa.text("SELECT kind FROM onemap.layer WHERE id = 'flood_depth'")).scalar()
    assert kind == "raster"
