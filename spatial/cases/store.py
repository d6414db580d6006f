"""Cases for the web server: pages and single cases in the caller's scope, reports, transitions, attachments.
Each function runs on the request's one connection; writers run inside the caller's transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from spatial.cases.actor import Actor as Principal
from spatial.cases.errors import ActionForbidden, AttachmentNotImage, AttachmentTooLarge
from spatial.cases.machine import CENTRE_DEPARTMENT, actor_classes, allowed_for
from spatial.cases.rules import load_rules
from spatial.cases.settings import get_case_settings
from spatial.cases.sql import read_case_sql
from spatial.cases.transitions import Request, plan
from spatial.errors import InvalidInput, NotFound
from spatial.fusion.statements import statements


@dataclass(frozen=True)
class Scope:
    """Which cases a caller sees: a grid worker their grid's, a community or street operator their area's grids
    (both masked), a department editor their department's (the operations centre every case), planners and
    admins all. A case outside the scope is not found (404), so ids do not tell what exists elsewhere."""

    grids: tuple[str, ...] | None = None
    department: str | None = None
    unmasked: bool = False
    visible: bool = True


SCOPED_READERS = ("grid_worker", "community_operator", "street_operator")


def scope_of(who: Principal) -> Scope:
    if who.role in SCOPED_READERS:
        return Scope(grids=tuple(who.grids))
    if who.role == "department_editor":
        department = None if who.department == CENTRE_DEPARTMENT else who.department
        return Scope(department=department, unmasked=who.sees_personal_data)
    if who.role in ("admin", "planner"):
        return Scope(unmasked=who.sees_personal_data)
    return Scope(visible=False)


@dataclass(frozen=True)
class CaseFilter:
    states: list[str] | None = None
    category: str | None = None
    department: str | None = None
    grid: str | None = None
    street: str | None = None
    source_kind: str | None = None
    overdue: bool | None = None
    since: dt.datetime | None = None
    as_of: dt.datetime | None = None
    limit: int = 50
    offset: int = 0
    assignee: str | None = None  # the actor name of the grid worker key the case was last assigned to


async def _rows(conn: AsyncConnection[Any], sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(sql, params)
        return await cursor.fetchall()


def _scoped(scope: Scope, where: CaseFilter) -> dict[str, Any]:
    params = dict(where.__dict__)
    if scope.department is not None:
        params["department"] = scope.department
    params["scope_grids"] = None if scope.grids is None else list(scope.grids)
    params["unmasked"] = scope.unmasked
    return params


COUNT_CAP = 10_000  # counting every match of a district's cases would cost more than the page


def page_sql(name: str, as_of: bool) -> str:
    """A page or count statement: the static file with the versions (current or as of) and the filter in."""
    versions = read_case_sql("versions_as_of.sql" if as_of else "versions_current.sql")
    body = "\n".join(line for line in versions.splitlines() if not line.startswith("--"))
    return read_case_sql(name).format(versions=body, filter=read_case_sql("case_filter.sql"))


async def cases_page(
    conn: AsyncConnection[Any], scope: Scope, where: CaseFilter
) -> tuple[list[dict[str, Any]], int, bool]:
    """(rows, number matched, whether that number is exact) of one page."""
    params = {**_scoped(scope, where), "cap": COUNT_CAP}
    rows = await _rows(conn, page_sql("cases_page.sql", where.as_of is not None), params)
    if where.offset == 0 and len(rows) < where.limit:
        return rows, len(rows), True
    counted = await _rows(conn, page_sql("cases_count.sql", where.as_of is not None), params)
    matched = int(counted[0]["matched"])
    return rows, min(matched, COUNT_CAP), matched <= COUNT_CAP


async def case_with_timeline(conn: AsyncConnection[Any], who: Principal, case_id: int) -> dict[str, Any]:
    scope = scope_of(who)
    params = {
        "id": case_id,
        "scope_grids": None if scope.grids is None else list(scope.grids),
        "department": scope.department,
        "unmasked": scope.unmasked,
    }
    found = await _rows(conn, read_case_sql("case_get.sql"), params)
    if not found or not scope.visible:
        raise NotFound(f"no case {case_id} in your scope")
    case = found[0]
    case["timeline"] = await _rows(conn, read_case_sql("timeline.sql"), {"id": case_id})
    case["allowed_actions"] = allowed_for(
        case["state"], actor_classes(who, case["department"], case["grid_code"])
    )
    return case


async def take_action(
    conn: AsyncConnection[Any], who: Principal, case_id: int, asked: Request
) -> dict[str, Any]:
    """Check and apply one transition; inside the caller's transaction (the case row stays locked)."""
    scope = scope_of(who)
    locked = await _rows(conn, read_case_sql("case_lock.sql"), {"id": case_id})
    if not locked or not _in_scope(scope, locked[0]):
        raise NotFound(f"no case {case_id} in your scope")
    case = locked[0]
    rules = await load_rules(conn)
    params = plan(case, who, asked, rules, dt.datetime.now(dt.UTC))
    if asked.attachments:
        ids = list(dict.fromkeys(asked.attachments))
        owned = {
            r["id"]
            for r in await _rows(conn, read_case_sql("attachments_of.sql"), {"id": case_id, "ids": ids})
        }
        missing = [i for i in ids if i not in owned]
        if missing:
            raise InvalidInput(
                f"attachments {missing} are not this case's: upload them to /cases/{case_id}/attachments"
            )
        params["attachments"] = Jsonb(ids)
    else:
        params["attachments"] = Jsonb([])
    if asked.assignee is not None:
        params["assignee"] = await _assignee(conn, case, asked.assignee)
    set_actor, update, insert = statements(read_case_sql("case_transition.sql"))
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(set_actor, params)
        await cursor.execute(update, params)  # also for assign: the new version puts the case on the streams
        await cursor.execute(insert, params)
        written = await cursor.fetchone()
    assert written is not None
    done = {
        k: params[k] for k in ("id", "action", "from_state", "to_state", "department", "due_at", "note", "assignee")
    } | {
        "transition_id": written["id"],
        "at": written["at"],
        "attachments": asked.attachments,
    }
    if asked.action == "assign":
        task = {"grid": case["grid_code"], "id": case_id, "note": asked.note, "actor": who.actor}
        done["task"] = (await _rows(conn, read_case_sql("case_task.sql"), task))[0]
    return done


async def _assignee(conn: AsyncConnection[Any], case: dict[str, Any], key_id: int) -> str:
    """The actor name of grid worker key `key_id` if it is one of the case's grid; else 400 naming those keys."""
    keys = await _rows(conn, read_case_sql("assignee_key.sql"), {"grid": case["grid_code"]})
    for key in keys:
        if key["id"] == key_id:
            return str(key["actor"])
    choice = f"one of the keys {', '.join(str(k['id']) for k in keys)}" if keys else "none: it has no grid worker key"
    raise InvalidInput(
        f"the assignee must be a grid worker key of the case's grid {case['grid_code']}; "
        f"key {key_id} is not ({choice})"
    )


def _in_scope(scope: Scope, case: dict[str, Any]) -> bool:
    if not scope.visible:
        return False
    if scope.grids is not None and case["grid_code"] not in scope.grids:
        return False
    return scope.department is None or case["department"] == scope.department


@dataclass(frozen=True)
class Report:
    """A new case from a grid worker, an officer or a citizen (through Open311)."""

    category: str
    description: str
    lon: float | None = None
    lat: float | None = None
    building: str | None = None
    address: str | None = None
    contact: dict[str, str] | None = None
    source_kind: str = "report"
    idempotency_key: str | None = None


async def locate(conn: AsyncConnection[Any], report: Report) -> dict[str, Any]:
    """Areas, building and point of a report: from its building code, else its coordinates."""
    if report.building:
        rows = await _rows(conn, read_case_sql("locate_building.sql"), {"code": report.building})
        if not rows:
            raise InvalidInput(f"no building with code {report.building!r}")
        return rows[0]
    if report.lon is None or report.lat is None:
        raise InvalidInput("say where: give lon and lat, or a building code")
    rows = await _rows(conn, read_case_sql("locate_point.sql"), {"lon": report.lon, "lat": report.lat})
    if not rows:
        raise InvalidInput(f"({report.lon}, {report.lat}) is outside the district: give a point inside it")
    return {**rows[0], "building_id": None, "address": report.address, "lon": report.lon, "lat": report.lat}


async def report_case(conn: AsyncConnection[Any], who: Principal, report: Report) -> tuple[int, bool]:
    """(case id, created); a repeated submission with the same idempotency key returns the first case."""
    rules = await load_rules(conn)
    rules.routing.category(report.category)  # unknown -> InvalidInput naming the categories
    place = await locate(conn, report)
    if who.role == "grid_worker" and place["grid_code"] != who.grid_code:
        raise ActionForbidden(
            f"grid workers report in their own grid ({who.grid_code}); this place is in grid {place['grid_code']}"
        )
    areas = [a for a in (place["grid_code"], place["community_code"], place["street_code"]) if a]
    route = rules.routing.route(report.category, areas)
    now = dt.datetime.now(dt.UTC)
    params = {
        "category": report.category,
        "state": "reported",
        "source_kind": report.source_kind,
        "source_ref": None,
        "idempotency_key": report.idempotency_key,
        "description": report.description,
        "address": report.address or place.get("address"),
        "building_id": place["building_id"],
        "grid_code": place["grid_code"],
        "street_code": place["street_code"],
        "department": route.department,
        "reporter": who.actor,
        "role": who.role,
        "contact": Jsonb(report.contact or {}),
        "due_at": rules.due(report.category, "reported", now, route.limits),
        "lon": place["lon"],
        "lat": place["lat"],
    }
    created = await _rows(conn, read_case_sql("case_create.sql"), params)
    if created:
        return int(created[0]["id"]), True
    if report.idempotency_key is None:
        raise InvalidInput("the case could not be recorded")  # only a key clash writes nothing
    first = await _rows(conn, read_case_sql("case_by_key.sql"), params)
    return int(first[0]["id"]), False


def check_image(content: bytes) -> str:
    """The media type of an acceptable image; refuses anything else (Pillow reads the bytes, not the name)."""
    from PIL import Image, UnidentifiedImageError

    settings = get_case_settings()
    if len(content) > settings.attachment_max_bytes:
        raise AttachmentTooLarge(
            f"the attachment has {len(content)} bytes; the limit is {settings.attachment_max_bytes} "
            "(ONEMAP_CASES_ATTACHMENT_MAX_BYTES): send a smaller photo"
        )
    try:
        with Image.open(io.BytesIO(content)) as image:
            kind = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise AttachmentNotImage(
            "the attachment is not a readable image: send a JPEG, PNG or WebP photo"
        ) from exc
    if kind not in settings.attachment_types:
        raise AttachmentNotImage(f"{kind} images are not accepted: send a JPEG, PNG or WebP photo")
    return Image.MIME[kind]


async def add_attachment(
    conn: AsyncConnection[Any], who: Principal, case_id: int, content: bytes
) -> dict[str, Any]:
    media_type = check_image(content)
    locked = await _rows(conn, read_case_sql("case_lock.sql"), {"id": case_id})
    if not locked or not _in_scope(scope_of(who), locked[0]):
        raise NotFound(f"no case {case_id} in your scope")
    params = {
        "id": case_id,
        "media_type": media_type,
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "content": content,
        "actor": who.actor,
    }
    rows = await _rows(conn, read_case_sql("attachment_add.sql"), params)
    return rows[0]


async def attachment(
    conn: AsyncConnection[Any], who: Principal, case_id: int, attachment_id: int
) -> dict[str, Any]:
    await case_with_timeline(conn, who, case_id)  # 404 outside the caller's scope
    rows = await _rows(conn, read_case_sql("attachment_get.sql"), {"case_id": case_id, "id": attachment_id})
    if not rows:
        raise NotFound(f"case {case_id} has no attachment {attachment_id}")
    return rows[0]


async def evaluation(
    conn: AsyncConnection[Any], since: dt.datetime | None, until: dt.datetime | None, department: str | None
) -> list[dict[str, Any]]:
    params = {"since": since, "until": until, "department": department}
    return await _rows(conn, read_case_sql("evaluation.sql"), params)
