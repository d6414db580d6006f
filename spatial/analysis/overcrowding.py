"""Persons per house unit and overcrowding: a residential unit is overcrowded when its floor area per resident
falls below a threshold (10 m² by default, well under Shenzhen's average of about 28 m² per person)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from spatial.analysis import read
from spatial.analysis.connect import EngineLike
from spatial.analysis.population import attach
from spatial.analysis.sql import as_of_query
from spatial.analysis.viewer import Viewer, require_internal
from spatial.errors import InvalidInput

DEFAULT_MIN_M2_PER_PERSON = 10.0
COUNT_COLUMNS = ("units", "occupied_units", "persons", "overcrowded_units", "persons_overcrowded")


def _params(viewer: Viewer, as_of: read.DateLike, min_m2_per_person: float, **extra: object) -> dict[str, object]:
    if min_m2_per_person <= 0:
        raise InvalidInput("the minimum floor area per person must be positive")
    return read.query_params(viewer, as_of, min_m2_per_person=min_m2_per_person, **extra)


def persons_per_unit(engine: EngineLike, viewer: Viewer, as_of: read.DateLike = None,
                     min_m2_per_person: float = DEFAULT_MIN_M2_PER_PERSON) -> pd.DataFrame:
    """One row per residential unit: residents, floor area per resident, overcrowded or not."""
    require_internal(viewer, "occupancy figures")
    params = _params(viewer, as_of, min_m2_per_person)
    return read.frame(engine, as_of_query("occupancy.sql", "units.sql"), params)


def overcrowding_table(engine: EngineLike, viewer: Viewer, level: str = "grid", as_of: read.DateLike = None,
                       min_m2_per_person: float = DEFAULT_MIN_M2_PER_PERSON) -> pd.DataFrame:
    require_internal(viewer, "occupancy figures")
    params = _params(viewer, as_of, min_m2_per_person, level=read.check_level(level))
    return read.frame(engine, as_of_query("occupancy.sql", "overcrowding.sql"), params)


def overcrowding(engine: EngineLike, viewer: Viewer, level: str = "grid", as_of: read.DateLike = None,
                 min_m2_per_person: float = DEFAULT_MIN_M2_PER_PERSON) -> gpd.GeoDataFrame:
    """Areas (or buildings, with level="building") with units, residents and overcrowding figures."""
    stats = overcrowding_table(engine, viewer, level, as_of, min_m2_per_person)
    if level == "building":
        shapes = read.buildings(engine, viewer, as_of, ids=[int(c) for c in stats["code"]])
        shapes = shapes.assign(code=shapes["id"].astype(str))
    else:
        shapes = read.areas(engine, viewer, level, as_of)
    frame = attach(shapes, stats, COUNT_COLUMNS)
    occupied = frame["occupied_units"].where(frame["occupied_units"] > 0)
    frame["persons_per_occupied_unit"] = frame["persons"] / occupied
    frame["overcrowded_share"] = frame["overcrowded_units"] / occupied
    return frame
