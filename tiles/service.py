"""The tile server's per-process state: catalog copy, cache, invalidation listener, and every tile's rendering
(raster or vector) and cache key. The web layer creates one at startup (``start_tile_service``) and closes it at
shutdown; ``tiles/seed.py`` makes one without a cache."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from layers.access import PUBLIC, Principal
from layers.catalog import Layer
from spatial.database import libpq_url
from tiles import raster
from tiles.cache import CachedTile, Recipe, TileCache, TileKey
from tiles.catalog import TileCatalog
from tiles.compression import gzip_tile
from tiles.errors import InvalidTileRequest
from tiles.invalidation import InvalidationListener
from tiles.query import TileQuery
from tiles.refresh import TileRefresher
from tiles.settings import cache_dir, get_tile_settings
from tiles.tms import TileAddress
from tiles.vector import render_tile

MVT = "application/vnd.mapbox-vector-tile"
ConnectionFactory = Callable[[], AbstractAsyncContextManager[AsyncConnection[Any]]]


@dataclass(frozen=True)
class Look:
    """How a raster tile is drawn (vector tiles ignore it): a style of ``raster.STYLES``, a format of
    ``raster.FORMATS`` (``raster.render_tile`` refuses others)."""

    style: str = "relief"
    fmt: str = "png"


@dataclass
class TileService:
    """Every tile, raster or vector, for the server and for offline packages: it chooses the renderer and owns
    the cache key of both (``cache`` None: nothing is cached, as when seeding)."""

    pool: AsyncConnectionPool
    catalog: TileCatalog
    cache: TileCache | None
    listener: InvalidationListener | None
    refresher: TileRefresher | None = None

    async def close(self) -> None:
        if self.refresher is not None:
            await self.refresher.stop()
        if self.listener is not None:
            await self.listener.stop()

    async def cached(
        self, key: TileKey, render: Callable[[], Awaitable[bytes]], recipe: Recipe | None = None
    ) -> CachedTile:
        """The tile of ``key`` from the cache, or rendered, stored and returned. ``recipe`` renders the same
        bytes without the request (on the pool's connections): kept with the entry for the refresher."""
        if self.cache is None:
            return CachedTile.of(await render())
        found = self.cache.get(key, recipe)
        if found is not None:
            return found
        tile, _ = await self.cache.fill(key, render, recipe)
        return tile

    @staticmethod
    def media_type(layers: list[Layer], look: Look) -> str:
        return raster.FORMATS[look.fmt][1] if is_raster(layers) else MVT

    @staticmethod
    def key(
        layers: list[Layer], who: Principal, query: TileQuery, address: TileAddress, look: Look
    ) -> TileKey:
        """Everything that changes the tile's bytes. Raster tiles do not depend on the caller (no masks)."""
        if is_raster(layers):
            variant = TileKey.variant_of(look.style, look.fmt, str(layers[0].style.get("rescale")))
        else:
            variant = TileService.vector_variant(who, query)
        return TileKey(
            tuple(layer.id for layer in layers),
            tuple(layer.version for layer in layers),
            *address.key,
            variant,
        )

    @staticmethod
    def vector_variant(who: Principal, query: TileQuery) -> str:
        return TileKey.variant_of("mvt", who.visibility_class, query.digest())

    async def render(
        self,
        layers: list[Layer],
        who: Principal,
        query: TileQuery,
        address: TileAddress,
        look: Look,
        connect: ConnectionFactory | None = None,
    ) -> bytes:
        """The tile's bytes, uncompressed: an MVT of the vector ``layers``, or a PNG/WebP of one raster layer
        (b"" outside the raster). ``connect`` gives the caller's connection (a web request holds one at most);
        default: the pool's."""
        if is_raster(layers):
            layer = layers[0]
            path = await asyncio.to_thread(raster.raster_path, layer.source)
            rescale = layer.style.get("rescale")
            body = await asyncio.to_thread(
                raster.render_tile, path, address, look.style, look.fmt, tuple(rescale) if rescale else None
            )
            return body or b""
        async with (connect or self.pool.connection)() as conn:
            try:
                return await render_tile(conn, layers, who, query, address)
            except psycopg.DataError:  # e.g. a filter literal PostgreSQL cannot compare: the caller's mistake
                raise InvalidTileRequest("the filter cannot be applied to this layer's values") from None

    async def tile(
        self,
        layers: list[Layer],
        who: Principal,
        query: TileQuery,
        address: TileAddress,
        look: Look = Look(),
        connect: ConnectionFactory | None = None,
    ) -> CachedTile:
        """The cached tile: MVTs stored gzip-compressed (warm tiles cost no compression), images as they are."""
        layers = list(layers)  # the recipe keeps them: a caller's later change to its list must not reach it

        def stored(connect: ConnectionFactory | None) -> Recipe:
            async def make() -> bytes:
                body = await self.render(layers, who, query, address, look, connect)
                if is_raster(layers):
                    return body
                return gzip_tile(body)

            return make

        # The request renders on its own connection; the recipe kept for a background re-render is the same
        # render (same principal, so the same masking and grid scope) on the pool's, as the request is gone.
        render = stored(connect)
        recipe = render if connect is None else stored(None)
        return await self.cached(self.key(layers, who, query, address, look), render, recipe)


def is_raster(layers: list[Layer]) -> bool:
    """A raster tile holds one raster layer; vector tiles may hold several vector layers, never a raster."""
    rasters = [layer.id for layer in layers if layer.kind == "raster"]
    if rasters and len(layers) > 1:
        raise InvalidTileRequest(f"raster layers cannot be part of a vector tile: {', '.join(rasters)}")
    return bool(rasters)


async def start_tile_service(pool: AsyncConnectionPool, url: str) -> TileService:
    settings = get_tile_settings()
    if not settings.cache:
        return TileService(pool, TileCatalog(max_age=settings.catalog_max_age), None, None)
    catalog = TileCatalog()
    disk = cache_dir() if settings.cache_disk else None
    cache = TileCache(settings.cache_memory_mb * 1024 * 1024, disk, margin=settings.buffer / settings.extent)
    cache.usable = False  # until the listener is connected and has caught up
    if settings.static_front:  # tiles/static_front.py: what nginx may send without asking
        cache.public_variant = TileService.vector_variant(PUBLIC, TileQuery())
    listener = InvalidationListener(libpq_url(url), cache, catalog)
    refresher = None
    if settings.refresh:
        refresher = TileRefresher(cache, settings)
        refresher.start()  # before the listener: the catch-up's purges find it (and it drops their queue)
    await listener.start()
    return TileService(pool, catalog, cache, listener, refresher)


__all__ = ["MVT", "Look", "TileService", "is_raster", "start_tile_service"]
