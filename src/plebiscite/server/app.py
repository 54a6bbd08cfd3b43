"""The HTTP server: the public board of each election, ballot submission, the observer API.

Every route is documented (OpenAPI at ``/docs`` and ``/openapi.json``). Errors are JSON
``{"error": {"code": ..., "message": ...}}`` with a stable code. Request bodies are limited in
size before they are parsed. A ballot is verified in full (every proof, its signature, its
credential, no ciphertext of another voter) before it is appended, and its tracker is returned
only once the append is durably committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
from fastapi import FastAPI
from fastapi.responses import Response

from plebiscite.board.base import Board
from plebiscite.board.private import PrivateStore, private_of
from plebiscite.compute.spill import disk_partition
from plebiscite.crypto.rand import RandomSource, SystemRandom
from plebiscite.crypto.signing import SigningKey
from plebiscite.errors import PlebisciteError
from plebiscite.protocol.reduce import Runner
from plebiscite.server import accounts, connections, livefeed, security, signin, voterauth
from plebiscite.server.http import CatchAll, install_error_handlers
from plebiscite.server.outbox import Outbox
from plebiscite.server.ratelimit import BucketSource, RateLimits
from plebiscite.server.ratelimit import install as install_rate_limits
from plebiscite.server.routes import elections as election_routes
from plebiscite.server.routes import polls as poll_routes
from plebiscite.server.routes import referendums as referendum_routes
from plebiscite.server.web import router as web_router  # the pages and their assets
from plebiscite.service.election import Elections
from plebiscite.service.letters import Letters, Policy
from plebiscite.service.poll import DEFAULT_SHARD_SIZE, Polls
from plebiscite.service.referendum import Referendums

__all__ = ["create_app"]


def create_app(
    board: Board,
    *,
    admin_token: str,
    key: SigningKey,
    timestamp: int | None = None,
    private: PrivateStore | None = None,
    rate_limits: RateLimits | None = None,
    outbox: Outbox | None = None,
    public_url: str | None = None,
    per_address: int | None = None,
    feed_queue: int | None = None,
    mail: Policy | None = None,
    clock: Callable[[], float] = time.time,
    rng: Callable[[], RandomSource] = SystemRandom,
    poll_shard_size: int = DEFAULT_SHARD_SIZE,
    oidc: signin.OidcConfig | None = None,
    runner: Runner | None = None,
    jobs: int = 0,
) -> FastAPI:
    """The application over ``board``; ``admin_token`` authorizes the administrator's routes,
    ``key`` signs the checkpoints of every board; ``private`` keeps the server's private
    records (by default those in the board's own database). ``rate_limits`` (default
    :class:`RateLimits`, per client address), ``outbox`` (where voters' login codes go; None:
    none sent), ``public_url`` (the server's address as its users see it: its origin for
    the Origin checks, the base of the links in messages), ``per_address`` (the requests in
    flight per client address: :mod:`plebiscite.server.connections`; None: no cap),
    ``feed_queue`` (the events a live-feed subscriber may leave unread before it is dropped:
    :mod:`plebiscite.server.livefeed`), ``mail`` (how the credential letters are sent through
    ``outbox``: :class:`plebiscite.service.letters.Policy`), ``poll_shard_size`` (the most
    voters of one shard of a poll: :mod:`plebiscite.service.poll`), ``oidc`` (the OpenID
    Connect provider the voters of the credential pools sign in with:
    :mod:`plebiscite.server.signin`; None: no sign-in, and no pool can be created),
    ``runner`` (where the encrypted tallies are computed: a Dask cluster's runner,
    :class:`plebiscite.compute.cluster.DaskRunner`; None: ``jobs`` local worker processes,
    default every core, for large boards: :mod:`plebiscite.service.workers`); ``clock``
    and ``rng``: the seams of time (seconds since the epoch) and randomness of the domain
    layer."""
    app = FastAPI(
        title="plebiscite",
        description="The public board of verifiable referendums and polls (Belenios 2.0).",
        version="0.1",
        # /docs is plebiscite's own page (server/web.py): nothing loaded from another origin
        docs_url=None,
        redoc_url=None,
    )
    if private is None:
        private = private_of(board)
    elections = Elections(board, key, private, clock=clock, rng=rng)
    elections.load_all()
    # shared with the other routers of the server (lifecycle, web pages)
    app.state.board = board
    app.state.timestamp = timestamp
    app.state.key = key
    app.state.elections = elections
    app.state.admin_token = admin_token
    app.state.private = private
    app.state.outbox = outbox
    app.state.public_url = public_url.rstrip("/") if public_url else None
    app.state.feed_queue = feed_queue if feed_queue is not None else livefeed.FEED_QUEUE

    # several processes on one database share their rate limits in it
    source = BucketSource(private, _bucket_secret(key)) if _shared(board) else BucketSource()
    app.state.buckets = source
    install_rate_limits(app, rate_limits if rate_limits is not None else RateLimits(), source)
    connections.install(app, per_address)  # outside the rate limits: counts every request
    app.add_middleware(CatchAll)  # a bug answered 500 in the documented shape, logged here
    app.add_middleware(security.SecurityMiddleware, public_url=public_url)  # outermost

    install_error_handlers(app)

    app.include_router(election_routes.router)
    app.include_router(referendum_routes.router)
    letters = None if outbox is None else Letters(private, key, outbox, mail, clock=clock)
    app.state.letters = letters
    app.include_router(poll_routes.router)
    referendums = Referendums(
        private,
        key,
        board,
        elections,
        letters=letters,
        public_url=public_url,
        runner=runner,
        jobs=jobs,
        # a large board's partitions' records beyond a bound on the disk of the process that
        # holds them (this one with local worker processes, a worker's on a cluster)
        new_partition=disk_partition,
    )
    referendums.restore()  # the stored referendums
    app.state.referendums = referendums
    app.state.oidc = None if oidc is None else signin.RelyingParty(oidc, key, clock=clock)
    if oidc is not None:
        referendums.sign_in = frozenset({"oidc"})
    app.state.polls = Polls(
        referendums,
        shard_size=poll_shard_size,
        outbox=outbox is not None,
        issuer=None if app.state.oidc is None else app.state.oidc.issuer,
    )
    _run_closer(app, referendums)  # the closing of voting at its time
    if letters is not None:
        _run_letters(app, letters)  # the credential letters due
    app.include_router(accounts.router)
    app.include_router(voterauth.router)
    app.include_router(signin.router)
    app.include_router(web_router)

    @app.get("/healthz", include_in_schema=False)
    async def health() -> Response:
        return Response("ok")

    _document_bodies(app)
    return app


def _document_bodies(app: FastAPI) -> None:
    """``/openapi.json`` with the schemas of the request and response bodies
    (:mod:`plebiscite.server.schemas`): the models the routes' ``openapi_extra`` refers to
    added to ``components/schemas``, each answer described by its model alone (not also
    by the route's return annotation, ``dict[str, Any]``), and on every route the errors of
    the time limits and connection caps (:data:`schemas.CONNECTIONS`). The 422 FastAPI
    declares for the routes with parameters is the server's own error body
    (:func:`install_error_handlers` answers ``bad_parameter`` in it), not FastAPI's
    ``HTTPValidationError``.
    """
    from plebiscite.server import schemas

    generate = app.openapi
    error = schemas.ref(schemas.ErrorBody)
    fastapi_422 = "#/components/schemas/HTTPValidationError"

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = generate()
        found = spec.setdefault("components", {}).setdefault("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            found.pop(name, None)
        for name, schema in schemas.definitions().items():
            found.setdefault(name, schema)
        for methods in spec.get("paths", {}).values():
            for op in methods.values():
                schemas.connection_errors(op.setdefault("responses", {}))
                for answer in op.get("responses", {}).values():
                    for media in answer.get("content", {}).values():
                        schema = media.get("schema")
                        if isinstance(schema, dict) and schema.get("$ref") == fastapi_422:
                            media["schema"] = dict(error)
                            answer["description"] = "a parameter of the request is invalid"
                        elif isinstance(schema, dict) and "$ref" in schema:
                            media["schema"] = {"$ref": schema["$ref"]}
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def _shared(board: Board) -> bool:
    """Whether several server processes may serve ``board``."""
    return bool(getattr(board, "SHARED", False))


def _bucket_secret(key: SigningKey) -> bytes:
    """The key of the HMAC that stands for a client address in the shared rate limits."""
    return hashlib.sha256(b"plebiscite: rate-limit keys, version 1\n" + key.seed).digest()


def _run_closer(app: FastAPI, referendums: Referendums) -> None:
    """Run :meth:`Referendums.closer` while the app serves; when it stops, save every
    election's verifier state (:meth:`ElectionState.save_verifier`) for a fast start."""
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(a: Any) -> AsyncIterator[Any]:
        async with inner(a) as maybe_state:
            task = asyncio.create_task(referendums.closer())
            stop = threading.Event()
            watcher = threading.Thread(
                target=referendums.elections.watch, args=(stop,), name="board-watch", daemon=True
            )
            watcher.start()
            try:
                yield maybe_state
            finally:
                stop.set()
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                await anyio.to_thread.run_sync(watcher.join, 5.0)
                with contextlib.suppress(PlebisciteError):
                    await anyio.to_thread.run_sync(referendums.release_lease)
                await anyio.to_thread.run_sync(referendums.workers.close)
                for s in list(referendums.elections.states.values()):
                    async with s.lock:
                        await anyio.to_thread.run_sync(
                            functools.partial(s.save_verifier, force=True)
                        )

    app.router.lifespan_context = lifespan


def _run_letters(app: FastAPI, letters: Letters) -> None:
    """Run :meth:`Letters.run` while the app serves (the letters' lease given up when it
    stops)."""
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(a: Any) -> AsyncIterator[Any]:
        async with inner(a) as maybe_state:
            task = asyncio.create_task(letters.run())
            try:
                yield maybe_state
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                with contextlib.suppress(PlebisciteError):
                    await anyio.to_thread.run_sync(letters.release_lease)

    app.router.lifespan_context = lifespan
