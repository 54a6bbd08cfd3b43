"""Voter authentication for polls: one-time codes and links sent through the outbox.

An election may require its voters to authenticate before they cast (the administrator turns
it on with ``POST /api/elections/UUID/voter-authentication`` and the voter list: logins that
are e-mail addresses, each optionally with its public credential). Then:

1. A voter asks ``POST /api/elections/UUID/login-code`` with their login. The answer is the
   same (202) whether the login is on the list or not, and comes before anything is looked up
   or sent: the lookup, the code and the message are made afterwards in the background, so
   neither the answer nor its timing says who is on the list (SECURITY-CASES 21). A login gets
   at most :data:`CODE_REQUESTS` codes (the rest are dropped silently), an address at most
   the ``code`` rate limit (:mod:`plebiscite.server.ratelimit`).
2. The message holds a one-time code, 10 characters of Crockford's base 32 (50 bits, a code
   is destroyed after :data:`CODE_MAX_FAILURES` wrong tries; an address gets
   :data:`CODE_ATTEMPTS` wrong tries on a login before it must wait, the right code being
   compared first so that wrong ones never lock its voter out), and, when the server knows its
   public URL, a one-time link with a 256-bit token in its fragment (``PUBLIC_URL/vote/UUID
   #login=TOKEN``; the fragment is never sent to a server, so the token is in no access log;
   without a configured public URL there is no link, as the ``Host`` header could be forged).
   Both expire after :data:`CODE_SECONDS` and are kept only as SHA-256 hashes; a new code
   leaves the login's earlier ones valid (at most :data:`CODE_LIVE` at once), so requests made
   in a voter's name never spoil the code the voter is typing, and logging in spends them all.
3. ``POST /api/elections/UUID/login`` with ``{"login", "code"}`` or ``{"token"}`` answers a
   voter session token (256 bits, kept hashed, valid :data:`SESSION_SECONDS` for this
   election only). Every failure gives the same 401 ``login_failed``; the codes are taken from
   the store atomically, so two guesses never race on one code.
4. The ballot route calls :func:`authorize_cast` after the ballot's signature is verified: it
   returns at once for an election that does not require authentication; otherwise the request
   needs the voter's session (``Authorization: Bearer``), and the ballot's credential must be
   the one the voter list gives for that login. Where the list gives none (the server is not
   the credential authority, or was not told), the first ballot a login casts on the board
   binds its credential to it: a later ballot of that login must use the same credential, and
   a credential bound to one login is refused to any other. The binding is reserved while the
   ballot is appended and released if the ballot is refused (a refused ballot binds nothing,
   so nobody can lock a login out with one); a reservation left by a process killed before the
   ballot reached the board is void after :data:`PENDING_SECONDS`. The ballot's signature proves the
   voter holds the credential, so the binding is made only by its holder. The server thus
   knows which login cast under which credential (as Belenios' own server does): who voted,
   never how, since the ballots stay encrypted.

Everything is kept in the server's private store (:mod:`plebiscite.board.private`, kinds
``voter-*``), so it survives restarts and is shared by the processes of one database; the
per-login code limit is in memory. Nothing here logs a login, code, token or credential.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from plebiscite.server import schemas
from plebiscite.server.accounts import require_admin
from plebiscite.server.context import elections_of
from plebiscite.server.http import ApiError, read_body
from plebiscite.server.outbox import Message, Outbox, OutboxError
from plebiscite.server.ratelimit import Limit, Limiter, app_buckets, charge, source_of
from plebiscite.server.schemas import answers
from plebiscite.server.security import (
    bearer,
    json_object,
    new_token,
    private_store,
    token_hash,
)
from plebiscite.service.voters import (
    EMAIL,
    config_of,
    is_required,
    login_key,
    on_roll,
    set_roll,
)

if TYPE_CHECKING:
    from plebiscite.board.private import PrivateStore
    from plebiscite.service.election import ElectionState

__all__ = [
    "CODE_ATTEMPTS",
    "CODE_REQUESTS",
    "CODE_SECONDS",
    "SESSION_SECONDS",
    "authorize_cast",
    "is_required",
    "router",
    "set_roll",
]

log = logging.getLogger("plebiscite.server.voterauth")

CODE = "voter-code"  # uuid/login -> {"codes": [{"code", "link", "expires"}], "failures"} (hashes)
LINK = "voter-link"  # sha256(link token) -> {"uuid", "login", "expires"}
SESSION = "voter-session"  # sha256(session token) -> {"uuid", "login", "expires"}
CAST_LOGIN = "voter-cast-login"  # uuid/login -> the credential the login cast with
CAST_CREDENTIAL = "voter-cast-credential"  # uuid/sha256(credential) -> the login that cast
CAST_PENDING = "voter-cast-pending"  # uuid/login -> when a ballot reserved its binding

CODE_SECONDS = 15 * 60
SESSION_SECONDS = 60 * 60
#: wrong codes for one login from one client address: five, then one every five minutes;
#: a right code is compared first, so wrong ones from a shared address never stop it
CODE_ATTEMPTS = 5
CODE_FAILURES = Limit(CODE_ATTEMPTS, 1 / 300)
#: wrong tries that destroy a code, from all addresses together (a guess succeeds with a
#: chance of at most 100 in 2^50)
CODE_MAX_FAILURES = 100
#: codes of one login valid at once: a new one leaves the others valid until they expire
CODE_LIVE = 3
#: codes per login and election: three, then one every five minutes
CODE_REQUESTS = Limit(3, 1 / 300)
#: messages being sent at once; requests beyond are dropped
MAX_PENDING = 256
MAX_ROLL_BODY = 256 << 20
MAX_BODY = 4096
MAX_VOTERS = 1 << 22
_ISSUING = threading.Lock()
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32
_CODE_LENGTH = 10


def clock() -> float:
    """The time (tests replace it)."""
    return time.time()


# -- the voter list -------------------------------------------------------------------------------


# -- codes ---------------------------------------------------------------------------------------


def _new_code() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(_CODE_LENGTH))


def _normal_code(text: str) -> str:
    t = text.upper().replace("-", "").replace(" ", "")
    return t.translate(str.maketrans("OIL", "011"))


def _code_hash(uuid: str, login_key: str, code: str) -> str:
    return hashlib.sha256(f"{uuid}\n{login_key}\n{code}".encode()).hexdigest()


def _message(to: str, name: str, code: str, link: str | None, minutes: int) -> Message:
    shown = f"{code[:5]}-{code[5:]}"
    lines = [
        f"Your one-time code to vote in the election «{name}» is:",
        "",
        f"    {shown}",
        "",
    ]
    if link is not None:
        lines += ["Or open this link (once):", "", f"    {link}", ""]
    lines += [
        f"It is valid for {minutes} minutes and only once. If you did not ask for it, ignore "
        "this message: nobody can use it without access to your mailbox.",
    ]
    return Message(to=to, subject="Your voting code", body="\n".join(lines) + "\n")


def _issue(
    store: PrivateStore, uuid: str, login_key: str, base: str | None
) -> tuple[str, str | None]:
    """Make and keep a new code and link token for ``login_key`` beside the live ones (at
    most :data:`CODE_LIVE`; one issue at a time in this process)."""
    with _ISSUING:
        return _issue_locked(store, uuid, login_key, base)


def _codes(raw: bytes | None) -> tuple[list[dict[str, Any]], int]:
    """The codes of a login's record (its live codes, each with its link and expiry) and the
    wrong tries counted on them."""
    if raw is None:
        return [], 0
    r = json.loads(raw)
    if "codes" not in r:  # a record of a single code
        return [{k: r[k] for k in ("code", "link", "expires")}], int(r["failures"])
    return list(r["codes"]), int(r["failures"])


def _keep_codes(store: PrivateStore, key: str, codes: list[dict[str, Any]], failures: int) -> None:
    if codes:
        store.put(CODE, key, json.dumps({"codes": codes, "failures": failures}).encode())


def _issue_locked(
    store: PrivateStore, uuid: str, login_key: str, base: str | None
) -> tuple[str, str | None]:
    code, token = _new_code(), new_token()
    key = f"{uuid}/{login_key}"
    codes, failures = _codes(store.take(CODE, key))
    now = clock()
    live = [c for c in codes if c["expires"] > now]
    for c in codes:
        if c not in live:
            store.delete(LINK, c["link"])
    # the codes already sent stay valid: requests made in a voter's name never spoil the code
    # the voter is typing
    while len(live) >= CODE_LIVE:
        store.delete(LINK, live.pop(0)["link"])
    expires = now + CODE_SECONDS
    link_hash = token_hash(token)
    store.put(
        LINK, link_hash, json.dumps({"uuid": uuid, "login": login_key, "expires": expires}).encode()
    )
    live.append({"code": _code_hash(uuid, login_key, code), "link": link_hash, "expires": expires})
    _keep_codes(store, key, live, failures)
    link = f"{base}/vote/{uuid}#login={token}" if base else None
    return code, link


async def _send_code(
    store: PrivateStore,
    outbox: Outbox,
    limits: Limiter,
    uuid: str,
    name: str,
    login: str,
    base: str | None,
) -> None:
    """In the background of a code request: look the login up, make a code, send it."""
    try:
        config = await anyio.to_thread.run_sync(config_of, store, uuid)
        entry = (
            None
            if config is None
            else await anyio.to_thread.run_sync(on_roll, store, uuid, config, login)
        )
        if entry is None:
            return
        key = login_key(login)
        if await anyio.to_thread.run_sync(limits.take, (uuid, key)) > 0:
            return
        code, link = await anyio.to_thread.run_sync(_issue, store, uuid, key, base)
        await outbox.send(_message(entry[0], name, code, link, CODE_SECONDS // 60))
    except OutboxError:
        pass  # logged by the outbox, without the message
    except Exception as e:  # a background task: say what failed, never the data
        log.error("voter code request failed (%s)", type(e).__name__)


# -- sessions -------------------------------------------------------------------------------------


def _new_session(store: PrivateStore, uuid: str, login_key: str) -> tuple[str, float]:
    token = new_token()
    expires = clock() + SESSION_SECONDS
    value = json.dumps({"uuid": uuid, "login": login_key, "expires": expires}).encode()
    store.put(SESSION, token_hash(token), value)
    return token, expires


def _session(store: PrivateStore, uuid: str, token: str) -> str | None:
    """The login of a live voter session of election ``uuid``, or None."""
    if not 20 <= len(token) <= 128:
        return None
    key = token_hash(token)
    raw = store.get(SESSION, key)
    if raw is None:
        return None
    s = json.loads(raw)
    if s["expires"] <= clock():
        store.delete(SESSION, key)
        return None
    return str(s["login"]) if s["uuid"] == uuid else None


def _spend(store: PrivateStore, codes: list[dict[str, Any]]) -> None:
    for c in codes:
        store.delete(LINK, c["link"])


def _login_with_code(store: PrivateStore, uuid: str, login: str, code: str) -> str | None:
    key = login_key(login)
    codes, failures = _codes(store.take(CODE, f"{uuid}/{key}"))
    now = clock()
    live = [c for c in codes if c["expires"] > now]
    _spend(store, [c for c in codes if c not in live])
    if not live:
        return None
    given = _code_hash(uuid, key, _normal_code(code))
    if not any(secrets.compare_digest(given, c["code"]) for c in live):
        failures += 1
        if failures < CODE_MAX_FAILURES:
            _keep_codes(store, f"{uuid}/{key}", live, failures)
        else:
            _spend(store, live)
        return None
    _spend(store, live)  # logged in: every code and link of the login is spent
    return key


def _login_with_link(store: PrivateStore, uuid: str, token: str) -> str | None:
    if not 20 <= len(token) <= 128:
        return None
    h = token_hash(token)
    raw = store.take(LINK, h)
    if raw is None:
        return None
    r = json.loads(raw)
    if r["uuid"] != uuid or r["expires"] <= clock():
        return None
    key = f"{uuid}/{r['login']}"
    codes, _ = _codes(store.take(CODE, key))
    _spend(store, codes)  # logged in: every code and link of the login is spent
    return str(r["login"])


# -- casting -------------------------------------------------------------------------------------


#: A binding reserved by a ballot that neither reached the board nor was released (its process
#: was killed in between) is void after this many seconds.
PENDING_SECONDS = 300.0

#: ``settle(accepted)``: after the ballot was appended (True) or refused (False)
Settle = Callable[[bool], None]


def _authorize(
    store: PrivateStore,
    uuid: str,
    token: str,
    credential: str | None,
    on_board: Callable[[str], bool],
) -> Settle | None:
    config = config_of(store, uuid)
    if config is None:
        return None
    login = _session(store, uuid, token) if token else None
    if login is None:
        raise ApiError(
            401,
            "voter_session",
            "this election requires voters to log in: ask for a code (POST "
            f"/api/elections/{uuid}/login-code), log in with it, then send the ballot with "
            "the session token",
        )
    if credential is None:
        raise ApiError(422, "bad_request", "the ballot names no credential")
    entry = on_roll(store, uuid, config, login)
    if entry is None:  # removed from the list since the login
        raise ApiError(403, "not_on_roll", "your login is no longer on the voter list")
    expected = entry[1]
    if expected is not None:
        if credential != expected:
            raise ApiError(
                403, "wrong_credential", "this ballot's credential is not the one of your login"
            )
        return None
    return _reserve(store, uuid, login, credential, on_board)


def _ckey(uuid: str, credential: str) -> str:
    return f"{uuid}/{hashlib.sha256(credential.encode()).hexdigest()}"


def _void(store: PrivateStore, uuid: str, login: str, on_board: Callable[[str], bool]) -> bool:
    """Release the binding of ``login`` if a ballot reserved it long ago and none of its
    credential is on the board (the process was killed between the two); whether it did."""
    pending = store.get(CAST_PENDING, f"{uuid}/{login}")
    bound = store.get(CAST_LOGIN, f"{uuid}/{login}")
    if pending is None or bound is None:
        return False
    if clock() - float(pending) < PENDING_SECONDS or on_board(bound.decode()):
        return False
    _release(store, uuid, login, bound.decode())
    return True


def _release(store: PrivateStore, uuid: str, login: str, credential: str) -> None:
    """Undo a reservation: the binding of ``login`` to ``credential``, both ways."""
    lkey, ckey = f"{uuid}/{login}", _ckey(uuid, credential)
    if (bound := store.take(CAST_LOGIN, lkey)) is not None and bound.decode() != credential:
        store.insert(CAST_LOGIN, lkey, bound)
    if (owner := store.take(CAST_CREDENTIAL, ckey)) is not None and owner.decode() != login:
        store.insert(CAST_CREDENTIAL, ckey, owner)
    store.delete(CAST_PENDING, lkey)


def _reserve(
    store: PrivateStore, uuid: str, login: str, credential: str, on_board: Callable[[str], bool]
) -> Settle:
    """Check that ``login`` may cast with ``credential`` and reserve the binding of the two
    while the ballot is appended: it is kept when the ballot reaches the board, released when
    it is refused (a refused ballot binds nothing)."""
    lkey, ckey = f"{uuid}/{login}", _ckey(uuid, credential)
    bound = store.get(CAST_LOGIN, lkey)
    if bound is not None and bound.decode() != credential and _void(store, uuid, login, on_board):
        bound = None
    if bound is not None:
        if bound.decode() != credential:
            raise ApiError(
                403,
                "wrong_credential",
                "your login already voted with another credential: use that one",
            )
        return _keeper(store, uuid, login, credential)
    inserted = store.insert(CAST_CREDENTIAL, ckey, login.encode())
    if not inserted:
        owner = store.get(CAST_CREDENTIAL, ckey)
        taken = owner is not None and owner.decode() != login
        if taken and owner is not None and _void(store, uuid, owner.decode(), on_board):
            inserted = store.insert(CAST_CREDENTIAL, ckey, login.encode())
            owner = store.get(CAST_CREDENTIAL, ckey)
        if owner is None or owner.decode() != login:
            raise ApiError(
                403, "credential_taken", "this credential was already used by another voter"
            )
    store.put(CAST_PENDING, lkey, repr(clock()).encode())
    if not store.insert(CAST_LOGIN, lkey, credential.encode()):
        again = store.get(CAST_LOGIN, lkey)
        if again is None or again.decode() != credential:  # a concurrent ballot of this login
            if inserted:
                store.delete(CAST_CREDENTIAL, ckey)
            raise ApiError(
                403,
                "wrong_credential",
                "your login already voted with another credential: use that one",
            )
        return _keeper(store, uuid, login, credential)

    def settle(accepted: bool) -> None:
        if accepted:
            _keep(store, uuid, login, credential)
        else:
            _release(store, uuid, login, credential)

    return settle


def _keep(store: PrivateStore, uuid: str, login: str, credential: str) -> None:
    """The ballot is on the board: its binding stays (made again if a refused ballot of the
    same login and credential released it meanwhile)."""
    lkey = f"{uuid}/{login}"
    store.insert(CAST_CREDENTIAL, _ckey(uuid, credential), login.encode())
    store.insert(CAST_LOGIN, lkey, credential.encode())
    store.delete(CAST_PENDING, lkey)


def _keeper(store: PrivateStore, uuid: str, login: str, credential: str) -> Settle:
    """The settle of a ballot whose binding another ballot made or reserved."""

    def settle(accepted: bool) -> None:
        if accepted:
            _keep(store, uuid, login, credential)

    return settle


async def authorize_cast(
    request: Request, uuid: str, credential: str | None, on_board: Callable[[str], bool]
) -> Settle | None:
    """Refuse the ballot of ``credential`` unless election ``uuid`` does not require voter
    authentication, or the request carries a voter session of a login that may cast with
    this credential (see the module's documentation); ``on_board(credential)`` says whether a
    ballot of that credential is on the board. The answer, if any, is to be called once the
    ballot is appended (True) or refused (False)."""
    store = private_store(request)
    if store is None or not await anyio.to_thread.run_sync(is_required, store, uuid):
        return None
    return await anyio.to_thread.run_sync(
        _authorize, store, uuid, bearer(request), credential, on_board
    )


async def _wrong_code(request: Request, uuid: str, login: str) -> None:
    """Count a wrong code for ``login`` from the request's address: past
    :data:`CODE_FAILURES`, that address must wait (429) before its next wrong one."""
    failures = app_buckets(request.app.state, "voter-code-failures", CODE_FAILURES)
    address = request.client.host if request.client else ""
    await charge(failures, f"{uuid}/{login_key(login)}\n{address}", "wrong codes")


# -- routes ----------------------------------------------------------------------------------------

router = APIRouter(prefix="/api/elections", tags=["voter authentication"])


async def _election(request: Request, uuid: str) -> ElectionState:
    return await elections_of(request).lookup(uuid)


def _store(request: Request) -> PrivateStore:
    store = private_store(request)
    if store is None:
        raise ApiError(
            503, "no_private_store", "this server has no private store: no voter authentication"
        )
    return store


def _roll_of(body: dict[str, Any], s: ElectionState) -> dict[str, str | None]:
    if set(body) != {"voters"}:
        raise ApiError(422, "bad_request", 'expected {"voters": [LOGIN, ...] or {LOGIN: CRED}}')
    voters = body["voters"]
    if isinstance(voters, list):
        pairs: list[tuple[Any, Any]] = [(v, None) for v in voters]
    elif isinstance(voters, dict):
        pairs = list(voters.items())
    else:
        raise ApiError(422, "bad_request", "voters: a list of logins or an object login -> cred")
    if not 1 <= len(pairs) <= MAX_VOTERS:
        raise ApiError(422, "bad_request", f"voters: 1 to {MAX_VOTERS} of them")
    roll: dict[str, str | None] = {}
    seen: set[str] = set()
    known = s.verifier
    for i, (login, cred) in enumerate(pairs):
        if not isinstance(login, str) or len(login) > 254 or not EMAIL.match(login.strip()):
            raise ApiError(422, "bad_request", f"voters[{i}]: a login here is an e-mail address")
        key = login_key(login)
        if key in seen:
            raise ApiError(422, "bad_request", f"voters[{i}]: listed twice")
        seen.add(key)
        if cred is not None and (not isinstance(cred, str) or not known.is_credential(cred)):
            raise ApiError(
                422,
                "bad_request",
                f"voters[{i}]: its credential is not on the election's public credential list",
            )
        roll[login.strip()] = cred
    given = [c for c in roll.values() if c is not None]
    if len(given) != len(set(given)):
        raise ApiError(422, "bad_request", "voters: two logins with the same credential")
    return roll


@router.post(
    "/{uuid}/voter-authentication",
    summary="Require voters to log in (administrator)",
    openapi_extra=schemas.body(schemas.VoterRoll),
    responses=answers(
        200, schemas.VoterRollSet, "voters must log in", 401, 404, 409, 413, 422, *schemas.WRITE
    ),
)
async def require_voter_authentication(uuid: str, request: Request) -> dict[str, Any]:
    """Administrator only, while voting is open. Body: ``{"voters": [LOGIN, ...]}`` or
    ``{"voters": {LOGIN: PUBLIC_CREDENTIAL or null}}``, the logins e-mail addresses. From now
    on a ballot is accepted only with the session of a listed voter (a one-time code sent to
    the login), and only under that voter's credential: the one given here, else the one of
    the voter's first ballot. Sending the list again replaces it; it cannot be turned off."""
    await require_admin(request)
    s = await _election(request, uuid)
    store = _store(request)
    if not s.verifier.phase.takes_ballots:
        raise ApiError(409, "state", f"voting is not open ({s.verifier.report.status})")
    body = json_object(await read_body(request, MAX_ROLL_BODY), "request")
    roll = await anyio.to_thread.run_sync(_roll_of, body, s)
    await anyio.to_thread.run_sync(set_roll, store, uuid, roll)
    return {"election": uuid, "required": True, "voters": len(roll)}


@router.get(
    "/{uuid}/voter-authentication",
    summary="Whether voters must log in",
    responses=answers(200, schemas.VoterAuthentication, "whether voters log in", 404, 503),
)
async def voter_authentication(uuid: str, request: Request) -> dict[str, Any]:
    """``{"required"}``: whether a ballot of this election needs a voter session, and
    ``codes``: whether this server can send login codes (it has an outbox)."""
    await _election(request, uuid)
    store = private_store(request)
    required = store is not None and await anyio.to_thread.run_sync(is_required, store, uuid)
    return {"required": required, "codes": getattr(request.app.state, "outbox", None) is not None}


def _pending(request: Request) -> tuple[set[asyncio.Task[None]], Limiter]:
    st = request.app.state
    if not hasattr(st, "voter_codes"):
        st.voter_codes = (set(), source_of(st).buckets("voter-code-requests", CODE_REQUESTS))
    out: tuple[set[asyncio.Task[None]], Limiter] = st.voter_codes
    return out


@router.post(
    "/{uuid}/login-code",
    status_code=202,
    summary="Ask for a one-time login code (voter)",
    openapi_extra=schemas.body(schemas.CodeRequest),
    responses=answers(
        202,
        schemas.CodeAccepted,
        "the same answer for any login",
        404,
        409,
        413,
        422,
        *schemas.WRITE,
    ),
)
async def login_code(uuid: str, request: Request) -> dict[str, str]:
    """Body: ``{"login"}``. If the login is on the election's voter list, a one-time code
    (and link) is sent to it; the answer is the same either way, and says nothing of whether
    the login is on the list or has voted."""
    s = await _election(request, uuid)
    store = _store(request)
    body = json_object(await read_body(request, MAX_BODY), "request")
    login = body.get("login")
    if set(body) != {"login"} or not isinstance(login, str) or not 1 <= len(login) <= 254:
        raise ApiError(422, "bad_request", 'expected {"login": your login}')
    outbox: Outbox | None = getattr(request.app.state, "outbox", None)
    if outbox is None:
        raise ApiError(503, "no_outbox", "this server cannot send login codes (no outbox)")
    if not await anyio.to_thread.run_sync(is_required, store, uuid):
        raise ApiError(409, "not_required", "this election does not require voters to log in")
    tasks, limits = _pending(request)
    if len(tasks) < MAX_PENDING:
        base: str | None = getattr(request.app.state, "public_url", None)
        task = asyncio.get_running_loop().create_task(
            _send_code(store, outbox, limits, uuid, s.verifier.report.name or uuid, login, base)
        )
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    else:
        log.warning("voter codes: too many messages pending, a request was dropped")
    return {
        "status": "accepted",
        "message": "if this login is on the voter list, a one-time code is on its way to it",
    }


@router.post(
    "/{uuid}/login",
    summary="Log in with a one-time code or link (voter)",
    openapi_extra=schemas.body(schemas.VoterLogin),
    responses=answers(
        200, schemas.VoterSession, "the voter session", 401, 404, 413, 422, *schemas.WRITE
    ),
)
async def voter_login(uuid: str, request: Request) -> JSONResponse:
    """Body: ``{"login", "code"}`` (the code of the message) or ``{"token"}`` (the token of
    the message's link, after ``#login=``). Either is spent by a successful login. Answers
    ``{"token", "expires"}``: the voter session to send (``Authorization: Bearer``) with the
    ballot. Any failure is the same 401 ``login_failed``."""
    await _election(request, uuid)
    store = _store(request)
    body = json_object(await read_body(request, MAX_BODY), "request")
    login_key: str | None
    if set(body) == {"login", "code"} and all(isinstance(v, str) for v in body.values()):
        if len(body["code"]) > 64 or len(body["login"]) > 254:
            login_key = None
        else:
            login_key = await anyio.to_thread.run_sync(
                _login_with_code, store, uuid, body["login"], body["code"]
            )
            if login_key is None:  # counted after the comparison: the right code always works
                await _wrong_code(request, uuid, body["login"])
    elif set(body) == {"token"} and isinstance(body["token"], str):
        login_key = await anyio.to_thread.run_sync(_login_with_link, store, uuid, body["token"])
    else:
        raise ApiError(422, "bad_request", 'expected {"login", "code"} or {"token"}')
    if login_key is None:
        raise ApiError(401, "login_failed", "this code is wrong, spent or expired")
    token, expires = await anyio.to_thread.run_sync(_new_session, store, uuid, login_key)
    return JSONResponse(
        {"token": token, "expires": int(expires)}, headers={"cache-control": "no-store"}
    )


@router.post(
    "/{uuid}/logout",
    summary="Log out (end a voter session)",
    responses=answers(200, schemas.Ended, "whether a session ended", *schemas.WRITE),
)
async def voter_logout(uuid: str, request: Request) -> dict[str, bool]:
    """Ends the voter session whose token the request carries."""
    store = _store(request)
    token = bearer(request)
    ended = False
    if 20 <= len(token) <= 128:
        ended = await anyio.to_thread.run_sync(store.delete, SESSION, token_hash(token))
    return {"ended": ended}
