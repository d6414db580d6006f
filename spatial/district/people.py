"""House units per floor, people with valid ID numbers, and where they live (with moves, for history)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from spatial.district.names import LOCAL_AREA_CODES, MIGRANT_AREA_CODES, person_names
from spatial.identifiers import id_numbers_from_parts

REFERENCE_DATE = np.datetime64("2026-01-01")
MIGRANT_SHARE = 0.70  # Shenzhen's non-registered residents outnumber registered ones about 2:1

# Which use each floor of a building gets: shops on the ground floor of urban villages and mixed blocks.
_FLOOR_USE = {
    "residential": "residential",
    "urban_village": "residential",
    "commercial": "commercial",
    "industrial": "industrial",
    "office": "office",
    "public": "public",
    "mixed": "residential",
}
_GROUND_FLOOR_SHOPS = {"urban_village", "mixed"}


def generate_units(buildings: pd.DataFrame, target: int, rng: np.random.Generator) -> pd.DataFrame:
    """House units floor by floor; units per floor scaled so the district total lands near `target`."""
    floors = buildings["floors"].to_numpy()
    scaled = buildings["units_per_floor"].to_numpy() * target / (floors * buildings["units_per_floor"]).sum()
    # Random rounding keeps the expected total on target (plain rounding drifts by a tenth at full scale).
    per_floor = np.maximum(1, np.floor(scaled + rng.random(len(scaled)))).astype(int)
    counts = floors * per_floor
    building_index = np.repeat(np.arange(len(buildings)), counts)
    # Position of each unit inside its building -> floor and room number ("floor" * 100 + door, e.g. 305).
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    position = np.arange(len(building_index)) - starts
    upf = per_floor[building_index]
    floor = position // upf + 1
    door = position % upf + 1
    use = buildings["use"].to_numpy()[building_index]
    unit_use = pd.Series(use).map(_FLOOR_USE).to_numpy(dtype=object)
    shops = np.isin(use, list(_GROUND_FLOOR_SHOPS)) & (floor == 1)
    unit_use[shops] = "commercial"
    area = buildings["footprint_m2"].to_numpy()[building_index] * 0.8 / upf
    return pd.DataFrame(
        {
            "id": np.arange(1, len(building_index) + 1, dtype="int64"),
            "building_id": buildings["id"].to_numpy()[building_index],
            "unit_no": "1",
            "floor": floor.astype("int16"),
            "room_no": (floor * 100 + door).astype(str),
            "area_m2": np.round(area, 1),
            "use": unit_use,
            "building_use": use,
        }
    )


def generate_persons(count: int, rng: np.random.Generator) -> pd.DataFrame:
    migrant = rng.random(count) < MIGRANT_SHARE
    area_code = np.where(
        migrant,
        MIGRANT_AREA_CODES[rng.integers(0, len(MIGRANT_AREA_CODES), count)],
        LOCAL_AREA_CODES[rng.integers(0, len(LOCAL_AREA_CODES), count)],
    )
    # Ages: a working-age bulge (Shenzhen's median age is about 33), children and elders around it.
    age_years = np.where(rng.random(count) < 0.8, rng.normal(33, 9, count), rng.uniform(0, 85, count)).clip(
        0, 95
    )
    birth = REFERENCE_DATE - (age_years * 365.25).astype("int64").astype("timedelta64[D]")
    sex = np.where(rng.random(count) < 0.53, "M", "F")
    # Sequence numbers: odd for men, even for women, counted within (area, birth date, sex) so IDs are unique.
    frame = pd.DataFrame({"area": area_code, "birth": birth, "sex": sex})
    rank = frame.groupby(["area", "birth", "sex"], sort=False).cumcount().to_numpy()
    sequence = 2 * rank + np.where(sex == "M", 1, 2)
    if sequence.max() > 999:
        raise RuntimeError("too many people share an area and birth date for GB 11643 sequence numbers")
    id_number = id_numbers_from_parts(area_code, birth, sequence)
    phone = (rng.integers(13, 20, count) * 10**9 + rng.integers(0, 10**9, count)).astype(str)
    return pd.DataFrame(
        {
            "id": np.arange(1, count + 1, dtype="int64"),
            "id_number": id_number,
            "name": person_names(rng, count),
            "sex": sex,
            "birth_date": birth,
            "phone": phone,
            "household_type": np.where(migrant, "migrant", "local"),
        }
    )


def assign_residences(persons: pd.DataFrame, units: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Each person's current home, and for about one in ten, the home they moved out of."""
    homes = units[units["use"] == "residential"]
    count = len(persons)
    # Urban-village rooms are small but crowded; a few units of every kind stand empty.
    weight = np.where(homes["building_use"].to_numpy() == "urban_village", 1.6, 1.0)
    weight = weight * (rng.random(len(homes)) > 0.06)
    unit_ids, building_ids = homes["id"].to_numpy(), homes["building_id"].to_numpy()
    home = rng.choice(len(homes), count, p=weight / weight.sum())
    moved_in = REFERENCE_DATE - rng.integers(30, 15 * 365, count).astype("timedelta64[D]")
    born = persons["birth_date"].to_numpy().astype("datetime64[D]")
    moved_in = np.maximum(moved_in, born + np.timedelta64(1, "D"))
    current = pd.DataFrame(
        {
            "person_id": persons["id"].to_numpy(),
            "house_unit_id": unit_ids[home],
            "building_id": building_ids[home],
            "relation": np.where(persons["household_type"].to_numpy() == "migrant", "tenant", "owner_family"),
            "valid_from": moved_in,
            "valid_to": pd.NaT,
        }
    )
    movers = np.flatnonzero((rng.random(count) < 0.1) & (moved_in - born > np.timedelta64(400, "D")))
    earlier_home = rng.integers(0, len(homes), len(movers))
    earlier = pd.DataFrame(
        {
            "person_id": persons["id"].to_numpy()[movers],
            "house_unit_id": unit_ids[earlier_home],
            "building_id": building_ids[earlier_home],
            "relation": "tenant",
            "valid_from": np.maximum(
                moved_in[movers] - rng.integers(180, 5 * 365, len(movers)).astype("timedelta64[D]"),
                born[movers] + np.timedelta64(1, "D"),
            ),
            "valid_to": moved_in[movers],
        }
    )
    residences = pd.concat([current, earlier], ignore_index=True)
    residences.insert(0, "id", np.arange(1, len(residences) + 1, dtype="int64"))
    return residences


def reference_datetime() -> dt.datetime:
    return dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
