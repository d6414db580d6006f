"""Generate a district and bulk-load it: the one call behind ``onemap generate`` and ``onemap demo``."""

from __future__ import annotations

from spatial.district.generate import DistrictSpec, generate_district
from spatial.district.scale import SCALES
from spatial.load_parts import load_parts

# Parts per district: 7 tables + (source part + planted part) per source slice.
_FIXED_PARTS = 7


def load_district(
    url: str, scale: str = "small", seed: int = 42, disagreement_rate: float = 0.02, progress: bool = True
) -> dict[str, int]:
    if scale not in SCALES:
        from spatial.errors import InvalidInput

        raise InvalidInput(f"unknown scale {scale!r}: use one of {', '.join(SCALES)}")
    if not 0 <= disagreement_rate <= 0.5:
        from spatial.errors import InvalidInput

        raise InvalidInput("the disagreement rate must lie between 0 and 0.5")
    spec = DistrictSpec(SCALES[scale], seed, disagreement_rate)
    parts = ((part.name, part.table, part.rows) for part in generate_district(spec))
    return load_parts(url, spec.dataset, parts, total=None, progress=progress)
