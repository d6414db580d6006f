"""``/verification/issues``: disagreements between departments, masked unless the caller sees personal data;
decided (confirm / dismiss) by an admin, the authoritative department or the grid's worker; audited."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query
from psycopg import AsyncConnection

from api.audit import record, record_personal_read
from api.db import connection
from api.deps import require_layer_reader
from api.routers.warnings import scope_grid
from api.settings import MAX_OFFSET
from layers.access import Principal
from spatial.errors import NotFound
from spatial.fusion.decisions import IssueFilter, decide_issue, issues_page

router = APIRouter(prefix="/verification", tags=["Verification"])

Conn = Annotated[AsyncConnection[Any], Depends(connection)]
# The verification_issues layer's read grant decides which departments see and decide issues.
Caller = Annotated[
    Principal,
    Depends(require_layer_reader("verification_issues", "admin", "planner", "grid_worker", "department_editor")),
]
Decider = Annotated[
    Principal, Depends(require_layer_reader("verification_issues", "admin", "grid_worker", "department_editor"))
]


@router.get("/issues", summary="Verification issues (values per source, masked)")
async def list_issues(
    conn: Conn,
    who: Caller,
    grid: str | None = None,
    status: Annotated[str | None, Query(pattern="^(open|confirmed|dismissed)$")] = None,
    entity_kind: Annotated[str | None, Query(pattern="^(person|enterprise|building)$")] = None,
    attribute: str | None = None,
    building: Annotated[
        str | None, Query(description="Building code: the issues of one building file.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    where = IssueFilter(
        scope_grid(who, grid), status, entity_kind, attribute, building, limit, offset, who.sees_personal_data
    )
    rows, matched = await issues_page(conn, where)
    if rows and who.sees_personal_data:  # person issues carry unmasked ID numbers and values
        await record_personal_read(conn, who, "verification_issues", grid, {"returned": len(rows)})
    return {"numberMatched": matched, "numberReturned": len(rows), "issues": rows}


@router.post("/issues/{issue_id}/{decision}", summary="Confirm or dismiss an open issue, with a note")
async def decide(
    conn: Conn,
    who: Decider,
    issue_id: Annotated[int, Path()],
    decision: Annotated[str, Path(pattern="^(confirm|dismiss)$")],
    note: Annotated[str, Body(embed=True, min_length=1, max_length=2000)],
) -> dict[str, Any]:
    department = who.department if who.role == "department_editor" else None
    async with conn.transaction():
        decided = await decide_issue(
            conn, issue_id, decision, note, who.actor, scope_grid(who, None), department
        )
        if decided is None:
            raise NotFound(f"no open verification issue {issue_id} that your key may decide")
        await record(
            conn,
            who,
            f"verification.{decision}",
            "verification_issue",
            str(issue_id),
            {"note": note, "attribute": decided["attribute"], "entity_kind": decided["entity_kind"]},
        )
    return {**decided, "note": note, "decided_by": who.actor}
