"""Source rules: which department is authoritative for each archive attribute, which others verify it, and how
values are compared. Read from the packaged ``rules.yaml``, overridden per attribute by rows of
``onemap.fusion_rule``; invalid rules are reported one by one and left out, the valid ones still apply."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from spatial.schema import DEPARTMENTS, ENTITY_KINDS, MATCH_KINDS

# The attributes each archive can take from sources; the engine knows how to write each into the archive.
ARCHIVE_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "person": ("name", "sex", "birth_date", "phone", "building_code", "room_no"),
    "enterprise": ("name", "status", "building_code"),
    "building": ("floors", "use", "built_year"),
    "house_unit": ("floor", "area_m2", "use"),
}
SOURCE_KINDS = ENTITY_KINDS
DEFAULT_CREATORS = {"person": "police", "enterprise": "market", "building": "housing", "house_unit": "housing"}
DEFAULT_THRESHOLD = 0.8


@dataclass(frozen=True)
class FusionRule:
    entity: str
    attribute: str
    authority: str
    verifiers: tuple[str, ...] = ()
    match: str = "exact"
    threshold: float | None = None

    @property
    def departments(self) -> tuple[str, ...]:
        return (self.authority, *self.verifiers)


@dataclass(frozen=True)
class RuleError:
    where: str  # "rules.yaml rule 3" or "fusion_rule person.name"
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class RuleSet:
    rules: list[FusionRule] = field(default_factory=list)
    sources: dict[str, tuple[str, ...]] = field(default_factory=dict)  # archive kind -> source record kinds
    errors: list[RuleError] = field(default_factory=list)
    # The department whose record of an unknown key creates the entity (others' open an issue instead).
    creators: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CREATORS))
    # Records without a usable key are linked to an entity at or above this confidence, else an issue opens.
    resolution_threshold: float = DEFAULT_THRESHOLD

    def rule(self, entity: str, attribute: str) -> FusionRule | None:
        return next((r for r in self.rules if r.entity == entity and r.attribute == attribute), None)


def packaged_rules_path() -> Path:
    return Path(str(files(__package__).joinpath("rules.yaml")))


def load_rule_file(path: Path | None = None) -> RuleSet:
    """Parse a rule file; a YAML syntax error is one error for the whole file, other errors are per rule."""
    source = path or packaged_rules_path()
    where = source.name
    try:
        document = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        return RuleSet(errors=[RuleError(where, f"cannot read the rule file: {exc}")])
    if not isinstance(document, Mapping):
        return RuleSet(
            errors=[RuleError(where, "the rule file must be a mapping with 'sources' and 'rules'")]
        )
    result = RuleSet(sources=_parse_sources(document.get("sources") or {}, where))
    _parse_creation(document, where, result)
    raw_rules = document.get("rules") or []
    if not isinstance(raw_rules, list):
        result.errors.append(RuleError(where, "'rules' must be a list"))
        raw_rules = []
    for position, raw in enumerate(raw_rules, start=1):
        rule, problems = parse_rule(raw)
        label = f"{where} rule {position}" + (
            f" ({raw.get('entity')}.{raw.get('attribute')})" if isinstance(raw, Mapping) else ""
        )
        result.errors.extend(RuleError(label, p) for p in problems)
        if rule is not None:
            result.rules.append(rule)
    return result


def _parse_creation(document: Mapping[str, Any], where: str, result: RuleSet) -> None:
    for kind, department in (document.get("creators") or {}).items():
        if kind not in ARCHIVE_ATTRIBUTES or department not in DEPARTMENTS:
            result.errors.append(
                RuleError(where, f"creators: {kind}: {department} is not an archive and department")
            )
        else:
            result.creators[kind] = str(department)
    threshold = (document.get("resolution") or {}).get("threshold", DEFAULT_THRESHOLD)
    if isinstance(threshold, int | float) and 0 < threshold <= 1:
        result.resolution_threshold = float(threshold)
    else:
        result.errors.append(RuleError(where, "resolution.threshold must be a number in (0, 1]"))


def _parse_sources(raw: Mapping[str, Any], where: str) -> dict[str, tuple[str, ...]]:
    sources: dict[str, tuple[str, ...]] = {kind: (kind,) for kind in ARCHIVE_ATTRIBUTES}
    for kind, record_kinds in raw.items():
        if kind in ARCHIVE_ATTRIBUTES and all(k in SOURCE_KINDS for k in record_kinds or ()):
            sources[kind] = tuple(record_kinds)
    return sources


def parse_rule(raw: object) -> tuple[FusionRule | None, list[str]]:
    """A rule from its mapping, or None and the reasons it is not valid."""
    if not isinstance(raw, Mapping):
        return None, ["a rule must be a mapping with entity, attribute, authority, verifiers, match"]
    problems: list[str] = []
    entity, attribute = str(raw.get("entity", "")), str(raw.get("attribute", ""))
    if entity not in ARCHIVE_ATTRIBUTES:
        problems.append(f"unknown entity {entity!r}: use one of {', '.join(ARCHIVE_ATTRIBUTES)}")
    elif attribute not in ARCHIVE_ATTRIBUTES[entity]:
        problems.append(
            f"unknown attribute {attribute!r} of {entity}: use one of {', '.join(ARCHIVE_ATTRIBUTES[entity])}"
        )
    authority = str(raw.get("authority", ""))
    verifiers = raw.get("verifiers") or []
    if not isinstance(verifiers, list):
        problems.append("verifiers must be a list of departments")
        verifiers = []
    for department in (authority, *verifiers):
        if department not in DEPARTMENTS:
            problems.append(f"unknown department {department!r}: use one of {', '.join(DEPARTMENTS)}")
    if authority in verifiers:
        problems.append(f"{authority} cannot both be the authority and verify")
    match = str(raw.get("match", "exact"))
    if match not in MATCH_KINDS:
        problems.append(f"unknown match {match!r}: use one of {', '.join(MATCH_KINDS)}")
    threshold = raw.get("threshold")
    if threshold is not None and not (isinstance(threshold, int | float) and 0 < threshold <= 1):
        problems.append("threshold must be a number in (0, 1]")
    if problems:
        return None, problems
    return FusionRule(
        entity,
        attribute,
        authority,
        tuple(str(v) for v in verifiers),
        match,
        float(threshold) if threshold is not None else None,
    ), []


def apply_overrides(rules: RuleSet, rows: Iterable[Mapping[str, Any]]) -> RuleSet:
    """The packaged rules with each valid table row replacing the rule of its attribute."""
    merged = {(r.entity, r.attribute): r for r in rules.rules}
    errors = list(rules.errors)
    for row in rows:
        raw = {
            "entity": row["entity_kind"],
            "attribute": row["attribute"],
            "authority": row["authority"],
            "verifiers": row["verifiers"],
            "match": row["match"],
            "threshold": row["threshold"],
        }
        rule, problems = parse_rule(raw)
        where = f"fusion_rule {row['entity_kind']}.{row['attribute']}"
        errors.extend(RuleError(where, p) for p in problems)
        if rule is not None:
            merged[(rule.entity, rule.attribute)] = rule
    return RuleSet(list(merged.values()), rules.sources, errors, rules.creators, rules.resolution_threshold)
