"""How big a generated district is."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    name: str
    buildings: int
    house_units: int
    persons: int
    enterprises: int
    communities_per_street: int
    grids_per_community: int

    @property
    def events(self) -> int:
        return max(50, self.buildings // 20)


# `full` is Longgang itself; `small` is a twentieth of it (the demo); `tiny` is for tests.
SCALES: dict[str, Scale] = {
    "full": Scale("full", 170_000, 2_900_000, 5_000_000, 700_000, 10, 10),
    "small": Scale("small", 8_500, 145_000, 250_000, 35_000, 3, 5),
    "tiny": Scale("tiny", 400, 6_800, 12_000, 1_700, 1, 3),
}
