"""Sign-in with OpenID Connect: the relying party of the open polls' credential pools.

``plebiscite serve --oidc-issuer URL --oidc-client-id ID`` (the client secret from
``PLEBISCITE_OIDC_CLIENT_SECRET``, never on the command line, never logged) lets the voters of
a region whose credentials are a pool (:mod:`plebiscite.service.pool`) sign in with that
provider to get their credential. The provider's endpoints and keys come from its discovery
document (``ISSUER/.well-known/openid-configuration``, whose ``issuer`` must be the configured
one) and its JWKS, fetched when first needed and kept (the JWKS fetched again when an ID token
names a key it does not have, at most every :data:`JWKS_REFRESH` seconds).

The authorization code flow (OpenID Connect Core 1.0, section 3.1) with PKCE (RFC 7636, S256):

1. ``GET /signin/UUID``: the region must have a pool whose voting is open. The server makes a
   ``state``, a ``nonce`` and a PKCE verifier (256 random bits each), puts them with the
   election's uuid and an expiry (:data:`COOKIE_SECONDS`) in a cookie sealed with AES-256-GCM
   under a key derived from the server's signing key (HttpOnly, SameSite=Lax, path
   ``/signin``, Secure over HTTPS), so the sign-in is bound to this browser and any server
   process of the database can finish it, and redirects to the provider's authorization
   endpoint (scope ``openid``, the code challenge, the state and the nonce).
2. ``GET /signin/callback?code=...&state=...``: the state must be the cookie's (compared in
   constant time; a sign-in started in another browser, or a state changed on the way, is
   refused), the response's ``iss`` if present the issuer (RFC 9207). The code is exchanged at
   the token endpoint (client secret by HTTP Basic, or in the body if the provider only takes
   that; the PKCE verifier), and the ID token checked: its signature by a key of the
   provider's JWKS with an algorithm the provider announces (never ``none`` or a MAC),
   ``iss`` the issuer, ``aud`` holding the client id (and ``azp`` it when there are several
   audiences), ``exp`` not passed and ``iat`` not in the future (:data:`LEEWAY` seconds
   allowed), ``nonce`` the cookie's, ``sub`` present. Then the account (issuer, ``sub``) gets
   its credential from the pool (:meth:`Referendums.assign_credential`: the same one if it
   signed in before; in a poll of several shards, from the account's own shard whichever one
   it signed in for) and the browser is sent to ``/booth/UUID#credential=CREDENTIAL``: in the
   fragment, which browsers never send to a server, so the credential is in no request and
   no log. The cookie is removed.

``GET /signin/poll/PID`` starts the same flow for an open poll as a whole (a voter follows
the poll's one link; the callback picks the account's shard).

They are browser navigations answered by redirects, as the web pages are, so they are not in
``/openapi.json``. Every refusal is the server's error shape naming what is wrong (the state,
the nonce, the ID token's claim or signature, the provider's own error code): 422 for what the
browser or the provider sent, 403 when the provider refused the sign-in, 409
``pool_exhausted`` when every credential of the pool is given, 503 ``oidc_unavailable`` when
the provider cannot be reached or answers nonsense. What the provider sends is read with size
limits before it is parsed. The authorization code is in the callback's query string (as OAuth
has it): it is single-use and worthless without the PKCE verifier and the client secret, and
the server keeps no access log anyway. Refused callbacks are counted per client address
(:data:`FAILED_SIGN_INS`, then 429), once refused, so a right one always goes through. Nothing
here logs a code, a token, a credential or a ``sub``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import anyio
import httpx
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from plebiscite import strictjson
from plebiscite.crypto.signing import SigningKey
from plebiscite.errors import PlebisciteError
from plebiscite.server.context import referendums_of
from plebiscite.server.ratelimit import Limit, app_buckets, charge
from plebiscite.service.errors import Forbidden, Invalid, NotFound, Unavailable
from plebiscite.service.pool import Account

__all__ = [
    "COOKIE",
    "COOKIE_SECONDS",
    "OidcConfig",
    "OidcUnavailable",
    "RelyingParty",
    "check_id_token",
    "router",
]

log = logging.getLogger(__name__)

COOKIE = "plebiscite_signin"
#: how long a sign-in may take, from ``GET /signin/UUID`` to the callback
COOKIE_SECONDS = 600
#: the clock difference allowed with the provider (seconds)
LEEWAY = 60
#: at most one JWKS fetch in this many seconds for an unknown key id
JWKS_REFRESH = 30.0
#: the largest document taken from the provider (discovery, JWKS, token response)
MAX_DOCUMENT = 256 << 10
#: the largest ID token
MAX_ID_TOKEN = 16 << 10
#: failed callbacks (a wrong state, cookie, code or ID token) per client address: twenty,
#: then one every three seconds (429 past it)
FAILED_SIGN_INS = Limit(20, 1 / 3)
#: signature algorithms accepted for an ID token (asymmetric only)
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA")


class OidcUnavailable(Unavailable):
    """The provider could not be reached or answered something unusable (503)."""


@dataclass(frozen=True)
class OidcConfig:
    """The provider and this server's client at it."""

    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    #: where the provider sends the browser back (default: the server's public URL, or the
    #: address of the request, followed by ``/signin/callback``)
    redirect_uri: str | None = None


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def check_id_token(
    token: str,
    keys: KeySet,
    *,
    issuer: str,
    client_id: str,
    nonce: str,
    now: float,
    algorithms: tuple[str, ...] = ("RS256",),
) -> dict[str, Any]:
    """The claims of ``token`` once checked (OpenID Connect Core 1.0, section 3.1.3.7); Invalid
    (``bad_id_token``) naming the first check that fails."""

    def bad(what: str, message: str) -> Invalid:
        return Invalid("bad_id_token", f"the ID token {message}", where=f"id_token.{what}")

    if not isinstance(token, str) or not token or len(token) > MAX_ID_TOKEN:
        raise bad("", f"is missing or longer than {MAX_ID_TOKEN} characters")
    try:
        header = json.loads(_unb64(token.split(".", 1)[0]))
    except (ValueError, UnicodeDecodeError):
        raise bad("header", "is not a signed JWT") from None
    alg = header.get("alg") if isinstance(header, dict) else None
    if alg not in algorithms:
        raise bad(
            "header.alg",
            f"is signed with {alg!r}, not with an algorithm the provider announces and this "
            f"server accepts ({', '.join(algorithms)})",
        )
    try:
        decoded = jwt.decode(token, keys, algorithms=list(algorithms))
    except JoseError as e:
        raise bad("signature", f"does not verify with the provider's keys ({e.error})") from None
    except ValueError as e:
        raise bad("", f"is malformed ({e})") from None
    claims: dict[str, Any] = dict(decoded.claims)
    if claims.get("iss") != issuer:
        raise bad("iss", f"was issued by {claims.get('iss')!r}, not by {issuer!r}")
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if client_id not in audiences:
        raise bad("aud", "is not meant for this server (its client id is not in aud)")
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise bad("azp", "has several audiences and its azp is not this server's client id")
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise bad("exp", "has no expiry time")
    if now > exp + LEEWAY:
        raise bad("exp", f"expired {int(now - exp)} s ago")
    if not isinstance(iat, int | float) or isinstance(iat, bool) or iat > now + LEEWAY:
        raise bad("iat", "has no issue time, or one in the future")
    got = claims.get("nonce")
    if not isinstance(got, str) or not hmac.compare_digest(got.encode(), nonce.encode()):
        raise bad("nonce", "does not carry the nonce of this sign-in (a token of another one)")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub or len(sub) > 255:
        raise bad("sub", "names no subject (sub is 1 to 255 characters)")
    return claims


class RelyingParty:
    """This server as an OpenID Connect client of one provider.

    ``key``: the server's signing key (the sign-in cookies are sealed under a key derived from
    it); ``transport``: the seam of the provider's connections (default: the network)."""

    def __init__(
        self,
        config: OidcConfig,
        key: SigningKey,
        *,
        clock: Callable[[], float] = time.time,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config
        self.issuer = config.issuer.rstrip("/")
        self.clock = clock
        self._cookie_key = AESGCM(
            HKDF(
                algorithm=hashes.SHA256(),
                length=32,
                salt=None,
                info=b"plebiscite: the sign-in cookies, version 1",
            ).derive(key.seed)
        )
        self._transport = transport
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None
        self._keys_at = 0.0
        self._lock = anyio.Lock()

    # -- the provider --

    async def _get_json(
        self, method: str, url: str, what: str, **kw: Any
    ) -> tuple[int, dict[str, Any]]:
        """A JSON object from the provider, read within :data:`MAX_DOCUMENT` bytes."""
        try:
            async with (
                httpx.AsyncClient(timeout=10.0, transport=self._transport) as client,
                client.stream(method, url, **kw) as r,
            ):
                body = b""
                async for chunk in r.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_DOCUMENT:
                        raise OidcUnavailable(
                            "oidc_unavailable",
                            f"the provider's {what} is over {MAX_DOCUMENT} bytes",
                            where=what,
                        )
                status = r.status_code
        except httpx.HTTPError as e:
            raise OidcUnavailable(
                "oidc_unavailable",
                f"the identity provider could not be reached for its {what} "
                f"({type(e).__name__}): try again later",
                where=what,
            ) from None
        try:
            value = strictjson.loads(body, max_size=MAX_DOCUMENT, where=what)
        except PlebisciteError as e:
            raise OidcUnavailable(
                "oidc_unavailable", f"the provider's {what} is not JSON: {e}", where=what
            ) from None
        if not isinstance(value, dict):
            raise OidcUnavailable(
                "oidc_unavailable", f"the provider's {what} is not a JSON object", where=what
            )
        return status, value

    async def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (fetched once, checked)."""
        if self._metadata is not None:
            return self._metadata
        async with self._lock:
            if self._metadata is None:
                url = f"{self.issuer}/.well-known/openid-configuration"
                status, m = await self._get_json("GET", url, "discovery document")
                if status != 200:
                    raise OidcUnavailable(
                        "oidc_unavailable",
                        f"the provider's discovery document answered {status}",
                        where="discovery document",
                    )
                if m.get("issuer") != self.issuer:
                    raise OidcUnavailable(
                        "oidc_unavailable",
                        f"the discovery document names the issuer {m.get('issuer')!r}, not "
                        f"the configured {self.issuer!r}",
                        where="discovery document.issuer",
                    )
                for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                    if not isinstance(m.get(name), str) or not m[name].startswith(
                        ("https://", "http://")
                    ):
                        raise OidcUnavailable(
                            "oidc_unavailable",
                            f"the discovery document has no {name}",
                            where=f"discovery document.{name}",
                        )
                self._metadata = m
        assert self._metadata is not None
        return self._metadata

    def algorithms(self, m: dict[str, Any]) -> tuple[str, ...]:
        offered = m.get("id_token_signing_alg_values_supported") or ["RS256"]
        return tuple(a for a in ALGORITHMS if a in offered) or ("RS256",)

    async def keys(self, *, refresh: bool = False) -> KeySet:
        """The provider's JWKS (fetched again when ``refresh``, at most every
        :data:`JWKS_REFRESH` seconds)."""
        now = time.monotonic()
        if self._keys is not None and not (refresh and now - self._keys_at > JWKS_REFRESH):
            return self._keys
        m = await self.metadata()
        status, jwks = await self._get_json("GET", m["jwks_uri"], "JWKS")
        try:
            if status != 200:
                raise ValueError(f"it answered {status}")
            keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError, KeyError) as e:
            raise OidcUnavailable(
                "oidc_unavailable", f"the provider's JWKS is unusable: {e}", where="JWKS"
            ) from None
        self._keys, self._keys_at = keys, now
        return keys

    # -- the cookie --

    def _seal(self, value: dict[str, Any]) -> str:
        nonce = secrets.token_bytes(12)
        raw = self._cookie_key.encrypt(nonce, json.dumps(value).encode(), COOKIE.encode())
        return _b64(nonce + raw)

    def _unseal(self, text: str | None) -> dict[str, Any]:
        if not text:
            raise Invalid(
                "signin_expired",
                "no sign-in is under way in this browser (its cookie is missing: it expired "
                f"after {COOKIE_SECONDS} s, or the browser refused it): start again",
                where="cookie",
            )
        try:
            raw = _unb64(text)
            value = json.loads(self._cookie_key.decrypt(raw[:12], raw[12:], COOKIE.encode()))
        except (InvalidTag, ValueError, UnicodeDecodeError):
            raise Invalid(
                "bad_cookie", "the sign-in cookie is not one this server made", where="cookie"
            ) from None
        if not isinstance(value, dict) or self.clock() > value.get("e", 0):
            raise Invalid(
                "signin_expired",
                f"the sign-in took more than {COOKIE_SECONDS} s: start again",
                where="cookie",
            )
        return value

    # -- the flow --

    async def start(self, uuid: str, redirect_uri: str) -> tuple[str, str]:
        """The provider's authorization URL for a sign-in to election ``uuid`` and the sealed
        cookie that binds it to the browser."""
        m = await self.metadata()
        state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
        challenge = _b64(hashlib.sha256(verifier.encode()).digest())
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.config.client_id,
                "redirect_uri": redirect_uri,
                "scope": "openid",
                "state": state,
                "nonce": nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        endpoint = m["authorization_endpoint"]
        url = f"{endpoint}{'&' if urlsplit(endpoint).query else '?'}{query}"
        cookie = self._seal(
            {"s": state, "n": nonce, "v": verifier, "u": uuid, "e": self.clock() + COOKIE_SECONDS}
        )
        return url, cookie

    async def finish(
        self, params: dict[str, str], cookie: str | None, redirect_uri: str
    ) -> tuple[str, Account]:
        """Check the provider's answer (the callback's query) against the browser's cookie,
        exchange the code and check the ID token: the election's uuid and the account."""
        signin = self._unseal(cookie)
        state = params.get("state", "")
        if not state or not hmac.compare_digest(state.encode(), str(signin["s"]).encode()):
            raise Invalid(
                "bad_state",
                "the state is not the one of the sign-in under way in this browser (a "
                "sign-in started elsewhere, or a changed state): start again",
                where="state",
            )
        if "iss" in params and params["iss"] != self.issuer:
            raise Invalid(
                "bad_issuer",
                f"the answer comes from the issuer {params['iss']!r}, not {self.issuer!r}",
                where="iss",
            )
        if "error" in params:
            code = "".join(c for c in params["error"][:64] if c.isalnum() or c in "_-")
            raise Forbidden("signin_refused", f"the identity provider refused the sign-in: {code}")
        code = params.get("code", "")
        if not code or len(code) > 4096:
            raise Invalid("bad_request", "the provider's answer has no code", where="code")
        m = await self.metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": str(signin["v"]),
        }
        auth: tuple[str, str] | None = (self.config.client_id, self.config.client_secret)
        methods = m.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        if "client_secret_basic" not in methods and "client_secret_post" in methods:
            form |= {"client_id": self.config.client_id, "client_secret": self.config.client_secret}
            auth = None
        status, answer = await self._get_json(
            "POST", m["token_endpoint"], "token response", data=form, auth=auth
        )
        if status != 200:
            error = "".join(c for c in str(answer.get("error", ""))[:64] if c.isalnum() or c in "_")
            raise Invalid(
                "bad_code",
                f"the provider did not exchange the code ({status} {error}): start again",
                where="code",
            )
        token = answer.get("id_token")
        if not isinstance(token, str):
            raise Invalid("bad_id_token", "the provider sent no ID token", where="id_token")
        algorithms = self.algorithms(m)
        keys = await self.keys()
        kid = _kid(token)
        if kid is not None and not any(k.kid == kid for k in keys.keys):
            keys = await self.keys(refresh=True)  # the provider rotated its keys
        claims = check_id_token(
            token,
            keys,
            issuer=self.issuer,
            client_id=self.config.client_id,
            nonce=str(signin["n"]),
            now=self.clock(),
            algorithms=algorithms,
        )
        return str(signin["u"]), Account(self.issuer, str(claims["sub"]))


def _kid(token: str) -> str | None:
    try:
        header = json.loads(_unb64(token.split(".", 1)[0]))
    except (ValueError, UnicodeDecodeError):
        return None
    kid = header.get("kid") if isinstance(header, dict) else None
    return kid if isinstance(kid, str) else None


# -- routes --------------------------------------------------------------------------------------

#: browser navigations answered by redirects, as the pages are: not in ``/openapi.json``
router = APIRouter(tags=["sign-in"], include_in_schema=False)


def _party(request: Request) -> RelyingParty:
    rp: RelyingParty | None = getattr(request.app.state, "oidc", None)
    if rp is None:
        raise NotFound(
            "sign_in_unavailable",
            "this server has no OpenID Connect provider configured: nobody signs in here",
        )
    return rp


def _redirect_uri(request: Request, rp: RelyingParty) -> str:
    if rp.config.redirect_uri:
        return rp.config.redirect_uri
    base: str | None = request.app.state.public_url
    return f"{base or str(request.base_url).rstrip('/')}/signin/callback"


def _secure(request: Request) -> bool:
    base: str | None = request.app.state.public_url
    return (base or str(request.base_url)).startswith("https:")


_NO_STORE = {"cache-control": "no-store"}


@router.get(
    "/signin/callback",
    summary="Where the identity provider sends the voter back",
    description="Checks the provider's answer against this browser's sign-in (state, nonce, "
    "the ID token's signature and claims), gives the account its credential from the pool "
    "(the same one at every sign-in) and redirects to `/booth/UUID#credential=...`.",
)
async def callback(request: Request) -> Response:
    rp = _party(request)
    params = {k: v for k, v in request.query_params.items() if len(k) < 64}
    try:
        uuid, account = await rp.finish(
            params, request.cookies.get(COOKIE), _redirect_uri(request, rp)
        )
    except (Invalid, Forbidden):
        # counted per client address once refused (a right answer always goes through)
        buckets = app_buckets(request.app.state, "failed-sign-ins", FAILED_SIGN_INS)
        await charge(buckets, request.client.host if request.client else "", "failed sign-ins")
        raise
    uuid, got = await referendums_of(request).assign_credential(uuid, account)
    response = RedirectResponse(
        f"/booth/{quote(uuid, safe='')}#credential={quote(got.credential, safe='')}",
        status_code=303,
        headers=_NO_STORE,
    )
    response.delete_cookie(COOKIE, path="/signin", httponly=True, samesite="lax")
    return response


async def _start(request: Request, rp: RelyingParty, uuid: str) -> Response:
    await referendums_of(request).sign_in_check(uuid)
    url, cookie = await rp.start(uuid, _redirect_uri(request, rp))
    response = RedirectResponse(url, status_code=303, headers=_NO_STORE)
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=COOKIE_SECONDS,
        path="/signin",
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    return response


@router.get(
    "/signin/poll/{pid}",
    summary="Sign in for a credential of an open poll",
    description="As `/signin/UUID`, for the poll as a whole: the account gets its credential "
    "from its own shard (the same one whichever way it signs in).",
)
async def signin_poll(request: Request, pid: str) -> Response:
    rp = _party(request)
    if len(pid) > 200:
        raise NotFound("unknown_poll", "no poll has this id")
    uuids = await referendums_of(request).pool_regions(pid)
    return await _start(request, rp, uuids[0])


@router.get(
    "/signin/{uuid}",
    summary="Sign in for a credential of a poll's pool",
    description="Redirects to the identity provider (authorization code flow with PKCE); the "
    "sign-in is bound to this browser by a short-lived HttpOnly cookie.",
)
async def signin(request: Request, uuid: str) -> Response:
    rp = _party(request)
    if len(uuid) > 64:
        raise NotFound("no_pool", "no election with a credential pool has this uuid")
    return await _start(request, rp, uuid)
