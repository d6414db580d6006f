"""``/warnings/stream`` and ``/cases/stream``: Server-Sent Events of new and changed warnings and cases in the
caller's scope, de-identified as the role requires, resumable with ``Last-Event-ID`` (or ``last_event_id``).

The request holds no pooled connection while it streams: it reads the backlog on a short-lived one, then waits
on the process's change broker (one LISTEN per process, ``api/changes.py``)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from api.changes import ChangeBroker, Subscription
from api.db import Db, RequestConnection, get_database
from api.deps import require_layer_reader, require_role
from api.errors import Forbidden
from api.openapi import problem_response
from layers.access import Principal
from spatial.cases.feed import FeedScope, event_id, feed_since, feed_span, parse_last_event_id
from spatial.cases.store import scope_of

router = APIRouter(tags=["Streams"])

OPERATORS = ("community_operator", "street_operator")
# Who may listen (warnings also need the events layer); the wall subscribes to the streams its key may read.
CASE_STREAM_ROLES = ("admin", "planner", "department_editor", "grid_worker", *OPERATORS)
WARNING_STREAM_ROLES = CASE_STREAM_ROLES
CaseReader = Annotated[Principal, Depends(require_role(*CASE_STREAM_ROLES))]
WarningReader = Annotated[Principal, Depends(require_layer_reader("events", *WARNING_STREAM_ROLES))]
LastEventId = Annotated[str | None, Header(max_length=64, description="Resume after this event.")]
LastEventIdQuery = Annotated[
    str | None,
    Query(
        alias="last_event_id",
        max_length=64,
        description="Last-Event-ID, for clients that cannot set headers.",
    ),
]
PING_SECONDS = 15
RETRY_MS = 2000
BACKLOG_PAGE = 1000
EVENT_NAMES = {"cases": "case", "warnings": "warning"}


def _broker(request: Request) -> ChangeBroker:
    broker: ChangeBroker = request.app.state.changes
    return broker


def case_scope(who: Principal) -> FeedScope:
    """The same cases as ``GET /cases`` shows the caller (scope_of is the one rule)."""
    scope = scope_of(who)
    if not scope.visible:
        raise Forbidden("cases are for grid workers, operators, departments, planners and admins")
    grids = None if scope.grids is None else frozenset(scope.grids)
    return FeedScope(department=scope.department, unmasked=scope.unmasked, grids=grids)


def warning_scope(who: Principal) -> FeedScope:
    grids = frozenset(who.grids) if who.scoped else None  # a grid worker's grid, an operator's grids
    return FeedScope(unmasked=who.sees_personal_data, grids=grids)


def _event(stream: str, scope: FeedScope, row: dict[str, Any]) -> ServerSentEvent:
    data = json.dumps(scope.shown(row), ensure_ascii=False, default=str)
    return ServerSentEvent(
        data=data, event=EVENT_NAMES[stream], id=event_id(stream, row["id"]), retry=RETRY_MS
    )


async def _open(
    request: Request, db: RequestConnection, stream: str, scope: FeedScope, last: str | None
) -> EventSourceResponse:
    broker = _broker(request)
    after = parse_last_event_id(last, stream, await feed_span(await db.get())) if last else None
    # The stream may last hours: give the request's connection back now (the key lookup used it too).
    await db.release()
    subscription = broker.subscribe(stream, scope)  # before the backlog is read, so nothing falls in between
    until = broker.position
    return EventSourceResponse(
        _events(request, broker, subscription, after, until),
        ping=PING_SECONDS,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _backlog(
    request: Request, stream: str, scope: FeedScope, after: int, until: int
) -> AsyncIterator[dict[str, Any]]:
    while after < until:
        async with get_database(request).connection() as conn:
            rows = await feed_since(conn, after, until, stream, BACKLOG_PAGE)
        if not rows:
            return
        for row in rows:
            after = row["id"]
            if scope.admits(row):
                yield row


async def _events(
    request: Request, broker: ChangeBroker, subscription: Subscription, after: int | None, until: int
) -> AsyncIterator[ServerSentEvent]:
    stream, scope = subscription.stream, subscription.scope
    sent = until if after is None else after
    try:
        if after is not None:
            async for old in _backlog(request, stream, scope, after, until):
                sent = old["id"]
                yield _event(stream, scope, old)
            sent = max(sent, until)
        while True:
            row = await subscription.queue.get()
            if row is None:  # cut off for falling behind: the client reconnects with its Last-Event-ID
                return
            if row["id"] > sent:
                sent = row["id"]
                yield _event(stream, scope, row)
    finally:
        broker.unsubscribe(subscription)


STREAM_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "An event stream (text/event-stream).",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    },
    410: problem_response(
        "The Last-Event-ID is older than the feed keeps: reload, then reconnect without it."
    ),
}


@router.get(
    "/cases/stream",
    summary="Server-Sent Events: new and changed cases in your scope",
    responses=STREAM_RESPONSES,
    response_class=EventSourceResponse,
)
async def case_stream(
    request: Request,
    db: Db,
    who: CaseReader,
    last_event_id: LastEventId = None,
    last_event_id_query: LastEventIdQuery = None,
) -> EventSourceResponse:
    return await _open(request, db, "cases", case_scope(who), last_event_id or last_event_id_query)


@router.get(
    "/warnings/stream",
    summary="Server-Sent Events: new and changed warnings in your grid, community or street",
    responses=STREAM_RESPONSES,
    response_class=EventSourceResponse,
)
async def warning_stream(
    request: Request,
    db: Db,
    who: WarningReader,
    last_event_id: LastEventId = None,
    last_event_id_query: LastEventIdQuery = None,
) -> EventSourceResponse:
    return await _open(request, db, "warnings", warning_scope(who), last_event_id or last_event_id_query)
