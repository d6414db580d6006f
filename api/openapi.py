"""The OpenAPI document: what each route can answer (the problem-details errors every route shares, declared
once here from what the route takes: a key, path parameters, a body), written as OpenAPI 3.0, and served at
``/api`` and ``/openapi.json`` with the Swagger UI at ``/api.html``.

FastAPI writes OpenAPI 3.1 (JSON Schema 2020-12). OGC API Features declares OpenAPI 3.0 (the ``oas30``
conformance class), and the clients GIS users have read 3.0: GDAL's OAPIF driver, OWSLib, QGIS. So the
document is converted once, here, and declared as ``application/vnd.oai.openapi+json;version=3.0``."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from api.links import root_path

OPENAPI_30 = "application/vnd.oai.openapi+json;version=3.0"
OPENAPI_VERSION = "3.0.3"
DOCUMENT_PATHS = ("/api", "/openapi.json")
DOCS_PATH = "/api.html"
API_STATIC = Path(__file__).parent / "static"  # mounted at /static/api by api.main
SWAGGER_UI_URL = "/static/api/swagger-ui"

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


# JSON Schema keywords whose value is a schema, a list of schemas, or a map of names to schemas.
_SUBSCHEMA = ("items", "not", "additionalProperties")
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
_SUBSCHEMA_MAPS = ("properties",)
# 2019-09/2020-12 keywords OpenAPI 3.0's schema object does not have: taken out rather than sent to choke a
# 3.0 parser (they only narrow what is valid; the server checks the values anyway).
_NOT_IN_30 = ("$schema", "$id", "$defs", "$comment", "contentSchema", "prefixItems", "unevaluatedProperties",
              "unevaluatedItems", "dependentRequired", "dependentSchemas", "propertyNames", "if", "then", "else",
              "patternProperties", "contains", "minContains", "maxContains")


def _is_null(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "null" and len(schema) == 1


def schema_30(schema: Any) -> Any:
    """A JSON Schema 2020-12 schema (FastAPI's 3.1 output) as an OpenAPI 3.0 schema object."""
    if not isinstance(schema, dict):
        return schema
    # Optional first (its null option is recognised before it is converted), then the subschemas.
    out = _subschemas_30(_nullable(_type_list({k: v for k, v in schema.items() if k not in _NOT_IN_30})))
    if "const" in out:
        out["enum"] = [out.pop("const")]
    if "examples" in out:
        examples = out.pop("examples")
        if isinstance(examples, list) and examples:
            out.setdefault("example", examples[0])
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        if isinstance(out.get(exclusive), int | float) and not isinstance(out[exclusive], bool):
            out[bound] = out.pop(exclusive)
            out[exclusive] = True
    media = out.pop("contentMediaType", None)
    encoding = out.pop("contentEncoding", None)
    if out.get("type") == "string" and (media or encoding):
        out.setdefault("format", "byte" if encoding == "base64" else "binary")
    if "$ref" in out and len(out) > 1:
        # 3.0 ignores a $ref's siblings: keep them by wrapping the reference.
        out = {**{k: v for k, v in out.items() if k != "$ref"}, "allOf": [{"$ref": out["$ref"]}]}
    return out


def _subschemas_30(out: dict[str, Any]) -> dict[str, Any]:
    for key in _SUBSCHEMA:
        if isinstance(out.get(key), dict):
            out[key] = schema_30(out[key])
    for key in _SUBSCHEMA_MAPS:
        if isinstance(out.get(key), dict):
            out[key] = {name: schema_30(sub) for name, sub in out[key].items()}
    for key in _SUBSCHEMA_LISTS:
        if isinstance(out.get(key), list):
            out[key] = [schema_30(sub) for sub in out[key]]
    return out


def _nullable(out: dict[str, Any]) -> dict[str, Any]:
    """anyOf [X, null] (an Optional field) -> X with nullable."""
    for key in ("anyOf", "oneOf"):
        options = out.get(key)
        if not (isinstance(options, list) and any(_is_null(o) for o in options)):
            continue
        rest = [o for o in options if not _is_null(o)]
        del out[key]
        out["nullable"] = True
        if len(rest) == 1 and "$ref" not in rest[0]:
            out = {**rest[0], **out}
        elif len(rest) == 1:
            out["allOf"] = rest  # a $ref takes no siblings in 3.0
        elif rest:
            out[key] = rest
    return out


def _type_list(out: dict[str, Any]) -> dict[str, Any]:
    """``type: [X, null]`` -> X with nullable; several types -> anyOf; ``type: null`` -> only null."""
    kinds = out.get("type")
    if isinstance(kinds, list):
        named = [k for k in kinds if k != "null"]
        if len(named) < len(kinds):
            out["nullable"] = True
        if len(named) == 1:
            out["type"] = named[0]
        else:
            del out["type"]
            if named:
                out["anyOf"] = [{"type": k} for k in named]
    elif kinds == "null":
        del out["type"]
        out["nullable"] = True
        out["enum"] = [None]
    return out


def _convert_schemas(node: Any) -> Any:
    """Every ``schema`` in parameters, bodies, responses and headers, converted; everything else kept."""
    if isinstance(node, list):
        return [_convert_schemas(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {key: schema_30(value) if key == "schema" else _convert_schemas(value) for key, value in node.items()}


def openapi_30(document: dict[str, Any]) -> dict[str, Any]:
    """FastAPI's OpenAPI 3.1 document as OpenAPI 3.0.3."""
    out = copy.deepcopy(document)
    out["openapi"] = OPENAPI_VERSION
    for key in ("webhooks", "jsonSchemaDialect"):
        out.pop(key, None)
    out.get("info", {}).pop("summary", None)
    out.get("info", {}).get("license", {}).pop("identifier", None)
    paths = {}
    for path, operations in out.get("paths", {}).items():
        # HEAD is answered for every GET (api.methods), the same resource without a body: not listed twice.
        if "get" in operations:
            operations.pop("head", None)
        paths[path] = _convert_schemas(operations)
    out["paths"] = paths
    components = out.get("components", {})
    if "schemas" in components:
        components["schemas"] = {name: schema_30(s) for name, s in components["schemas"].items()}
    for kind in ("parameters", "responses", "requestBodies", "headers"):
        if kind in components:
            components[kind] = _convert_schemas(components[kind])
    return out


def install_openapi(app: FastAPI) -> None:
    """Serve the generated document, with the shared error responses and as OpenAPI 3.0, built once; the app
    must be made with ``openapi_url=None, docs_url=None`` (FastAPI's own routes would serve 3.1 as JSON)."""
    generate = app.openapi

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = openapi_30(with_error_responses(generate()))
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]

    async def openapi_document(request: Request) -> Response:
        # Behind a reverse proxy the operations live under its prefix (api.proxy sets root_path).
        served = {**document(), "servers": [{"url": root_path(request) or "/"}]}
        return Response(orjson.dumps(served), media_type=OPENAPI_30)

    async def swagger_ui(request: Request) -> HTMLResponse:
        # The vendored Swagger UI (api/static/swagger-ui): an intranet has no CDN, and no validator badge
        # (it would ask validator.swagger.io).
        assets = root_path(request) + SWAGGER_UI_URL
        return get_swagger_ui_html(
            openapi_url=root_path(request) + DOCUMENT_PATHS[0],
            title=f"{app.title} API",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None},
        )

    for path in DOCUMENT_PATHS:
        app.add_api_route(path, openapi_document, methods=["GET"], include_in_schema=False)
    app.add_api_route(DOCS_PATH, swagger_ui, methods=["GET"], include_in_schema=False)


def problem_response(description: str) -> dict[str, Any]:
    """A problem-details response for a route's own ``responses`` declaration."""
    return _problem(description)
