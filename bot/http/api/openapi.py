"""`GET /api/v1/openapi.json`: the OpenAPI 3.1 document of `/api/v1`, no key needed.

Every module of `bot.http.api` exports `ROUTES` (its aiohttp routes) and `PATHS` (their OpenAPI path items);
`bot.http.api.MODULES` lists them and this module merges their `PATHS`. Where a path item names a schema by a
pydantic model (a request body of `bot.http.api.bodies`, a response model), the model's JSON Schema goes to
`components.schemas` and the place gets a `$ref`: the document's request schemas come from the very models that
validate the requests. tests/test_openapi.py checks the document against the app's routes.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from types import ModuleType

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from bot.http.api.bodies import Body
from bot.http.api.errors import _CODES, PREFIX

VERSION = "1"
_ERROR = {"type": "object", "required": ["error"], "additionalProperties": False, "properties": {"error": {
    "type": "object", "required": ["code", "message"], "additionalProperties": False,
    "properties": {"code": {"type": "string"}, "message": {"type": "string",
                                                           "description": "In the admin language."}}}}}

PATHS = {f"{PREFIX}/openapi.json": {"get": {
    "summary": "This document", "operationId": "openapi", "tags": ["meta"], "security": [],
    "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {
        "type": "object"}}}}}}}}


def _models(value, found: dict[str, type[BaseModel]]) -> None:
    if isinstance(value, type) and issubclass(value, BaseModel):
        found[value.__name__] = value
    elif isinstance(value, dict):
        for item in value.values():
            _models(item, found)
    elif isinstance(value, list):
        for item in value:
            _models(item, found)


def _refs(value):
    """``value`` with every pydantic model replaced by a `$ref` to its schema."""
    if isinstance(value, type) and issubclass(value, BaseModel):
        return {"$ref": f"#/components/schemas/{value.__name__}"}
    if isinstance(value, dict):
        return {key: _refs(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_refs(item) for item in value]
    return value


def document(modules: Iterable[ModuleType]) -> dict:
    """The OpenAPI document of ``modules``' PATHS (and this module's own)."""
    paths: dict = {}
    for module in [*modules, sys.modules[__name__]]:
        for path, item in module.PATHS.items():
            paths.setdefault(path, {}).update(item)
    found: dict[str, type[BaseModel]] = {}
    _models(paths, found)
    # A body is validated (mode "validation"), an answer is written (mode "serialization").
    _, schemas = models_json_schema(
        [(model, "validation" if issubclass(model, Body) else "serialization") for model in found.values()],
        ref_template="#/components/schemas/{model}")
    responses = {code: {"description": f"{status} {code}", "content": {"application/json": {"schema": {
        "$ref": "#/components/schemas/Error"}}}} for status, code in _CODES.items()}
    return {
        "openapi": "3.1.0",
        "info": {"title": "sipas-bot API", "version": VERSION,
                 "description": "Invitations, reports and the directory of sipas-bot. Send "
                                "`Authorization: Bearer <key>` (`sipas-bot apikey create`)."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": {path: _refs(item) for path, item in sorted(paths.items())},
        "components": {"schemas": {**schemas.get("$defs", {}), "Error": _ERROR},
                       "responses": responses,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }


def routes(modules: Iterable[ModuleType]) -> list[web.RouteDef]:
    """The route of the document of ``modules``, built once."""
    body = json.dumps(document(modules), ensure_ascii=False, indent=1)

    async def openapi(request: web.Request) -> web.Response:
        return web.Response(text=body, content_type="application/json", charset="utf-8")

    return [web.get(f"{PREFIX}/openapi.json", openapi)]

