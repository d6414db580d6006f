"""Upload of a 500,000-feature GeoPackage: onemap's streamed ingest vs ``ogr2ogr`` into the same PostGIS.

    python benchmarks/upload_vs_ogr2ogr.py [--features 500000]

Makes a GeoPackage of building-like polygons (EPSG:4547, Shenzhen Gauss-Kruger, so both tools reproject to
EPSG:4326), then loads it with each tool into a fresh table of the same database (embedded cluster, or
ONEMAP_DATABASE_URL) and prints wall time and peak memory (VmHWM of the loading process).
ogr2ogr builds the spatial index too (its default), so does onemap.
onemap also checks extent, validity, promotes to Multi, enables history and writes the catalog row.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

CHILD = r"""
import json, sys, time
from pathlib import Path
from layers.access import Principal
from layers.uploads import UploadRequest, upload_layer
from spatial.ingest import IngestOptions
url, path, layer_id = sys.argv[1:4]
started = time.perf_counter()
result = upload_layer(url, Path(path), Path(path).name, UploadRequest(id=layer_id, title="bench", department="housing"),
                      Principal("admin", actor="bench"))
print(json.dumps({"seconds": time.perf_counter() - started, "rows": result.report.rows}))
"""


def make_gpkg(path: Path, n: int) -> None:
    rng = np.random.default_rng(42)
    x = 2_505_000 + rng.uniform(0, 40_000, n)  # EPSG:4547 around Longgang, x = easting... (always_xy)
    y = 500_000 + rng.uniform(0, 30_000, n)
    size = rng.uniform(8, 30, n)
    boxes = shapely.box(y, x, y + size, x + size)  # easting, northing
    frame = gpd.GeoDataFrame(
        {
            "名称": [f"楼栋{i}" for i in range(n)],
            "层数": rng.integers(1, 40, n),
            "高度": rng.uniform(3, 120, n).round(1),
            "用途": rng.choice(["住宅", "商业", "工业"], n),
        },
        geometry=boxes,
        crs="EPSG:4547",
    )
    frame.to_file(path, layer="buildings", engine="pyogrio")


def _hwm_mib(pid: int) -> float:
    """Peak resident memory (VmHWM) of a running process; 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run(command: list[str]) -> tuple[float, float, str]:
    """(seconds, peak RSS MiB of the child, stdout). VmHWM is per process image (getrusage's maxrss would
    include the parent's at fork time)."""
    started = time.perf_counter()
    peak = 0.0
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as child:
        while child.poll() is None:
            peak = max(peak, _hwm_mib(child.pid))
            time.sleep(0.1)
        out = child.stdout.read() if child.stdout else ""
        if child.returncode:
            raise SystemExit(f"{command[0]} failed with {child.returncode}")
    return time.perf_counter() - started, peak, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--features", type=int, default=500_000)
    args = parser.parse_args()
    from spatial.database import database_url, libpq_url

    url = database_url()
    from api.setup import initialise_database

    initialise_database(url)
    pg = libpq_url(url)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "buildings.gpkg"
        started = time.perf_counter()
        make_gpkg(path, args.features)
        print(
            f"made {path.name}: {args.features:,} features, {path.stat().st_size / 2**20:.0f} MiB "
            f"in {time.perf_counter() - started:.1f} s"
        )
        import psycopg

        with psycopg.connect(pg, autocommit=True) as conn:
            conn.execute("DROP TABLE IF EXISTS onemap.bench_ogr2ogr")
            conn.execute("DROP TABLE IF EXISTS onemap.dept_bench_upload, onemap.dept_bench_upload_history")
            conn.execute("DELETE FROM onemap.layer WHERE id = 'bench_upload'")
        # ogr2ogr first (its peak RSS is measured separately: RUSAGE_CHILDREN keeps the max over children).
        ogr = [
            "ogr2ogr",
            "-f",
            "PostgreSQL",
            f"PG:{pg}",
            str(path),
            "buildings",
            "-nln",
            "onemap.bench_ogr2ogr",
            "-t_srs",
            "EPSG:4326",
            "-nlt",
            "PROMOTE_TO_MULTI",
            "-lco",
            "GEOMETRY_NAME=geom",
            "-lco",
            "FID=id",
            "--config",
            "PG_USE_COPY",
            "YES",
            "-gt",
            "65536",
        ]
        ogr_seconds, ogr_peak, _ = run(ogr)
        ours = [sys.executable, "-c", CHILD, url, str(path), "bench_upload"]
        our_seconds, our_peak, out = run(ours)
        child = json.loads(out.strip().splitlines()[-1])
        rows, upload_seconds = child["rows"], child["seconds"]
        with psycopg.connect(pg, autocommit=True) as conn:
            ogr_rows = conn.execute("SELECT count(*) FROM onemap.bench_ogr2ogr").fetchone()
            conn.execute("DROP TABLE IF EXISTS onemap.bench_ogr2ogr")
            conn.execute("DELETE FROM onemap.layer WHERE id = 'bench_upload'")
            conn.execute("DROP TABLE IF EXISTS onemap.dept_bench_upload, onemap.dept_bench_upload_history")
    print(
        f"ogr2ogr : {ogr_rows[0] if ogr_rows else 0:,} rows in {ogr_seconds:6.1f} s "
        f"({args.features / ogr_seconds:,.0f} features/s), peak RSS {ogr_peak:,.0f} MiB"
    )
    # The upload itself is what POST /layers costs on a running server; the whole process adds Python's start
    # and imports, which a command-line user (onemap layer add) also waits for.
    print(
        f"onemap  : {rows:,} rows in {upload_seconds:6.1f} s upload ({args.features / upload_seconds:,.0f} "
        f"features/s), {our_seconds:.1f} s with process start, peak RSS {our_peak:,.0f} MiB"
    )
    print(
        f"ratio   : onemap / ogr2ogr = {upload_seconds / ogr_seconds:.2f}x time (upload), "
        f"{our_seconds / ogr_seconds:.2f}x (whole process)"
    )


if __name__ == "__main__":
    main()
