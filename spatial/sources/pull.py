"""Pull: a catalogue item that names a source is read on the ``source_pulls`` job's schedule, incrementally
above the high-water mark its last successful pull reached. Sources: a PostgreSQL table or view (the DSN in an
environment variable, never in the catalogue; the query's rows, a ``geometry`` column as GeoJSON) or an OGC API
Features collection (another onemap, pygeoapi, GeoServer).

What arrives is checked like a delivered file, row by row, and written as one delivery (channel ``pull``) in one
transaction with the new mark, so a failed run writes nothing and the next one starts from the same mark. A
source that is down or refuses is recorded in the item's pull state with the time of the next try (exponential
backoff), which ``GET /sources`` shows; its error never carries the DSN or its credentials."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from spatial.errors import OnemapError
from spatial.sources.arrivals import announce
from spatial.sources.checks import Flags
from spatial.sources.deliveries import permitted
from spatial.sources.errors import PullFailed
from spatial.sources.mapping import default_mapping
from spatial.sources.push import check_records
from spatial.sources.settings import get_sources_settings
from spatial.sources.store import Batch, copy_batch, finish_delivery, start_delivery

log = logging.getLogger("onemap.sources.pull")
ACTOR = "pull"
PAGE = 1000  # features per OGC API request


@dataclass(frozen=True)
class PullSource:
    item_id: int
    item_name: str
    department: str
    entity_kind: str
    pull: dict[str, Any]  # {"kind": "postgresql", "dsn_env", "query", "mark"} or {"kind": "ogcapi", "url", ...}
    mark: str | None  # the high-water mark reached so far (as text)
    mark_is_number: bool = False  # whether the source sent it as a number (so filters compare numbers)

    @property
    def mark_column(self) -> str | None:
        return self.pull.get("mark") or None

    @property
    def described(self) -> str:
        """The source as it may be shown: the environment variable's name, or the URL without credentials."""
        if self.pull["kind"] == "postgresql":
            return f"env:{self.pull['dsn_env']}"
        return f"{_without_credentials(self.pull['url'])}/collections/{self.pull['collection']}"


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", "")).rstrip("/")


def _plain(value: Any) -> Any:
    """A database value as JSON would carry it (the checks read text, numbers and GeoJSON)."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, memoryview | bytes):
        return None  # binary columns (a WKB geometry, say) are not records: select ST_AsGeoJSON(...) AS geometry
    return value


def _mark_of(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.datetime | dt.date) else str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool)


def _above(value: Any, mark: str | None) -> bool:
    """Whether a source row's mark value lies above the mark reached: numbers as exact numbers (a 19-digit code
    sent as text stays text), everything else as text (ISO times sort as text)."""
    if mark is None:
        return True
    if value is None:
        return False
    if _is_number(value):
        try:
            return decimal.Decimal(str(value)) > decimal.Decimal(mark)
        except decimal.InvalidOperation:
            pass
    return _mark_of(value) > mark


def _complete_page(rows: list[dict[str, Any]], column: str | None, limit: int) -> list[dict[str, Any]]:
    """A page cut at ``limit`` may have split rows that share the last mark value: leave those for the next run
    (they come again above the previous value), unless the whole page shares it."""
    if column is None or len(rows) < limit:
        return rows
    last = rows[-1][column]
    kept = [row for row in rows if row[column] != last]
    return kept or rows


# --- reading the sources ----------------------------------------------------------------------------------------
def _read_postgresql(source: PullSource, limit: int, timeout: float) -> list[dict[str, Any]]:
    variable = source.pull["dsn_env"]
    dsn = os.environ.get(variable)
    if not dsn:
        raise PullFailed(f"the environment variable {variable} (the pull source's DSN) is not set on this server")
    column = source.mark_column
    query = sql.SQL("SELECT * FROM ({query}) AS pulled").format(query=sql.SQL(source.pull["query"]))
    params: list[Any] = []
    if column is not None:
        if source.mark is not None:
            # The mark goes as an untyped literal, so PostgreSQL reads it as the column's type (time or number).
            query += sql.SQL(" WHERE {column} > {mark}").format(
                column=sql.Identifier(column), mark=sql.Literal(source.mark)
            )
        query += sql.SQL(" ORDER BY {column}").format(column=sql.Identifier(column))
    query += sql.SQL(" LIMIT %s")
    params.append(limit)
    try:
        with psycopg.connect(dsn, connect_timeout=max(1, int(timeout)), row_factory=dict_row) as conn:
            conn.read_only = True
            conn.execute(sql.SQL("SET statement_timeout = {}").format(sql.Literal(int(timeout * 1000))))
            rows = conn.execute(query, params).fetchall()
    except psycopg.OperationalError as exc:
        # libpq's message names the host and the user: say what failed, not where.
        raise PullFailed(f"cannot read the database in {variable}: {_reason(exc)}") from None
    except psycopg.Error as exc:
        raise PullFailed(f"the pull query of {variable} failed ({type(exc).__name__}): check its SQL") from None
    if column is not None and rows and column not in rows[0]:
        raise PullFailed(f"the pull query of {variable} returns no column {column!r} (the mark)")
    return _complete_page(rows, column, limit)


def _reason(exc: psycopg.OperationalError) -> str:
    text = str(exc).lower()
    for fragment, reason in (
        ("password", "authentication failed"),
        ("timeout", "timed out"),
        ("refused", "connection refused"),
        ("does not exist", "the database does not exist"),
    ):
        if fragment in text:
            return reason
    return "the server did not answer"


def _features(client: httpx.Client, first: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    url: str | None = first
    query: dict[str, Any] | None = params
    while url is not None:
        response = client.get(url, params=query)
        if response.status_code != 200:
            raise PullFailed(f"the collection answered {response.status_code} to a page request")
        try:
            page = response.json()
        except ValueError:
            raise PullFailed("the collection answered a page that is not JSON") from None
        yield from page.get("features") or []
        url = next((link.get("href") for link in page.get("links") or [] if link.get("rel") == "next"), None)
        query = None  # the next link carries the query


def _read_ogcapi(source: PullSource, limit: int, timeout: float) -> list[dict[str, Any]]:
    base = str(source.pull["url"]).rstrip("/")
    headers = {"Accept": "application/geo+json, application/json"}
    if key := os.environ.get(str(source.pull.get("key_env") or "")):
        headers["X-API-Key"] = key
    column = source.mark_column
    params: dict[str, Any] = {"limit": PAGE}
    rows: list[dict[str, Any]] = []
    try:
        with httpx.Client(timeout=timeout, headers=headers, follow_redirects=True) as client:
            if column is not None and source.mark is not None and _filters(client, base):
                # Servers that filter send only what is new; the check below holds for those that do not.
                params["filter"] = f"{column} > {_cql2_literal(source.mark, source.mark_is_number)}"
                params["filter-lang"] = "cql2-text"
            for feature in _features(client, f"{base}/collections/{source.pull['collection']}/items", params):
                record = {**(feature.get("properties") or {}), "geometry": feature.get("geometry")}
                if column is None or _above(record.get(column), source.mark):
                    rows.append(record)
    except httpx.HTTPError as exc:
        raise PullFailed(f"cannot read {source.described}: {type(exc).__name__}") from None
    if column is not None:
        if rows and column not in rows[0]:
            raise PullFailed(f"the features of {source.described} have no property {column!r} (the mark)")
        rows.sort(key=lambda r: (_sort_key(r.get(column))))
    return _complete_page(rows[: limit + 1], column, limit) if len(rows) > limit else rows


def _sort_key(value: Any) -> tuple[int, decimal.Decimal, str]:
    if _is_number(value):
        return (0, decimal.Decimal(str(value)), "")
    return (1, decimal.Decimal(0), "" if value is None else _mark_of(value))


def _cql2_literal(mark: str, numeric: bool) -> str:
    return mark if numeric else "'" + mark.replace("'", "''") + "'"


def _filters(client: httpx.Client, base: str) -> bool:
    response = client.get(f"{base}/conformance")
    if response.status_code != 200:
        return False
    classes = response.json().get("conformsTo") or []
    return any(str(c).endswith("/conf/features-filter") for c in classes) and any(
        str(c).endswith("/conf/cql2-text") for c in classes
    )


READERS = {"postgresql": _read_postgresql, "ogcapi": _read_ogcapi}


# --- one item ---------------------------------------------------------------------------------------------------
def pull_item(conn: psycopg.Connection, source: PullSource) -> dict[str, Any]:
    """Pull what is new at one source into one delivery; raises PullFailed (nothing written) when it cannot."""
    settings = get_sources_settings()
    mapping = default_mapping(source.department)
    if mapping.entity_kind != source.entity_kind:
        raise PullFailed(
            f"{source.department}'s mapping reads {mapping.entity_kind} records, but the item holds "
            f"{source.entity_kind} records"
        )
    rows = READERS[source.pull["kind"]](source, settings.pull_max_rows, settings.pull_timeout_seconds)
    if not rows:
        return {"item": source.item_id, "rows": 0, "mark": source.mark}
    records = [{name: _plain(value) for name, value in row.items()} for row in rows]
    allowed = permitted(conn, source.department, mapping.entity_kind)
    checked, results, flags = check_records(records, mapping, allowed.attributes)
    batch = _with_rejections(checked, results)
    column = source.mark_column
    last = rows[-1][column] if column is not None else None
    mark = None if last is None else _mark_of(last)
    content = json.dumps(records, sort_keys=True, default=str, ensure_ascii=False).encode()
    with conn.transaction():
        delivery_id = start_delivery(
            conn, source.department, source.item_id, "pull", source.described,
            hashlib.sha256(content).hexdigest(), ACTOR,
        )
        copy_batch(conn, source.department, mapping.entity_kind, delivery_id, batch)
        report = _report(source, delivery_id, len(records), batch, results, flags, mark)
        finish_delivery(conn, delivery_id, len(records), len(batch.keys), len(batch.rejected_rows), report)
        conn.execute(
            "UPDATE onemap.source_item SET pull_mark = %s, pull_state = %s WHERE id = %s",
            (mark, Jsonb(_succeeded(delivery_id, len(records), _is_number(last))), source.item_id),
        )
        announce(conn, delivery_id)
    return {"item": source.item_id, "rows": len(records), "delivery": delivery_id, "mark": mark}


def _with_rejections(checked: Batch, results: list[dict[str, Any]]) -> Batch:
    for result in results:
        if result["status"] == "rejected":
            key = result.get("key")
            checked.reject(int(result["index"]) + 1, None if key is None else str(key), str(result["reason"]))
    return checked


def _report(
    source: PullSource,
    delivery_id: int,
    rows: int,
    batch: Batch,
    results: list[dict[str, Any]],
    flags: Flags,
    mark: str | None,
) -> dict[str, Any]:
    return {
        "id": delivery_id,
        "department": source.department,
        "channel": "pull",
        "item": {"id": source.item_id, "name": source.item_name},
        "entity_kind": source.entity_kind,
        "source": source.described,
        "rows": rows,
        "accepted": len(batch.keys),
        "rejected": len(batch.rejected_rows),
        "flags": flags.as_dict(),
        "rejections": [r for r in results if r["status"] == "rejected"][:20],
        "mark": mark,
        "received_at": _now().isoformat(),
    }


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _succeeded(delivery_id: int, rows: int, mark_is_number: bool) -> dict[str, Any]:
    return {
        "last_attempt": _now().isoformat(),
        "ok": True,
        "rows": rows,
        "delivery": delivery_id,
        "failures": 0,
        "mark_is_number": mark_is_number,
    }


def _failed(previous: dict[str, Any], error: str) -> dict[str, Any]:
    settings = get_sources_settings()
    failures = int(previous.get("failures") or 0) + 1
    wait = min(settings.pull_retry_seconds * 2 ** (failures - 1), settings.pull_retry_max_seconds)
    now = _now()
    return {
        **{k: v for k, v in previous.items() if k == "mark_is_number"},
        "last_attempt": now.isoformat(),
        "ok": False,
        "error": error,
        "failures": failures,
        "next_try": (now + dt.timedelta(seconds=wait)).isoformat(),
    }


# --- every item -------------------------------------------------------------------------------------------------
SOURCES_QUERY = """
SELECT id, name, department, entity_kind, pull, pull_mark, pull_state FROM onemap.source_item
WHERE pull IS NOT NULL AND (%(item)s::bigint IS NULL OR id = %(item)s::bigint) ORDER BY id
"""


def pull_sources(conn: psycopg.Connection, item: int | None = None, force: bool = False) -> dict[str, Any]:
    """Pull every item with a source whose backoff has passed (or only ``item``; ``force`` ignores backoff).
    One item's failure is recorded on it and does not stop the others."""
    with conn.cursor(row_factory=dict_row) as cursor:
        items = cursor.execute(SOURCES_QUERY, {"item": item}).fetchall()
    conn.commit()
    pulled, failed, waiting = [], [], []
    for row in items:
        state = row["pull_state"] or {}
        next_try = state.get("next_try")
        if not force and next_try and dt.datetime.fromisoformat(next_try) > _now():
            waiting.append(row["id"])
            continue
        source = PullSource(
            row["id"], row["name"], row["department"], row["entity_kind"], row["pull"], row["pull_mark"],
            bool(state.get("mark_is_number")),
        )
        try:
            pulled.append(pull_item(conn, source))
        except OnemapError as exc:  # down, refused, or misconfigured (no mapping, no catalogue item): say so
            conn.rollback()
            log.warning("pull of item %s (%s) failed: %s", source.item_id, source.described, exc)
            conn.execute(
                "UPDATE onemap.source_item SET pull_state = %s WHERE id = %s",
                (Jsonb(_failed(state, str(exc))), source.item_id),
            )
            conn.commit()
            failed.append({"item": source.item_id, "error": str(exc)})
        else:
            conn.commit()
    return {"pulled": pulled, "failed": failed, "waiting": waiting}
