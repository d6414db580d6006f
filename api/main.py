"""Assembles the web app: lifespan (database pool), routers, middleware, error handlers. Nothing else."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles

from api.changes import start_change_broker
from api.conformance import declared
from api.db import ServerDatabase
from api.errors import install_error_handlers
from api.key_cache import KeyCache
from api.limits import RequestLimits
from api.logs import redact_keys_in_access_log
from api.methods import HeadAsGet
from api.openapi import API_STATIC, install_openapi
from api.proxy import ForwardedHeaders
from api.routers import (
    analysis,
    archives,
    cases,
    features,
    features_edit,
    health,
    kpis,
    maps,
    ogc_common,
    open311,
    potential,
    saved_maps,
    screens,
    sources,
    streams,
    styles,
    tiles,
    verification,
    warnings,
)
from api.routers import layers as department_layers
from api.routers import raster as raster_routes
from api.settings import get_api_settings
from layers.screens import STATIC_DIR as SCREENS_STATIC
from layers.viewer.assets import STATIC_DIR as VIEWER_STATIC
from spatial.cases.settings import get_case_settings
from spatial.database import database_url, libpq_url
from spatial.ingest import get_ingest_settings
from spatial.jobs.scheduler import start_jobs
from tiles.service import start_tile_service

MULTIPART_OVERHEAD = 64 * 1024  # form fields and part headers around the uploaded file
# One module per route group; each exposes `router`, and may declare the conformance classes its routes
# implement (`CONFORMANCE`, collected by api.conformance).
ROUTERS = (health, ogc_common, features, features_edit, archives, tiles, raster_routes, styles, maps,
           department_layers, warnings, verification, potential, analysis, streams, cases, open311,
           kpis, saved_maps, screens, sources)
CORS_METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"]
# What a cross-origin script may read besides the CORS-safelisted headers: revalidation, paging, cache state.
CORS_EXPOSED = ["ETag", "Link", "X-Tile-Cache", "Location", "Content-Crs"]
# Request headers beyond the safelisted ones: the key, JSON bodies, revalidation, the CRS of an edit's body.
CORS_HEADERS = ["X-API-Key", "Content-Type", "If-None-Match", "Content-Crs"]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_api_settings()
    # A child forked from a serving process inherits the listening socket and keeps the port after the server
    # dies (connections accepted, never answered): anything that starts processes here must spawn them.
    multiprocessing.set_start_method("spawn", force=True)
    redact_keys_in_access_log()
    app.state.database = ServerDatabase(database_url(), settings)
    await app.state.database.open()
    app.state.tiles = await start_tile_service(app.state.database.pool, database_url())  # cache + LISTEN
    app.state.changes = await start_change_broker(libpq_url(database_url()))  # LISTEN for the SSE streams
    app.state.keys = KeyCache(libpq_url(database_url()))  # LISTEN for key and area changes
    await app.state.keys.start()
    app.state.jobs = None
    try:
        app.state.jobs = start_jobs(database_url())  # the scheduler, when this server runs it (onemap serve)
        yield
    finally:
        if app.state.jobs is not None:
            await asyncio.to_thread(app.state.jobs.stop)
        await app.state.keys.close()
        await app.state.changes.close()
        await app.state.tiles.close()
        await app.state.database.close()


def create_app() -> FastAPI:
    settings = get_api_settings()
    app = FastAPI(
        title=settings.title,
        description="One map for city operations: OGC API Features and Tiles, archives, thematic layers.",
        version="0.1.0",
        lifespan=lifespan,
        openapi_url=None,  # api.openapi serves the document (as OpenAPI 3.0) and its page
        docs_url=None,
        redoc_url=None,
    )
    # Level 4: most of the size win of level 9 at a fraction of its CPU on 500 KB feature pages.
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=4)
    upload_limit = get_ingest_settings().max_upload_bytes + MULTIPART_OVERHEAD
    app.add_middleware(RequestLimits, max_url_bytes=settings.max_url_bytes, max_body_bytes=settings.max_body_bytes,
                       upload_paths={"/layers": upload_limit, "/sources": upload_limit,
                                     "/cases": get_case_settings().attachment_max_bytes + MULTIPART_OVERHEAD})
    app.add_middleware(HeadAsGet)
    # Outermost, so that everything inside sees the client's scheme, host and path prefix.
    app.add_middleware(ForwardedHeaders, trusted=settings.forwarded_allow_ips)
    if settings.cors_origins:
        # Added last, so outermost: the 413/414 of RequestLimits and every error answer carry CORS headers
        # too, and a browser shows the problem instead of an opaque network error. No credentials: keys
        # travel in X-API-Key (see ApiSettings.cors_origins).
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=CORS_METHODS,
                           allow_headers=CORS_HEADERS,
                           expose_headers=CORS_EXPOSED, allow_credentials=False, max_age=3600)
    install_error_handlers(app)
    for module in ROUTERS:
        app.include_router(module.router)
    app.state.conformance = declared(ROUTERS)
    install_openapi(app)
    # screens' assets (ECharts, the wall's runtime) before the viewer's, whose mount would catch /static/screens
    app.mount("/static/screens", StaticFiles(directory=SCREENS_STATIC), name="screens_static")
    app.mount("/static/api", StaticFiles(directory=API_STATIC), name="api_static")  # the API docs' Swagger UI
    app.mount("/static", StaticFiles(directory=VIEWER_STATIC), name="static")  # viewer assets, no CDN
    return app


app = create_app()
