"""Population and age structure per grid, community, street or building, as of a date, and its change."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from spatial.analysis import read
from spatial.analysis.asof import change_between, parse_as_of, years_before
from spatial.analysis.connect import EngineLike
from spatial.analysis.sql import as_of_query
from spatial.analysis.viewer import Viewer, require_internal

COUNT_COLUMNS = ("persons", "children_0_14", "working_15_59", "elderly_60_plus", "migrants")
CHILD_YEARS, ELDERLY_YEARS = 15, 60  # China's statistical convention: 0-14, 15-59, 60+


def population_table(engine: EngineLike, viewer: Viewer, level: str = "grid",
                     as_of: read.DateLike = None) -> pd.DataFrame:
    """Residents per area code (no geometry), only areas with residents."""
    require_internal(viewer, "population figures")
    day = parse_as_of(as_of)
    params = read.query_params(
        viewer, day, level=read.check_level(level),
        child_born_after=years_before(day, CHILD_YEARS), elderly_born_by=years_before(day, ELDERLY_YEARS),
    )
    return read.frame(engine, as_of_query("population.sql"), params)


def population(engine: EngineLike, viewer: Viewer, level: str = "grid", as_of: read.DateLike = None
               ) -> gpd.GeoDataFrame:
    """Areas of `level` with residents, age bands, migrants, mean age and density (persons per km²)."""
    areas = read.areas(engine, viewer, read.check_level(level, read.AREA_LEVELS), as_of)
    return with_shares(attach(areas, population_table(engine, viewer, level, as_of), COUNT_COLUMNS))


def population_change(engine: EngineLike, viewer: Viewer, start: read.DateLike, end: read.DateLike,
                      level: str = "grid") -> gpd.GeoDataFrame:
    """Per area: each count at `start`, at `end`, and the change (areas as of `end`)."""
    before = population_table(engine, viewer, level, start)
    after = population_table(engine, viewer, level, end)
    changes = change_between(before, after, "code", COUNT_COLUMNS)
    areas = read.areas(engine, viewer, level, end)
    merged = areas.merge(changes, on="code", how="left")
    numeric = [c for c in changes.columns if c != "code"]
    merged[numeric] = merged[numeric].fillna(0).astype("int64")
    return merged


def attach(areas: gpd.GeoDataFrame, stats: pd.DataFrame, counts: tuple[str, ...]) -> gpd.GeoDataFrame:
    """Areas left-joined with per-code figures; an area with no rows gets zero counts."""
    merged = areas.merge(stats, on="code", how="left")
    merged[list(counts)] = merged[list(counts)].fillna(0).astype("int64")
    return merged


def with_shares(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Shares of each age band and of migrants, the elderly dependency ratio, and density per km² (EPSG:4547)."""
    persons = frame["persons"].where(frame["persons"] > 0)
    for column in ("children_0_14", "working_15_59", "elderly_60_plus", "migrants"):
        frame[f"{column}_share"] = frame[column] / persons
    frame["elderly_dependency"] = frame["elderly_60_plus"] / frame["working_15_59"].where(frame["working_15_59"] > 0)
    frame["area_km2"] = frame.geometry.to_crs(4547).area / 1e6
    frame["density_per_km2"] = frame["persons"] / frame["area_km2"]
    return frame
