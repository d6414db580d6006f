"""The Dask path (GeoParquet export, spatial join per partition on a 2-worker LocalCluster) gives the same numbers
as plain geopandas and as the PostGIS query, on the session's `tiny` district."""

from __future__ import annotations

from pathlib import Path

import pytest

from spatial.analysis import connect, read
from spatial.analysis.dask_cluster import DaskSettings, dask_client
from spatial.analysis.dask_population import (
    BAND_COLUMNS,
    export_residents,
    population_by_grid_dask,
    population_by_grid_geopandas,
)
from spatial.analysis.population import population_table
from spatial.analysis.viewer import ANALYST

AS_OF = "2025-12-31"


@pytest.mark.slow
def test_dask_geopandas_and_postgis_agree(database_url: str, tmp_path: Path) -> None:
    engine = connect(database_url)
    files = export_residents(engine, ANALYST, tmp_path, AS_OF, chunk_rows=3_000)
    assert len(files) >= 3  # several partitions, so the cluster really splits the work
    grids = read.areas(engine, ANALYST, "grid", AS_OF)
    single = population_by_grid_geopandas(tmp_path, grids, AS_OF)
    with dask_client(DaskSettings(workers=2, memory_limit="1GiB")) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        scaled = population_by_grid_dask(tmp_path, grids, client, AS_OF)
    postgis = population_table(engine, ANALYST, "grid", AS_OF)
    postgis = postgis.sort_values("code").reset_index(drop=True)[["code", *BAND_COLUMNS]]
    assert single["persons"].sum() > 1000
    assert scaled.equals(single)
    assert single.equals(postgis.astype(single.dtypes.to_dict()))


def test_scheduler_address_comes_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from spatial.analysis.dask_cluster import get_dask_settings

    monkeypatch.setenv("ONEMAP_DASK_SCHEDULER", "tcp://scheduler.example:8786")
    get_dask_settings.cache_clear()
    try:
        assert get_dask_settings().scheduler == "tcp://scheduler.example:8786"
    finally:
        get_dask_settings.cache_clear()
