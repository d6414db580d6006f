"""Cases (工单): the state machine, routing, working-hour limits, and the cases the platform opens itself."""

from spatial.cases.machine import ACTION_NAMES, ACTIONS, STATES
from spatial.cases.opening import escalate_overdue, open_cases_from_issues, open_cases_from_warnings

__all__ = [
    "ACTIONS",
    "ACTION_NAMES",
    "STATES",
    "escalate_overdue",
    "open_cases_from_issues",
    "open_cases_from_warnings",
]
