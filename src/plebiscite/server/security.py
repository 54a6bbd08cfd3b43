"""Web security of the server (SECURITY-CASES 22 and 24) and the helpers of its tokens.

:class:`SecurityMiddleware` (outermost, so it sees every answer):

- A state-changing request (POST, PUT, DELETE, PATCH) that a browser marks as coming from
  another origin (an ``Origin`` header other than the server's own, ``Origin: null``, a
  malformed ``Origin`` or ``Host``, or ``Sec-Fetch-Site: cross-site``/``same-site``) is
  refused with 403 ``{"error": {"code":
  "cross_origin", ...}}`` before the application sees it, unless it is an ``/api/`` request
  carrying a bearer token (``Authorization: Bearer``): a browser cannot send that header
  across origins without a CORS preflight, which this server never grants. Clients that send
  no ``Origin`` (the command line, scripts) are not affected. The server's own origin is the
  configured public URL's, else the one the request was addressed to (scheme and ``Host``).
- Every session (an administrator's, a voter's) is a bearer token the client sends
  explicitly, never a cookie, so there is no ambient authority a forged cross-site request
  could use (CSRF), and no CSRF token is needed. The one cookie the server sets is the
  sign-in's (:mod:`plebiscite.server.signin`): HttpOnly, SameSite=Lax, path ``/signin``, ten
  minutes, sealed; it binds an OpenID Connect sign-in to the browser that started it (the
  state and nonce are checked against it) and authorizes nothing else. A ballot needs no
  session at all where the election does not require voter authentication: its credential's
  signature authorizes it.
- Every answer carries ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``
  and ``X-Frame-Options: DENY`` (unless the route set its own). The Content-Security-Policy
  of the web pages is theirs to set, not this middleware's.

Tokens (:func:`new_token`, :func:`token_hash`): 256 random bits, URL-safe; the server keeps
only their SHA-256. No token travels in a URL's path or query string (bearer header or request
body; a one-time link carries its token in the fragment, which browsers never send), so the
access log never sees one; ``plebiscite serve`` turns uvicorn's access log off anyway. Client
addresses are used by the rate limits only, in memory: never logged, stored or published on
the board.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from fastapi import Request

from plebiscite import strictjson
from plebiscite.errors import PlebisciteError
from plebiscite.server.ratelimit import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from plebiscite.board.private import PrivateStore

__all__ = [
    "SECURITY_HEADERS",
    "SecurityMiddleware",
    "bearer",
    "json_object",
    "new_token",
    "origin_of",
    "private_store",
    "same_token",
    "token_hash",
]

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)
_WRITES = frozenset({"POST", "PUT", "DELETE", "PATCH"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def new_token() -> str:
    """A fresh token: 256 random bits, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the server keeps of a token: its SHA-256, hexadecimal."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def same_token(a: str, b: str) -> bool:
    """``a == b`` in constant time (for equal lengths); an empty token is never valid."""
    return bool(a) and hmac.compare_digest(
        a.encode("utf-8", "replace"), b.encode("utf-8", "replace")
    )


def bearer(request: Request) -> str:
    """The request's bearer token ('' if none)."""
    auth = request.headers.get("authorization", "")
    return auth[7:].strip() if auth[:7].lower() == "bearer " else ""


def private_store(request: Request) -> PrivateStore | None:
    """The server's private store (:mod:`plebiscite.board.private`), if it has one."""
    store: PrivateStore | None = getattr(request.app.state, "private", None)
    return store


def json_object(raw: bytes, where: str) -> dict[str, Any]:
    """A JSON object from a request body (strict JSON); an ApiError otherwise."""
    from plebiscite.server.http import ApiError

    try:
        value = strictjson.loads(raw, max_size=len(raw) + 1, where=where)
    except PlebisciteError as e:
        raise ApiError(422, "bad_request", f"the body is not valid JSON: {e}") from None
    if not isinstance(value, dict):
        raise ApiError(422, "bad_request", "the body must be a JSON object")
    return value


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower case, without the scheme's default port; ''
    if it has none (no scheme or no host, a malformed host or port: never an exception)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # an unclosed IPv6 bracket, a port not a number or out of range
        return ""
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if not scheme or not host:
        return ""
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope.get("headers", ()):
        if k == name:
            return bytes(v).decode("latin-1")
    return None


class SecurityMiddleware:
    """Origin checks on state-changing requests and security headers on every answer."""

    def __init__(self, app: ASGIApp, *, public_url: str | None = None) -> None:
        self.app = app
        self.origin = origin_of(public_url) if public_url else None

    def _own_origin(self, scope: Scope) -> str:
        if self.origin is not None:
            return self.origin
        host = _header(scope, b"host") or ""
        return origin_of(f"{scope.get('scheme', 'http')}://{host}")

    def _cross_origin(self, scope: Scope) -> str | None:
        """Why a state-changing request is refused (None: it is not)."""
        if scope["method"] not in _WRITES:
            return None
        if scope["path"].startswith("/api/") and (
            (_header(scope, b"authorization") or "")[:7].lower() == "bearer "
        ):
            return None
        origin = _header(scope, b"origin")
        if origin is not None:
            # an Origin that is not one (null, malformed), or a request to a malformed Host,
            # matches no origin
            given, own = origin_of(origin), self._own_origin(scope)
            if not given or given != own:
                return "this request comes from a page of another origin"
            return None
        site = (_header(scope, b"sec-fetch-site") or "").lower()
        if site in ("cross-site", "same-site"):
            return "this request comes from a page of another site"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {bytes(k).lower() for k, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        why = self._cross_origin(scope)
        if why is not None:
            body = strictjson.dumps_compact(
                {
                    "error": {
                        "code": "cross_origin",
                        "message": f"{why}: state-changing requests are accepted from this "
                        "server's own pages, or with a bearer token",
                    }
                }
            )
            await send_with_headers(
                {
                    "type": "http.response.start",
                    "status": 403,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send_with_headers({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send_with_headers)
