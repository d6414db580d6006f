"""Generate a district and bulk-load it, or write it as the departments' deliveries: the calls behind
``onemap generate`` and ``onemap demo``."""

from __future__ import annotations

from pathlib import Path

from spatial.district.generate import DistrictSpec, department_tables, generate_district
from spatial.district.scale import SCALES
from spatial.errors import InvalidInput
from spatial.load_parts import load_parts

# Parts per district: 7 tables + (source part + planted part) per source slice.
_FIXED_PARTS = 7


def district_spec(scale: str = "small", seed: int = 42, disagreement_rate: float = 0.02) -> DistrictSpec:
    if scale not in SCALES:
        raise InvalidInput(f"unknown scale {scale!r}: use one of {', '.join(SCALES)}")
    if not 0 <= disagreement_rate <= 0.5:
        raise InvalidInput("the disagreement rate must lie between 0 and 0.5")
    return DistrictSpec(SCALES[scale], seed, disagreement_rate)


def load_district(
    url: str, scale: str = "small", seed: int = 42, disagreement_rate: float = 0.02, progress: bool = True
) -> dict[str, int]:
    spec = district_spec(scale, seed, disagreement_rate)
    parts = ((part.name, part.table, part.rows) for part in generate_district(spec))
    return load_parts(url, spec.dataset, parts, total=None, progress=progress)


def write_district_deliveries(
    folder: Path, scale: str = "small", seed: int = 42, disagreement_rate: float = 0.02
) -> dict[str, int]:
    """Write the district's department deliveries and answer key into `folder`; returns rows per file."""
    from spatial.district.deliveries import write_deliveries

    written = write_deliveries(department_tables(district_spec(scale, seed, disagreement_rate)), folder)
    return {file.path.name: file.rows for file in written}
