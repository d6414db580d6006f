"""GCJ-02 ("Mars coordinates", AMap/Tencent) and BD-09 (Baidu): the two Chinese obfuscated datums.

Neither is in PROJ or EPSG, so they are computed here, vectorised with numpy. All functions take lon/lat
in degrees (x first, like every GIS API in this project), as Python scalars or numpy arrays, and return
results of the same shape (a ``float`` for scalar input).

- WGS-84 -> GCJ-02 is the public (leaked, widely re-implemented) closed formula. It has no closed inverse,
  so GCJ-02 -> WGS-84 is solved by fixed-point iteration to ~1e-10 deg (sub-millimetre), not by the common
  one-step approximation that is off by metres.
- GCJ-02 -> BD-09 is a closed formula; its inverse is iterated the same way.
- GCJ-02 applies only inside (mainland) China; elsewhere it is the identity. BD-09 is defined on top of GCJ-02
  everywhere, as in Baidu's own SDK.

Sign convention: at Shenzhen a WGS-84 point has GCJ-02 coordinates about +0.0049 deg lon / -0.0030 deg lat
away, so GCJ-02 data read as if it were WGS-84 lands ~500 m east and ~300 m south of the true position.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Protocol, overload

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

# Krasovsky 1940 ellipsoid: the GCJ-02 formula was built on it, so these are not the WGS-84 values.
_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323
_BD_X_PI = np.pi * 3000.0 / 180.0

# Converged when the step is below this (1e-10 deg is ~0.01 mm on the ground).
_TOLERANCE_DEG = 1e-10
_MAX_ITERATIONS = 30

# The usual rough bounding box of China; a point outside it is certainly not shifted.
CHINA_BBOX = (72.004, 0.8293, 137.8347, 55.8271)

# A finer outline of mainland China as the union of rectangles (west, south, east, north) minus the
# exclusions below. The bounding box alone would shift Taiwan, northern Vietnam, Mongolia and the Russian
# Far East. Hong Kong and Macau are deliberately NOT excluded: AMap and Baidu publish them in GCJ-02/BD-09
# too, and a box around Hong Kong would also swallow the southern edge of Shenzhen (Futian, Nanshan and
# Luohu lie at 22.5 N).
_MAINLAND_RECTANGLES = np.array(
    [
        (79.4462, 42.8899, 96.3300, 49.2204),
        (109.6872, 39.3742, 135.0002, 54.1415),
        (73.1246, 29.5297, 124.143255, 42.8899),
        (82.9684, 26.7186, 97.0352, 29.5297),
        (97.0253, 20.414096, 124.367395, 29.5297),
        (107.975793, 17.871542, 111.744104, 20.414096),
    ]
)
_NOT_SHIFTED_RECTANGLES = np.array(
    [
        (119.921265, 21.785006, 122.497559, 25.398623),  # Taiwan
        (101.8652, 20.0988, 106.665, 22.284),  # northern Vietnam / Laos
        (106.4525, 20.4878, 108.051, 21.5422),  # northern Vietnam
        (109.0323, 50.3257, 119.127, 55.8175),  # Mongolia / Russia
        (127.4568, 49.5574, 137.0227, 55.8175),  # Russian Far East
        (131.2662, 42.5692, 137.0227, 44.8922),  # Russian Far East (Primorye)
    ]
)


def _as_float_arrays(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    lon_arr, lat_arr = np.broadcast_arrays(np.asarray(lon, np.float64), np.asarray(lat, np.float64))
    return lon_arr, lat_arr


class CoordinatePairTransform(Protocol):
    """A lon/lat -> lon/lat function that keeps the input's shape (scalars in, floats out)."""

    @overload
    def __call__(self, lon: float, lat: float) -> tuple[float, float]: ...
    @overload
    def __call__(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]: ...


def _shape_preserving(
    func: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]],
) -> CoordinatePairTransform:
    """Let an array-only implementation accept scalars and lists, and hand back the caller's shape."""

    @wraps(func)
    def wrapper(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[object, object]:
        lon_arr, lat_arr = _as_float_arrays(lon, lat)
        # The offset formula is evaluated everywhere and masked afterwards, so at the poles or for NaN/inf
        # input it may overflow or divide by ~0 in values that are then discarded: no warnings for those.
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            out_lon, out_lat = func(lon_arr, lat_arr)
        if out_lon.ndim == 0:
            return float(out_lon), float(out_lat)
        return out_lon, out_lat

    return wrapper  # type: ignore[return-value]


def _in_rectangles(lon: FloatArray, lat: FloatArray, rectangles: FloatArray) -> npt.NDArray[np.bool_]:
    west, south, east, north = (rectangles[:, i] for i in range(4))
    lon_, lat_ = lon[..., np.newaxis], lat[..., np.newaxis]
    hit = (lon_ >= west) & (lon_ <= east) & (lat_ >= south) & (lat_ <= north)
    return np.asarray(hit.any(axis=-1))


def _shifted_mask(lon: FloatArray, lat: FloatArray) -> npt.NDArray[np.bool_]:
    west, south, east, north = CHINA_BBOX
    in_box = (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)
    in_mainland = _in_rectangles(lon, lat, _MAINLAND_RECTANGLES)
    return np.asarray(in_box & in_mainland & ~_in_rectangles(lon, lat, _NOT_SHIFTED_RECTANGLES))


def in_china(lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.bool_] | bool:
    """True where GCJ-02 shifts the point (mainland China, Hong Kong, Macau; not Taiwan or neighbours)."""
    lon_arr, lat_arr = _as_float_arrays(lon, lat)
    mask = _shifted_mask(lon_arr, lat_arr)
    return bool(mask) if mask.ndim == 0 else mask


def _raw_gcj02_offset(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The GCJ-02 shift (dlon, dlat) in degrees at a WGS-84 point, ignoring the China mask."""
    x = lon - 105.0
    y = lat - 35.0
    # The periodic "noise" terms are shared between both components except for the last two sine pairs.
    noise = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x + noise
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x + noise
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0

    # The formula yields metres-ish values; scale them to degrees with Krasovsky radii of curvature.
    rad_lat = np.radians(lat)
    magic = 1.0 - _KRASOVSKY_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_KRASOVSKY_A * (1.0 - _KRASOVSKY_EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_KRASOVSKY_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return dlon, dlat


def _forward_gcj02(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    dlon, dlat = _raw_gcj02_offset(lon, lat)
    shifted = _shifted_mask(lon, lat)
    return np.where(shifted, lon + dlon, lon), np.where(shifted, lat + dlat, lat)


def _forward_gcj02_unmasked(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    dlon, dlat = _raw_gcj02_offset(lon, lat)
    return lon + dlon, lat + dlat


def _invert_by_iteration(
    forward: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]],
    target_lon: FloatArray,
    target_lat: FloatArray,
    guess_lon: FloatArray,
    guess_lat: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Solve forward(p) == target by fixed-point iteration p <- p - (forward(p) - target).

    The shifts vary slowly (their derivative is ~1e-4 to 1e-3), so each step gains three to four digits:
    three or four steps reach the tolerance from a first guess that is already within metres.
    """
    lon, lat = guess_lon.copy(), guess_lat.copy()
    for _ in range(_MAX_ITERATIONS):
        fwd_lon, fwd_lat = forward(lon, lat)
        step_lon, step_lat = fwd_lon - target_lon, fwd_lat - target_lat
        lon -= step_lon
        lat -= step_lat
        # NaN inputs never converge; they are left as NaN rather than holding up the rest.
        worst = np.nanmax(np.abs(np.concatenate([step_lon.ravel(), step_lat.ravel()])), initial=0.0)
        if worst < _TOLERANCE_DEG:
            break
    return lon, lat


def _gcj02_to_wgs84(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    # First guess: subtract the shift evaluated at the GCJ-02 point; it is already within a few metres.
    dlon, dlat = _raw_gcj02_offset(lon, lat)
    wgs_lon, wgs_lat = _invert_by_iteration(_forward_gcj02_unmasked, lon, lat, lon - dlon, lat - dlat)
    shifted = _shifted_mask(lon, lat)
    return np.where(shifted, wgs_lon, lon), np.where(shifted, wgs_lat, lat)


def _forward_bd09(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _BD_X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _BD_X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _approximate_bd09_inverse(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    # Baidu's published one-step inverse: off by a few centimetres, so only the starting point.
    x, y = lon - 0.0065, lat - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _bd09_to_gcj02(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    guess_lon, guess_lat = _approximate_bd09_inverse(lon, lat)
    return _invert_by_iteration(_forward_bd09, lon, lat, guess_lon, guess_lat)


# The public API: shape-preserving wrappers around the array-only implementations above.


@_shape_preserving
def wgs84_to_gcj02(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """WGS-84 lon/lat -> GCJ-02 lon/lat (identity outside China)."""
    return _forward_gcj02(lon, lat)


@_shape_preserving
def gcj02_to_wgs84(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 lon/lat -> WGS-84 lon/lat, iterated to sub-millimetre (identity outside China).

    Within ~700 m of the edge of the shifted region the inverse is ambiguous (a GCJ-02 point just outside
    may be an unshifted point, or a shifted one from just inside); like every implementation, points outside
    are taken as unshifted. No city lies in that band: it follows national borders and the coast.
    """
    return _gcj02_to_wgs84(lon, lat)


@_shape_preserving
def gcj02_to_bd09(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 lon/lat -> BD-09 lon/lat."""
    return _forward_bd09(lon, lat)


@_shape_preserving
def bd09_to_gcj02(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """BD-09 lon/lat -> GCJ-02 lon/lat, iterated to sub-millimetre."""
    return _bd09_to_gcj02(lon, lat)


@_shape_preserving
def wgs84_to_bd09(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """WGS-84 lon/lat -> BD-09 lon/lat (through GCJ-02)."""
    return _forward_bd09(*_forward_gcj02(lon, lat))


@_shape_preserving
def bd09_to_wgs84(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """BD-09 lon/lat -> WGS-84 lon/lat (through GCJ-02)."""
    return _gcj02_to_wgs84(*_bd09_to_gcj02(lon, lat))
