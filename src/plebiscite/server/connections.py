"""Slow and many clients: time limits on a request's headers and body, caps on connections and
on the requests in flight per client address.

- **Headers** (slowloris): a connection must finish the headers of its first request within
  ``headers`` seconds of being opened, and of each later request within ``headers`` seconds of
  its first byte; past it the server answers ``408`` ``{"error": {"code": "request_timeout",
  ...}}`` and closes the connection (or only closes it while an earlier response is still
  being sent).
- **Body**: a request's body must be received in full within ``body`` seconds of its headers;
  past it the same ``408`` if the application has not started its answer (the application
  then sees the client gone: nothing of the request is used), else the connection is closed.
- **Connections**: past ``max_connections`` open connections, a request is answered ``503``
  ``{"error": {"code": "busy", ...}}`` with ``Retry-After`` and its connection closed.
- **Per address**: past ``per_address`` requests in flight from one client address (a live
  feed is in flight for as long as it is followed; a request whose body trickles in, until
  it is answered), the next is answered ``429`` ``{"error": {"code": "too_many_connections",
  ...}}``. The address is the one uvicorn reports, as for the rate limits
  (:mod:`plebiscite.server.ratelimit`): behind a trusted proxy, the forwarded one. The open
  connections of a peer that is not a trusted proxy are capped too (connections whose headers
  never end are not in flight): one opened past ``per_address`` has a second (at most the
  headers' limit) to send its headers, then gets the same ``429`` and is closed.

A client that leaves before its whole body arrived is one log line too (the application sees
it gone, :func:`plebiscite.server.http.read_body` refuses the body, nothing of it is used).
Each refusal or cut is one log line without the address. The time limits and the connection
cap live in uvicorn's HTTP protocol (:func:`protocol_class`, given to ``uvicorn.Config(http=)``:
a request whose headers never end never reaches the application), the cap per address in an
ASGI middleware (:class:`InFlightMiddleware`). The protocol also gives each request's scope
``extensions["plebiscite.abort"]``, a callable that drops the connection at once, discarding
what is still buffered for it (the live feed drops a subscriber that does not read with it),
and ``extensions["plebiscite.streaming"]``, which shrinks its buffers for a live feed.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from plebiscite.server.security import SECURITY_HEADERS

__all__ = [
    "ABORT",
    "STREAMING",
    "STREAM_BUFFER",
    "ConnectionLimits",
    "InFlightMiddleware",
    "abort_of",
    "install",
    "protocol_class",
    "streaming",
]

log = logging.getLogger("plebiscite.server.connections")

ABORT = "plebiscite.abort"
"""The key, in a request scope's ``extensions``, of the callable that drops its connection."""
STREAMING = "plebiscite.streaming"
"""The key, in a request scope's ``extensions``, of the callable that shrinks the buffers of
its connection to :data:`STREAM_BUFFER` (a live feed: little to send at once, and a client
that does not read is seen soon)."""
STREAM_BUFFER = 4096
"""Bytes buffered for a streaming answer, in uvicorn's transport and in the kernel each."""

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]
ASGIApp = Callable[[Scope, Receive, Send], Any]


@dataclass(frozen=True)
class ConnectionLimits:
    """The time limits (seconds) and the caps; the defaults let a voter on a slow mobile link
    send a ballot, a polling station or a proxy keep 256 requests in flight, and keep the
    server within the 1024 open files a process commonly gets."""

    headers: float = 10.0
    body: float = 30.0
    max_connections: int = 1000
    per_address: int = 256

    def __post_init__(self) -> None:
        if not (self.headers > 0 and self.body > 0):
            raise ValueError("the time limits on headers and bodies must be positive")
        if not (self.max_connections >= 1 and self.per_address >= 1):
            raise ValueError("the connection caps must be at least 1")


def _raw_answer(status: int, reason: str, code: str, message: str) -> bytes:
    """A whole HTTP/1.1 answer in the documented error shape, closing the connection."""
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    head = [
        f"HTTP/1.1 {status} {reason}".encode(),
        b"content-type: application/json",
        f"content-length: {len(body)}".encode(),
        b"connection: close",
        *(k + b": " + v for k, v in SECURITY_HEADERS),
    ]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


async def _answer(
    send: Send, status: int, code: str, message: str, retry_after: int, *, close: bool = False
) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(retry_after).encode()),
        *SECURITY_HEADERS,
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _busy(scope: Scope, receive: Receive, send: Send) -> None:
    message = "the server has too many open connections: try again"
    await _answer(send, 503, "busy", message, 1, close=True)


async def _crowded(scope: Scope, receive: Receive, send: Send) -> None:
    message = "too many connections from your address: try again when one has closed"
    await _answer(send, 429, "too_many_connections", message, 1, close=True)


def _trusted(config: Any, peer: str) -> bool:
    """Whether uvicorn takes the client address of a connection from ``peer`` from its
    ``X-Forwarded-For`` (``--forwarded-allow-ips`` of uvicorn, ``FORWARDED_ALLOW_IPS``):
    then the cap per address applies to the forwarded addresses
    (:class:`InFlightMiddleware`), not to the proxy's connections."""
    if not config.proxy_headers:
        return False
    allowed = config.forwarded_allow_ips
    hosts = [h.strip() for h in allowed.split(",")] if isinstance(allowed, str) else allowed
    if "*" in hosts:
        return True
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return peer in hosts
    for host in hosts:
        try:
            if address in ipaddress.ip_network(host, strict=False):
                return True
        except ValueError:
            continue
    return False


def abort_of(scope: Mapping[str, Any]) -> Callable[[], None] | None:
    """The callable that drops the connection of ``scope`` (None: not served by
    :func:`protocol_class`)."""
    found: Callable[[], None] | None = scope.get("extensions", {}).get(ABORT)
    return found


def streaming(scope: Mapping[str, Any]) -> None:
    """Shrink the buffers of the connection of ``scope`` for a streaming answer (nothing if
    not served by :func:`protocol_class`)."""
    shrink: Callable[[], None] | None = scope.get("extensions", {}).get(STREAMING)
    if shrink is not None:
        shrink()


def protocol_class(limits: ConnectionLimits) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol with ``limits``' time limits and connection cap."""

    peers: dict[str, int] = {}  # open connections per peer address, proxies aside

    class GuardedProtocol(HttpToolsProtocol):
        _timer: asyncio.TimerHandle | None = None

        def _arm(self, seconds: float, then: Callable[[], None]) -> None:
            self._disarm()
            self._timer = self.loop.call_later(seconds, then)

        def _disarm(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

        _peer: str | None = None  # counted in ``peers`` (None: a trusted proxy)
        _over: bool = False  # opened past the cap of its peer
        _headers_limit: float = limits.headers
        _cut = False  # by a time limit (logged there)

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            peer = self.client[0] if self.client else ""
            if not _trusted(self.config, peer):
                self._peer = peer
                peers[peer] = count = peers.get(peer, 0) + 1
                self._over = count > limits.per_address
            # past the cap, a connection has a second to say what it wants (then 429)
            self._headers_limit = min(limits.headers, 1.0) if self._over else limits.headers
            self._arm(self._headers_limit, self._headers_late)

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            cycle = self.cycle
            if (
                not self._cut
                and cycle is not None
                and cycle.more_body
                and not cycle.response_complete
            ):  # the application sees it gone and refuses the body
                log.warning("a client left before its whole request body arrived: request dropped")
            if self._peer is not None:
                left = peers[self._peer] - 1
                if left:
                    peers[self._peer] = left
                else:
                    del peers[self._peer]
                self._peer = None
            super().connection_lost(exc)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            if self._timer is None:  # a later request: from its first byte
                self._arm(limits.headers, self._headers_late)

        def on_headers_complete(self) -> None:
            self._disarm()
            app: Any = self.config.loaded_app
            if len(self.connections) > limits.max_connections:
                log.warning(
                    "more than %d open connections: a request answered 503",
                    limits.max_connections,
                )
                app = _busy
            elif self._over:
                log.warning(
                    "a client address has %d connections open: one more answered 429",
                    limits.per_address,
                )
                app = _crowded
            self.app = app
            scope: Any = self.scope
            scope["extensions"] = {ABORT: self.transport.abort, STREAMING: self._streaming}
            super().on_headers_complete()
            self._arm(limits.body, self._body_late)

        def on_message_complete(self) -> None:
            self._disarm()
            super().on_message_complete()

        def _streaming(self) -> None:
            self.transport.set_write_buffer_limits(high=STREAM_BUFFER)
            sock = self.transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, STREAM_BUFFER)

        def _headers_late(self) -> None:
            self._timer = None
            if self.transport.is_closing():
                return
            if self.cycle is None or self.cycle.response_complete:
                message = f"the request headers did not arrive within {self._headers_limit:g} s"
                self.transport.write(
                    _raw_answer(408, "Request Timeout", "request_timeout", message)
                )
                log.warning("%s: answered 408, connection closed", message)
            else:
                log.warning(
                    "the headers of a pipelined request did not arrive within %g s: "
                    "connection closed",
                    limits.headers,
                )
            self._cut = True
            self.transport.close()

        def _body_late(self) -> None:
            self._timer = None
            if self.transport.is_closing():
                return
            cycle = self.cycle
            if any(queued is cycle for queued, _ in self.pipeline):
                # a pipelined request, not read while an earlier one is answered: its time
                # starts when it is
                self._arm(limits.body, self._body_late)
                return
            message = f"the request body did not arrive within {limits.body:g} s"
            if cycle is not None and not cycle.response_started:
                self.transport.write(
                    _raw_answer(408, "Request Timeout", "request_timeout", message)
                )
                # the application sees the client gone, and what it sends is dropped
                cycle.disconnected = True
                cycle.message_event.set()
                log.warning("%s: answered 408, connection closed", message)
            else:
                log.warning("%s: connection closed", message)
            self._cut = True
            self.transport.close()

    return GuardedProtocol


class InFlightMiddleware:
    """At most ``per_address`` requests in flight per client address; past it ``429``."""

    def __init__(self, app: ASGIApp, per_address: int) -> None:
        self.app = app
        self.per_address = per_address
        self.in_flight: dict[str, int] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else ""
        count = self.in_flight.get(address, 0)
        if count >= self.per_address:
            log.warning(
                "a client address has %d requests in flight: one more answered 429",
                self.per_address,
            )
            message = (
                f"too many requests in flight from your address (at most {self.per_address}): "
                "try again when one has finished"
            )
            await _answer(send, 429, "too_many_connections", message, 1)
            return
        self.in_flight[address] = count + 1
        try:
            await self.app(scope, receive, send)
        finally:
            left = self.in_flight[address] - 1
            if left:
                self.in_flight[address] = left
            else:
                del self.in_flight[address]


def install(app: Any, per_address: int | None) -> None:
    """Cap the requests in flight per client address of ``app`` (a FastAPI application; None:
    no cap)."""
    if per_address is not None:
        app.add_middleware(InFlightMiddleware, per_address=per_address)
