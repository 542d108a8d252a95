"""The error boundary of `/api/v1`: every error leaves as `{"error": {"code": ..., "message": ...}}`, the message
in the admin language (SIPAS_ADMIN_LANGUAGE, as the CLI says it). Other paths keep `bot.http.errors`' shape."""

from __future__ import annotations

import functools
import json
import logging

from aiohttp import web

from bot import counters
from bot.errors import UserError
from bot.http.keys import SETTINGS
from bot.texts import language_of, say

PREFIX = "/api/v1"
log = logging.getLogger(__name__)
_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
          409: "conflict", 413: "too_large", 500: "internal"}


class ApiError(UserError):
    """An error of the API with its own status and code (401, 403); the message comes from the admin catalogue."""

    def __init__(self, message: str = "", status: int = 400, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code = status, code or _CODES.get(status, "error")

    @classmethod
    def of(cls, status: int, name: str, /, **values: object) -> ApiError:
        error = cls.say(name, **values)
        error.status, error.code = status, _CODES[status]
        return error


def error_refs(*statuses: int) -> dict:
    """An OpenAPI operation's error responses: a reference to the shared response of each status."""
    return {str(status): {"$ref": f"#/components/responses/{_CODES[status]}"} for status in statuses}


def language(request: web.Request) -> str:
    return language_of(getattr(request.app.get(SETTINGS), "admin_language", None))


def error_response(status: int, code: str, message: str) -> web.Response:
    # Vietnamese as UTF-8 letters, not \u escapes: what a person reading the response (or a log) sees.
    return web.json_response({"error": {"code": code, "message": message}}, status=status,
                             dumps=functools.partial(json.dumps, ensure_ascii=False))


@web.middleware
async def api_errors(request: web.Request, handler):
    if not (request.path == PREFIX or request.path.startswith(PREFIX + "/")):
        return await handler(request)
    try:
        return await handler(request)
    except ApiError as error:
        return error_response(error.status, error.code, error.text(language(request)))
    except UserError as error:
        return error_response(error.status, _CODES.get(error.status, "bad_request"), error.text(language(request)))
    except web.HTTPException as error:
        if error.status < 400:
            raise
        if error.status == 404:
            return error_response(404, "not_found", say("admin.api_not_found", language(request)))
        return error_response(error.status, _CODES.get(error.status, "error"), error.reason)
    except Exception:
        log.exception("HTTP %s %s failed", request.method, request.path)
        counters.error_caught("http")
        return error_response(500, "internal", say("admin.api_internal", language(request)))
