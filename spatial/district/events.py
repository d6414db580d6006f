"""Point events over the last two years (risk reports and grid incidents), for the temporal layers."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

EVENT_KINDS = {
    "fire_hazard": "消防隐患: 楼道堆放杂物",
    "illegal_construction": "违法建设: 楼顶加建",
    "sanitation": "环境卫生: 垃圾堆积",
    "flooding": "内涝积水",
    "public_security": "治安隐患: 出租屋人员频繁变动",
}


def generate_events(count: int, buildings: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    picked = buildings.iloc[rng.integers(0, len(buildings), count)]
    kinds = np.array(list(EVENT_KINDS))[rng.integers(0, len(EVENT_KINDS), count)]
    seconds = rng.integers(0, 2 * 365 * 86400, count)
    occurred = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(seconds, unit="s")
    return gpd.GeoDataFrame(
        {
            "id": np.arange(1, count + 1, dtype="int64"),
            "kind": kinds,
            "severity": rng.choice([1, 2, 3, 4, 5], count, p=[0.3, 0.3, 0.2, 0.15, 0.05]),
            "occurred_at": occurred,
            "building_id": picked["id"].to_numpy(),
            "grid_code": picked["grid_code"].to_numpy(),
            "description": pd.Series(kinds).map(EVENT_KINDS).to_numpy(),
            "status": rng.choice(["open", "acknowledged", "closed"], count, p=[0.5, 0.2, 0.3]),
            "valid_from": occurred,
            "geometry": shapely.point_on_surface(picked.geometry.to_numpy()),
        },
        crs="EPSG:4326",
    )
