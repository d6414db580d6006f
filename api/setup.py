"""Bring a database to a usable platform: schema migrations, the built-in layer catalog, and the packaged source
catalogue when the database has none."""

from __future__ import annotations

from layers.builtin import register_builtin_layers
from spatial.database import check_connection, raw_connection
from spatial.migrate import current_revision, upgrade
from spatial.sources.catalogue import ensure_default_catalogue


def initialise_database(url: str) -> str | None:
    check_connection(url)
    upgrade(url)
    register_builtin_layers(url)
    with raw_connection(url) as conn:
        ensure_default_catalogue(conn)  # the fusion rules' authorities need their data items
    return current_revision(url)
