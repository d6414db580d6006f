"""Population per grid when the data outgrows one process: residents exported to GeoParquet (point per person,
spatially ordered), then counted per grid by a spatial join on a Dask cluster. The counting function is shared
with the single-process path, so both give the same numbers as each other and as PostGIS."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dask_geopandas
import geopandas as gpd
import pandas as pd
from distributed import Client

from spatial.analysis import read
from spatial.analysis.asof import parse_as_of, years_before
from spatial.analysis.connect import EngineLike, as_engine
from spatial.analysis.population import CHILD_YEARS, ELDERLY_YEARS
from spatial.analysis.sql import as_of_query
from spatial.analysis.viewer import Viewer, require_internal

BAND_COLUMNS = ("persons", "children_0_14", "working_15_59", "elderly_60_plus", "migrants")


def export_residents(engine: EngineLike, viewer: Viewer, directory: Path, as_of: read.DateLike = None,
                     chunk_rows: int = 500_000) -> list[Path]:
    """Residents at `as_of` as GeoParquet files of `chunk_rows` rows each, streamed (constant memory)."""
    require_internal(viewer, "exporting residents")
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("part-*.parquet"):
        old.unlink()
    params = read.query_params(viewer, as_of)
    written: list[Path] = []
    with as_engine(engine).connect().execution_options(stream_results=True) as conn:
        chunks = gpd.read_postgis(as_of_query("resident_points.sql"), conn, geom_col="geom", params=params,
                                  chunksize=chunk_rows)
        for number, chunk in enumerate(chunks):
            path = directory / f"part-{number:05d}.parquet"
            chunk.set_crs(4326, allow_override=True).to_parquet(path, index=False)
            written.append(path)
    return written


def band_counts(residents: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, as_of: dt.date) -> pd.DataFrame:
    """Residents per grid code (point in polygon) with age bands at `as_of`: one partition's share."""
    joined = gpd.sjoin(residents, grids[["code", grids.geometry.name]], how="inner", predicate="within")
    born = pd.to_datetime(joined["birth_date"])
    child_after = pd.Timestamp(years_before(as_of, CHILD_YEARS))
    elderly_by = pd.Timestamp(years_before(as_of, ELDERLY_YEARS))
    bands = pd.DataFrame({
        "code": joined["code"].to_numpy(),
        "persons": 1,
        "children_0_14": (born > child_after).astype("int64").to_numpy(),
        "working_15_59": ((born <= child_after) & (born > elderly_by)).astype("int64").to_numpy(),
        "elderly_60_plus": (born <= elderly_by).astype("int64").to_numpy(),
        "migrants": (joined["household_type"] == "migrant").astype("int64").to_numpy(),
    })
    return bands.groupby("code", as_index=False)[list(BAND_COLUMNS)].sum()


def population_by_grid_geopandas(directory: Path, grids: gpd.GeoDataFrame, as_of: read.DateLike = None
                                 ) -> pd.DataFrame:
    """The single-process reference: every file in memory at once."""
    residents = gpd.read_parquet(directory)
    return _sorted(band_counts(residents, grids, parse_as_of(as_of)))


def population_by_grid_dask(directory: Path, grids: gpd.GeoDataFrame, client: Client,
                            as_of: read.DateLike = None) -> pd.DataFrame:
    """The same counts on the cluster behind `client`: one task per file, grids broadcast to every worker."""
    day = parse_as_of(as_of)
    residents = dask_geopandas.read_parquet(sorted(directory.glob("part-*.parquet")))
    meta = pd.DataFrame({"code": pd.Series(dtype="object"),
                         **{c: pd.Series(dtype="int64") for c in BAND_COLUMNS}})
    shared_grids = client.scatter(grids, broadcast=True)
    partials = residents.map_partitions(band_counts, shared_grids, day, meta=meta)
    combined = client.compute(partials).result()
    return _sorted(combined.groupby("code", as_index=False)[list(BAND_COLUMNS)].sum())


def _sorted(counts: pd.DataFrame) -> pd.DataFrame:
    return counts.sort_values("code").reset_index(drop=True).astype({c: "int64" for c in BAND_COLUMNS})
