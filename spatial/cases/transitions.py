"""Planning one transition: checks the state and the caller against the machine, then says what changes.
Pure (no database), so the rules are tested and read in one place."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from spatial.cases.actor import Actor as Principal
from spatial.cases.errors import ActionForbidden, TransitionNotAllowed
from spatial.cases.machine import ACTION_NAMES, ACTIONS, actions_from, actor_classes, allowed_for, may_take
from spatial.cases.rules import CaseRules
from spatial.errors import InvalidInput
from spatial.schema import DEPARTMENTS


@dataclass(frozen=True)
class Request:
    action: str
    note: str | None = None
    department: str | None = None  # dispatch: send it elsewhere than the route says
    attachments: tuple[int, ...] = ()
    assignee: int | None = None  # assign: the id of a grid worker key of the case's grid


def plan(
    case: dict[str, Any], who: Principal, asked: Request, rules: CaseRules, now: dt.datetime
) -> dict[str, Any]:
    """The parameters of ``case_transition.sql`` for `asked` on `case` (a row of ``case_lock.sql``)."""
    if asked.action not in ACTIONS:
        raise InvalidInput(f"unknown action {asked.action!r}: use one of {', '.join(ACTION_NAMES)}")
    action = ACTIONS[asked.action]
    state = case["state"]
    if state not in action.sources:
        allowed = actions_from(state)
        raise TransitionNotAllowed(
            f"a case that is {state} cannot be {asked.action}ed: allowed now are "
            f"{', '.join(allowed) or 'none (the case is closed)'}",
            allowed,
        )
    classes = actor_classes(who, case["department"], case["grid_code"])
    if not may_take(action, classes):
        mine = allowed_for(state, classes)
        raise ActionForbidden(
            f"{asked.action} is for {' or '.join(sorted(action.actors - {'system'}))}; your key "
            f"({who.role}{'/' + who.department if who.department else ''}) may "
            + (f"take {', '.join(mine)} on this case" if mine else "take no action on this case")
        )
    if action.needs_note and not (asked.note and asked.note.strip()):
        raise InvalidInput(f"{asked.action} needs a note saying why")
    areas = [a for a in (case["grid_code"], case["community_code"], case["street_code"]) if a]
    route = rules.routing.route(case["category"], areas)
    department = case["department"]
    if asked.department is not None:
        if asked.action != "dispatch":
            raise InvalidInput("only dispatch can name a department")
        if asked.department not in DEPARTMENTS:
            raise InvalidInput(
                f"unknown department {asked.department!r}: use one of {', '.join(DEPARTMENTS)}"
            )
        department = asked.department
    elif asked.action == "dispatch":
        department = route.department
    if (asked.assignee is not None) != (asked.action == "assign"):
        raise InvalidInput(
            "assign needs an assignee (the id of a grid worker key of the case's grid)"
            if asked.action == "assign"
            else "only assign can name an assignee"
        )
    old_due = case["due_at"]
    if action.keeps_state:  # same state, same clock: nothing was finished, so nothing is on time or late
        target, due, on_time = state, old_due, None
    else:
        target = action.target
        due = rules.due(case["category"], target, now, route.limits)
        on_time = None if old_due is None else now <= old_due
    escalating = asked.action == "escalate"
    return {
        "id": case["id"],
        "action": asked.action,
        "from_state": state,
        "to_state": target,
        "department": department,
        "acting_department": case["department"],
        "due_at": due,
        "old_due_at": old_due,
        "on_time": on_time,
        # Overdue is about the limit in force: a new state starts a new clock (the same state keeps its flag).
        "overdue": bool(case["overdue"]) if action.keeps_state else False,
        "escalation_level": min(case["escalation_level"] + 1, 2) if escalating else case["escalation_level"],
        "returned_count": case["returned_count"] + (asked.action == "return"),
        "reopened_count": case["reopened_count"] + (asked.action == "reopen"),
        "note": asked.note,
        "role": who.role,
        "actor": who.actor,
        "assignee": None,  # the key's actor name, once the store has checked it
    }
