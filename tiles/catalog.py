"""The layer catalog as the tile server keeps it (read by ``layers.catalog.fetch_layers``): loaded once per
process and dropped when the catalog changes (the ``onemap_tiles`` notification with source 'layer'), so a warm
tile costs no database round trip."""

from __future__ import annotations

import time
from typing import Any

from psycopg import AsyncConnection

from layers.access import Principal
from layers.catalog import Layer, fetch_layers, require_readable


class TileCatalog:
    """`max_age`: without a LISTEN connection to say when the catalog changes (tile cache off), re-read it
    after this many seconds, so a revoked grant or a removed layer stops being served soon after."""

    def __init__(self, max_age: float | None = None) -> None:
        self._layers: dict[str, Layer] | None = None
        self._stale = True
        self._max_age = max_age
        self._loaded_at = 0.0

    def forget(self) -> None:
        # The old copy stays for ``layers_of_source``: an edit arriving before the reload must still find the
        # layers whose tiles it purges.
        self._stale = True

    async def all(self, conn: AsyncConnection[Any]) -> dict[str, Layer]:
        expired = self._max_age is not None and time.monotonic() - self._loaded_at > self._max_age
        if self._stale or self._layers is None or expired:
            # Marked fresh before reading: a change notified while we read marks it stale again.
            self._stale = False
            self._loaded_at = time.monotonic()
            try:
                layers = await fetch_layers(conn)
            except Exception:
                self._stale = True
                raise
            self._layers = {layer.id: layer for layer in layers}
        return self._layers

    def cached(self) -> dict[str, Layer]:
        return self._layers or {}

    async def readable(self, conn: AsyncConnection[Any], who: Principal) -> list[Layer]:
        return [layer for layer in (await self.all(conn)).values() if layer.can_read(who)]

    @property
    def loaded(self) -> bool:
        expired = self._max_age is not None and time.monotonic() - self._loaded_at > self._max_age
        return not self._stale and self._layers is not None and not expired

    async def get(self, conn: AsyncConnection[Any] | None, layer_id: str, who: Principal) -> Layer:
        """The same answers as ``layers.catalog.get_layer``: 404 for unknown (or, to the public, hidden)
        layers, 403 for a key that may not read it."""
        layers = self.cached() if conn is None and self.loaded else await self.all(conn)  # type: ignore[arg-type]
        return require_readable(layers.get(layer_id), layer_id, who)

    def layers_of_source(self, source: str) -> set[str]:
        return {layer.id for layer in self.cached().values() if layer.source == source}
