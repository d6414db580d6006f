"""A mapping: the department's column names (usually Chinese) -> entity attributes, the attributes a delivery
must have, and value translations (男 -> M, 存续 -> active). A default mapping per department ships in
``mappings/<department>.yaml``; a delivery may bring its own. Columns not mapped are kept in the payload."""

from __future__ import annotations

from collections.abc import Mapping as AnyMapping
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from spatial.schema import ENTITY_KINDS
from spatial.sources.errors import MappingInvalid
from spatial.sources.vocabulary import ITEM_ATTRIBUTES


def compact(name: str) -> str:
    """A column name as compared: no white space, lower case ASCII (公民身份号码 == ' 公民身份号码 ')."""
    return "".join(str(name).split()).lower()


@dataclass(frozen=True)
class ColumnMapping:
    entity_kind: str
    columns: dict[str, str]  # compacted column name -> attribute
    required: tuple[str, ...] = ()
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # attribute -> {as sent: as stored}
    source: str = "default"

    @property
    def header_names(self) -> frozenset[str]:
        """Names that mark a header row (the xlsx reader skips title rows above it)."""
        return frozenset(self.columns) | frozenset(self.columns.values())

    def resolve(self, header: list[str]) -> dict[str, str]:
        """Column as in the file -> attribute, for the columns this mapping knows (the first one wins)."""
        found: dict[str, str] = {}
        for column in header:
            attribute = self.columns.get(compact(column)) or (
                compact(column) if compact(column) in ITEM_ATTRIBUTES[self.entity_kind] else None
            )
            if attribute is not None and attribute not in found.values():
                found[column] = attribute
        return found

    def alias_of(self, attribute: str) -> str:
        """The first column name the mapping gives an attribute (for messages)."""
        return next((c for c, a in self.columns.items() if a == attribute), attribute)


def parse_mapping(document: Any, source: str) -> ColumnMapping:
    if not isinstance(document, AnyMapping):
        raise MappingInvalid(f"{source}: a mapping is a YAML mapping with entity_kind, columns and required")
    kind = str(document.get("entity_kind", ""))
    if kind not in ENTITY_KINDS:
        raise MappingInvalid(f"{source}: entity_kind must be one of {', '.join(ENTITY_KINDS)}, got {kind!r}")
    raw_columns = document.get("columns") or {}
    if not isinstance(raw_columns, AnyMapping):
        raise MappingInvalid(f"{source}: columns maps each attribute to the column names that hold it")
    columns: dict[str, str] = {}
    for attribute, names in raw_columns.items():
        if attribute not in ITEM_ATTRIBUTES[kind]:
            raise MappingInvalid(
                f"{source}: {attribute!r} is not an attribute of {kind} records; use "
                f"{', '.join(ITEM_ATTRIBUTES[kind])}"
            )
        for name in [names] if isinstance(names, str) else list(names or []):
            columns[compact(name)] = str(attribute)
    required = tuple(str(r) for r in document.get("required") or ())
    unknown = [r for r in required if r not in ITEM_ATTRIBUTES[kind]]
    if unknown:
        raise MappingInvalid(f"{source}: required names unknown attributes {', '.join(unknown)}")
    values = {
        str(attribute): {str(k): str(v) for k, v in (translations or {}).items()}
        for attribute, translations in (document.get("values") or {}).items()
    }
    return ColumnMapping(kind, columns, required, values, source)


def load_mapping(path: Path) -> ColumnMapping:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise MappingInvalid(
            f"cannot read the mapping {path.name}: {str(exc).splitlines()[0][:200]}"
        ) from None
    return parse_mapping(document, path.name)


def mapping_from_text(text: bytes, name: str) -> ColumnMapping:
    try:
        document = yaml.safe_load(text.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise MappingInvalid(f"cannot read the mapping {name}: {str(exc).splitlines()[0][:200]}") from None
    return parse_mapping(document, name)


def default_mapping(department: str, kind: str | None = None) -> ColumnMapping:
    """The department's default mapping of its main kind of record (``<department>.yaml``), or of another kind it
    sends (``<department>.<kind>.yaml``: housing's house units beside its buildings)."""
    if kind is not None and kind not in ENTITY_KINDS:  # also keeps the file name inside mappings/
        raise MappingInvalid(
            f"there is no default mapping for {kind} records: the kinds are {', '.join(ENTITY_KINDS)}"
        )
    # A kind of its own first; else the department's main file, when it is of that kind.
    names = (f"{department}.{kind}.yaml", f"{department}.yaml") if kind else (f"{department}.yaml",)
    for name in names:
        resource = files(__package__).joinpath("mappings", name)
        if resource.is_file():
            mapping = parse_mapping(
                yaml.safe_load(resource.read_text(encoding="utf-8")), f"{department} default mapping"
            )
            if kind is None or mapping.entity_kind == kind:
                return mapping
    what = f"{kind} records of {department}" if kind else department
    raise MappingInvalid(
        f"there is no default mapping for {what}: send one with the delivery (--mapping FILE.yaml, "
        "or the mapping field) saying which column holds which attribute"
    )
