"""Department source records, as each department would send them, with disagreements planted on purpose.

Every attribute has one authoritative department; the others verify it. The generator copies the truth into
every department's record, then, at a configurable rate, changes one verifying value and writes down which
(``planted_disagreement``), so cross-checking can be measured for precision and recall.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from spatial.district.names import GIVEN_CHARS

BUILDING_USES = np.array(
    ["residential", "urban_village", "commercial", "industrial", "office", "public", "mixed"]
)
STATUSES = np.array(["active", "suspended", "deregistered"])


@dataclass(frozen=True)
class SourceSpec:
    department: str
    entity_kind: str
    key: str  # the column holding the entity key
    fields: tuple[str, ...]  # payload fields, the key included
    verifies: tuple[
        str, ...
    ]  # fields where this department is NOT authoritative: disagreements are planted here


# The authoritative department of each attribute is the one listing it without verifying it.
SOURCE_SPECS = (
    SourceSpec(
        "police",
        "person",
        "id_number",
        ("id_number", "name", "sex", "birth_date", "building_code", "room_no"),
        ("building_code_room",),
    ),
    SourceSpec("social_security", "person", "id_number", ("id_number", "name", "phone"), ("name", "phone")),
    SourceSpec(
        "grid",
        "residence",
        "id_number",
        ("id_number", "name", "phone", "building_code", "room_no", "moved_in"),
        ("name",),
    ),
    SourceSpec(
        "market", "enterprise", "credit_code", ("credit_code", "name", "status", "building_code", "registered_on"), ()
    ),
    SourceSpec(
        "industry", "enterprise", "credit_code", ("credit_code", "name", "status"), ("name", "status")
    ),
    SourceSpec("housing", "building", "code", ("code", "floors", "use", "built_year"), ()),
    SourceSpec("urban_management", "building", "code", ("code", "floors", "use"), ("floors", "use")),
)
# Delivered only (`onemap generate --as-deliveries`): housing's survey also lists every room, whose key is composed
# of its building, unit and room (spatial.sources.vocabulary.house_unit_key).
HOUSE_UNIT_SOURCE = SourceSpec(
    "housing", "house_unit", "unit_key", ("building_code", "unit_no", "room_no", "floor", "area_m2", "use"), ()
)
DELIVERED_SPECS = (*SOURCE_SPECS, HOUSE_UNIT_SOURCE)
SOCIAL_SECURITY_COVERAGE = 0.6  # share of people with a social-security record


def department_values(
    spec: SourceSpec, truth: pd.DataFrame, rate: float, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(values, planted): the department's fields of each entity in `truth` (same index), a share `rate` of
    them changed on a verifying field, and which (department, entity kind, key, attribute) were changed."""
    values = truth[list(spec.fields)].copy()
    planted = pd.DataFrame(columns=["department", "entity_kind", "entity_key", "attribute"])
    if spec.verifies and rate > 0:
        hit = np.flatnonzero(rng.random(len(values)) < rate)
        attribute = np.array(spec.verifies)[rng.integers(0, len(spec.verifies), len(hit))]
        for name in spec.verifies:
            rows = hit[attribute == name]
            _perturb(values, name, rows, rng)
        planted = pd.DataFrame(
            {
                "department": spec.department,
                "entity_kind": spec.entity_kind,
                "entity_key": values[spec.key].to_numpy()[hit],
                "attribute": np.where(attribute == "building_code_room", "room_no", attribute),
            }
        )
    return values, planted


def records_of(spec: SourceSpec, values: pd.DataFrame) -> pd.DataFrame:
    """Source records (department, entity kind, key, JSON payload) of a department's values."""
    return pd.DataFrame(
        {
            "department": spec.department,
            "entity_kind": spec.entity_kind,
            "entity_key": values[spec.key],
            "payload": json_objects(values),
        }
    )


def _perturb(values: pd.DataFrame, attribute: str, rows: np.ndarray, rng: np.random.Generator) -> None:
    if len(rows) == 0:
        return
    index = values.index[rows]
    if attribute == "name":
        names = values.loc[index, "name"].to_numpy(dtype=object)
        replacement = np.asarray(GIVEN_CHARS, dtype=object)[rng.integers(0, len(GIVEN_CHARS), len(rows))]
        last = np.array([n[-1] for n in names], dtype=object)
        replacement = np.where(replacement == last, "泽", replacement)
        replacement = np.where(replacement == last, "淼", replacement)
        values.loc[index, "name"] = np.array([n[:-1] for n in names], dtype=object) + replacement
    elif attribute == "phone":
        phones = values.loc[index, "phone"].to_numpy(dtype=object)
        tail = (np.array([int(p[-4:]) for p in phones]) + rng.integers(1, 9999, len(rows))) % 10000
        values.loc[index, "phone"] = (
            np.array([p[:-4] for p in phones], dtype=object) + pd.Series(tail).map("{:04d}".format).to_numpy()
        )
    elif attribute == "building_code_room":
        rooms = values.loc[index, "room_no"].astype(int).to_numpy()
        values.loc[index, "room_no"] = (rooms + 100).astype(str)  # one floor up: a typical registry slip
    elif attribute == "status":
        current = values.loc[index, "status"].to_numpy()
        shift = rng.integers(1, len(STATUSES), len(rows))
        position = np.searchsorted(STATUSES, current, sorter=np.argsort(STATUSES))
        values.loc[index, "status"] = np.sort(STATUSES)[(position + shift) % len(STATUSES)]
    elif attribute == "floors":
        floors = values.loc[index, "floors"].to_numpy()
        delta = rng.integers(1, 4, len(rows)) * np.where(floors > 3, rng.choice([-1, 1], len(rows)), 1)
        values.loc[index, "floors"] = floors + delta
    elif attribute == "use":
        current = values.loc[index, "use"].to_numpy()
        position = np.array([int(np.flatnonzero(u == BUILDING_USES)[0]) for u in current])
        values.loc[index, "use"] = BUILDING_USES[
            (position + rng.integers(1, len(BUILDING_USES), len(rows))) % len(BUILDING_USES)
        ]
    else:
        raise ValueError(f"no way to plant a disagreement on {attribute!r}")


def json_objects(frame: pd.DataFrame) -> pd.Series:
    """One compact JSON object per row, joined column-wise in Arrow (the values are generated, free of quotes)."""
    pieces: list[object] = []
    for position, column in enumerate(frame.columns):
        text = pc.cast(pa.array(frame[column]), pa.string())
        quoted = not pd.api.types.is_integer_dtype(frame[column])
        pieces += [("{" if position == 0 else ",") + f'"{column}":' + ('"' if quoted else ""), text]
        if quoted:
            pieces.append('"')
    joined = pc.binary_join_element_wise(*pieces, "}", "")
    return pd.Series(joined, index=frame.index, dtype=pd.ArrowDtype(pa.string()))
