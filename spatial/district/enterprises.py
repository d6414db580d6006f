"""Enterprises and individual businesses with valid credit codes, registered in non-residential units."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.district.names import COMPANY_INDUSTRIES, SHOP_INDUSTRIES, business_names, pick
from spatial.district.people import REFERENCE_DATE
from spatial.identifiers import credit_code_check_char, credit_codes_from_parts

INDIVIDUAL_SHARE = 0.6  # individual businesses (个体工商户) outnumber companies in Longgang
BAD_CHECK_SHARE = 0.002  # real issued codes that fail the GB 32100 check: flagged, kept


def generate_enterprises(
    count: int, buildings: gpd.GeoDataFrame, units: pd.DataFrame, rng: np.random.Generator
) -> gpd.GeoDataFrame:
    workplaces = units[units["use"] != "residential"]
    # Shops go to commercial units; companies to offices, factories and commercial floors. A share of
    # commercial and industrial space stays without any registered business (economic potential).
    shops = workplaces[workplaces["use"] == "commercial"]
    firms = workplaces[workplaces["use"].isin(["office", "industrial", "commercial"])]
    individual = rng.random(count) < INDIVIDUAL_SHARE
    n_shops = int(individual.sum())
    unit_rows = np.empty(count, dtype="int64")
    unit_rows[individual] = shops["id"].to_numpy()[_occupied(len(shops), n_shops, rng)]
    unit_rows[~individual] = firms["id"].to_numpy()[_occupied(len(firms), count - n_shops, rng)]
    unit_building = units.set_index("id")["building_id"]
    building_id = unit_building.loc[unit_rows].to_numpy()
    kind = np.where(individual, "individual", "company")
    industry = np.where(
        individual, pick(rng, list(SHOP_INDUSTRIES), count), pick(rng, list(COMPANY_INDUSTRIES), count)
    )
    credit = credit_codes_from_parts(
        np.where(individual, "92", "91"), np.full(count, 440307), rng.permutation(10**7)[:count] + 3 * 10**7
    )
    bad = rng.random(count) < BAD_CHECK_SHARE
    credit = np.asarray(credit, dtype=object)
    credit[bad] = [_wrong_check(code) for code in credit[bad]]
    anchors = buildings.set_index("id").geometry.loc[building_id]
    points = shapely.point_on_surface(anchors.to_numpy())
    status = rng.choice(["active", "suspended", "deregistered"], count, p=[0.9, 0.04, 0.06])
    registered = REFERENCE_DATE - rng.integers(30, 25 * 365, count).astype("timedelta64[D]")
    return gpd.GeoDataFrame(
        {
            "id": np.arange(1, count + 1, dtype="int64"),
            "credit_code": credit,
            "credit_code_check_ok": ~bad,
            "name": business_names(rng, kind, industry),
            "kind": kind,
            "industry": industry,
            "status": status,
            "registered_on": registered,
            "employees": np.where(
                individual, rng.integers(1, 6, count), rng.lognormal(2.5, 1.0, count).astype(int) + 1
            ),
            "building_id": building_id,
            "house_unit_id": unit_rows,
            "geometry": points,
        },
        crs="EPSG:4326",
    )


def _occupied(units: int, businesses: int, rng: np.random.Generator) -> np.ndarray:
    """Unit positions for `businesses`, leaving about a fifth of the units empty."""
    open_units = rng.permutation(units)[: max(1, int(units * 0.8))]
    return open_units[rng.integers(0, len(open_units), businesses)]


def _wrong_check(code: str) -> str:
    right = credit_code_check_char(code[:17])
    return code[:17] + ("1" if right != "1" else "2")
