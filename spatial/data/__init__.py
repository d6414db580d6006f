"""Data files shipped with onemap (see the README's attribution section)."""

from importlib.resources import files
from pathlib import Path

LONGGANG_BOUNDARY = "longgang_boundary.geojson"  # transbigdata, BSD-3-Clause
SHENZHEN_DEM = "shenzhen_dem_srtmgl1_30m.tif"  # SRTM GL1 (NASA/USGS, public domain), via OpenTopography


def data_path(name: str) -> Path:
    return Path(str(files(__package__).joinpath(name)))
