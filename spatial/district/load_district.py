"""Generate a district and bulk-load it, or write it as the departments' deliveries: the calls behind
``onemap generate`` and ``onemap demo``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spatial.district.generate import DistrictSpec, department_tables, generate_district
from spatial.district.scale import SCALES
from spatial.errors import InvalidInput
from spatial.load_parts import load_parts

# Parts per district: 7 tables + (source part + planted part) per source slice.
_FIXED_PARTS = 7
KEY_DAMAGE_STREAM = 101  # the writers' own random stream, apart from the generator's (spatial.district.generate)


def district_spec(scale: str = "small", seed: int = 42, disagreement_rate: float = 0.02) -> DistrictSpec:
    if scale not in SCALES:
        raise InvalidInput(f"unknown scale {scale!r}: use one of {', '.join(SCALES)}")
    if not 0 <= disagreement_rate <= 0.5:
        raise InvalidInput("the disagreement rate must lie between 0 and 0.5")
    return DistrictSpec(SCALES[scale], seed, disagreement_rate)


def check_key_damage_rate(rate: float) -> float:
    if not 0 <= rate <= 0.5:
        raise InvalidInput("the key damage rate must lie between 0 and 0.5")
    return rate


def load_district(
    url: str, scale: str = "small", seed: int = 42, disagreement_rate: float = 0.02, progress: bool = True
) -> dict[str, int]:
    spec = district_spec(scale, seed, disagreement_rate)
    parts = ((part.name, part.table, part.rows) for part in generate_district(spec))
    return load_parts(url, spec.dataset, parts, total=None, progress=progress)


def write_district_deliveries(
    folder: Path,
    scale: str = "small",
    seed: int = 42,
    disagreement_rate: float = 0.02,
    key_damage_rate: float | None = None,
) -> dict[str, int]:
    """Write the district's department deliveries and answer key into `folder`; returns rows per file."""
    from spatial.district.deliveries import KEY_DAMAGE_RATE, write_deliveries
    from spatial.district.sources import DELIVERED_SPECS

    spec = district_spec(scale, seed, disagreement_rate)
    written = write_deliveries(
        department_tables(spec, sources=DELIVERED_SPECS),
        folder,
        check_key_damage_rate(KEY_DAMAGE_RATE if key_damage_rate is None else key_damage_rate),
        np.random.default_rng([seed, KEY_DAMAGE_STREAM]),
    )
    return {file.path.name: file.rows for file in written}
