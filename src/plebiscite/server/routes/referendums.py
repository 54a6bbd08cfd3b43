"""The referendum lifecycle over HTTP: each party a separate client, the server a relay.

Thin routes over :class:`plebiscite.service.referendum.Referendums` (which documents the
lifecycle): each reads its body (limited in size before it is parsed) and its party's
credential (the administrator's token, a trustee's or credential authority's link token as a
bearer token), then calls the domain layer.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from plebiscite import strictjson
from plebiscite.server import schemas
from plebiscite.server.accounts import require_admin
from plebiscite.server.context import referendums_of
from plebiscite.server.http import read_body
from plebiscite.server.routes.polls import base_of
from plebiscite.server.schemas import answers
from plebiscite.server.security import bearer
from plebiscite.service.errors import Invalid
from plebiscite.service.referendum import MAX_CREATE, MAX_MESSAGE, MAX_TALLY_MESSAGE

__all__ = ["router"]

MAX_REISSUE = 4096


router = APIRouter(prefix="/api/referendums", tags=["referendums"])


@router.post(
    "",
    status_code=201,
    summary="Create a referendum (administrator)",
    openapi_extra=schemas.body(schemas.ReferendumCreation),
    responses=answers(
        201,
        schemas.CreatedReferendum,
        "the referendum, with the link tokens (shown this once)",
        401,
        409,
        413,
        422,
        *schemas.WRITE,
    ),
)
async def create_referendum(request: Request) -> dict[str, Any]:
    """Administrator only. Body: ``{"referendum": RECORD, "voters": {REGION: [login or
    {"login", "weight"}, ...]}, "credential_authority": {REGION: "server" | "external"}}``.
    RECORD is a referendum record (``plebiscite.protocol.referendum``); a region without
    ``election`` gets a fresh uuid; ``trustees.names`` and ``trustees.threshold`` plan the
    threshold ceremony (plus the server's own key, generated for this referendum only).
    Non-homomorphic questions are shuffled before decryption (the group is then RFC-3526-2048
    and every weight 1). ``"voter_authentication": true`` (optional; logins then e-mail
    addresses) makes voters log in by one-time code before casting.
    ``"credential_delivery": "mail"`` (optional; the logins of the regions whose authority is
    the server then e-mail addresses, and the server needs an outbox) makes their credentials
    now and sends each voter a letter with it and the booth's link (``GET .../letters``
    follows the delivery); they are never returned. Answers with the referendum id, one link
    token per trustee and per external credential authority (shown once: the server keeps
    only their hash)."""
    await require_admin(request)
    body = strictjson.loads(
        await read_body(request, MAX_CREATE), max_size=MAX_CREATE, where="request"
    )
    if (
        isinstance(body, dict)
        and body.get("voter_authentication") is True
        and getattr(request.app.state, "outbox", None) is None
    ):
        raise Invalid(
            "no_outbox",
            "voters cannot log in by one-time code on this server: it has no way to send mail "
            "(start it with --smtp-url smtp://... or --outbox-dir DIR)",
            where="request.voter_authentication",
        )
    return await referendums_of(request).create(body, base=base_of(request))


@router.post(
    "/{rid}/open",
    summary="Open every region's election (administrator)",
    responses=answers(
        200,
        schemas.OpenedReferendum,
        "every region is open (the private credentials the server made: this once)",
        401,
        404,
        409,
        422,
        *schemas.WRITE,
    ),
)
async def open_referendum(rid: str, request: Request) -> dict[str, Any]:
    """Administrator only, once the ceremony is done and every external credential authority
    sent its public credentials: creates each region's election (the referendum's questions,
    the trustees of the ceremony) and board. Answers with each region's election and, where
    the server is the credential authority, the voters' private credentials: returned this
    once, not kept (none for a referendum created with ``"credential_delivery": "mail"``: its
    voters have them by mail, and from now on they cannot be reissued)."""
    await require_admin(request)
    return await referendums_of(request).open(rid)


@router.post(
    "/{rid}/close",
    summary="Close voting in every region and tally (administrator)",
    responses=answers(
        200,
        schemas.ReferendumStatus,
        "voting is closed, the tallies are on the boards",
        401,
        404,
        409,
        500,
        *schemas.WRITE,
    ),
)
async def close_referendum(rid: str, request: Request) -> dict[str, Any]:
    """Administrator only: in every region, append EndBallots (unless already closed), then
    the encrypted tally the server's verifier recomputed from the board (the last ballot of
    each credential, raised to its weight), and sign a checkpoint."""
    await require_admin(request)
    return await referendums_of(request).close(rid)


@router.get(
    "",
    summary="Every referendum on this server",
    responses=answers(200, schemas.ReferendumList, "every referendum", 503),
)
async def list_referendums(request: Request) -> list[dict[str, Any]]:
    """Each referendum's id, title and phase."""
    return await referendums_of(request).summaries()


@router.get(
    "/{rid}",
    summary="A referendum's status",
    responses=answers(200, schemas.ReferendumStatus, "the referendum's status", 404, 503),
)
async def referendum_status(rid: str, request: Request) -> dict[str, Any]:
    """The record (with the trustees' hash once the regions are open), the ceremony (who sent
    what, the certificates, the threshold parameters, the server's key), whether voters log
    in, every region (who is its credential authority, phase, ballots, turnout, result, which
    trustees decrypted and, where questions are not homomorphic, ``shuffles``: the questions
    shuffled, whether the server shuffled, which trustees did, how many are needed, whether
    they are done) and, once every region is tallied and decrypted, the outcome of the
    decision rule. The referendum's ``phase`` is ``ceremony``, ``ready``, ``open``,
    ``decrypting`` (from the close to the last result: shuffles included) or ``done``."""
    return await referendums_of(request).status(rid)


@router.get(
    "/{rid}/record",
    summary="The referendum's record board (record.bel)",
    response_class=StreamingResponse,
    responses=answers(
        200,
        None,
        "the record board",
        404,
        503,
        content={"application/x-tar": {"schema": schemas.BINARY}},
    ),
)
async def referendum_record(rid: str, request: Request) -> StreamingResponse:
    """The referendum's own append-only board, in the archive format of the elections' boards
    (a tar of members named by their SHA256, each event naming the previous one's hash) with
    plebiscite's event types: ``plebiscite.Record`` (the record as created, and the key that
    signs this board), ``plebiscite.Opened`` (the final record, each region's election uuid
    and fingerprint, before any ballot), ``plebiscite.Closed`` and ``plebiscite.Outcome``
    (each region's verified result, the pooled counts and the rule's verdict with exact
    fractions), each followed by a ``plebiscite.Checkpoint`` event: the server's signed
    checkpoint of the board's head at that event (see ``plebiscite.protocol.record``).
    ``plebiscite referendum verify RECORD ARCHIVE...`` checks it against the regions'
    archives."""
    chunks = await referendums_of(request).record_archive(rid)
    return StreamingResponse(
        chunks,
        media_type="application/x-tar",
        headers={"content-disposition": f'attachment; filename="{rid}.record.bel"'},
    )


@router.get(
    "/{rid}/regions/{name}/election",
    summary="A region's election (election.json)",
    responses=answers(200, schemas.ElectionJson, "the election, byte for byte", 404, 409, 503),
)
async def region_election(rid: str, name: str, request: Request) -> Response:
    """The exact election JSON of the region's board (what a voter needs to make a ballot)."""
    return Response(
        await referendums_of(request).region_election(rid, name), media_type="application/json"
    )


@router.get(
    "/{rid}/regions/{name}/tally",
    summary="A region's encrypted tally",
    responses=answers(200, schemas.RegionTally, "the encrypted tally", 404, 409, 503),
)
async def region_tally(rid: str, name: str, request: Request) -> dict[str, Any]:
    """The encrypted tally on the region's board, as the server's verifier recomputed it from
    the ballots, with the election's fingerprint: what each trustee decrypts (a careful
    trustee recomputes it from the archive itself). In the shape of the board's: one list of
    ciphertexts per question, a Lists question's one list per list (its name's ciphertext,
    then its candidates'); a partial decryption has the same shape."""
    return await referendums_of(request).region_tally(rid, name)


@router.get(
    "/{rid}/regions/{name}/shuffle-input",
    summary="The ciphertexts a region's next shuffle takes (non-homomorphic questions)",
    responses=answers(200, schemas.ShuffleInput, "the ciphertexts to shuffle", 404, 409, 503),
)
async def region_shuffle_input(rid: str, name: str, request: Request) -> dict[str, Any]:
    """While the region's shuffles are under way: the ciphertexts of each non-homomorphic
    question to shuffle next (those of the encrypted tally, or the output of the last shuffle
    on the board), with the election's fingerprint and public key, and the shuffles so far. A
    careful trustee recomputes them from the archive itself (``trustee shuffle`` does)."""
    return await referendums_of(request).shuffle_input(rid, name)


@router.post(
    "/{rid}/trustees/{index}/certificate",
    summary="Send a certificate (trustee)",
    openapi_extra=schemas.body(
        schemas.CeremonyMessage, text="the message as trustee-threshold writes it (one JSON value)"
    ),
    responses=answers(
        200,
        schemas.CeremonyStatus,
        "the certificate is in",
        401,
        404,
        409,
        413,
        *schemas.WRITE,
        typed_params=True,
    ),
)
async def send_certificate(rid: str, index: int, request: Request) -> dict[str, Any]:
    """Trustee ``index`` only (its link token). Body: its certificate (step 1 of the threshold
    ceremony, the ``cert`` of ``trustee-threshold --step 1``). Checked (signature, keys
    distinct from the others'); it may be replaced until every trustee has sent one. When the
    last arrives the server checks them together (step 2) and the polynomials are due."""
    svc, token = referendums_of(request), bearer(request)
    await svc.check_trustee(rid, index, token)  # the token, before the body is read
    body = await read_body(request, MAX_MESSAGE)
    return await svc.send_certificate(rid, index, token, body)


@router.post(
    "/{rid}/trustees/{index}/polynomial",
    summary="Send a polynomial (trustee)",
    openapi_extra=schemas.body(
        schemas.CeremonyMessage, text="the message as trustee-threshold writes it (one JSON value)"
    ),
    responses=answers(
        200,
        schemas.CeremonyStatus,
        "the polynomial is in",
        401,
        404,
        409,
        413,
        *schemas.WRITE,
        typed_params=True,
    ),
)
async def send_polynomial(rid: str, index: int, request: Request) -> dict[str, Any]:
    """Trustee ``index`` only. Body: its polynomial (step 3, made from the certificates of
    ``GET /api/referendums/ID`` and the referendum's threshold). When every polynomial is in,
    the server checks them (signed commitments, one threshold) and routes the shares (step 4);
    a polynomial found faulty is set aside and its trustee must send another."""
    svc, token = referendums_of(request), bearer(request)
    await svc.check_trustee(rid, index, token)  # the token, before the body is read
    body = await read_body(request, MAX_MESSAGE)
    return await svc.send_polynomial(rid, index, token, body)


@router.get(
    "/{rid}/trustees/{index}/vinput",
    summary="Fetch one's vinput (trustee)",
    responses=answers(
        200,
        schemas.Vinput,
        "the trustee's vinput",
        401,
        403,
        404,
        409,
        503,
        typed_params=True,
    ),
)
async def get_vinput(rid: str, index: int, request: Request) -> Response:
    """Trustee ``index`` only: its vinput (step 4's output for it: its own polynomial and the
    shares the other trustees sent it, encrypted to it), for step 5."""
    vinput = await referendums_of(request).vinput(rid, index, bearer(request))
    return Response(vinput, media_type="application/json")


@router.post(
    "/{rid}/trustees/{index}/voutput",
    summary="Send a voutput (trustee)",
    openapi_extra=schemas.body(
        schemas.CeremonyMessage, text="the message as trustee-threshold writes it (one JSON value)"
    ),
    responses=answers(
        200,
        schemas.CeremonyStatus,
        "the voutput is in",
        401,
        404,
        409,
        413,
        *schemas.WRITE,
        typed_params=True,
    ),
)
async def send_voutput(rid: str, index: int, request: Request) -> dict[str, Any]:
    """Trustee ``index`` only. Body: its voutput (step 5). When every voutput is in, the server
    checks them (proofs of knowledge, verification keys against the commitments) and makes
    the threshold parameters (step 6): with the server's own key they form the trustees
    structure of every region."""
    svc, token = referendums_of(request), bearer(request)
    await svc.check_trustee(rid, index, token)  # the token, before the body is read
    body = await read_body(request, MAX_MESSAGE)
    return await svc.send_voutput(rid, index, token, body)


@router.get(
    "/{rid}/trustees/{index}/dkey",
    summary="Fetch one's decryption key (trustee)",
    responses=answers(
        200,
        schemas.EncryptedKey,
        "the trustee's encrypted decryption key",
        401,
        403,
        404,
        409,
        503,
        typed_params=True,
    ),
)
async def get_dkey(rid: str, index: int, request: Request) -> Response:
    """Trustee ``index`` only: its decryption key as it sent it in its voutput, encrypted to
    itself (the ``.dkey`` file): only its seed opens it."""
    dkey = await referendums_of(request).dkey(rid, index, bearer(request))
    return Response(dkey, media_type="application/json")


@router.post(
    "/{rid}/trustees/{index}/regions/{name}/partial-decryption",
    summary="Send a partial decryption of a region's tally (trustee)",
    openapi_extra=schemas.body(schemas.PartialDecryption),
    responses=answers(
        200,
        schemas.RegionStatus,
        "the partial decryption is on the board",
        401,
        404,
        409,
        413,
        500,
        *schemas.WRITE,
        typed_params=True,
    ),
)
async def send_partial_decryption(
    rid: str, index: int, name: str, request: Request
) -> dict[str, Any]:
    """Trustee ``index`` only. Body: its partial decryption of the region's encrypted tally
    (``tally.partial_decryption_json`` with its decryption key, or ``trustee decrypt``).
    Every factor and proof is checked against the trustee's verification key and the tally on
    the board before it is appended. Once the threshold is reached the server appends its own
    key's partial decryption and the result."""
    svc, token = referendums_of(request), bearer(request)
    await svc.check_trustee(rid, index, token, name)  # the token, before the body is read
    body = await read_body(request, MAX_TALLY_MESSAGE)
    return await svc.send_partial_decryption(rid, index, token, name, body)


@router.post(
    "/{rid}/trustees/{index}/regions/{name}/shuffle",
    summary="Send a shuffle of a region's non-homomorphic ciphertexts (trustee)",
    openapi_extra=schemas.body(
        schemas.ShuffleMessage,
        text="the lines the shuffle command prints: the shuffle, then (optionally) its owned "
        "wrapper",
    ),
    responses=answers(
        200,
        schemas.RegionStatus,
        "the shuffle is on the board",
        401,
        404,
        409,
        413,
        500,
        *schemas.WRITE,
        typed_params=True,
    ),
)
async def send_shuffle(rid: str, index: int, name: str, request: Request) -> dict[str, Any]:
    """Trustee ``index`` only, once voting is closed and the server shuffled first. Body: its
    shuffle of the ciphertexts of ``GET .../shuffle-input`` (``plebiscite trustee shuffle
    --trustee-id OWNER`` or ``belenios-tool election shuffle --trustee-id OWNER`` on the
    region's archive, OWNER being ``index + 1``: both lines they print, or the first alone).
    Checked in full (every ciphertext, CheckShuffleProof against the current ciphertexts, one
    shuffle per trustee) before it is appended. Once ``threshold`` trustees shuffled, the
    server appends EndShuffles and the tally can be decrypted."""
    svc, token = referendums_of(request), bearer(request)
    await svc.check_trustee(rid, index, token, name)  # the token, before the body is read
    body = await read_body(request, MAX_TALLY_MESSAGE)
    return await svc.send_shuffle(rid, index, token, name, body)


@router.get(
    "/{rid}/regions/{name}/voters",
    summary="A region's voter list (its authority)",
    responses=answers(200, schemas.RegionVoters, "the region's voters", 401, 404, 409, 503),
)
async def region_voters(rid: str, name: str, request: Request) -> dict[str, Any]:
    """The region's external credential authority only (its link token): the voters and
    their weights, the election uuid and group to make their credentials with."""
    return await referendums_of(request).region_voters(rid, name, bearer(request))


@router.put(
    "/{rid}/regions/{name}/credentials",
    summary="Send a region's public credentials",
    openapi_extra=schemas.body(
        schemas.PublicCredentials, text="the public credential list, as JSON text"
    ),
    responses=answers(
        200, schemas.RegionStatus, "the credentials are in", 401, 404, 409, 413, 422, *schemas.WRITE
    ),
)
async def put_credentials(rid: str, name: str, request: Request) -> dict[str, Any]:
    """The region's external credential authority only. Body: the public credential list (as
    ``credentials generate`` writes it): one valid, distinct credential per voter, with the
    voters' weights. May be replaced until the referendum opens."""
    svc, token = referendums_of(request), bearer(request)
    await svc.region_voters(rid, name, token)  # the token, before the body is read
    body = await read_body(request, MAX_MESSAGE)
    return await svc.put_credentials(rid, name, token, body)


@router.get(
    "/{rid}/letters",
    summary="The delivery of the credential letters (administrator)",
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
async def referendum_letters(
    rid: str,
    request: Request,
    state: str | None = None,
    after: str | None = None,
    limit: int = 100,
) -> dict[str, Any]:
    """Administrator only (the addresses are personal data), for a referendum created with
    ``"credential_delivery": "mail"``: how many credential letters are ``pending``,
    ``sent``, ``failed`` and ``cancelled`` (replaced by a reissue), and up to ``limit``
    (1 to 1000, default 100) of them, those of ``state`` if given, after the letter
    ``after`` (the ``next`` of the previous page): each one's address, region, state,
    attempts, the kind of its last failure and when it was sent."""
    await require_admin(request)
    # an empty parameter (?state=&after=) is no parameter
    return await referendums_of(request).letters_status(rid, state or None, after or None, limit)


@router.post(
    "/{rid}/letters/resend-failed",
    summary="Send the failed credential letters again (administrator)",
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
async def resend_failed_letters(rid: str, request: Request) -> dict[str, Any]:
    """Administrator only: every ``failed`` credential letter of the referendum is pending
    again, its attempts counted from zero (after the voter's address was corrected at the
    receiving side, say)."""
    await require_admin(request)
    return await referendums_of(request).resend_failed(rid)


@router.post(
    "/{rid}/voters/reissue",
    summary="Reissue a voter's credential before the opening (administrator)",
    openapi_extra=schemas.body(schemas.ReissueRequest),
    responses=answers(
        200,
        schemas.Reissued,
        "a new credential replaces the old one; its letter is on its way",
        401,
        404,
        409,
        413,
        422,
        *schemas.WRITE,
    ),
)
async def reissue_credential(rid: str, request: Request) -> dict[str, Any]:
    """Administrator only, for a referendum created with ``"credential_delivery": "mail"``,
    before its opening. Body: ``{"region", "login"}``. A new credential is made for the
    voter, its public credential replaces the old one in the region's roll (no board ever
    holds the old one), the voter's letters not sent yet are cancelled and a new letter goes
    to the voter. Once the opening has begun: 409 ``voting_open``."""
    await require_admin(request)
    body = strictjson.loads(
        await read_body(request, MAX_REISSUE), max_size=MAX_REISSUE, where="request"
    )
    return await referendums_of(request).reissue(rid, body, base_of(request))
