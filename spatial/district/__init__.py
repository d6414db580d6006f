"""A deterministic, Longgang-scale synthetic district: admin areas, buildings, units, people, enterprises,
events and department source records with planted disagreements."""

from spatial.district.scale import SCALES, Scale

__all__ = ["SCALES", "Scale"]
