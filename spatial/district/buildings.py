"""Building footprints clustered the way Longgang is built: dense urban villages of narrow 'handshake' buildings,
residential estates of towers, industrial parks of long sheds, and commercial / office / public blocks.

Everything is vectorised: cluster centres are drawn on buildable land (DEM), buildings sit on a rotated lattice
around them, and footprints are rotated rectangles built with one ``shapely.polygons`` call.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.district.terrain import Terrain

M_PER_DEG_LAT = 110_540.0


@dataclass(frozen=True)
class Archetype:
    use: str
    share: float  # of all buildings
    cluster_size: int  # mean buildings per cluster
    width_m: tuple[float, float]
    depth_m: tuple[float, float]
    gap_m: float  # space between neighbours
    floors: tuple[int, int]
    years: tuple[int, int]
    structure: str
    units_per_floor: tuple[int, int]


ARCHETYPES = (
    Archetype(
        "urban_village", 0.64, 80, (10, 13), (10, 14), 2.5, (4, 9), (1985, 2008), "brick_concrete", (2, 4)
    ),
    Archetype(
        "residential", 0.10, 16, (20, 28), (16, 22), 20.0, (12, 34), (1995, 2024), "frame_shear_wall", (4, 8)
    ),
    Archetype("industrial", 0.10, 14, (30, 55), (15, 24), 10.0, (2, 6), (1988, 2018), "steel_frame", (1, 2)),
    Archetype("commercial", 0.06, 6, (20, 40), (18, 30), 12.0, (3, 12), (1998, 2024), "frame", (2, 6)),
    Archetype("office", 0.04, 5, (22, 35), (18, 28), 15.0, (8, 40), (2000, 2024), "frame_core", (2, 6)),
    Archetype("public", 0.03, 4, (25, 45), (18, 30), 12.0, (2, 6), (1990, 2024), "frame", (1, 4)),
    Archetype("mixed", 0.03, 8, (18, 30), (14, 22), 8.0, (6, 20), (1995, 2020), "frame", (2, 4)),
)
MAX_ROUNDS = 40


def generate_buildings(
    count: int, area: shapely.Geometry, terrain: Terrain, rng: np.random.Generator
) -> gpd.GeoDataFrame:
    """Exactly `count` non-overlapping buildings on buildable land inside `area`, each use in its share.

    Clusters land at random, so they collide; each round adds clusters for the uses still short and keeps only
    buildings that touch none kept before, until every use has its quota.
    """
    quotas = _quotas(count)
    kept = gpd.GeoDataFrame({"use": [], "geometry": []}, crs="EPSG:4326")
    for _ in range(MAX_ROUNDS):
        have = kept["use"].value_counts()
        short = {a: quotas[a.use] - int(have.get(a.use, 0)) for a in ARCHETYPES}
        short = {a: n for a, n in short.items() if n > 0}
        if not short:
            break
        fresh = pd.concat(
            [_archetype_buildings(a, int(n * 1.5) + 200, area, terrain, rng) for a, n in short.items()],
            ignore_index=True,
        )
        fresh = fresh.iloc[rng.permutation(len(fresh))]
        candidates = pd.concat([kept, fresh], ignore_index=True)
        candidates = candidates[_without_overlaps(candidates.geometry.to_numpy())]
        kept = gpd.GeoDataFrame(
            pd.concat([candidates[candidates["use"] == a.use].head(quotas[a.use]) for a in ARCHETYPES]),
            crs="EPSG:4326",
        )
    if len(kept) < count:
        raise RuntimeError(f"only {len(kept)} buildings fit on buildable land; asked for {count}")
    # The first round concatenates onto an empty frame, which turns integer columns into floats.
    kept = kept.astype(
        {"cluster": "int64", "floors": "int64", "built_year": "int64", "units_per_floor": "int64"}
    )
    frame = gpd.GeoDataFrame(kept.sort_values(["cluster", "use"]).reset_index(drop=True), crs="EPSG:4326")
    frame.insert(0, "id", np.arange(1, len(frame) + 1, dtype="int64"))
    return frame


def _quotas(count: int) -> dict[str, int]:
    quotas = {a.use: int(count * a.share) for a in ARCHETYPES}
    quotas[ARCHETYPES[0].use] += count - sum(quotas.values())
    return quotas


def _archetype_buildings(
    kind: Archetype, count: int, area: shapely.Geometry, terrain: Terrain, rng: np.random.Generator
) -> gpd.GeoDataFrame:
    clusters = max(1, count // kind.cluster_size + 1)
    centres = _buildable_points(clusters, area, terrain, rng)
    sizes = np.maximum(1, rng.poisson(kind.cluster_size, clusters))
    cluster_of = np.repeat(np.arange(clusters), sizes)
    position = np.concatenate([np.arange(n) for n in sizes])
    side = np.ceil(np.sqrt(sizes)).astype(int)[cluster_of]
    width = rng.uniform(*kind.width_m, len(cluster_of))
    depth = rng.uniform(*kind.depth_m, len(cluster_of))
    pitch_x = kind.width_m[1] + kind.gap_m
    pitch_y = kind.depth_m[1] + kind.gap_m
    # Lattice offsets in metres, centred on the cluster, then rotated by the cluster's street direction.
    local_x = (position % side - (side - 1) / 2) * pitch_x
    local_y = (position // side - (side - 1) / 2) * pitch_y
    angle = rng.uniform(0, np.pi / 2, clusters)[cluster_of] + rng.normal(0, 0.02, len(cluster_of))
    lon0, lat0 = centres[cluster_of, 0], centres[cluster_of, 1]
    m_per_deg_lon = 111_320.0 * np.cos(np.deg2rad(lat0))
    corners = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5], [-0.5, -0.5]])
    dx = local_x[:, None] + corners[None, :, 0] * width[:, None]
    dy = local_y[:, None] + corners[None, :, 1] * depth[:, None]
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    lon = lon0[:, None] + (dx * cos - dy * sin) / m_per_deg_lon[:, None]
    lat = lat0[:, None] + (dx * sin + dy * cos) / M_PER_DEG_LAT
    footprints = shapely.polygons(np.stack([lon, lat], axis=-1))
    centre_lon, centre_lat = lon[:, :4].mean(axis=1), lat[:, :4].mean(axis=1)
    ok = shapely.contains_xy(area, centre_lon, centre_lat) & terrain.buildable(centre_lon, centre_lat)
    n = len(cluster_of)
    floors = rng.integers(kind.floors[0], kind.floors[1] + 1, n)
    frame = gpd.GeoDataFrame(
        {
            "use": kind.use,
            "cluster": cluster_of + int(rng.integers(0, 1_000_000)) * 1000,
            "floors": floors,
            "height_m": np.round(floors * rng.uniform(2.9, 3.6, n), 1),
            "structure": kind.structure,
            "built_year": rng.integers(kind.years[0], kind.years[1] + 1, n),
            "units_per_floor": rng.integers(kind.units_per_floor[0], kind.units_per_floor[1] + 1, n),
            "footprint_m2": width * depth,
            "geometry": footprints,
        },
        crs="EPSG:4326",
    )
    return frame[ok]


def _buildable_points(
    count: int, area: shapely.Geometry, terrain: Terrain, rng: np.random.Generator
) -> np.ndarray:
    minx, miny, maxx, maxy = shapely.bounds(area)
    found: list[np.ndarray] = []
    total = 0
    while total < count:
        xy = rng.uniform((minx, miny), (maxx, maxy), size=(count * 6 + 100, 2))
        ok = shapely.contains_xy(area, xy[:, 0], xy[:, 1]) & terrain.buildable(xy[:, 0], xy[:, 1])
        found.append(xy[ok])
        total += int(ok.sum())
    return np.concatenate(found)[:count]


def _without_overlaps(footprints: np.ndarray) -> np.ndarray:
    """Greedy: keep a building unless it touches one kept before it (lower index wins)."""
    tree = shapely.STRtree(footprints)
    left, right = tree.query(footprints, predicate="intersects")
    pairs = left < right  # each conflicting pair once; the later one loses
    keep = np.ones(len(footprints), dtype=bool)
    losers = np.unique(right[pairs])
    keep[losers] = False
    # A loser whose only rivals were themselves losers could come back, but a second pass costs more than
    # the few buildings it would save.
    return keep
