"""What the OpenAPI document says each route can answer: the problem-details errors every route shares, declared
once here from what the route takes (a key, path parameters, a body), so that clients and schemathesis can check
every status code and error body against the document."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

PROBLEM_JSON = "application/problem+json"


class Problem(BaseModel):
    """An error (RFC 9457 problem details): ``detail`` says what to fix."""

    type: str = Field("about:blank", description="A URI naming the kind of problem.")
    title: str = Field(description="The HTTP status phrase.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong and what to do about it.")


PROBLEM = {"$ref": "#/components/schemas/Problem"}
WRITES = {"post", "put", "patch", "delete"}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": PROBLEM}}}


# Every route: a parameter or URL it cannot use, a URL or body over the limits, the database gone.
EVERY_ROUTE = {
    "400": _problem("A parameter or the body cannot be used; the detail names it."),
    "401": _problem("The API key is unknown or revoked."),
    "403": _problem("The key's role, department or grid may not do this."),
    "414": _problem("The URL is longer than the server accepts."),
    "503": _problem("The database is not answering; retry in a few seconds (see Retry-After)."),
}
WITH_PATH_PARAMETERS = {"404": _problem("The collection, feature, tile matrix set or file does not exist.")}
WITH_BODY = {
    "409": _problem("The change clashes with the current state (a taken name, a duplicate)."),
    "413": _problem("The body is larger than the server accepts for this path."),
}


HTML_ERROR = {"description": "An error page saying what went wrong.",
              "content": {"text/html": {"schema": {"type": "string"}}}}


def _is_page(responses: dict[str, Any]) -> bool:
    """Viewer pages (only text/html on success) answer errors as pages too, for people, not programs."""
    content = responses.get("200", {}).get("content", {})
    return list(content) == ["text/html"]


def with_error_responses(document: dict[str, Any]) -> dict[str, Any]:
    """`document` with the shared error responses on every operation (an operation's own declarations win).
    Validation errors are answered 400 with a problem, never FastAPI's 422, so 422 is taken out."""
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = Problem.model_json_schema()
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in WRITES | {"get", "head"}:
                continue
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            shared = dict(EVERY_ROUTE)
            if "{" in path or method in WRITES:
                shared.update(WITH_PATH_PARAMETERS)
            if method in WRITES:
                shared.update(WITH_BODY)
            pages = _is_page(responses)
            for status, response in shared.items():
                responses.setdefault(status, HTML_ERROR if pages else response)
            if not pages and any(p.get("name") == "f" for p in operation.get("parameters", [])):
                # OGC resources answer f=html with the same resource as a page.
                content = responses.get("200", {}).setdefault("content", {})
                content.setdefault("text/html", {"schema": {"type": "string"}})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve FastAPI's generated document with the shared error responses, built once."""
    generate = app.openapi

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_error_responses(generate())
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]
