"""Population per grid from GeoParquet: plain geopandas (one process) vs Dask on a 2-worker LocalCluster, same
task, same numbers; wall time and peak memory (resident set of the process and all its children, sampled).

    ONEMAP_DATA_DIR=/tmp/onemap-bench-a python benchmarks/analysis_dask.py --copies 20

The residents are exported once from PostGIS (``export_residents``); ``--copies K`` repeats the exported files K
times (every resident counted K times), to reach 5M persons from the `small` district without exporting 5M rows.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

AS_OF = "2025-12-31"


def peak_rss_while(target: subprocess.Popen[bytes]) -> float:
    """Peak summed RSS (GiB) of `target` and its descendants until it exits."""
    peak = 0.0
    process = psutil.Process(target.pid)
    while target.poll() is None:
        try:
            tree = [process, *process.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()) / 2**30)
        except psutil.Error:
            pass
        time.sleep(0.05)
    return peak


def run_variant(variant: str, directory: Path) -> None:
    from spatial.analysis import connect, read
    from spatial.analysis.dask_cluster import DaskSettings, dask_client
    from spatial.analysis.dask_population import population_by_grid_dask, population_by_grid_geopandas
    from spatial.analysis.viewer import ANALYST

    grids = read.areas(connect(), ANALYST, "grid", AS_OF)
    started = time.perf_counter()
    if variant == "geopandas":
        counts = population_by_grid_geopandas(directory, grids, AS_OF)
    else:
        with dask_client(DaskSettings(workers=2, threads_per_worker=1, memory_limit="6GiB")) as client:
            started = time.perf_counter()  # cluster start-up is not the analysis
            counts = population_by_grid_dask(directory, grids, client, AS_OF)
    print(f"{variant}: {counts['persons'].sum():,} residents in {len(counts)} grids in "
          f"{time.perf_counter() - started:.1f} s; checksum {int((counts['persons'] * counts.index).sum())}")


def prepare(directory: Path, copies: int) -> None:
    from spatial.analysis import connect
    from spatial.analysis.dask_population import export_residents
    from spatial.analysis.viewer import ANALYST

    source = directory / "export"
    if not any(source.glob("part-*.parquet")):
        export_residents(connect(), ANALYST, source, AS_OF, chunk_rows=250_000)
    target = directory / f"x{copies}"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    parts = sorted(source.glob("part-*.parquet"))
    for k in range(copies):
        for part in parts:
            (target / f"part-{k:03d}-{part.stem[5:]}.parquet").symlink_to(part)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/onemap-bench-a/residents-parquet"))
    parser.add_argument("--variant", choices=("geopandas", "dask"))
    args = parser.parse_args()
    data = args.dir / f"x{args.copies}"
    if args.variant:
        run_variant(args.variant, data)
        return
    prepare(args.dir, args.copies)
    for variant in ("geopandas", "dask"):
        child = subprocess.Popen([sys.executable, __file__, "--copies", str(args.copies), "--dir", str(args.dir),
                                  "--variant", variant])
        peaks: list[float] = []
        watcher = threading.Thread(target=lambda c=child, out=peaks: out.append(peak_rss_while(c)))
        watcher.start()
        child.wait()
        watcher.join()
        print(f"{variant}: peak memory {peaks[0]:.2f} GiB (process and children)")


if __name__ == "__main__":
    main()
