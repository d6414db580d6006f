"""Free-text addresses -> a building (by its standard address) and a house unit (by room number)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import psycopg
from rapidfuzz import fuzz, process

from spatial.cleaning.standardise import compact

# Parts people add or leave out that do not tell buildings apart.
_PREFIXES = ("广东省", "广东", "深圳市", "深圳", "龙岗区")
# "...12号502室", "...12号 3单元502", "...12号-502", "...12号502房": the building part ends at 号.
_ROOM = re.compile(r"号(?:[0-9一二三四五六七八九十]+(?:单元|栋|座))?[-—_#]?([0-9]{3,4})(?:室|房|号房)?$")
FUZZY_MIN_SCORE = 92.0


def building_part(address: str) -> tuple[str, str | None]:
    """(the normalised building address, the room number found after it or None)."""
    text = compact(address)
    for prefix in _PREFIXES:
        text = text.removeprefix(prefix)
    room = None
    found = _ROOM.search(text)
    if found:
        room = found.group(1)
        text = text[: found.start()] + "号"
    return text, room


@dataclass(frozen=True)
class Match:
    building_id: int | None
    house_unit_id: int | None
    problem: str | None = None


class AddressMatcher:
    """Loads the standard addresses and rooms once; matches exactly, then fuzzily within a strict score."""

    def __init__(self, conn: psycopg.Connection) -> None:
        rows = conn.execute("SELECT id, address FROM onemap.building").fetchall()
        self._by_address = {building_part(address)[0]: building_id for building_id, address in rows}
        self._choices = list(self._by_address)
        units = conn.execute(
            "SELECT building_id, room_no, min(id) FROM onemap.house_unit GROUP BY building_id, room_no"
        ).fetchall()
        self._units = {(building_id, room): unit_id for building_id, room, unit_id in units}

    def match(self, address: str, room_no: str | None = None) -> Match:
        text, room = building_part(address)
        room = room_no or room
        building_id = self._by_address.get(text)
        if building_id is None and self._choices:
            best = process.extractOne(text, self._choices, scorer=fuzz.ratio, score_cutoff=FUZZY_MIN_SCORE)
            building_id = self._by_address[best[0]] if best else None
        if building_id is None:
            return Match(None, None, f"address not matched to any building: {address}")
        if room is None:
            return Match(building_id, None, "no room number in the address")
        unit_id = self._units.get((building_id, room))
        if unit_id is None:
            return Match(building_id, None, f"no room {room} in the matched building")
        return Match(building_id, unit_id)
