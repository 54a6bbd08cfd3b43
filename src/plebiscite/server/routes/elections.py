"""The election boards: setup, ballots, archive, checkpoints, live feed."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from plebiscite import strictjson
from plebiscite.protocol.messages import LIMITS
from plebiscite.server import livefeed, schemas, voterauth
from plebiscite.server.accounts import require_admin
from plebiscite.server.context import elections_of, key_of
from plebiscite.server.http import ApiError, read_body
from plebiscite.server.ratelimit import Limiter, RateLimits, app_buckets, charge
from plebiscite.server.schemas import answers
from plebiscite.service.election import ElectionState

__all__ = ["MAX_BALLOT", "MAX_SETUP", "router"]

MAX_BALLOT = LIMITS.ballot_bytes
MAX_SETUP = 64 << 20

router = APIRouter(tags=["elections"])


async def _state(request: Request, uuid: str) -> ElectionState:
    """The election, with what other processes appended read first."""
    return await (await elections_of(request).lookup(uuid)).fresh()


@router.get(
    "/api/server-key",
    summary="The key that signs the board checkpoints",
    responses=answers(200, schemas.ServerKey, "the server's public key"),
)
async def server_key(request: Request) -> dict[str, str]:
    """The server's Ed25519 public key (base64): observers check every checkpoint with it and
    compare checkpoints with each other to detect two different boards."""
    return {"key": key_of(request).public().to_base64()}


@router.get(
    "/api/elections",
    summary="Every election on the board",
    responses=answers(200, schemas.ElectionList, "every election's status", 503),
)
async def list_elections(request: Request) -> list[dict[str, Any]]:
    """Each election with its status, board height, ballots, voters and turnout."""
    out = []
    for s in await anyio.to_thread.run_sync(elections_of(request).known):
        out.append((await s.fresh()).summary())
    return out


@router.post(
    "/api/elections",
    status_code=201,
    summary="Start an election's board",
    openapi_extra=schemas.body(schemas.ElectionSetup),
    responses=answers(
        201, schemas.ElectionSummary, "the board is started", 401, 409, 413, 422, *schemas.WRITE
    ),
)
async def create_election(request: Request) -> dict[str, Any]:
    """Administrator only. Body: ``{"election", "trustees", "credentials"}``, each the exact
    JSON text of that structure (section 4.10, 4.7, 4.8). The setup is verified (trustee
    proofs, election key, credentials) before the board is created."""
    await require_admin(request)
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
    raws = (body["election"].encode(), body["trustees"].encode(), body["credentials"].encode())
    fixed = getattr(request.app.state, "timestamp", None)
    ts = fixed if fixed is not None else int(time.time())
    s = await elections_of(request).create(raws, ts)
    return s.summary()


@router.get(
    "/api/elections/{uuid}",
    summary="An election's status",
    responses=answers(200, schemas.ElectionSummary, "the election's status", 404, 503),
)
async def election_status(uuid: str, request: Request) -> dict[str, Any]:
    """Status, board height and last event, ballots, voters, turnout, and the result once
    published; recomputed by the server's own verifier as the board grows."""
    return (await _state(request, uuid)).summary()


@router.get(
    "/api/elections/{uuid}/election",
    summary="The election (election.json)",
    responses=answers(200, schemas.ElectionJson, "the election, byte for byte", 404, 409),
)
async def election(uuid: str, request: Request) -> Response:
    """The exact election JSON of the board's Setup (its SHA256 is the fingerprint every
    ballot carries): what a voting booth needs, without the credential list that comes before
    the Setup event in the archive."""
    raw = (await elections_of(request).lookup(uuid)).verifier.raw_setup
    if raw is None:
        raise ApiError(409, "state", "this board has no Setup yet")
    return Response(raw[0], media_type="application/json")


@router.get(
    "/api/elections/{uuid}/archive",
    summary="The election archive (UUID.bel)",
    response_class=StreamingResponse,
    responses=answers(
        200,
        None,
        "the archive",
        404,
        503,
        content={"application/x-tar": {"schema": schemas.BINARY}},
    ),
)
async def archive(uuid: str, request: Request) -> StreamingResponse:
    """The public record, byte-identical to what ``belenios-tool election verify`` accepts,
    at any time during the election."""
    s = await elections_of(request).lookup(uuid)
    return StreamingResponse(
        s.board.archive(uuid),
        media_type="application/x-tar",
        headers={"content-disposition": f'attachment; filename="{uuid}.bel"'},
    )


def _revotes(request: Request) -> Limiter | None:
    """The buckets of revotes (:attr:`RateLimits.revote`), None when they are not limited."""
    st = request.app.state
    limits: RateLimits | None = getattr(st, "rate_limits", None)
    limit = limits.revote if limits is not None else None
    return None if limit is None else app_buckets(st, "revotes", limit)


@router.post(
    "/api/elections/{uuid}/ballots",
    summary="Cast a ballot",
    openapi_extra=schemas.body(schemas.Ballot, description="the ballot, byte for byte"),
    responses=answers(
        200,
        schemas.BallotOnBoard,
        "the ballot is on the board",
        401,
        404,
        409,
        413,
        422,
        *schemas.WRITE,
    ),
)
async def cast(uuid: str, request: Request) -> dict[str, Any]:
    """Body: the ballot (JSON, at most 1 MiB). It is verified in full before it is appended;
    the response (its smart ballot tracker) comes after the durable commit. A later ballot
    with the same credential replaces it."""
    s = await elections_of(request).lookup(uuid)
    if (closed := s.voting_closed()) is not None:  # before reading the body
        raise ApiError(409, *closed)
    raw = (await read_body(request, MAX_BALLOT)).strip()

    def on_board(credential: str) -> bool:
        return s.verifier.last_ballot_of(credential) is not None

    async def authorize(credential: str | None) -> Callable[[bool], None] | None:
        revotes = _revotes(request)
        if revotes is not None and credential is not None and on_board(credential):  # a revote
            await charge(
                revotes, f"{uuid}/{credential}", "ballots replacing this credential's ballot"
            )
        return await voterauth.authorize_cast(request, uuid, credential, on_board)

    tracker, height = await s.cast(raw, authorize)
    return {"tracker": tracker, "height": height}


@router.get(
    "/api/elections/{uuid}/ballots/{tracker:path}",
    summary="Find a ballot",
    responses=answers(200, schemas.BallotOnBoard, "the ballot is on the board", 404, 503),
)
async def find_ballot(uuid: str, tracker: str, request: Request) -> dict[str, Any]:
    """Whether the ballot with this smart ballot tracker is on the board, and where (a ballot
    cast through any server process of the database)."""
    s = await elections_of(request).lookup(uuid)
    height = await anyio.to_thread.run_sync(s.find, tracker)
    return {"tracker": tracker, "height": height}


@router.post(
    "/api/elections/{uuid}/close",
    summary="Close voting",
    responses=answers(
        200, schemas.ElectionSummary, "voting is closed", 401, 404, 409, *schemas.WRITE
    ),
)
async def close(uuid: str, request: Request) -> dict[str, Any]:
    """Administrator only: append EndBallots and sign a checkpoint."""
    await require_admin(request)
    s = await elections_of(request).lookup(uuid)
    await s.close()
    return s.summary()


@router.get(
    "/api/elections/{uuid}/checkpoints",
    summary="Signed checkpoints of the board",
    responses=answers(200, schemas.CheckpointList, "the signed checkpoints, oldest first", 404),
)
async def checkpoints(uuid: str, request: Request) -> list[Any]:
    """Every checkpoint the server signed for this board (start-up, phase changes), oldest
    first; each verifiable with the server key."""
    return [json.loads(c.to_json()) for c in (await elections_of(request).lookup(uuid)).checkpoints]


@router.get(
    "/api/elections/{uuid}/events",
    summary="Live feed of new events",
    response_class=StreamingResponse,
    responses=answers(
        200,
        None,
        'server-sent events, each data line {"height", "type", "hash"}',
        404,
        content={"text/event-stream": {"schema": {"type": "string"}}},
    ),
)
async def events(uuid: str, request: Request) -> StreamingResponse:
    """Server-sent events: one ``data:`` line per new board event, as ``{"height", "type",
    "hash"}``."""
    s = await elections_of(request).lookup(uuid)
    feed = livefeed.feed_of(request)
    feed.follow(s)
    return livefeed.stream(request, feed, keep_alive=15)
