"""Spatial analysis for notebook users and the ``/analysis`` endpoints.

Every analysis reads through ``spatial.analysis.read`` (which applies the caller's row filter and masking in SQL),
takes an "as of" date, and returns a (Geo)DataFrame in EPSG:4326. Distances and areas are computed in the
Shenzhen Gauss-Kruger zone EPSG:4547, never in degrees. The pure functions (``*_from_frames`` and friends) take
GeoDataFrames, so the same numbers come out of PostGIS, GeoParquet or Dask partitions.
"""

from spatial.analysis.connect import connect
from spatial.analysis.viewer import Viewer

__all__ = ["Viewer", "connect"]
