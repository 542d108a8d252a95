"""Request bodies of `/api/v1`: JSON of at most `LIMIT` bytes, validated against a declared pydantic model.

A model here is the one declaration of a body: it validates the request and the OpenAPI document's request schema is
generated from it (`bot.http.api.openapi`), so the two cannot drift. Validation is strict (no "5" for 5, no 1 for
true) and refuses fields the model does not declare; a body that does not fit is answered as 400 naming every field
that is wrong and why, in the admin language (so a caller fixes them in one round), a body over the limit as 413.
"""

from __future__ import annotations

import functools
import json
from typing import Literal, TypeVar, get_args, get_origin

from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError

from bot.errors import UserError
from bot.http.api.errors import ApiError

LIMIT = 64 * 1024  # a batch of 500 invitations asks for a few hundred bytes; anything near this is a mistake
_TYPES = {"int": "admin.api_type_integer", "string": "admin.api_type_string", "bool": "admin.api_type_boolean",
          "model": "admin.api_type_object", "dict": "admin.api_type_object"}

Model = TypeVar("Model", bound=BaseModel)


class Body(BaseModel):
    """A request body: strict types, and a field the model does not declare is refused."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Answer(BaseModel):
    """A JSON answer: documented with every field it has and no other (`additionalProperties: false`)."""

    model_config = ConfigDict(extra="forbid")


def json_answer(data: BaseModel | list[BaseModel], status: int = 200) -> web.Response:
    """``data`` (an answer model or a list of them) as the JSON response."""
    body = [one.model_dump(mode="json") for one in data] if isinstance(data, list) else data.model_dump(mode="json")
    # Vietnamese names as UTF-8 letters, not \u escapes, like the API's errors.
    return web.json_response(body, status=status, dumps=functools.partial(json.dumps, ensure_ascii=False))


async def read_body(request: web.Request, model: type[Model]) -> Model:
    """The body of ``request`` as ``model``; 413 over `LIMIT` bytes, 400 for bad JSON or a field that does not fit."""
    if (request.content_length or 0) > LIMIT:
        raise ApiError.of(413, "admin.api_body_too_large", limit=UserError.count(LIMIT))
    data = bytearray()
    async for chunk in request.content.iter_chunked(16 * 1024):  # a chunked body has no Content-Length
        data += chunk
        if len(data) > LIMIT:
            raise ApiError.of(413, "admin.api_body_too_large", limit=UserError.count(LIMIT))
    try:
        return model.model_validate_json(bytes(data))
    except ValidationError as error:
        raise refusal(error, model) from None


def _choices(model: type[BaseModel], loc: tuple) -> list[str]:
    """The values a Literal field of ``model`` takes (in an Optional too)."""
    annotation = model.model_fields[str(loc[0])].annotation
    options = (annotation,) if get_origin(annotation) is Literal else get_args(annotation)
    literals = [arg for arg in options if get_origin(arg) is Literal]
    return [str(value) for literal in literals for value in get_args(literal)]


class Problems(ApiError):
    """Several problems of one body, answered at once as one 400 (their messages joined by "; ")."""

    def __init__(self, parts: list[ApiError]) -> None:
        super().__init__("; ".join(str(part) for part in parts), 400)
        self.parts = parts

    def text(self, language: str) -> str:
        return "; ".join(part.text(language) for part in self.parts)


def refusal(error: ValidationError, model: type[BaseModel]) -> ApiError:
    """The problems of ``error`` as a 400 that names each field and says what is wrong with it."""
    found = error.errors(include_url=False)
    first = found[0]
    if first["type"] == "json_invalid":
        return ApiError.of(400, "admin.api_body_not_json", detail=(first.get("ctx") or {}).get("error", first["msg"]))
    if not first["loc"]:  # the body as a whole: JSON, but not an object
        return ApiError.of(400, "admin.api_body_not_object")
    unknown = [".".join(map(str, problem["loc"])) for problem in found if problem["type"] == "extra_forbidden"]
    parts: dict[str, ApiError] = {}
    if unknown:  # one sentence for every field not taken, with the fields that are
        part = ApiError.of(400, "admin.api_field_unknown", field="', '".join(unknown),
                           allowed=", ".join(model.model_fields))
        parts[str(part)] = part
    for problem in found:
        if problem["type"] != "extra_forbidden":
            part = _problem(problem, model)
            parts.setdefault(str(part), part)  # a field wrong in one way is said once
    return next(iter(parts.values())) if len(parts) == 1 else Problems(list(parts.values()))


def _problem(problem: dict, model: type[BaseModel]) -> ApiError:
    """One problem of a validation error: its field and what is wrong with it."""
    kind, context = problem["type"], problem.get("ctx") or {}
    field = ".".join(str(part) for part in problem["loc"])
    if kind == "missing":
        return ApiError.of(400, "admin.api_field_missing", field=field)
    if kind.endswith("_type") or kind.endswith("_parsing"):
        expected = _TYPES.get(kind.rsplit("_", 1)[0])
        if expected:
            return ApiError.of(400, "admin.api_field_type", field=field, expected=UserError.term(expected))
    if kind in ("greater_than_equal", "greater_than"):
        return ApiError.of(400, "admin.api_field_min", field=field, min=context.get("ge", context.get("gt")))
    if kind in ("less_than_equal", "less_than"):
        return ApiError.of(400, "admin.api_field_max", field=field, max=context.get("le", context.get("lt")))
    if kind == "string_too_short":
        return ApiError.of(400, "admin.api_field_empty", field=field)
    if kind == "string_too_long":
        return ApiError.of(400, "admin.api_field_too_long", field=field, max=context.get("max_length"))
    if kind in ("literal_error", "enum"):
        return ApiError.of(400, "admin.api_field_choice", field=field,
                           choices=", ".join(_choices(model, problem["loc"])))
    return ApiError.of(400, "admin.api_field_invalid", field=field, detail=problem["msg"])
