"""The three archives (one building / person / enterprise, one file): their SQL and who may read what.

Each archive is one static query (``layers/sql/archive_*.sql``) returning the whole file as JSON text, built
in the database, "as of" an instant (NULL = now) through the ``<table>_history`` tables. Masking happens in
that SQL, driven by ``Principal.sees_personal_data``. Grid workers may open only files within their grid.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from layers.access import Principal
from layers.sql import read_sql
from spatial.errors import Forbidden, InvalidInput, NotFound

ID_NUMBER = re.compile(r"^[0-9]{17}[0-9X]$")
PERSON_ID = re.compile(r"^[0-9]{1,17}$")
CREDIT_CODE = re.compile(r"^[0-9A-HJ-NP-RTUW-Y]{18}$")
BUILDING_CODE = re.compile(r"^[0-9A-Za-z_\-]{1,64}$")


@dataclass(frozen=True)
class ArchiveSections:
    """Which related sections a caller may see: each follows the read grant of its layer in the catalog, so a
    department that may not read another's enterprises or events does not get them through a file either."""

    enterprises: bool
    events: bool
    issues: bool

    @classmethod
    def readable_by(cls, readable_layer_ids: set[str]) -> ArchiveSections:
        return cls(
            "enterprises" in readable_layer_ids,
            "events" in readable_layer_ids,
            "verification_issues" in readable_layer_ids,
        )

    def params(self) -> dict[str, bool]:
        return {"show_enterprises": self.enterprises, "show_events": self.events, "show_issues": self.issues}


@dataclass(frozen=True)
class ArchiveQuery:
    kind: str  # "building" | "person" | "enterprise"
    key: str
    sql: str
    params: dict[str, Any]
    personal: bool  # the file holds personal data: reading it is audited


def require_archive_reader(who: Principal) -> None:
    if not who.is_internal:
        raise Forbidden(
            "archives hold internal and personal data: they need a key with an internal role "
            "(admin, planner, department_editor or grid_worker)"
        )


def building_archive(
    code: str, who: Principal, as_of: dt.datetime | None, sections: ArchiveSections
) -> ArchiveQuery:
    require_archive_reader(who)
    if not BUILDING_CODE.match(code):
        raise InvalidInput(f"invalid building code {code!r}: letters, digits, '-' and '_', at most 64")
    params = {"code": code, "as_of": as_of, "unmasked": who.sees_personal_data, **sections.params()}
    return ArchiveQuery("building", code, read_sql("archive_building.sql"), params, personal=True)


def person_archive(
    key: str, who: Principal, as_of: dt.datetime | None, sections: ArchiveSections
) -> ArchiveQuery:
    """``key`` is an ID number (GB 11643) or, in masked files' links, the person's internal id."""
    require_archive_reader(who)
    key = key.strip().upper()
    if ID_NUMBER.match(key):
        id_number, person_id = key, None
    elif PERSON_ID.match(key):
        id_number, person_id = None, int(key)
    else:
        raise InvalidInput(
            f"invalid person {key!r}: give an 18-character ID number or a person id from a link"
        )
    params = {
        "id_number": id_number,
        "person_id": person_id,
        "as_of": as_of,
        "unmasked": who.sees_personal_data,
        "grids": list(who.grids),
        **sections.params(),
    }
    return ArchiveQuery("person", key, read_sql("archive_person.sql"), params, personal=True)


def enterprise_archive(
    credit_code: str, who: Principal, as_of: dt.datetime | None, sections: ArchiveSections
) -> ArchiveQuery:
    require_archive_reader(who)
    if not sections.enterprises:
        raise Forbidden("enterprise files follow the enterprises layer: your key may not read it")
    code = credit_code.strip().upper()
    if not CREDIT_CODE.match(code):
        raise InvalidInput(
            f"invalid credit code {credit_code!r}: 18 characters of 0-9 and A-Z without I, O, S, "
            "V, Z (GB 32100)"
        )
    params = {"credit_code": code, "as_of": as_of, **sections.params()}
    return ArchiveQuery("enterprise", code, read_sql("archive_enterprise.sql"), params, personal=False)


def check_found(query: ArchiveQuery, row: dict[str, Any] | None, who: Principal) -> dict[str, Any]:
    """The row of an archive query, or NotFound / Forbidden (a grid worker outside their grid)."""
    when = query.params.get("as_of")
    if row is None:
        suffix = f" as of {when.isoformat()}" if when else ""
        raise NotFound(f"no {query.kind} {query.key!r}{suffix}")
    if who.scoped:
        inside = row["in_grid"] if query.kind == "person" else who.covers_grid(row["grid_code"])
        if not inside:
            raise Forbidden(
                f"this {query.kind} is outside {who.visibility_class}, the only area your key covers"
            )
    return row
