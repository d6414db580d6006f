"""Safe SQL identifiers for uploaded field and layer names; the original (often Chinese) name stays the
title."""

from __future__ import annotations

import re
import unicodedata

from spatial.ingest.errors import UploadRefused

MAX_IDENTIFIER = 55  # PostgreSQL allows 63 bytes; leave room for suffixes such as _history
LAYER_ID = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
# Columns every uploaded table has; a source field of the same name is renamed.
SYSTEM_COLUMNS = frozenset({"id", "geom", "valid_from", "valid_to", "operation", "changed_by", "building_id"})
# Words that would need quoting everywhere; renamed so other SQL writers cannot trip on them.
RESERVED = frozenset(
    {
        "all",
        "and",
        "any",
        "as",
        "asc",
        "case",
        "cast",
        "check",
        "column",
        "constraint",
        "create",
        "default",
        "delete",
        "desc",
        "distinct",
        "do",
        "drop",
        "else",
        "end",
        "except",
        "false",
        "for",
        "foreign",
        "from",
        "grant",
        "group",
        "having",
        "in",
        "insert",
        "into",
        "is",
        "join",
        "limit",
        "not",
        "null",
        "offset",
        "on",
        "or",
        "order",
        "primary",
        "references",
        "select",
        "table",
        "then",
        "to",
        "true",
        "union",
        "unique",
        "update",
        "user",
        "using",
        "when",
        "where",
        "with",
    }
)


def sanitise(name: str, index: int) -> str:
    """A lower-case ASCII identifier for field number `index` (1-based) called `name`."""
    text = unicodedata.normalize("NFKC", str(name)).lower()
    text = re.sub(r"[^a-z0-9]+", "_", text).strip("_")
    if not text:
        return f"field_{index}"
    if text[0].isdigit():
        text = f"f_{text}"
    if text in RESERVED or text in SYSTEM_COLUMNS:
        text = f"{text}_"
    return text[:MAX_IDENTIFIER]


def sanitise_all(names: list[str]) -> list[str]:
    """Sanitised, unique identifiers in the same order."""
    out: list[str] = []
    taken: set[str] = set()
    for index, name in enumerate(names, start=1):
        candidate = sanitise(name, index)
        base, n = candidate, 2
        while candidate in taken:
            candidate = f"{base[: MAX_IDENTIFIER - 4]}_{n}"
            n += 1
        taken.add(candidate)
        out.append(candidate)
    return out


def check_layer_id(layer_id: str) -> str:
    if not LAYER_ID.match(layer_id or ""):
        raise UploadRefused(
            f"invalid layer id {layer_id!r}: use 1 to 48 lower-case letters, digits and underscores, "
            "starting "
            "with a letter (the title can be any text, Chinese included)"
        )
    return layer_id


def layer_id_from_filename(filename: str) -> str:
    stem = re.sub(r"\.(zip|gpkg|geojson|json|kml|kmz|fgb|csv|xlsx|shp)$", "", filename.lower())
    candidate = sanitise(stem, 1)
    if candidate.startswith("field_") or not candidate[0].isalpha():
        candidate = f"layer_{candidate}"
    return candidate[:48].rstrip("_")
