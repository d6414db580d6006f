"""Assembles the web app: lifespan (database pool), routers, middleware, error handlers. Nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware

from api.db import open_pool
from api.errors import install_error_handlers
from api.routers import health
from api.settings import get_api_settings
from spatial.database import database_url


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_api_settings()
    app.state.pool = await open_pool(database_url(), settings)
    try:
        yield
    finally:
        await app.state.pool.close()


def create_app() -> FastAPI:
    settings = get_api_settings()
    app = FastAPI(
        title=settings.title,
        description="One map for city operations: OGC API Features and Tiles, archives, thematic layers.",
        version="0.1.0",
        lifespan=lifespan,
        openapi_url="/api",
        docs_url="/api.html",
    )
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    install_error_handlers(app)
    # One module per route group; each exposes `router`.
    for module in (health,):
        app.include_router(module.router)
    return app


app = create_app()
