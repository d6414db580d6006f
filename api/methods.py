"""HTTP methods every resource answers the same way: HEAD wherever GET is (the GET response without its body,
RFC 9110 9.3.2), and a 405 that names, in ``Allow``, every method the path answers."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.routing import BaseRoute, Match, Route
from starlette.types import Scope


def answer_head_like_get(app: FastAPI) -> None:
    """Give every GET route HEAD too (Starlette's own routes do this; FastAPI's do not). Called once, after
    every router is included; uvicorn sends no body for a HEAD, the headers stay those of the GET."""
    for route in app.router.routes:
        methods = getattr(route, "methods", None)
        if isinstance(methods, set) and "GET" in methods:
            methods.add("HEAD")


def allowed_methods(routes: list[BaseRoute], scope: Scope) -> list[str]:
    """Every method some route answers at this request's path: a path may be served by several routes (GET in
    one module, POST in another), and Starlette's own 405 names only the first one's."""
    found: set[str] = set()
    for route in routes:
        if not isinstance(route, Route) or not route.methods:
            continue
        match, _ = route.matches(scope)
        if match in (Match.FULL, Match.PARTIAL):
            found |= route.methods
    return sorted(found)
