"""Bound parameters for composed SQL: every value a user gives becomes a named placeholder, never SQL text."""

from __future__ import annotations

from typing import Any

from psycopg import sql


class Params:
    """Collects values while a query is composed; pass ``values`` to ``execute`` with the composed SQL."""

    def __init__(self, prefix: str = "p") -> None:
        self.prefix = prefix
        self.values: dict[str, Any] = {}

    def add(self, value: Any, cast: str | None = None) -> sql.Composable:
        """A placeholder for ``value``; ``cast`` (a trusted SQL type name, never from a request) types it."""
        name = f"{self.prefix}{len(self.values)}"
        self.values[name] = value
        placeholder = sql.Placeholder(name)
        return sql.SQL("{}::{}").format(placeholder, sql.SQL(cast)) if cast else placeholder
