"""What every route of the server shares: the error answer, the body reader.

Every error is JSON ``{"error": {"code", "message"}}`` with a stable ``code`` and a message that
says what was wrong. Routes raise :class:`ApiError` for HTTP-level refusals; errors of the
library below (:mod:`plebiscite.errors`) are mapped by :func:`install_error_handlers`: a
conflicting append is 409, a failing database 503 (nothing was lost: try again), any other
refusal of the input 422.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from plebiscite.errors import BoardError, ConflictError, PlebisciteError
from plebiscite.service.errors import (
    Forbidden,
    Internal,
    Invalid,
    NotFound,
    Refused,
    Unauthorized,
)

__all__ = ["ApiError", "error_response", "install_error_handlers", "read_body"]


class ApiError(Exception):
    """A refusal with its HTTP status, stable code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


_STATUS: tuple[tuple[type[PlebisciteError], int], ...] = (
    (NotFound, 404),
    (Refused, 409),
    (Unauthorized, 401),
    (Forbidden, 403),
    (Invalid, 422),
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
        return error_response(*answer_of(e), str(e))


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused past ``limit`` bytes before anything is parsed."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise ApiError(413, "too_large", f"the body is larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "too_large", f"the body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
