"""Run the statements of a static ``.sql`` file one by one (psycopg binds parameters per statement)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg.rows import dict_row

from spatial.fusion.sql import read_sql

# The fusion files hold plain statements (no function bodies), each ending with ";" at the end of a line.
_STATEMENT_END = re.compile(r";[ \t]*(?:\n|$)")


def statements(text: str) -> list[str]:
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    return [s.strip() for s in _STATEMENT_END.split(code) if s.strip()]


def run_file(conn: psycopg.Connection, name: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Execute every statement of a fusion SQL file (see ``run_statements``)."""
    return run_statements(conn, read_sql(name), params)


def run_statements(
    conn: psycopg.Connection, text: str, params: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Execute every statement of `text`; the single-row results of its SELECTs merged into one dict."""
    results: dict[str, Any] = {}
    for statement in statements(text):
        with conn.cursor(row_factory=dict_row) as cursor:
            cursor.execute(statement, params if "%(" in statement else None)
            if cursor.description is not None and statement.lstrip().upper().startswith(("SELECT", "WITH")):
                row = cursor.fetchone()
                if row:
                    results.update(row)
    return results
