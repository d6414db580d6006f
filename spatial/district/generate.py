"""Assemble a whole district, deterministically from (scale, seed, disagreement rate).

Each part draws from its own random stream, so a part that is skipped on resume does not shift the others.
The result is a sequence of ``TablePart``: a table name and the rows to COPY into it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.district.admin import STREET_NAMES, build_admin_areas, load_boundary
from spatial.district.buildings import generate_buildings
from spatial.district.enterprises import generate_enterprises
from spatial.district.events import generate_events
from spatial.district.people import assign_residences, generate_persons, generate_units
from spatial.district.scale import Scale
from spatial.district.sources import (
    SOCIAL_SECURITY_COVERAGE,
    SOURCE_SPECS,
    SourceSpec,
    department_values,
    records_of,
)
from spatial.district.terrain import load_terrain
from spatial.sources.vocabulary import house_unit_key

STREAMS = ("admin", "buildings", "persons", "residences", "enterprises", "events", "sources", "units")
PERSON_CHUNK = 500_000  # source records of people are written in slices of this many people
ROAD_WORDS = ("路", "大道", "街", "一路", "二路", "巷")


@dataclass(frozen=True)
class TablePart:
    name: str  # unique name of this part (the resume unit)
    table: str
    rows: pd.DataFrame


@dataclass(frozen=True)
class DistrictSpec:
    scale: Scale
    seed: int = 42
    disagreement_rate: float = 0.02

    @property
    def dataset(self) -> str:
        return f"{self.scale.name}:seed={self.seed}:rate={self.disagreement_rate}"

    def rng(self, stream: str) -> np.random.Generator:
        return np.random.default_rng([self.seed, STREAMS.index(stream)])


@dataclass(frozen=True)
class DepartmentTable:
    """One slice of a department's records: the values it sends (disagreements planted), the truth of the same
    entities (same index: keys, and what the department also holds, such as footprints), and what was planted."""

    source: SourceSpec
    slice_no: int
    values: pd.DataFrame
    truth: pd.DataFrame
    planted: pd.DataFrame


def generate_district(spec: DistrictSpec) -> Iterator[TablePart]:
    tables: dict[str, pd.DataFrame] = {}
    for part in _entity_parts(spec):
        tables[part.table] = part.rows
        yield part
    events = generate_events(spec.scale.events, tables["building"], spec.rng("events"))
    yield TablePart("event", "event", events)
    for table in department_tables(spec, tables):
        name = f"source:{table.source.department}:{table.source.entity_kind}:{table.slice_no}"
        yield TablePart(name, "source_record", records_of(table.source, table.values))
        yield TablePart(name + ":planted", "planted_disagreement", table.planted)


def entity_tables(spec: DistrictSpec) -> dict[str, pd.DataFrame]:
    """The archives' tables (and the administrative areas) by name, as generated from `spec`."""
    return {part.table: part.rows for part in _entity_parts(spec)}


def _entity_parts(spec: DistrictSpec) -> Iterator[TablePart]:
    """The archives' own tables (all but events), in load order."""
    scale = spec.scale
    admin = build_admin_areas(scale, spec.rng("admin"))
    admin["valid_from"] = pd.Timestamp("2017-01-07", tz="UTC")  # Longgang's streets as reorganised in 2017
    yield TablePart("admin_area", "admin_area", admin)

    buildings = _place_buildings(spec, admin)
    yield TablePart("building", "building", buildings)

    units = generate_units(buildings, scale.house_units, spec.rng("units"))
    units["valid_from"] = buildings.set_index("id")["valid_from"].loc[units["building_id"]].to_numpy()
    yield TablePart("house_unit", "house_unit", units)

    persons = generate_persons(scale.persons, spec.rng("persons"))
    persons["valid_from"] = pd.to_datetime(persons["birth_date"]).dt.tz_localize("UTC")
    yield TablePart("person", "person", persons)

    residences = assign_residences(persons, units, spec.rng("residences"))
    yield TablePart("residence", "residence", residences)

    enterprises = generate_enterprises(scale.enterprises, buildings, units, spec.rng("enterprises"))
    enterprises["valid_from"] = pd.to_datetime(enterprises["registered_on"]).dt.tz_localize("UTC")
    yield TablePart("enterprise", "enterprise", enterprises)


def _place_buildings(spec: DistrictSpec, admin: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    terrain = load_terrain()
    # A few more than needed: a building on the very edge of the district may fall outside every grid polygon.
    buildings = generate_buildings(spec.scale.buildings + 20, load_boundary(), terrain, spec.rng("buildings"))
    grids = admin[admin["level"] == "grid"][["code", "geometry"]]
    centres = gpd.GeoDataFrame(geometry=buildings.geometry.representative_point(), crs=buildings.crs)
    joined = gpd.sjoin(centres, grids, predicate="within", how="left")
    joined = joined[~joined.index.duplicated()]
    buildings["grid_code"] = joined["code"].to_numpy()
    buildings = buildings[buildings["grid_code"].notna()].head(spec.scale.buildings).copy()
    buildings["id"] = np.arange(1, len(buildings) + 1, dtype="int64")
    buildings["community_code"] = buildings["grid_code"].str[:12]
    buildings["street_code"] = buildings["grid_code"].str[:9]
    in_grid = buildings.groupby("grid_code").cumcount().to_numpy() + 1
    buildings["code"] = buildings["grid_code"] + pd.Series(in_grid, index=buildings.index).map(
        "{:04d}".format
    )
    buildings["address"] = _addresses(buildings, admin)
    buildings["name"] = np.where(
        buildings["use"] == "residential",
        buildings["community_code"].map(_estate_names(admin)) + in_grid.astype(str) + "栋",
        None,
    )
    centre = shapely.centroid(buildings.geometry.to_numpy())
    elevation, _ = terrain.sample(shapely.get_x(centre), shapely.get_y(centre))
    buildings["ground_elevation_m"] = np.round(elevation, 1)
    buildings["valid_from"] = pd.to_datetime(buildings["built_year"].astype(str) + "-01-01").dt.tz_localize(
        "UTC"
    )
    return buildings


def _addresses(buildings: gpd.GeoDataFrame, admin: gpd.GeoDataFrame) -> pd.Series:
    """Standard addresses, unique: 深圳市龙岗区<street>街道<community><road><number>号."""
    names = admin.set_index("code")["name"]
    in_community = buildings.groupby("community_code").cumcount()
    road = (in_community // 60).map(lambda k: f"{ROAD_WORDS[k % len(ROAD_WORDS)]}" if k < 6 else f"{k}路")
    community = buildings["community_code"].map(names).str.replace("社区", "", regex=False)
    street = buildings["street_code"].map(names)
    number = (in_community % 60 + 1).astype(str)
    return "深圳市龙岗区" + street + community + road + number + "号"


def _estate_names(admin: gpd.GeoDataFrame) -> dict[str, str]:
    communities = admin[admin["level"] == "community"]
    return {
        code: name.replace("社区", "") + "花园"
        for code, name in zip(communities["code"], communities["name"], strict=True)
    }


def department_tables(
    spec: DistrictSpec,
    tables: dict[str, pd.DataFrame] | None = None,
    sources: tuple[SourceSpec, ...] = SOURCE_SPECS,
) -> Iterator[DepartmentTable]:
    """Every department's records, slice by slice; `tables` are the archives' tables by name when already made
    (generated from `spec` otherwise). `sources` adds the records only deliveries carry (DELIVERED_SPECS)."""
    if tables is None:
        tables = entity_tables(spec)
    buildings, units, persons = tables["building"], tables["house_unit"], tables["person"]
    residences, enterprises = tables["residence"], tables["enterprise"]
    rng = spec.rng("sources")
    building_code = buildings.set_index("id")["code"]
    current = residences[residences["valid_to"].isna()].set_index("person_id")
    home = current["house_unit_id"]
    unit = units.set_index("id")
    people = persons.assign(
        building_code=building_code.loc[
            unit.loc[home.loc[persons["id"]].to_numpy(), "building_id"]
        ].to_numpy(),
        room_no=unit.loc[home.loc[persons["id"]].to_numpy(), "room_no"].to_numpy(),
        birth_date=persons["birth_date"].astype("datetime64[s]").dt.strftime("%Y-%m-%d"),
        moved_in=pd.to_datetime(current["valid_from"].loc[persons["id"]].to_numpy()).strftime("%Y-%m-%d"),
    )
    covered = rng.random(len(people)) < SOCIAL_SECURITY_COVERAGE
    building_address = buildings.set_index("id")["address"]
    firms = enterprises.assign(
        building_code=building_code.loc[enterprises["building_id"]].to_numpy(),
        address=building_address.loc[enterprises["building_id"]].to_numpy(),
        registered_on=pd.to_datetime(enterprises["registered_on"]).dt.strftime("%Y-%m-%d"),
    )
    rooms = unit.reset_index().assign(building_code=building_code.loc[unit["building_id"]].to_numpy())
    rooms["unit_key"] = [
        house_unit_key(b, u, r)
        for b, u, r in zip(rooms["building_code"], rooms["unit_no"], rooms["room_no"], strict=True)
    ]
    truths = {"person": people, "residence": people, "enterprise": firms, "building": buildings, "house_unit": rooms}
    for source in sources:
        truth = truths[source.entity_kind]
        if source.department == "social_security":
            truth = truth[covered]
        for start in range(0, len(truth), PERSON_CHUNK):
            part = truth.iloc[start : start + PERSON_CHUNK]
            values, planted = department_values(source, part, spec.disagreement_rate, rng)
            yield DepartmentTable(source, start // PERSON_CHUNK, values, part, planted)


__all__ = [
    "STREET_NAMES",
    "DepartmentTable",
    "DistrictSpec",
    "TablePart",
    "department_tables",
    "entity_tables",
    "generate_district",
]
