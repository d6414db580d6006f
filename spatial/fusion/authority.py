"""Fusion rules name catalogue items: a rule's authority must have a data item in the source catalogue for the
rule's records that is authoritative for the rule's attribute. A run with a rule that has none is refused at
start, naming the rule."""

from __future__ import annotations

import psycopg

from spatial.errors import InvalidInput
from spatial.fusion.rules import RuleSet


class UncataloguedAuthority(InvalidInput):
    pass


def check_authorities(conn: psycopg.Connection, ruleset: RuleSet) -> None:
    items = conn.execute(
        "SELECT department, entity_kind, authoritative_for FROM onemap.source_item"
    ).fetchall()
    problems = []
    for rule in ruleset.rules:
        kinds = ruleset.sources.get(rule.entity, (rule.entity,))
        if not any(d == rule.authority and k in kinds and rule.attribute in attrs for d, k, attrs in items):
            problems.append(
                f"rule {rule.entity}.{rule.attribute} names {rule.authority} as its authority, but the source "
                f"catalogue has no {rule.authority} data item for {'/'.join(kinds)} records that is "
                f"authoritative for {rule.attribute}"
            )
    if problems:
        raise UncataloguedAuthority(
            "fusion refused: " + "; ".join(problems) + ". Add the data item to the department's catalogue "
            "(onemap sources catalog import FILE.xlsx) or change the rule"
        )
