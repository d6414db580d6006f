"""Make the small upload fixtures of tests/data from the real files in ../shared/data/real (run once; the
outputs are committed). Sources and licences: tests/data/README.md."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
from openpyxl import Workbook

from spatial.crs import transform_geometry

HERE = Path(__file__).parent
REAL = HERE.parents[2] / "shared" / "data" / "real"


def hk_sample(n: int = 40) -> gpd.GeoDataFrame:
    hk = gpd.read_file(REAL / "china_other" / "hk_central_osm_buildings.geojson")
    hk = hk[hk["name:zh"].notna()].head(n).reset_index(drop=True)
    levels = hk["building:levels"].fillna("0").astype(str).str.extract(r"(\d+)")[0].fillna(0).astype(int)
    return gpd.GeoDataFrame(
        {"名称": hk["name:zh"], "楼层": levels, "高度": levels * 3.2, "用途": hk["building"].fillna("yes")},
        geometry=hk.geometry,
        crs="EPSG:4326",
    )


def gbk_shapefile() -> None:
    frame = hk_sample()
    folder = HERE / "_shp"
    folder.mkdir(exist_ok=True)
    frame.to_file(folder / "楼栋.shp", encoding="GB18030", engine="pyogrio")
    (folder / "楼栋.cpg").unlink(missing_ok=True)  # departments' files usually have none
    with zipfile.ZipFile(HERE / "buildings_gbk_shp.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for part in sorted(folder.iterdir()):
            archive.write(part, part.name)
    for part in folder.iterdir():
        part.unlink()
    folder.rmdir()


def xlsx() -> None:
    frame = hk_sample()
    points = frame.geometry.representative_point()
    book = Workbook()
    sheet = book.active
    sheet.title = "门店"
    sheet.append(["门店名称", "经度", "纬度", "面积(平方米)", "登记日期"])
    for i, (name, point) in enumerate(zip(frame["名称"], points, strict=True)):
        sheet.append([name, round(point.x, 7), round(point.y, 7), 50 + 7 * i, f"2023-0{1 + i % 9}-15"])
    book.save(HERE / "shops.xlsx")


def gcj02_geojson() -> None:
    districts = json.loads((REAL / "shenzhen" / "shenzhen_districts_tbd.json").read_text(encoding="utf-8"))
    frame = gpd.GeoDataFrame.from_features(districts["features"], crs="EPSG:4326")
    frame = frame[frame["qh"].isin(["龙岗", "坪山"])][["qh", "geometry"]].rename(columns={"qh": "区名"})
    frame["geometry"] = frame.geometry.simplify(0.002)
    wgs = frame.copy()
    frame["geometry"] = transform_geometry(np.asarray(frame.geometry), 4326, "GCJ02")
    # As AMap/DataV hand it out: GCJ-02 coordinates, no CRS tag (GeoJSON means WGS-84).
    (HERE / "districts_gcj02.geojson").write_text(frame.to_json(ensure_ascii=False), encoding="utf-8")
    (HERE / "districts_wgs84.geojson").write_text(wgs.to_json(ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    gbk_shapefile()
    xlsx()
    gcj02_geojson()
