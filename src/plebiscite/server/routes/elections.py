"""The election boards: setup, ballots, the public ballot box, archive, checkpoints, live
feed, and what a voting booth asks before the credential (a public credential on the list,
the voting hours)."""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Callable
from typing import Any

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from plebiscite import strictjson
from plebiscite.crypto.hashing import h_json
from plebiscite.protocol.messages import LIMITS
from plebiscite.server import livefeed, schemas, voterauth
from plebiscite.server.accounts import require_admin
from plebiscite.server.context import elections_of, key_of, referendums_of
from plebiscite.server.http import ApiError, error_response, read_body
from plebiscite.server.ratelimit import Limiter, RateLimits, app_buckets, charge
from plebiscite.server.schemas import answers
from plebiscite.service.ballotbox import DEFAULT_LIMIT, MAX_LIMIT, MIN_PREFIX, parse_query
from plebiscite.service.election import ElectionState, now_iso
from plebiscite.service.errors import NotFound

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
        if (
            revotes is not None
            and credential is not None
            and on_board(credential)
            and h_json(raw) not in s.trackers  # a copy of the ballot on the board is refused
        ):  # a revote
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


@router.get(
    "/api/elections/{uuid}/ballot-box",
    summary="The public ballot box",
    responses=answers(200, schemas.BallotBox, "a page of the ballot box", 404, 422, 503),
)
async def ballot_box(
    uuid: str,
    request: Request,
    after: str | None = Query(
        None, description="the ballots above this board height (the first `limit` of them)"
    ),
    before: str | None = Query(
        None, description="the ballots below this board height (the last `limit` of them)"
    ),
    limit: str | None = Query(
        None, description=f"at most this many ballots, 1 to {MAX_LIMIT} ({DEFAULT_LIMIT})"
    ),
    tracker: str | None = Query(
        None,
        description=f"only the ballots whose smart ballot tracker is this one or starts with "
        f"it (at least {MIN_PREFIX} characters; percent-encode its + and /, or a space is "
        "read as +)",
    ),
) -> dict[str, Any]:
    """Every ballot on the board, paged by board height, without any credential: its smart
    ballot tracker, height and status, ``counted`` (the last ballot of its credential so far)
    or ``replaced`` (``replaced_by``: the height of the later ballot of the same credential);
    with the board's height and its last signed checkpoint. ``next`` and ``previous`` give
    the parameters of the neighbouring pages. Answered from the server's index of the board,
    in the same time whatever its size. (``time`` is null: the board records no time per
    ballot; the signed checkpoints date its heights.)"""
    q = parse_query(after, before, limit, tracker)  # before the election: 422 names the parameter
    s = await _state(request, uuid)
    return s.box_page(q)


#: a public credential: a decimal number (finite fields) or 64 hexadecimal digits (Ed25519)
_PUBLIC = re.compile(r"([1-9][0-9]{0,1023}|[0-9a-f]{64})\Z")


@router.get(
    "/api/elections/{uuid}/credentials/{public}",
    summary="Whether a public credential is on the board's list",
    responses=answers(
        200,
        schemas.CredentialOnBoard,
        "the public credential is on this board's list",
        404,
        422,
        503,
    ),
)
async def credential(uuid: str, public: str, request: Request) -> Any:
    """Whether the public credential ``public`` (which a voting booth derives from a voter's
    private credential and this election's uuid) is on this election's list, and whether it
    has a ballot on the board. If not: 404 ``unknown_credential``, with ``election`` (its
    ``uuid`` and ``name``) when the public credential is on the list of another election of
    this server (a private credential of another region, derived with that region's uuid).
    Public credentials are public: the answer tells nothing the boards do not."""
    if not _PUBLIC.match(public):
        raise ApiError(
            422,
            "bad_parameter",
            "public credential: not a decimal number without leading zeros nor 64 lowercase "
            "hexadecimal digits",
        )
    s = await _state(request, uuid)
    found = s.credential(public)
    if found is not None:
        return found
    home = await anyio.to_thread.run_sync(
        functools.partial(elections_of(request).credential_home, public, besides=uuid)
    )
    name = s.verifier.report.name
    if home is None:
        return error_response(
            404,
            "unknown_credential",
            f"this credential is not on the voter list of election {uuid} ({name}), "
            "nor of any other election of this server",
            where="credential",
        )
    other = home.verifier.report.name
    return error_response(
        404,
        "unknown_credential",
        f"this credential is not on the voter list of election {uuid} ({name}): it belongs "
        f"to election {home.uuid} ({other})",
        where="credential",
        election={"uuid": home.uuid, "name": other},
    )


@router.get(
    "/api/elections/{uuid}/voting",
    summary="When and where the election takes ballots",
    responses=answers(200, schemas.Voting, "the election's voting hours and referendum", 404, 503),
)
async def voting(uuid: str, request: Request) -> dict[str, Any]:
    """What a voting booth shows before the credential: whether the board takes ballots now
    (``accepting``, else ``refusal``: the code and message a ballot would get), the voting
    hours of a referendum's region (UTC; null for an election without them), when the
    organiser closed voting, and the referendum the election is a region of (its id, kind,
    title, the region's name and every region's election), or null. A region whose board
    does not exist yet (its referendum or poll not open: the trustees' ceremony, or a mail
    poll's opening time) answers with ``status`` ``scheduled`` and ``not_yet_open``."""
    try:
        s = await _state(request, uuid)
    except NotFound:
        early = await referendums_of(request).voting_before_board(uuid)
        if early is None:
            raise
        return early
    closed = s.voting_closed()
    opening, closing = s.window if s.window is not None else (None, None)
    return {
        "election": uuid,
        "name": s.verifier.report.name,
        "status": s.verifier.report.status,
        "accepting": closed is None,
        "refusal": None if closed is None else {"code": closed[0], "message": closed[1]},
        "opening": opening,
        "closing": closing,
        "closed_at": s.closed_at,
        "now": now_iso(s.clock()),
        "referendum": await referendums_of(request).region_of(uuid),
    }


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
