"""Monitoring rules over the archives, each a static SQL file adding its hits to ``monitor_hit``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MonitoringRule:
    name: str
    title: str


RULES: tuple[MonitoringRule, ...] = (
    MonitoringRule("overcrowded_unit", "群租隐患 Overcrowded units"),
    MonitoringRule("enterprise_in_residential_unit", "住改商 Enterprises in purely residential units"),
    MonitoringRule("residents_without_units", "有人无房 Buildings with residents but no units"),
    MonitoringRule("commercial_vacancy", "商业空置 Vacant commercial space"),
)
RULE_NAMES = tuple(rule.name for rule in RULES)

MIN_AREA_PER_PERSON_M2 = 6.0  # below this a unit counts as overcrowded
MIN_VACANT_SPACE_M2 = 200.0  # commercial vacancy is only worth a visit above this much space
