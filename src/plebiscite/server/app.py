"""The HTTP server: the public board of each election, ballot submission, the observer API.

Every route is documented (OpenAPI at ``/docs`` and ``/openapi.json``). Errors are JSON
``{"error": {"code": ..., "message": ...}}`` with a stable code. Request bodies are limited in
size before they are parsed. A ballot is verified in full (every proof, its signature, its
credential, no ciphertext of another voter) before it is appended, and its tracker is returned
only once the append is durably committed.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import Response, StreamingResponse

from plebiscite import strictjson
from plebiscite.board.base import Board, Head, Item
from plebiscite.board.private import PrivateStore, private_of
from plebiscite.crypto.hashing import h_json, sha256_hex
from plebiscite.crypto.signing import SigningKey
from plebiscite.protocol.archive import ArchiveState, ArchiveWriter, header_bytes
from plebiscite.protocol.messages import LIMITS
from plebiscite.protocol.verifier import Verifier
from plebiscite.server import accounts, lifecycle, security, voterauth
from plebiscite.server.accounts import require_admin
from plebiscite.server.http import ApiError, install_error_handlers, read_body
from plebiscite.server.outbox import Outbox
from plebiscite.server.ratelimit import RateLimits
from plebiscite.server.ratelimit import install as install_rate_limits
from plebiscite.server.state import ElectionState
from plebiscite.server.web import router as web_router  # the pages and their assets

__all__ = ["create_app"]

MAX_BALLOT = LIMITS.ballot_bytes
MAX_SETUP = 64 << 20


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
) -> FastAPI:
    """The application over ``board``; ``admin_token`` authorizes the administrator's routes,
    ``key`` signs the checkpoints of every board; ``private`` keeps the server's private
    records (by default those in the board's own database). ``rate_limits`` (default
    :class:`RateLimits`, per client address), ``outbox`` (where voters' login codes go; None:
    none sent), ``public_url`` (the server's address as its users see it: its origin for
    the Origin checks, the base of the links in messages)."""
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
    elections: dict[str, ElectionState] = {
        uuid: ElectionState(uuid, board, key, private)
        for uuid in board.elections()
        if board.head(uuid).height is not None  # a board whose Setup never came: not started
    }
    # shared with the other routers of the server (lifecycle, web pages)
    app.state.board = board
    app.state.key = key
    app.state.elections = elections
    app.state.admin_token = admin_token
    app.state.private = private
    app.state.outbox = outbox
    app.state.public_url = public_url.rstrip("/") if public_url else None

    install_rate_limits(app, rate_limits if rate_limits is not None else RateLimits())
    app.add_middleware(security.SecurityMiddleware, public_url=public_url)  # outermost

    install_error_handlers(app)

    def state(uuid: str) -> ElectionState:
        s = elections.get(uuid)
        if s is None:
            raise ApiError(404, "unknown_election", f"no election {uuid!r} on this board")
        return s

    @app.get("/api/server-key", summary="The key that signs the board checkpoints")
    async def server_key() -> dict[str, str]:
        """The server's Ed25519 public key (base64): observers check every checkpoint with
        it and compare checkpoints with each other to detect two different boards."""
        return {"key": key.public().to_base64()}

    @app.get("/api/elections", summary="Every election on the board")
    async def list_elections() -> list[dict[str, Any]]:
        """Each election with its status, board height, ballots, voters and turnout."""
        return [s.summary() for s in elections.values()]

    starting: set[str] = set()  # elections whose board is being started

    @app.post("/api/elections", status_code=201, summary="Start an election's board")
    async def create_election(request: Request) -> dict[str, Any]:
        """Administrator only. Body: ``{"election", "trustees", "credentials"}``, each the
        exact JSON text of that structure (section 4.10, 4.7, 4.8). The setup is verified
        (trustee proofs, election key, credentials) before the board is created."""
        require_admin(request)
        body = strictjson.loads(
            await read_body(request, MAX_SETUP), max_size=MAX_SETUP, where="request"
        )
        if (
            not isinstance(body, dict)
            or set(body) != {"election", "trustees", "credentials"}
            or (not all(isinstance(v, str) for v in body.values()))
        ):
            raise ApiError(
                422, "bad_request", "expected {election, trustees, credentials}, each a JSON text"
            )
        raws = [body[k].encode() for k in ("election", "trustees", "credentials")]
        ts = timestamp if timestamp is not None else int(__import__("time").time())

        def verify() -> tuple[str, bytes]:  # the costly part, off the event loop
            buf = io.BytesIO()
            buf.write(header_bytes(ts))
            w = ArchiveWriter(buf, ArchiveState(ts))
            refs = [w.data(r) for r in raws]
            setup = strictjson.dumps_compact(
                dict(zip(("election", "trustees", "credentials"), refs, strict=True))
            )
            w.event("Setup", w.data(setup))
            data = buf.getvalue()
            check = Verifier(lambda: io.BytesIO(data))
            report = check.run()
            if not report.valid or check.election is None:
                first = next(f for f in report.findings if f.severity == "error")
                raise ApiError(422, first.code, f"the setup does not verify: {first.describe()}")
            return check.election.uuid, setup

        def start(uuid: str, setup: bytes) -> ElectionState:
            board.create(uuid, ts)
            board.append(uuid, Head(), [Item("Setup", (*raws, setup))])
            return ElectionState(uuid, board, key, private)

        uuid, setup = await anyio.to_thread.run_sync(verify)
        if uuid in elections or uuid in starting:
            raise ApiError(409, "exists", f"election {uuid} already exists")
        starting.add(uuid)
        try:
            elections[uuid] = await anyio.to_thread.run_sync(start, uuid, setup)
        finally:
            starting.discard(uuid)
        return elections[uuid].summary()

    @app.get("/api/elections/{uuid}", summary="An election's status")
    async def election_status(uuid: str) -> dict[str, Any]:
        """Status, board height and last event, ballots, voters, turnout, and the result once
        published; recomputed by the server's own verifier as the board grows."""
        return state(uuid).summary()

    @app.get("/api/elections/{uuid}/election", summary="The election (election.json)")
    async def election(uuid: str) -> Response:
        """The exact election JSON of the board's Setup (its SHA256 is the fingerprint every
        ballot carries): what a voting booth needs, without the credential list that comes
        before the Setup event in the archive."""
        raw = state(uuid).verifier.raw_setup
        if raw is None:
            raise ApiError(409, "state", "this board has no Setup yet")
        return Response(raw[0], media_type="application/json")

    @app.get("/api/elections/{uuid}/archive", summary="The election archive (UUID.bel)")
    async def archive(uuid: str) -> StreamingResponse:
        """The public record, byte-identical to what ``belenios-tool election verify``
        accepts, at any time during the election."""
        s = state(uuid)
        return StreamingResponse(
            s.board.archive(uuid),
            media_type="application/x-tar",
            headers={"content-disposition": f'attachment; filename="{uuid}.bel"'},
        )

    @app.post("/api/elections/{uuid}/ballots", summary="Cast a ballot")
    async def cast(uuid: str, request: Request) -> dict[str, Any]:
        """Body: the ballot (JSON, at most 1 MiB). It is verified in full before it is
        appended; the response (its smart ballot tracker) comes after the durable commit. A
        later ballot with the same credential replaces it."""
        s = state(uuid)
        if (closed := s.voting_closed()) is not None:  # a referendum's voting hours
            raise ApiError(409, *closed)
        raw = (await read_body(request, MAX_BALLOT)).strip()
        if h_json(raw) in s.trackers:
            raise ApiError(409, "duplicate", "this very ballot is already on the board")
        res = await anyio.to_thread.run_sync(s.verifier.check_ballot_alone, raw)
        await voterauth.authorize_cast(request, uuid, res.outcomes[0].credential)

        def on_board() -> None:  # the checks against the board as it now stands
            if h_json(raw) in s.trackers:  # again: the same ballot may have been sent twice at once
                raise ApiError(409, "duplicate", "this very ballot is already on the board")
            if (closed := s.voting_closed()) is not None:
                raise ApiError(409, *closed)
            s.verifier.check_ballot_on_board(res)

        async with s.lock:
            on_board()
            s.verifier.prechecked[sha256_hex(raw)] = res
            try:  # checked again if another server sharing the board appended first
                head = await anyio.to_thread.run_sync(s.append, [Item("Ballot", (raw,))], on_board)
            except BaseException:
                s.verifier.prechecked.pop(sha256_hex(raw), None)
                raise
        return {"tracker": h_json(raw), "height": head.height}

    @app.get("/api/elections/{uuid}/ballots/{tracker:path}", summary="Find a ballot")
    async def find_ballot(uuid: str, tracker: str) -> dict[str, Any]:
        """Whether the ballot with this smart ballot tracker is on the board, and where."""
        s = state(uuid)
        height = s.trackers.get(tracker)
        if height is None:
            raise ApiError(404, "unknown_tracker", "no ballot with this tracker on the board")
        return {"tracker": tracker, "height": height}

    @app.post("/api/elections/{uuid}/close", summary="Close voting")
    async def close(uuid: str, request: Request) -> dict[str, Any]:
        """Administrator only: append EndBallots and sign a checkpoint."""
        require_admin(request)
        s = state(uuid)

        def still_open() -> None:
            if s.verifier.report.status not in ("open", "setup"):
                raise ApiError(409, "state", f"voting is not open ({s.verifier.report.status})")

        async with s.lock:
            still_open()
            await anyio.to_thread.run_sync(s.append, [Item("EndBallots")], still_open)
            s.checkpoint()
        return s.summary()

    @app.get("/api/elections/{uuid}/checkpoints", summary="Signed checkpoints of the board")
    async def checkpoints(uuid: str) -> list[Any]:
        """Every checkpoint the server signed for this board (start-up, phase changes),
        oldest first; each verifiable with the server key."""
        return [json.loads(c.to_json()) for c in state(uuid).checkpoints]

    @app.get("/api/elections/{uuid}/events", summary="Live feed of new events")
    async def events(uuid: str, request: Request) -> StreamingResponse:
        """Server-sent events: one ``data:`` line per new board event, as
        ``{"height", "type", "hash"}``."""
        s = state(uuid)
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        s.subscribers.add(queue)

        async def stream() -> AsyncIterator[bytes]:
            try:
                yield b": plebiscite live feed\n\n"
                while not await request.is_disconnected():
                    try:
                        event = await asyncio.wait_for(queue.get(), timeout=15)
                    except TimeoutError:
                        yield b": keep-alive\n\n"
                        continue
                    yield f"data: {json.dumps(event)}\n\n".encode()
            finally:
                s.subscribers.discard(queue)

        return StreamingResponse(stream(), media_type="text/event-stream")

    app.include_router(lifecycle.router)
    lifecycle.install(app)  # the stored referendums, the closing of voting at its time
    app.include_router(accounts.router)
    app.include_router(voterauth.router)
    app.include_router(web_router)

    @app.get("/healthz", include_in_schema=False)
    async def health() -> Response:
        return Response("ok")

    return app
