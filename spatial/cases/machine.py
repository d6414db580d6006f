"""The case state machine, as data: the states, the actions, where each leads and who may take it.

Who may act is said in *actor classes*, not roles, because the same role acts for some cases and not others:
``dispatcher`` is the operations centre (grid management's department editors), ``department`` the editors of
the department the case is routed to, ``grid_worker`` the worker of the case's grid, ``area_operator`` a
community or street operator whose area holds the case's grid, ``system`` the scheduler.
Admins may take every action except the scheduler's own.

``assign`` gives the case to one grid worker of its grid and leaves the state as it is. It is allowed where the
case waits for field work, and the machine says where that is: the only step a grid worker takes is ``verify``
(the check on site), out of ``resolved``. Before that the case is the centre's or a department's; after it
(``verified``) it waits for the centre to close it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from spatial.cases.actor import Actor as Principal

STATES = (
    "reported",
    "registered",
    "dispatched",
    "accepted",
    "returned",
    "in_progress",
    "resolved",
    "verified",
    "closed",
    "escalated",
    "reopened",
)
FINAL_STATES = frozenset({"closed"})
# States in which a department or the centre owes the next step, so the clock runs and overdue cases escalate.
TIMED_STATES = frozenset(
    {
        "reported",
        "registered",
        "dispatched",
        "accepted",
        "returned",
        "in_progress",
        "escalated",
        "reopened",
        "resolved",
    }
)
CENTRE_DEPARTMENT = "grid"  # grid management runs the operations centre


@dataclass(frozen=True)
class Action:
    name: str
    sources: frozenset[str]
    target: str
    actors: frozenset[str]
    needs_note: bool = False
    title: str = ""
    keeps_state: bool = False  # the case stays in its state, and so does its clock (assign)


def _action(
    name: str, sources: str, target: str, actors: str, needs_note: bool = False, title: str = ""
) -> Action:
    return Action(name, frozenset(sources.split()), target, frozenset(actors.split()), needs_note, title)


# Where a grid worker's step is what the case waits for: the sources of the grid workers' forward actions.
FIELD_WORK_STATES = "resolved"


ACTIONS: Mapping[str, Action] = {
    a.name: a
    for a in (
        _action("register", "reported", "registered", "admin dispatcher", title="立案 register"),
        _action(
            "dispatch",
            "registered returned escalated",
            "dispatched",
            "admin dispatcher",
            title="派遣 dispatch",
        ),
        _action("accept", "dispatched", "accepted", "admin department", title="签收 accept"),
        _action("return", "dispatched", "returned", "admin department", True, "退回 return"),
        _action("start", "accepted reopened", "in_progress", "admin department", title="处置 start"),
        _action("resolve", "in_progress", "resolved", "admin department", True, "办结 resolve"),
        _action("verify", "resolved", "verified", "admin grid_worker", title="核查 verify on site"),
        _action(
            "reopen", "resolved verified", "reopened", "admin grid_worker dispatcher", True, "重办 reopen"
        ),
        _action("close", "verified", "closed", "admin dispatcher", title="结案 close"),
        Action(
            "assign",
            frozenset(FIELD_WORK_STATES.split()),
            "",
            frozenset({"admin", "dispatcher", "area_operator"}),
            title="派单 assign to a grid worker",
            keeps_state=True,
        ),
        _action(
            "escalate",
            "registered dispatched accepted returned in_progress reopened escalated",
            "escalated",
            "admin dispatcher system",
            True,
            "升级 escalate",
        ),
    )
}
ACTION_NAMES = tuple(ACTIONS)


def actions_from(state: str) -> list[str]:
    return [a.name for a in ACTIONS.values() if state in a.sources]


def actor_classes(who: Principal, department: str | None, grid_code: str | None) -> frozenset[str]:
    """What `who` is for a case routed to `department` in `grid_code`."""
    classes: set[str] = set()
    if who.role == "admin":
        classes.add("admin")
    if who.role == "department_editor":
        if who.department == CENTRE_DEPARTMENT:
            classes.add("dispatcher")
        if who.department == department:
            classes.add("department")
    if who.role == "grid_worker" and who.grid_code == grid_code:
        classes.add("grid_worker")
    if who.role in ("community_operator", "street_operator") and grid_code in who.grids:
        classes.add("area_operator")
    return frozenset(classes)


def may_take(action: Action, classes: frozenset[str]) -> bool:
    return bool(action.actors & classes)


def allowed_for(state: str, classes: frozenset[str]) -> list[str]:
    return [name for name in actions_from(state) if may_take(ACTIONS[name], classes)]
