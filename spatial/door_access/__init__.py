"""Door-access (视频门禁) events of urban-village gates: import, generation, rules, retention."""

from __future__ import annotations

from typing import Any

import psycopg


def run_door_rules(conn: psycopg.Connection) -> dict[str, Any]:
    from spatial.door_access.rules import run_door_rules as run

    return run(conn)


def drop_expired_partitions(conn: psycopg.Connection) -> dict[str, Any]:
    from spatial.door_access.store import drop_expired_partitions as drop

    return drop(conn)
