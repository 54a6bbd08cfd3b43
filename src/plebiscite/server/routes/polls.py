"""Polls over HTTP: created in one request, on sharded boards.

Thin routes over :class:`plebiscite.service.poll.Polls` (which documents what a poll is). A
poll is a referendum of kind ``poll``: its ceremony (when it has trustees), its boards, record
board and outcome are those of ``/api/referendums/ID``. The share link is
``{public_url}/poll/{id}`` (the server's address as its users see it, ``serve --public-url``;
otherwise the address of the request); ``/api/polls/{id}/qr.svg`` is its QR code.
"""

from __future__ import annotations

import io
from typing import Any

import segno
from fastapi import APIRouter, Request
from fastapi.responses import Response

from plebiscite import strictjson
from plebiscite.server import schemas
from plebiscite.server.accounts import require_admin
from plebiscite.server.context import polls_of
from plebiscite.server.http import read_body
from plebiscite.server.schemas import answers
from plebiscite.service.poll import MAX_POLL_CREATE

#: the largest body of a reissue's request
MAX_REISSUE = 4096

__all__ = ["base_of", "qr_svg", "router"]


router = APIRouter(prefix="/api/polls", tags=["polls"])


def base_of(request: Request) -> str:
    """The server's address as its users see it: ``--public-url``, or the request's."""
    public: str | None = request.app.state.public_url
    return public or str(request.base_url).rstrip("/")


def qr_svg(text: str, title: str) -> bytes:
    """The QR code of ``text`` as an SVG image (segno; error correction M, 4-module quiet
    zone), with a ``<title>``."""
    out = io.BytesIO()
    segno.make(text, error="m", micro=False).save(
        out, kind="svg", scale=4, border=4, xmldecl=False, title=title, dark="#000", light="#fff"
    )
    return out.getvalue()


@router.post(
    "",
    status_code=201,
    summary="Create a poll in one request (administrator)",
    openapi_extra=schemas.body(schemas.PollCreation),
    responses=answers(
        201,
        schemas.CreatedPoll,
        "the poll, its share link, the trustees' link tokens and the voters' credentials "
        "(shown this once)",
        401,
        409,
        413,
        422,
        *schemas.WRITE,
    ),
)
async def create_poll(request: Request) -> dict[str, Any]:
    """Administrator only. Body: ``{"question", "answers": [two or more]}`` (or
    ``"questions"`` in the referendum record's shape), ``"title"`` (default: the question),
    ``"opening"`` (``"now"`` by default), ``"closing"``, ``"voters": {"emails": [...],
    "login_codes": false}`` (or ``{"open": {"pool": N}}``: N credentials handed out to the
    accounts that sign in with the server's identity provider, none in the answer; 409
    ``not_available`` without one), optionally ``"trustees": {"names", "threshold"}`` and
    ``"shard_size"``. Without trustees the election key is the server's alone and the poll's
    boards open in this request (ballots from the opening time); with trustees, the
    ceremony runs as a referendum's and the poll opens itself when it completes. More voters
    than the shard size: ``k = ceil(voters / size)`` shards, each voter in the one that
    SHA-256(poll id, NUL, login) mod k says. An error names the field (``request.answers``,
    ``request.closing``, ``request.voters.emails[3]``, ...)."""
    await require_admin(request)
    body = strictjson.loads(
        await read_body(request, MAX_POLL_CREATE), max_size=MAX_POLL_CREATE, where="request"
    )
    return await polls_of(request).create(body, base_of(request))


@router.get(
    "",
    summary="Every poll on this server",
    responses=answers(200, schemas.PollList, "every poll", 503),
)
async def list_polls(request: Request) -> list[dict[str, Any]]:
    """Each poll's id, title, state, opening and closing time."""
    return await polls_of(request).summaries()


@router.get(
    "/options",
    summary="What this server offers a poll's creator",
    responses=answers(
        200, schemas.PollOptions, "how credentials reach voters, sign-in, the largest shard"
    ),
)
async def poll_options(request: Request) -> dict[str, Any]:
    """``{"mail": false, "sign_in": [], "max_shard_size": N}``: whether the server mails the
    voters' credentials (otherwise the creation's answer gives them once to the organiser),
    the identity providers of polls open to whoever signs in, and the largest shard."""
    return polls_of(request).options()


@router.get(
    "/{pid}",
    summary="A poll's public status",
    responses=answers(200, schemas.PollStatus, "the poll's status", 404, 503),
)
async def poll_status(pid: str, request: Request) -> dict[str, Any]:
    """The question and answers, the state (``ceremony``: waiting for the trustees,
    ``scheduled``: not yet open, ``open``, ``counting``: closed, the result not out yet,
    ``closed``), the opening and closing times, every shard (its election uuid, booth link,
    roll, ballots and voters), the turnout, who holds which power in plain words (without
    trustees: the server can decrypt every ballot), the public rule of the shards and, once
    closed and counted, the result: per shard and pooled counts and shares as exact
    fractions."""
    return await polls_of(request).status(pid, base_of(request))


@router.post(
    "/{pid}/close",
    summary="Close a poll now (administrator)",
    responses=answers(
        200, schemas.PollStatus, "voting is closed", 401, 404, 409, 500, *schemas.WRITE
    ),
)
async def close_poll(pid: str, request: Request) -> dict[str, Any]:
    """Administrator only: close voting before the closing time, in every shard; without
    trustees the result is out in this request, with trustees once enough of them
    decrypted."""
    await require_admin(request)
    return await polls_of(request).close(pid, base_of(request))


@router.get(
    "/{pid}/letters",
    summary="The delivery of a poll's credential letters (administrator)",
    responses=answers(
        200,
        schemas.LetterPage,
        "how many letters in each state, and a page of them",
        401,
        404,
        409,
        503,
        typed_params=True,
    ),
)
async def poll_letters(
    pid: str,
    request: Request,
    state: str | None = None,
    after: str | None = None,
    limit: int = 100,
) -> dict[str, Any]:
    """Administrator only (the addresses are personal data), for a poll whose credentials
    go by mail (``voters.delivery`` ``mail``): how many letters are ``pending``, ``sent``,
    ``failed`` and ``cancelled`` (replaced by a reissue), and up to ``limit`` of them, those
    of ``state`` if given, after the letter ``after``, each with its address, shard (its
    ``region``), state, attempts, the kind of its last failure and when it was sent."""
    await require_admin(request)
    return await polls_of(request).letters(pid, state or None, after or None, limit)


@router.post(
    "/{pid}/letters/resend-failed",
    summary="Send a poll's failed credential letters again (administrator)",
    responses=answers(
        200,
        schemas.LettersResent,
        "the failed letters are pending again",
        401,
        404,
        409,
        *schemas.WRITE,
    ),
)
async def poll_resend_failed(pid: str, request: Request) -> dict[str, Any]:
    """Administrator only: every ``failed`` credential letter of the poll is pending again."""
    await require_admin(request)
    return await polls_of(request).resend_failed(pid)


@router.post(
    "/{pid}/voters/reissue",
    summary="Reissue a poll voter's credential before the opening (administrator)",
    openapi_extra=schemas.body(schemas.PollReissueRequest),
    responses=answers(
        200,
        schemas.PollReissued,
        "a new credential replaces the old one; its letter is on its way",
        401,
        404,
        409,
        413,
        422,
        *schemas.WRITE,
    ),
)
async def poll_reissue(pid: str, request: Request) -> dict[str, Any]:
    """Administrator only, for a poll whose credentials go by mail, before its opening.
    Body: ``{"login"}`` (the voter's address; the shard is the public rule's). The old
    credential is void (no board ever holds it), the voter's letters not sent yet are
    cancelled and a new one goes out. Once the poll is open: 409 ``voting_open``."""
    await require_admin(request)
    body = strictjson.loads(
        await read_body(request, MAX_REISSUE), max_size=MAX_REISSUE, where="request"
    )
    return await polls_of(request).reissue(pid, body, base_of(request))


@router.get(
    "/{pid}/qr.svg",
    summary="The QR code of a poll's share link",
    response_class=Response,
    responses=answers(
        200,
        None,
        "the QR code, an SVG image",
        404,
        503,
        content={"image/svg+xml": {"schema": {"type": "string"}}},
    ),
)
async def poll_qr(pid: str, request: Request) -> Response:
    """The share link (``{public_url}/poll/{pid}``) as a QR code, an SVG image."""
    link = await polls_of(request).share_link(pid, base_of(request))
    return Response(
        qr_svg(link, f"QR code of {link}"),
        media_type="image/svg+xml",
        headers={"cache-control": "no-cache", "x-content-type-options": "nosniff"},
    )
