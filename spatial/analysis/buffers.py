"""Who and what lies within a distance of an event: the zone is buffered in metres in EPSG:4547 (never in
degrees), then the buildings it touches and the people living in them are read with the viewer's masking."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd

from spatial.analysis import read
from spatial.analysis.connect import EngineLike
from spatial.analysis.viewer import Viewer
from spatial.errors import InvalidInput, NotFound

METRIC_CRS = 4547
MAX_RADIUS_M = 20_000.0


@dataclass(frozen=True)
class EventBuffer:
    event: gpd.GeoDataFrame  # one row
    zone: gpd.GeoDataFrame  # one row: the buffer polygon, EPSG:4326
    buildings: gpd.GeoDataFrame  # buildings touching the zone, with `residents`
    residents: gpd.GeoDataFrame  # the people living in them (masked per viewer)

    def summary(self) -> dict[str, int]:
        ages = self.residents["age"]
        return {"buildings": len(self.buildings), "residents": len(self.residents),
                "children_0_14": int((ages < 15).sum()), "elderly_60_plus": int((ages >= 60).sum())}


def metric_buffer(points: gpd.GeoDataFrame, radius_m: float) -> gpd.GeoDataFrame:
    """Buffers of `radius_m` metres around `points`, computed in EPSG:4547 and returned in EPSG:4326."""
    if not 0 < radius_m <= MAX_RADIUS_M:
        raise InvalidInput(f"the radius must lie between 0 and {MAX_RADIUS_M:.0f} metres")
    zone = points.geometry.to_crs(METRIC_CRS).buffer(radius_m, quad_segs=32).to_crs(4326)
    return gpd.GeoDataFrame({"radius_m": [radius_m] * len(zone)}, geometry=zone.to_numpy(), crs=4326,
                            index=points.index)


def event_buffer(engine: EngineLike, viewer: Viewer, event_id: int, radius_m: float,
                 as_of: read.DateLike = None) -> EventBuffer:
    """The zone around event `event_id`; `as_of` defaults to the day of the event."""
    event = read.events(engine, viewer, as_of, event_id=event_id)
    if event.empty:
        raise NotFound(f"no event {event_id} visible to you as of that date")
    day = as_of or event["occurred_at"].iloc[0].to_pydatetime()
    zone = metric_buffer(event, radius_m)
    buildings = read.buildings(engine, viewer, day, within_wkt=zone.geometry.iloc[0].wkt)
    people = read.residents(engine, viewer, day, building_ids=buildings["id"].tolist())
    counts = people.groupby("building_id").size()
    buildings["residents"] = buildings["id"].map(counts).fillna(0).astype("int64")
    return EventBuffer(event, zone, buildings, people)
