"""What the OpenAPI document says each route can answer: the problem-details errors every route shares, declared
once here from what the route takes (a key, path parameters, a body), so that clients and schemathesis can check
every status code and error body against the document."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

PROBLEM_JSON = "application/problem+json"


class Problem(BaseModel):
    """An error (RFC 9457 problem details): ``detail`` says what to fix."""

    type: str = Field("about:blank", description="A URI naming the kind of problem.")
    title: str = Field(description="The HTTP status phrase.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong and what to do about it.")


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "model": Problem, "content": {PROBLEM_JSON: {}}}


# Every route: a parameter or URL it cannot use, a URL or body over the limits, the database gone.
EVERY_ROUTE = {
    400: _problem("A parameter or the body cannot be used; the detail names it."),
    401: _problem("The API key is unknown or revoked."),
    403: _problem("The key's role, department or grid may not do this."),
    414: _problem("The URL is longer than the server accepts."),
    503: _problem("The database is not answering; retry in a few seconds (see Retry-After)."),
}
WITH_PATH_PARAMETERS = {404: _problem("The collection, feature, tile matrix set or file does not exist.")}
WITH_BODY = {
    409: _problem("The change clashes with the current state (a taken name, a duplicate)."),
    413: _problem("The body is larger than the server accepts for this path."),
}


def declare_error_responses(app: FastAPI) -> None:
    """Add the shared error responses to every route of `app` (a route's own declarations win)."""
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        shared = dict(EVERY_ROUTE)
        if route.param_convertors:
            shared.update(WITH_PATH_PARAMETERS)
        if route.methods & {"POST", "PUT", "PATCH", "DELETE"}:
            shared.update(WITH_PATH_PARAMETERS)
            shared.update(WITH_BODY)
        for status, response in shared.items():
            route.responses.setdefault(status, response)
