"""Rate limits: in-memory token buckets, per client address and route class.

Every state-changing request (POST, PUT, DELETE, PATCH) falls in one route class:

- ``ballot``: ``POST /api/elections/UUID/ballots``;
- ``login``: ``POST /api/session`` (administrators) and ``POST /api/elections/UUID/login``
  (voters);
- ``code``: ``POST /api/elections/UUID/login-code`` (a voter asks for a one-time code);
- ``write``: every other one (administrators, trustees, credential authorities).

Each (client address, class) pair has a bucket of ``burst`` tokens refilled at ``per_second``;
a request takes one token, and a request that finds the bucket empty is answered ``429`` with
``{"error": {"code": "rate_limited", ...}}`` and ``Retry-After`` (whole seconds), before the
application sees it. Reads (GET, HEAD) are not limited here. :class:`Buckets` also serves the
modules that limit failures by another key (an account name, a voter's login).

The client address is the one the ASGI server reports (uvicorn takes it from
``X-Forwarded-For`` only when the peer is a trusted proxy, by default 127.0.0.1). It is never
logged or published. With one server process (SQLite) the buckets are in its memory, for as
long as they are not full. Several processes on one database (PostgreSQL) share their buckets
in it (:class:`SharedBuckets`, table ``rate_buckets``), so the limits hold across processes:
there a key is stored only as an HMAC under a key derived from the server's signing key (the
address itself is never stored), and full buckets are removed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any, Protocol

import anyio

from plebiscite.errors import BoardError

if TYPE_CHECKING:
    from plebiscite.board.private import PrivateStore

__all__ = [
    "BucketSource",
    "Buckets",
    "Limit",
    "Limiter",
    "RateLimitError",
    "RateLimitMiddleware",
    "RateLimits",
    "SharedBuckets",
    "app_buckets",
    "charge",
    "install",
    "route_class",
    "too_many",
]

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]
ASGIApp = Callable[[Scope, Receive, Send], Any]


@dataclass(frozen=True)
class Limit:
    """A bucket of ``burst`` requests, refilled at ``per_second`` requests a second."""

    burst: float
    per_second: float

    def __post_init__(self) -> None:
        if not (self.burst >= 1 and self.per_second > 0):
            raise ValueError("a limit needs burst >= 1 and a positive rate")

    @classmethod
    def parse(cls, text: str) -> Limit:
        """``BURST/PER_SECOND``, e.g. ``10/0.1`` (ten at once, then one every ten seconds)."""
        burst, sep, rate = text.partition("/")
        try:
            if not sep:
                raise ValueError
            return cls(float(burst), float(rate))
        except ValueError:
            raise ValueError(f"a limit is BURST/PER_SECOND (e.g. 10/0.1), not {text!r}") from None


@dataclass(frozen=True)
class RateLimits:
    """The limit of each route class per client address (None: that class is not limited).

    The defaults let one address send a burst of 600 ballots (a polling station, a proxy, the
    load tests) and 30 a second after that, ten logins then one every six seconds, five code
    requests then one every twenty seconds, and 300 other writes then five a second.
    ``revote`` is not a route class: it limits the ballots replacing an earlier ballot of the
    same credential, per election and credential whatever the address (five, then one a
    minute)."""

    ballot: Limit | None = Limit(600, 30)
    login: Limit | None = Limit(10, 1 / 6)
    code: Limit | None = Limit(5, 1 / 20)
    write: Limit | None = Limit(300, 5)
    revote: Limit | None = Limit(5, 1 / 60)

    @classmethod
    def off(cls) -> RateLimits:
        return cls(ballot=None, login=None, code=None, write=None, revote=None)

    @classmethod
    def parse(cls, text: str) -> RateLimits:
        """``off``, ``default``, or ``CLASS=BURST/PER_SECOND|off,...`` over the defaults."""
        text = text.strip()
        if text == "off":
            return cls.off()
        out = cls()
        if text in ("", "default"):
            return out
        names = {f.name for f in fields(cls)}
        for part in text.split(","):
            name, sep, value = part.strip().partition("=")
            if not sep or name not in names:
                raise ValueError(
                    f"expected CLASS=BURST/PER_SECOND with CLASS one of {sorted(names)}, "
                    f"not {part!r}"
                )
            out = replace(out, **{name: None if value == "off" else Limit.parse(value)})
        return out

    def of(self, route: str) -> Limit | None:
        limit: Limit | None = getattr(self, route)
        return limit


class Buckets:
    """Token buckets under any hashable key, thread-safe, bounded in memory: a full bucket
    is the same as no bucket, so full ones are dropped when there are too many."""

    shared = False

    def __init__(
        self, limit: Limit, *, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: dict[Any, tuple[float, float]] = {}  # key -> (tokens, when)
        self._lock = threading.Lock()

    def _tokens(self, key: Any, now: float) -> float:
        tokens, when = self._buckets.get(key, (self.limit.burst, now))
        return min(self.limit.burst, tokens + (now - when) * self.limit.per_second)

    def wait(self, key: Any) -> float:
        """Seconds until ``key`` may take a token (0: now), without taking one."""
        with self._lock:
            tokens = self._tokens(key, self.clock())
        return 0.0 if tokens >= 1 else (1 - tokens) / self.limit.per_second

    def take(self, key: Any, cost: float = 1.0) -> float:
        """Take ``cost`` tokens of ``key``'s bucket: 0.0 if it had them, else the seconds to
        wait (and nothing is taken)."""
        with self._lock:
            now = self.clock()
            tokens = self._tokens(key, now)
            if tokens < cost:
                return (cost - tokens) / self.limit.per_second
            self._buckets[key] = (tokens - cost, now)
            if len(self._buckets) > self.max_keys:
                self._prune(now)
            return 0.0

    def reset(self, key: Any) -> None:
        with self._lock:
            self._buckets.pop(key, None)

    def _prune(self, now: float) -> None:
        full = [k for k in self._buckets if self._tokens(k, now) >= self.limit.burst]
        for k in full:
            del self._buckets[k]
        if len(self._buckets) > self.max_keys:  # still too many: the oldest go (they refill)
            by_age = sorted(self._buckets, key=lambda k: self._buckets[k][1])
            for k in by_age[: len(by_age) - self.max_keys // 2]:
                del self._buckets[k]


class Limiter(Protocol):
    """Token buckets by key: :class:`Buckets` (one process) or :class:`SharedBuckets`."""

    limit: Limit
    shared: bool

    def wait(self, key: Any) -> float: ...

    def take(self, key: Any, cost: float = 1.0) -> float: ...

    def reset(self, key: Any) -> None: ...


class SharedBuckets:
    """Token buckets in the database, shared by every server process of it: the same methods
    as :class:`Buckets` (each a short transaction; call them off the event loop). ``name``
    tells apart the limits kept in one table; a key is stored as its HMAC under ``secret``."""

    shared = True
    PRUNE_EVERY = 1000
    """Takes between two removals of the buckets that are full again."""

    def __init__(
        self,
        limit: Limit,
        store: PrivateStore,
        name: str,
        secret: bytes,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limit, self.store, self.name, self.secret, self.clock = (
            limit,
            store,
            name,
            secret,
            clock,
        )
        self._takes = 0

    def _key(self, key: Any) -> str:
        return hmac.new(self.secret, repr(key).encode(), hashlib.sha256).hexdigest()[:32]

    def wait(self, key: Any) -> float:
        lim = self.limit
        return self.store.wait_tokens(
            self.name, self._key(key), lim.burst, lim.per_second, self.clock()
        )

    def take(self, key: Any, cost: float = 1.0) -> float:
        lim, now = self.limit, self.clock()
        self._takes += 1
        if self._takes % self.PRUNE_EVERY == 0:
            self.store.prune_tokens(self.name, lim.burst, lim.per_second, now)
        return self.store.take_tokens(
            self.name, self._key(key), lim.burst, lim.per_second, now, cost
        )

    def reset(self, key: Any) -> None:
        self.store.reset_tokens(self.name, self._key(key))


class BucketSource:
    """Where the server's limits keep their buckets: in memory (``store`` None: one server
    process) or in the database (shared by its processes)."""

    def __init__(self, store: PrivateStore | None = None, secret: bytes = b"") -> None:
        self.store, self.secret = store, secret

    def buckets(self, name: str, limit: Limit) -> Limiter:
        if self.store is None:
            return Buckets(limit)
        return SharedBuckets(limit, self.store, name, self.secret)


def source_of(app_state: Any) -> BucketSource:
    """The app's :class:`BucketSource` (in memory if none was set)."""
    source: BucketSource | None = getattr(app_state, "buckets", None)
    return source if source is not None else BucketSource()


def app_buckets(app_state: Any, name: str, limit: Limit) -> Limiter:
    """The buckets ``name`` of the app (made from its :class:`BucketSource` at first use and
    kept in its state), for the modules that limit failures by a key of their own."""
    made: dict[str, Limiter] | None = getattr(app_state, "named_buckets", None)
    if made is None:
        made = app_state.named_buckets = {}
    if name not in made:
        made[name] = source_of(app_state).buckets(name, limit)
    return made[name]


async def charge(buckets: Limiter, key: Any, what: str) -> None:
    """Take one token of ``key``'s bucket, off the event loop (the buckets may be in the
    database); raise :class:`RateLimitError` about ``what`` if it is empty."""
    if (wait := await anyio.to_thread.run_sync(buckets.wait, key)) > 0:
        raise RateLimitError(wait, what)
    await anyio.to_thread.run_sync(buckets.take, key)


_BALLOT = re.compile(r"^/api/elections/[^/]+/ballots/?$")
_VOTER_LOGIN = re.compile(r"^/api/elections/[^/]+/login/?$")
_CODE = re.compile(r"^/api/elections/[^/]+/login-code/?$")
_WRITES = frozenset({"POST", "PUT", "DELETE", "PATCH"})


def route_class(method: str, path: str) -> str | None:
    """The route class of a request (None: not limited)."""
    if method not in _WRITES:
        return None
    if _BALLOT.match(path):
        return "ballot"
    if path.rstrip("/") == "/api/session" or _VOTER_LOGIN.match(path):
        return "login"
    if _CODE.match(path):
        return "code"
    return "write"


class RateLimitError(Exception):
    """Raised by a route that limits something itself (failed logins): answered 429."""

    def __init__(self, retry_after: float, what: str = "requests") -> None:
        super().__init__(f"too many {what}")
        self.retry_after, self.what = retry_after, what


def too_many(
    retry_after: float, what: str = "requests"
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """The 429 answer: status, headers, JSON body."""
    seconds = max(1, math.ceil(retry_after))
    message = f"too many {what}: try again in {seconds} s"
    body = json.dumps({"error": {"code": "rate_limited", "message": message}}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(seconds).encode()),
    ]
    return 429, headers, body


async def _unavailable(send: Send, message: str) -> None:
    """The answer of a failing database (as :mod:`plebiscite.server.http` makes it): 503
    ``board_unavailable``, nothing was done, try again."""
    body = json.dumps({"error": {"code": "board_unavailable", "message": message}}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RateLimitMiddleware:
    """The ASGI middleware applying :class:`RateLimits` before the application."""

    def __init__(
        self, app: ASGIApp, limits: RateLimits, source: BucketSource | None = None
    ) -> None:
        self.app = app
        self.limits = limits
        source = source or BucketSource()
        self.buckets = {
            f.name: source.buckets(f"route-{f.name}", limit)
            for f in fields(RateLimits)
            if f.name != "revote" and (limit := limits.of(f.name)) is not None
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            route = route_class(scope["method"], scope["path"])
            buckets = self.buckets.get(route) if route is not None else None
            if buckets is not None:
                client = scope.get("client")
                address = client[0] if client else ""
                if buckets.shared:  # the database: off the event loop
                    try:
                        wait = await anyio.to_thread.run_sync(buckets.take, address)
                    except BoardError as e:  # it cannot be written: nor could the request
                        await _unavailable(send, str(e))
                        return
                else:
                    wait = buckets.take(address)
                if wait > 0:
                    status, headers, body = too_many(wait)
                    start = {"type": "http.response.start", "status": status, "headers": headers}
                    await send(start)
                    await send({"type": "http.response.body", "body": body})
                    return
        await self.app(scope, receive, send)


def install(app: Any, limits: RateLimits, source: BucketSource | None = None) -> None:
    """Apply ``limits`` to ``app`` (a FastAPI application), with buckets from ``source``, and
    answer :class:`RateLimitError`."""
    from starlette.responses import Response

    async def _limited(request: Any, e: Exception) -> Response:
        assert isinstance(e, RateLimitError)
        status, headers, body = too_many(e.retry_after, e.what)
        return Response(
            body,
            status_code=status,
            headers={k.decode(): v.decode() for k, v in headers if k != b"content-length"},
        )

    app.state.rate_limits = limits
    app.add_exception_handler(RateLimitError, _limited)
    app.add_middleware(RateLimitMiddleware, limits=limits, source=source)
