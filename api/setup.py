"""Bring a database to a usable platform: schema migrations, then the built-in layer catalog."""

from __future__ import annotations

from layers.builtin import register_builtin_layers
from spatial.database import check_connection
from spatial.migrate import current_revision, upgrade


def initialise_database(url: str) -> str | None:
    check_connection(url)
    upgrade(url)
    register_builtin_layers(url)
    return current_revision(url)
