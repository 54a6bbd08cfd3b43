"""Administrator accounts and sessions.

An administrator acts with a bearer token: the server's bootstrap token (``admin_token`` of
:func:`plebiscite.server.app.create_app`, ``PLEBISCITE_ADMIN_TOKEN``), valid as long as the
server runs with it, or the session token of an administrator account.

- Accounts (``plebiscite admin-account add NAME``, or ``serve --admin-account NAME``) are kept
  in the server's private store (:mod:`plebiscite.board.private`, kind ``admin-account``) with
  their password hashed by scrypt: a random 16-byte salt per account and the parameters
  (N, r, p) recorded beside the hash, so they can be raised later without breaking old
  accounts. A password has at least :data:`MIN_PASSWORD` characters.
- ``POST /api/session`` with ``{"name", "password"}`` opens a session: a fresh 256-bit token
  returned once, kept only as its SHA-256 (kind ``admin-session``) with its expiry
  (:data:`SESSION_SECONDS`). ``POST /api/session/logout`` ends it; removing the account ends
  all its sessions.
- A failed login says only "name or password wrong", whether the account exists or not, and
  costs the same time (an unknown name is checked against a dummy hash). Failures are limited
  per account name and client address (:data:`FAILURES`, whether the name exists or not, so the
  limit reveals nothing; wrong passwords sent from one address never lock the account out from
  another) and all logins per client address (:mod:`plebiscite.server.ratelimit`); at most two
  scrypt computations run at once. Wrong administrator tokens are limited per client address
  (:data:`BAD_TOKENS`), on every route, reads included; a token is compared before the limit
  is looked at, so the right token works whatever wrong ones came from its address.
- Nothing here logs: no name, password, token or hash reaches a log.

:func:`authenticate` is what :func:`require_admin` runs, in a worker thread: it reads the private
store (one indexed read) and, with several server processes, the shared buckets of wrong
tokens, never on the event loop.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from plebiscite.server import schemas
from plebiscite.server.http import ApiError, read_body
from plebiscite.server.ratelimit import Limit, Limiter, RateLimitError, source_of
from plebiscite.server.schemas import answers
from plebiscite.server.security import (
    bearer,
    json_object,
    new_token,
    private_store,
    same_token,
    token_hash,
)

if TYPE_CHECKING:
    from plebiscite.board.private import PrivateStore

__all__ = [
    "ACCOUNT",
    "BAD_TOKENS",
    "FAILURES",
    "MIN_PASSWORD",
    "SESSION",
    "SESSION_SECONDS",
    "Scrypt",
    "add_account",
    "authenticate",
    "check_password",
    "hash_password",
    "list_accounts",
    "remove_account",
    "require_admin",
    "router",
]

ACCOUNT = "admin-account"
SESSION = "admin-session"
SESSION_SECONDS = 8 * 3600
MIN_PASSWORD = 12
MAX_PASSWORD = 1024
MAX_BODY = 4096
#: failed logins per account name: five, then one a minute
FAILURES = Limit(5, 1 / 60)
#: wrong administrator tokens per client address: twenty, then one every three seconds (a
#: bootstrap token chosen by a person may be short)
BAD_TOKENS = Limit(20, 1 / 3)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")


def clock() -> float:
    """The time (tests replace it)."""
    return time.time()


@dataclass(frozen=True)
class Scrypt:
    """scrypt's cost parameters: N (a power of two), r, p; 32 MiB of memory by default."""

    n: int = 1 << 15
    r: int = 8
    p: int = 1

    def check(self) -> None:
        n, r, p = self.n, self.r, self.p
        if not (1 < n <= 1 << 20 and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16):
            raise ValueError(f"scrypt parameters out of range: N={n}, r={r}, p={p}")

    def derive(self, password: str, salt: bytes) -> bytes:
        self.check()
        return hashlib.scrypt(
            password.encode("utf-8", "surrogatepass"),
            salt=salt,
            n=self.n,
            r=self.r,
            p=self.p,
            maxmem=128 * self.r * (self.n + self.p + 2) + (1 << 20),
            dklen=32,
        )


#: the parameters of new hashes (tests lower them)
DEFAULT = Scrypt()


def hash_password(password: str, params: Scrypt | None = None) -> bytes:
    """The record of a password: ``{"scrypt": {"n", "r", "p"}, "salt", "hash"}`` (JSON)."""
    params = params or DEFAULT
    salt = secrets.token_bytes(16)
    record = {
        "scrypt": {"n": params.n, "r": params.r, "p": params.p},
        "salt": salt.hex(),
        "hash": params.derive(password, salt).hex(),
    }
    return json.dumps(record, separators=(",", ":")).encode()


def check_password(password: str, record: bytes) -> bool:
    """Whether ``password`` is the one of ``record`` (constant-time comparison)."""
    r = json.loads(record)
    params = Scrypt(**r["scrypt"])
    derived = params.derive(password, bytes.fromhex(r["salt"]))
    return hmac.compare_digest(derived, bytes.fromhex(r["hash"]))


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise ValueError(
            "an account name is 1 to 64 letters, digits or . _ @ + -, starting with a letter "
            "or digit"
        )


def _check_new_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValueError(
            f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters "
            f"(this one has {len(password)})"
        )


def add_account(
    store: PrivateStore,
    name: str,
    password: str,
    *,
    replace: bool = False,
    params: Scrypt | None = None,
) -> bool:
    """Create the account ``name`` (or, with ``replace``, set its password, which ends its
    sessions). False if it exists and ``replace`` is not set."""
    _check_name(name)
    _check_new_password(password)
    record = hash_password(password, params)
    if replace:
        existed = store.get(ACCOUNT, name) is not None
        store.put(ACCOUNT, name, record)
        if existed:
            _end_sessions(store, name)
        return True
    return store.insert(ACCOUNT, name, record)


def remove_account(store: PrivateStore, name: str) -> bool:
    """Remove the account and end its sessions; False if there was none."""
    gone = store.delete(ACCOUNT, name)
    _end_sessions(store, name)
    return gone


def list_accounts(store: PrivateStore) -> list[str]:
    return [name for name, _ in store.items(ACCOUNT)]


def _end_sessions(store: PrivateStore, name: str | None, *, expired_only: bool = False) -> None:
    now = clock()
    for key, value in store.items(SESSION):
        s = json.loads(value)
        if (name is None or s["name"] == name) and (not expired_only or s["expires"] <= now):
            store.delete(SESSION, key)


def _iso(t: float) -> str:
    return datetime.datetime.fromtimestamp(int(t), datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- authentication ---------------------------------------------------------------------------


def _bad_tokens(request: Request) -> Limiter:
    st = request.app.state
    if not hasattr(st, "admin_bad_tokens"):
        st.admin_bad_tokens = source_of(st).buckets("admin-bad-tokens", BAD_TOKENS)
    out: Limiter = st.admin_bad_tokens
    return out


def _session(store: PrivateStore, token: str) -> dict[str, Any] | None:
    """The live session of ``token`` (its account still there), or None."""
    if not 20 <= len(token) <= 128:
        return None
    key = token_hash(token)
    raw = store.get(SESSION, key)
    if raw is None:
        return None
    s: dict[str, Any] = json.loads(raw)
    if s["expires"] <= clock():
        store.delete(SESSION, key)
        return None
    if store.get(ACCOUNT, s["name"]) is None:
        store.delete(SESSION, key)
        return None
    return s


def authenticate(request: Request) -> str | None:
    """Refuse the request (401) unless it carries the bootstrap token or a live session token
    of an administrator account; the account's name (None for the bootstrap token), also left
    in ``request.state.admin``."""
    token = bearer(request)
    # the token is compared first: wrong tokens sent from an address (a proxy's, shared by
    # many) never stop the right one from working; only the wrong ones are counted
    expected: str = request.app.state.admin_token
    if same_token(token, expected):
        request.state.admin = None
        return None
    store = private_store(request)
    s = _session(store, token) if store is not None and token else None
    if s is None:
        if token:
            bad_tokens = _bad_tokens(request)
            address = request.client.host if request.client else ""
            if (wait := bad_tokens.wait(address)) > 0:
                raise RateLimitError(wait, "wrong administrator tokens")
            bad_tokens.take(address)
        raise ApiError(401, "unauthorized", "administrator token missing or wrong")
    name: str = s["name"]
    request.state.admin = name
    return name


async def require_admin(request: Request) -> str | None:
    """Refuse the request unless it carries the administrator's bootstrap token or the
    session token of an administrator account (:func:`authenticate`, whose reads of the
    database run in a worker thread); the account's name (None for the bootstrap token)."""
    return await anyio.to_thread.run_sync(authenticate, request)


# -- routes -------------------------------------------------------------------------------------

router = APIRouter(prefix="/api/session", tags=["administrators"])

_DUMMY: dict[Scrypt, bytes] = {}


def _dummy_record() -> bytes:
    """A hash of nothing, to spend on unknown names the time a real check takes."""
    if DEFAULT not in _DUMMY:
        _DUMMY[DEFAULT] = hash_password(secrets.token_urlsafe(16), DEFAULT)
    return _DUMMY[DEFAULT]


def _state(request: Request) -> tuple[Limiter, anyio.Semaphore]:
    st = request.app.state
    if not hasattr(st, "account_failures"):
        st.account_failures = source_of(st).buckets("admin-login-failures", FAILURES)
        st.scrypt_slots = anyio.Semaphore(2)
    return st.account_failures, st.scrypt_slots


def _no_store() -> ApiError:
    return ApiError(
        503,
        "no_private_store",
        "this server keeps no accounts (no private store): use the administrator token",
    )


@router.post(
    "",
    summary="Log in as an administrator",
    openapi_extra=schemas.body(schemas.AdminLogin),
    responses=answers(
        200,
        schemas.AdminSession,
        "the session (its token shown once)",
        401,
        413,
        422,
        *schemas.WRITE,
    ),
)
async def login(request: Request) -> JSONResponse:
    """Body: ``{"name", "password"}`` of an administrator account. Answers ``{"token",
    "name", "expires"}``: a session token, shown once, to send as ``Authorization: Bearer``
    until it expires or ``POST /api/session/logout``. A wrong name or password gets the same
    401 ``login_failed`` either way; repeated failures on a name get 429 ``rate_limited``."""
    body = json_object(await read_body(request, MAX_BODY), "request")
    name, password = body.get("name"), body.get("password")
    if set(body) != {"name", "password"} or not (
        isinstance(name, str) and isinstance(password, str)
    ):
        raise ApiError(422, "bad_request", "expected {name, password}, two strings")
    if len(password) > MAX_PASSWORD or len(name) > 256:
        raise ApiError(401, "login_failed", "name or password wrong")
    store = private_store(request)
    if store is None:
        raise _no_store()
    failures, slots = _state(request)
    # failures are counted per name and client address: wrong passwords for a name from one
    # address (or one proxy's) never lock that account's holder out elsewhere
    address = request.client.host if request.client else ""
    key = f"{name.casefold()}\n{address}"
    wait = await anyio.to_thread.run_sync(failures.wait, key)
    if wait > 0:
        raise RateLimitError(wait, "failed logins")
    record = await anyio.to_thread.run_sync(store.get, ACCOUNT, name)
    async with slots:
        ok = await anyio.to_thread.run_sync(
            check_password, password, record if record is not None else _dummy_record()
        )
    if not ok or record is None:
        await anyio.to_thread.run_sync(failures.take, key)
        raise ApiError(401, "login_failed", "name or password wrong")
    await anyio.to_thread.run_sync(failures.reset, key)
    token = new_token()
    expires = clock() + SESSION_SECONDS
    session = json.dumps({"name": name, "expires": expires}).encode()
    await anyio.to_thread.run_sync(store.put, SESSION, token_hash(token), session)
    await anyio.to_thread.run_sync(lambda: _end_sessions(store, None, expired_only=True))
    return JSONResponse(
        {"token": token, "name": name, "expires": _iso(expires)},
        headers={"cache-control": "no-store"},
    )


@router.get(
    "",
    summary="The current administrator session",
    responses=answers(200, schemas.CurrentAdmin, "who the token is", 401, 429, 503),
)
async def whoami(request: Request) -> dict[str, Any]:
    """Administrator only: ``{"name", "bootstrap", "expires"}``: the account of the session
    token (``bootstrap`` true and no name for the server's administrator token)."""
    name = await require_admin(request)
    if name is None:
        return {"name": None, "bootstrap": True, "expires": None}
    store = private_store(request)
    assert store is not None
    raw = await anyio.to_thread.run_sync(store.get, SESSION, token_hash(bearer(request)))
    expires = json.loads(raw)["expires"] if raw is not None else clock()
    return {"name": name, "bootstrap": False, "expires": _iso(expires)}


@router.post(
    "/logout",
    summary="Log out (end an administrator session)",
    responses=answers(200, schemas.Ended, "whether a session ended", *schemas.WRITE),
)
async def logout(request: Request) -> dict[str, Any]:
    """Ends the session whose token the request carries (``Authorization: Bearer``): the
    token is worthless afterwards. ``{"ended": true}`` if there was such a session."""
    token = bearer(request)
    store = private_store(request)
    ended = False
    if store is not None and 20 <= len(token) <= 128:
        ended = await anyio.to_thread.run_sync(store.delete, SESSION, token_hash(token))
    return {"ended": ended}
