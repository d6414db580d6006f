"""District -> 11 streets -> communities -> grids, tiling the real Longgang boundary without gaps.

Each level is a Voronoi partition of random seeds inside its parent, clipped to the parent, so children tile their
parent exactly (up to floating point) and every point of the district lies in exactly one grid.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from spatial.data import LONGGANG_BOUNDARY, data_path
from spatial.district.scale import Scale

DISTRICT_CODE = "440307"
DISTRICT_NAME = "龙岗区"
# Longgang's eleven streets (街道) since the 2016-2017 reorganisation.
STREET_NAMES = ("平湖", "布吉", "坂田", "南湾", "横岗", "龙城", "龙岗", "坪地", "园山", "宝龙", "吉华")
COMMUNITY_WORDS = (
    "新",
    "华",
    "东",
    "西",
    "南",
    "北",
    "中",
    "和",
    "兴",
    "安",
    "富",
    "康",
    "丰",
    "盛",
    "乐",
    "荣",
)


def load_boundary() -> BaseGeometry:
    frame = gpd.read_file(data_path(LONGGANG_BOUNDARY))
    return shapely.make_valid(frame.geometry.iloc[0])


def _partition(parent: BaseGeometry, parts: int, rng: np.random.Generator) -> list[BaseGeometry]:
    """Split `parent` into `parts` Voronoi cells of seeds drawn inside it (balanced by k-means steps)."""
    if parts == 1:
        return [parent]
    sample = _points_inside(parent, parts * 40, rng)
    seeds = sample[rng.choice(len(sample), parts, replace=False)]
    for _ in range(8):  # Lloyd iterations: cells of similar size, like real administrative units
        nearest = np.argmin(((sample[:, None, :] - seeds[None, :, :]) ** 2).sum(axis=2), axis=1)
        seeds = np.array(
            [sample[nearest == k].mean(axis=0) if (nearest == k).any() else seeds[k] for k in range(parts)]
        )
    cells = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=parent.envelope)
    ordered = []
    for seed in seeds:  # voronoi_polygons does not keep the seed order
        point = shapely.Point(seed)
        ordered.append(next(cell for cell in shapely.get_parts(cells) if cell.contains(point)))
    return [_as_multipolygon(cell.intersection(parent)) for cell in ordered]


def _points_inside(area: BaseGeometry, count: int, rng: np.random.Generator) -> np.ndarray:
    minx, miny, maxx, maxy = area.bounds
    found: list[np.ndarray] = []
    total = 0
    while total < count:
        xy = rng.uniform((minx, miny), (maxx, maxy), size=(count * 4, 2))
        xy = xy[shapely.contains_xy(area, xy[:, 0], xy[:, 1])]
        found.append(xy)
        total += len(xy)
    return np.concatenate(found)[:count]


def _as_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    polygons = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, Polygon) and not g.is_empty]
    return MultiPolygon(polygons)


def build_admin_areas(scale: Scale, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """All four levels in one frame (code, name, level, parent_code, geometry), parents before children."""
    boundary = load_boundary()
    rows: list[dict[str, object]] = [
        {
            "code": DISTRICT_CODE,
            "name": DISTRICT_NAME,
            "level": "district",
            "parent_code": None,
            "geometry": _as_multipolygon(boundary),
        }
    ]
    for s, (street_name, street_geom) in enumerate(
        zip(STREET_NAMES, _partition(boundary, 11, rng), strict=True)
    ):
        street_code = f"{DISTRICT_CODE}{s + 1:03d}"
        rows.append(
            {
                "code": street_code,
                "name": f"{street_name}街道",
                "level": "street",
                "parent_code": DISTRICT_CODE,
                "geometry": street_geom,
            }
        )
        communities = _partition(street_geom, scale.communities_per_street, rng)
        for c, community_geom in enumerate(communities):
            community_code = f"{street_code}{c + 1:03d}"
            word = COMMUNITY_WORDS[(s + c) % len(COMMUNITY_WORDS)] + COMMUNITY_WORDS[(3 * s + c + 5) % 16]
            rows.append(
                {
                    "code": community_code,
                    "name": f"{street_name}{word}社区",
                    "level": "community",
                    "parent_code": street_code,
                    "geometry": community_geom,
                }
            )
            for g, grid_geom in enumerate(_partition(community_geom, scale.grids_per_community, rng)):
                rows.append(
                    {
                        "code": f"{community_code}{g + 1:03d}",
                        "name": f"{street_name}{word}第{g + 1}网格",
                        "level": "grid",
                        "parent_code": community_code,
                        "geometry": grid_geom,
                    }
                )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
