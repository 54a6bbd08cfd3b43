"""What every route of the server shares: the error answer, the body reader.

Every error is JSON ``{"error": {"code", "message"}}`` with a stable ``code`` and a message that
says what was wrong. Routes raise :class:`ApiError` for HTTP-level refusals; errors of the
library below (:mod:`plebiscite.errors`) are mapped by :func:`install_error_handlers`: a
conflicting append is 409, a failing database 503 (nothing was lost: try again), any other
refusal of the input 422. What the framework refuses itself answers in the same shape: an
unknown route 404 ``not_found``, a method the route does not take 405
``method_not_allowed``, a path parameter of the wrong type 422 ``bad_parameter``; and a bug
(any other exception) 500 ``internal``, logged with the route and where it was raised, never
its message (:class:`CatchAll`).
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from plebiscite.errors import BoardError, ConflictError, PlebisciteError
from plebiscite.server.ratelimit import Limit, app_buckets, too_many
from plebiscite.service.errors import (
    Forbidden,
    Internal,
    Invalid,
    NotFound,
    Refused,
    Unauthorized,
    Unavailable,
)

__all__ = [
    "ApiError",
    "CatchAll",
    "error_response",
    "install_error_handlers",
    "log_bug",
    "read_body",
]

log = logging.getLogger("plebiscite.server")


class ApiError(Exception):
    """A refusal with its HTTP status, stable code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
    *,
    where: str = "",
    **more: Any,
) -> JSONResponse:
    """The error ``{"error": {"code", "message", "where"?, ...}}``: ``where`` names what is
    wrong (a parameter, a field), when known; ``more``, fields of this error's own."""
    error: dict[str, Any] = {"code": code, "message": message}
    if where:
        error["where"] = where
    error.update(more)
    return JSONResponse({"error": error}, status_code=status, headers=headers)


_HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
}
"""The codes of the refusals the framework makes itself (Starlette's ``HTTPException``)."""


def _validation_message(e: RequestValidationError) -> str:
    """Which parameter is wrong and why, from FastAPI's validation errors."""
    parts = []
    for err in e.errors()[:5]:
        loc = [str(x) for x in err.get("loc", ())]
        where = f"{loc[0]} parameter {'.'.join(loc[1:])}" if len(loc) > 1 else ".".join(loc)
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "a parameter of the request is invalid"


_STATUS: tuple[tuple[type[PlebisciteError], int], ...] = (
    (NotFound, 404),
    (Refused, 409),
    (Unauthorized, 401),
    (Forbidden, 403),
    (Invalid, 422),
    (Unavailable, 503),
    (Internal, 500),
)
"""The status of each refusal of the domain layer (:mod:`plebiscite.service.errors`)."""


def answer_of(e: PlebisciteError) -> tuple[int, str]:
    """The HTTP status and code of a library error."""
    for cls, status in _STATUS:
        if isinstance(e, cls):
            return status, e.code
    if isinstance(e, ConflictError):
        return 409, e.code
    if isinstance(e, BoardError):  # the database failed: try again later, nothing was lost
        return 503, "board_unavailable"
    return 422, e.code


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, e: ApiError) -> JSONResponse:
        return error_response(e.status, e.code, e.message)

    @app.exception_handler(PlebisciteError)
    async def _plebiscite_error(request: Request, e: PlebisciteError) -> JSONResponse:
        if isinstance(e, Unauthorized) and request.headers.get("authorization"):
            # a wrong trustee or credential authority link token: compared already (the right
            # one always works), counted per client address, 429 past BAD_LINK_TOKENS
            wait = await _wrong_link_token(request)
            if wait > 0:
                status, headers, body = too_many(wait, "wrong link tokens")
                return JSONResponse(
                    json.loads(body),
                    status_code=status,
                    headers={k.decode(): v.decode() for k, v in headers if k == b"retry-after"},
                )
        return error_response(*answer_of(e), str(e), where=e.where)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, e: HTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(e.status_code, "http_error")
        message = {
            404: f"no route {request.url.path!r}",
            405: f"{request.method} is not a method of {request.url.path!r}",
        }.get(e.status_code, str(e.detail))
        return error_response(e.status_code, code, message, e.headers)

    @app.exception_handler(RequestValidationError)
    async def _parameter_error(request: Request, e: RequestValidationError) -> JSONResponse:
        return error_response(422, "bad_parameter", _validation_message(e))

    @app.exception_handler(Exception)
    async def _bug(request: Request, e: Exception) -> JSONResponse:
        # what CatchAll did not see: a failure of the outermost middleware
        if isinstance(e, PlebisciteError):  # a middleware's store
            return error_response(*answer_of(e), str(e))
        log_bug(request.scope, e)
        return _internal()


#: wrong link tokens (trustees', credential authorities') per client address: twenty, then
#: one every three seconds
BAD_LINK_TOKENS = Limit(20, 1 / 3)


async def _wrong_link_token(request: Request) -> float:
    """Count a wrong link token from the request's address; the seconds to wait before the
    next one is accepted for checking (0: this one is within the limit)."""
    buckets = app_buckets(request.app.state, "bad-link-tokens", BAD_LINK_TOKENS)
    address = request.client.host if request.client else ""
    wait = await anyio.to_thread.run_sync(buckets.wait, address)
    if wait > 0:
        return wait
    await anyio.to_thread.run_sync(buckets.take, address)
    return 0.0


def _internal() -> JSONResponse:
    return error_response(
        500, "internal", "the server failed on this request (a bug, logged for its operator)"
    )


def log_bug(scope: Scope, e: BaseException) -> None:
    """Log a bug: the method, the route template (no parameter values: they may be tokens),
    the exception's type and where it was raised, never its message (it may quote the
    request, a vote, a credential)."""
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    frames = traceback.extract_tb(e.__traceback__)[-6:]
    at = "; ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in frames)
    log.error(
        "internal error on %s %s: %s at %s",
        scope.get("method", "?"),
        path if isinstance(path, str) else "(no route)",
        type(e).__name__,
        at,
    )


class CatchAll:
    """An ASGI middleware that answers any exception of the application below with 500
    ``internal`` (:func:`log_bug` logs it), instead of letting it reach the server, which would
    log it with its message. Starlette's ``HTTPException`` and the library's errors never reach
    it (:func:`install_error_handlers` answers them); once an answer has started, the
    exception goes on up."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as e:
            if started:
                raise
            if isinstance(e, PlebisciteError):
                response = error_response(*answer_of(e), str(e))
            else:
                log_bug(scope, e)
                response = _internal()
            await response(scope, receive, send)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused past ``limit`` bytes before anything is parsed."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not (declared.isascii() and declared.isdigit()):
            raise ApiError(400, "bad_header", "the Content-Length header is not a number")
        if len(declared) > 20 or int(declared) > limit:
            raise ApiError(413, "too_large", f"the body is larger than {limit} bytes")
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise ApiError(413, "too_large", f"the body is larger than {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        raise ApiError(400, "bad_request", "the body ended before its end: disconnected") from None
    return b"".join(chunks)
