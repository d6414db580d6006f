"""`onemap tiles seed`: MBTiles and PMTiles packages with the server's tiles, resumable."""

from __future__ import annotations

import gzip
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from pmtiles.reader import MmapSource, Reader

from tests.tiles_support import decode


def _onemap(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from api.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=300,
    )


@pytest.fixture(scope="module")
def bbox(platform_env: str, database_url: str) -> str:
    from spatial.database import libpq_url

    with psycopg.connect(libpq_url(database_url)) as conn:
        west, south, east, north = (
            conn.execute(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                "(SELECT ST_Extent(geom) e FROM onemap.building) x"
            ).fetchone()
            or ()
        )
    return f"{west},{south},{east},{north}"


def test_seed_mbtiles_and_resume(bbox: str, tmp_path: Path) -> None:
    out = tmp_path / "buildings.mbtiles"
    first = _onemap("tiles", "seed", "buildings", "--zoom", "12-14", "--bbox", bbox, "--out", str(out))
    assert first.returncode == 0, first.stderr
    with sqlite3.connect(out) as package:
        count = (package.execute("SELECT count(*) FROM tiles").fetchone() or (0,))[0]
        zooms = {r[0] for r in package.execute("SELECT DISTINCT zoom_level FROM tiles")}
        body = (
            package.execute("SELECT tile_data FROM tiles WHERE zoom_level = 14 LIMIT 1").fetchone() or (None,)
        )[0]
        metadata = dict(package.execute("SELECT name, value FROM metadata").fetchall())
    assert count > 0 and zooms == {12, 13, 14}
    assert metadata["format"] == "pbf" and metadata["minzoom"] == "12"
    assert decode(gzip.decompress(bytes(body or b"")))["buildings"]["features"]
    again = _onemap("tiles", "seed", "buildings", "--zoom", "12-14", "--bbox", bbox, "--out", str(out))
    assert again.returncode == 0 and "0 tiles written this run" in again.stdout


def test_seed_pmtiles(bbox: str, tmp_path: Path) -> None:
    out = tmp_path / "grids.pmtiles"
    result = _onemap("tiles", "seed", "grids", "--zoom", "12-13", "--bbox", bbox, "--out", str(out))
    assert result.returncode == 0, result.stderr
    with open(out, "rb") as f:
        reader = Reader(MmapSource(f))
        header = reader.header()
        assert header["min_zoom"] == 12 and header["max_zoom"] == 13
        assert reader.get(13, 0, 0) is None
        assert header["addressed_tiles_count"] > 0
        assert "grids" in str(reader.metadata())
    assert not (tmp_path / "grids.pmtiles.partial.mbtiles").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--zoom", "16-10"], "invalid zoom range"),
        (["--bbox", "1,2,3"], "invalid bbox"),
        (["--out", "x.geojson"], "unknown package format"),
    ],
)
def test_seed_bad_input(platform_env: str, tmp_path: Path, args: list[str], message: str) -> None:
    base = {"--zoom": "12-12", "--bbox": "114.2,22.7,114.21,22.71", "--out": str(tmp_path / "x.mbtiles")}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value if flag != "--out" else str(tmp_path / value)
    result = _onemap("tiles", "seed", "buildings", *[item for pair in base.items() for item in pair])
    assert result.returncode == 2 and message in result.stderr
