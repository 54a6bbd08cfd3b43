"""Open polls for the members of an identity provider: a region whose credentials are a pool,
handed to the accounts that sign in with OpenID Connect (:mod:`plebiscite.server.signin`,
:mod:`plebiscite.service.pool`), against a real provider (``tests/oidc/provider.mjs``) and, for
the concurrent assignments, two ``plebiscite serve`` processes on one PostgreSQL database.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import secrets
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey

import oidc
from plebiscite.board.sqlite import SQLiteBoard
from plebiscite.cli.demo_server import status
from plebiscite.client import Administrator, PartyError, Trustee, Voter
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.crypto.signing import SigningKey
from plebiscite.protocol.archive import iter_members
from plebiscite.protocol.record import read_record
from plebiscite.protocol.verifier import verify_archive
from plebiscite.server.app import create_app
from plebiscite.server.ratelimit import RateLimits
from plebiscite.server.signin import COOKIE, OidcConfig, check_id_token
from plebiscite.service.errors import Invalid
from server.test_lifecycle import NO, TOKEN, YES, A, B, belenios_verify, error, record
from server.test_robustness import TOKEN as SERVE_TOKEN
from server.test_robustness import Server

POOL = 5


def make_app(tmp_path: Path, provider: oidc.Provider | None):
    board = SQLiteBoard(tmp_path / "board.db")
    config = None
    if provider is not None:
        config = OidcConfig(
            provider.issuer, provider.client_id, provider.client_secret, oidc.REDIRECT_URI
        )
    app = create_app(
        board,
        admin_token=TOKEN,
        key=SigningKey.from_seed(b"\x07" * 32),
        rate_limits=RateLimits.off(),
        oidc=config,
    )
    return board, app


@pytest.fixture
def client(tmp_path, oidc_provider):
    board, app = make_app(tmp_path, oidc_provider)
    with TestClient(app, follow_redirects=False) as c:
        yield c
    board.close()


def open_pool_referendum(
    http: httpx.Client, rid: str = "charter", pool: int = POOL, token: str = TOKEN
):
    """A referendum whose North region is a pool of ``pool`` credentials (South a voter
    list), the ceremony done and voting open: the opening's answer."""
    rng = DeterministicRandom(f"signin {rid}")
    admin = Administrator(http, token)
    created = admin.create(
        record(id=rid), {"North": {"pool": pool}, "South": ["b1", "b2"]}, sign_in="oidc"
    )
    assert created["sign_in"] == "oidc"
    north = next(r for r in created["regions"] if r["name"] == "North")
    assert north["pool"] == pool
    trustees = [Trustee(http, rid, t["index"], t["token"], rng) for t in created["trustees"]]
    for step in ("send_certificate", "send_polynomial", "send_voutput"):
        for t in trustees:
            getattr(t, step)()
    return admin.open(rid)


def browser() -> httpx.Client:
    return httpx.Client(timeout=30, follow_redirects=False)


def test_a_pool_needs_a_provider_the_server_as_authority_and_sign_in(tmp_path, oidc_provider):
    board, app = make_app(tmp_path, None)  # no provider configured
    with TestClient(app) as c:
        admin = Administrator(c, TOKEN)
        with pytest.raises(PartyError) as e:
            admin.create(record(), {"North": {"pool": 5}, "South": ["b1"]}, sign_in="oidc")
        assert error(e)[:2] == (422, "sign_in_unavailable")
        assert "--oidc-issuer" in error(e)[2]
        r = c.get("/signin/0123456789abcd")
        assert r.status_code == 404 and r.json()["error"]["code"] == "sign_in_unavailable"
    board.close()
    (tmp_path / "b").mkdir()
    board, app = make_app(tmp_path / "b", oidc_provider)
    with TestClient(app) as c:
        admin = Administrator(c, TOKEN)
        for voters, authorities, sign_in, what in (
            ({"North": {"pool": 5}, "South": ["b1"]}, {"North": "external"}, "oidc", "authority"),
            ({"North": {"pool": 5}, "South": ["b1"]}, None, None, '"sign_in": "oidc"'),
            ({"North": ["a1"], "South": ["b1"]}, None, "oidc", "none has one"),
            ({"North": {"pool": 0}, "South": ["b1"]}, None, "oidc", "pool"),
            ({"North": {"pool": 5, "x": 1}, "South": ["b1"]}, None, "oidc", "x"),
        ):
            with pytest.raises(PartyError) as e:
                admin.create(record(), voters, authorities, sign_in=sign_in)
            assert error(e)[0] == 422 and what in error(e)[2], error(e)
        with pytest.raises(PartyError) as e:
            admin.create(record(), {"North": {"pool": 5}, "South": ["b1"]}, sign_in="saml")
        assert error(e)[0] == 422 and "oidc" in error(e)[2]
    board.close()


def test_accounts_sign_in_for_one_credential_each_of_the_pool(
    client, oidc_provider, caplog, tmp_path
):
    caplog.set_level(logging.DEBUG)
    rng = DeterministicRandom("signin voters")
    opened = open_pool_referendum(client)
    north = next(r for r in opened["regions"] if r["name"] == "North")
    uuid = north["election"]
    # the server keeps the pool's credentials: none goes to the administrator
    assert north["credentials"] is None and north["pool"] == POOL
    st = status(client, "charter")
    assert st["sign_in"] == "oidc"
    region = next(r for r in st["regions"] if r["name"] == "North")
    assert region["roll"] == POOL and region["credential_authority"] == "server"
    assert region["pool"]["size"] == POOL and region["pool"]["assigned"] == 0
    assert "could cast the unassigned ones" in region["pool"]["powers"]
    # the pool's size is public: on the record board's Opened event, and on the board
    board = read_record(
        iter_members(io.BytesIO(client.get("/api/referendums/charter/record").content))
    )
    assert next(r for r in board.regions if r.name == "North").pool == POOL
    assert next(r for r in board.regions if r.name == "South").pool is None
    data = client.get(f"/api/elections/{uuid}/archive").content
    report = verify_archive(lambda: io.BytesIO(data))
    assert report.valid and report.voters == POOL

    got: dict[str, str] = {}
    secrets_seen: list[str] = []
    for k in (1, 2, 3):
        login = f"voter{k}"
        with browser() as b:
            signed = oidc.sign_in(client, b, uuid, login)
        assert signed.response.status_code == 303, signed.response.text
        assert signed.location == f"/booth/{uuid}#credential={signed.credential}"
        assert signed.response.headers["cache-control"] == "no-store"
        assert COOKIE in signed.response.headers["set-cookie"]  # removed
        got[login] = signed.credential
        secrets_seen.append(oidc.subject_of(login))
    assert len(set(got.values())) == 3
    # each is a credential of the board: its ballot is accepted
    for login, cred in got.items():
        Voter(client, "charter", "North", cred, rng).vote([YES, A])
    # signing in again gives the same one (so the account can revote)
    with browser() as b:
        again = oidc.sign_in(client, b, uuid, "voter2")
    assert again.credential == got["voter2"]
    Voter(client, "charter", "North", again.credential, rng).vote([NO, B])
    st = status(client, "charter")
    assert next(r for r in st["regions"] if r["name"] == "North")["pool"]["assigned"] == 3
    for k in (4, 5):
        with browser() as b:
            signed = oidc.sign_in(client, b, uuid, f"voter{k}")
        assert signed.credential is not None
        got[f"voter{k}"] = signed.credential
    assert len(set(got.values())) == POOL
    # a sixth account: the pool is exhausted; the first ones still get theirs
    with browser() as b:
        sixth = oidc.sign_in(client, b, uuid, "voter6")
    assert sixth.response.status_code == 409, sixth.response.text
    assert sixth.response.json()["error"]["code"] == "pool_exhausted"
    with browser() as b:
        assert oidc.sign_in(client, b, uuid, "voter5").credential == got["voter5"]
    st = status(client, "charter")
    assert next(r for r in st["regions"] if r["name"] == "North")["pool"]["assigned"] == POOL
    # a region with a voter list has no pool
    south = next(r for r in opened["regions"] if r["name"] == "South")["election"]
    r = client.get(f"/signin/{south}")
    assert r.status_code == 404 and r.json()["error"]["code"] == "no_pool"
    data = client.get(f"/api/elections/{uuid}/archive").content
    report = verify_archive(lambda: io.BytesIO(data))
    assert report.valid and report.ballots == 4
    belenios_verify(tmp_path, uuid, data)  # belenios-tool 3.0 accepts the pool's board
    # no credential, account or code in the logs
    for secret in [*got.values(), *secrets_seen, oidc_provider.client_secret]:
        assert secret not in caplog.text


def test_the_pool_and_its_accounts_survive_a_restart(tmp_path, oidc_provider):
    board, app = make_app(tmp_path, oidc_provider)
    with TestClient(app, follow_redirects=False) as c:
        opened = open_pool_referendum(c, pool=2)
        uuid = next(r for r in opened["regions"] if r["name"] == "North")["election"]
        with browser() as b:
            first = oidc.sign_in(c, b, uuid, "voter1").credential
    board.close()
    board, app = make_app(tmp_path, oidc_provider)  # the same database and key
    with TestClient(app, follow_redirects=False) as c:
        st = status(c, "charter")
        north = next(r for r in st["regions"] if r["name"] == "North")
        assert north["pool"] == {**north["pool"], "size": 2, "assigned": 1}
        with browser() as b:
            assert oidc.sign_in(c, b, uuid, "voter1").credential == first
        with browser() as b:
            second = oidc.sign_in(c, b, uuid, "voter2").credential
        assert second not in (None, first)
        # once voting is closed, nobody signs in for a credential any more
        Administrator(c, TOKEN).close("charter")
        r = c.get(f"/signin/{uuid}")
        assert r.status_code == 409 and r.json()["error"]["code"] == "voting_closed"
    board.close()


def test_a_provider_that_cannot_be_reached_is_a_503_and_nothing_is_given(tmp_path):
    board = SQLiteBoard(tmp_path / "board.db")
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    app = create_app(
        board,
        admin_token=TOKEN,
        key=SigningKey.from_seed(b"\x07" * 32),
        rate_limits=RateLimits.off(),
        oidc=OidcConfig(closed, "client", "secret", oidc.REDIRECT_URI),
    )
    with TestClient(app, follow_redirects=False) as c:
        opened = open_pool_referendum(c, pool=1)
        uuid = next(r for r in opened["regions"] if r["name"] == "North")["election"]
        r = c.get(f"/signin/{uuid}")
        assert r.status_code == 503, r.text
        e = r.json()["error"]
        assert e["code"] == "oidc_unavailable" and "discovery document" in e["message"]
        assert "set-cookie" not in r.headers
        st = status(c, "charter")
        assert next(x for x in st["regions"] if x["name"] == "North")["pool"]["assigned"] == 0
    board.close()


def test_tampered_sign_ins_are_refused_naming_what_is_wrong(client, oidc_provider):
    opened = open_pool_referendum(client)
    uuid = next(r for r in opened["regions"] if r["name"] == "North")["election"]

    def refused(signed: oidc.SignedIn, status: int, code: str, where: str) -> None:
        r = signed.response
        assert r.status_code == status, r.text
        e = r.json()["error"]
        assert e["code"] == code and where in e["message"], e

    with browser() as b:  # the state changed on the way back
        signed = oidc.sign_in(client, b, uuid, "voter1", callback_params={"state": "x" * 43})
    refused(signed, 422, "bad_state", "state")
    with browser() as b:  # the nonce changed on the way to the provider
        signed = oidc.sign_in(client, b, uuid, "voter1", tamper={"nonce": "forged"})
    refused(signed, 422, "bad_id_token", "nonce")
    with browser() as b:  # another issuer's answer (RFC 9207)
        signed = oidc.sign_in(
            client, b, uuid, "voter1", callback_params={"iss": "http://evil.example"}
        )
    refused(signed, 422, "bad_issuer", "iss")
    with browser() as b:  # a code not of this sign-in
        signed = oidc.sign_in(client, b, uuid, "voter1", callback_params={"code": "forged"})
    refused(signed, 422, "bad_code", "code")
    with browser() as b:  # the provider's refusal
        signed = oidc.sign_in(client, b, uuid, "voter1", callback_params={"error": "access_denied"})
    refused(signed, 403, "signin_refused", "access_denied")
    # the callback in a browser that did not start the sign-in: no cookie, or a forged one
    r = client.get(f"/signin/{uuid}")
    assert r.status_code == 303
    state = httpx.URL(r.headers["location"]).params["state"]
    with browser() as b:
        answer = oidc.provider_answer(b, r.headers["location"], "voter1")
    assert answer["state"] == state
    with TestClient(client.app, follow_redirects=False) as other:
        r = other.get("/signin/callback", params=answer)
        assert r.status_code == 422 and r.json()["error"]["code"] == "signin_expired"
        other.cookies.set(COOKIE, "A" * 80, path="/signin")
        r = other.get("/signin/callback", params=answer)
        assert r.status_code == 422 and r.json()["error"]["code"] == "bad_cookie"
    # nothing was given by all these
    st = status(client, "charter")
    assert next(r for r in st["regions"] if r["name"] == "North")["pool"]["assigned"] == 0
    # and the right one still works (the code is single-use at the provider: a fresh one)
    with browser() as b:
        assert oidc.sign_in(client, b, uuid, "voter1").credential is not None
    # refused callbacks are counted per address: past twenty, 429; a right one goes through
    codes = []
    for _ in range(25):
        r = client.get("/signin/callback", params={"state": "x", "code": "y"})
        codes.append(r.status_code)
    assert codes[:13] == [422] * 13 and codes[-1] == 429, codes  # 7 refused above
    assert "retry-after" in r.headers
    with browser() as b:
        assert oidc.sign_in(client, b, uuid, "voter2").credential is not None


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def real_id_token(provider: oidc.Provider, nonce: str) -> str:
    """An ID token of the provider for voter1, the test acting as the client itself."""
    verifier = secrets.token_urlsafe(32)
    with browser() as b:
        config = b.get(f"{provider.issuer}/.well-known/openid-configuration").json()
        url = httpx.URL(
            config["authorization_endpoint"],
            params={
                "response_type": "code",
                "client_id": provider.client_id,
                "redirect_uri": "http://127.0.0.1:1/signin/callback",
                "scope": "openid",
                "state": "s",
                "nonce": nonce,
                "code_challenge": _b64(hashlib.sha256(verifier.encode()).digest()),
                "code_challenge_method": "S256",
            },
        )
        answer = oidc.provider_answer(b, str(url), "voter1")
        r = b.post(
            config["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": answer["code"],
                "redirect_uri": "http://127.0.0.1:1/signin/callback",
                "code_verifier": verifier,
            },
            auth=(provider.client_id, provider.client_secret),
        )
        assert r.status_code == 200, r.text
        keys = KeySet.import_key_set(b.get(config["jwks_uri"]).json())
    token: str = r.json()["id_token"]
    return token, keys


def test_id_tokens_are_checked_signature_and_claims(oidc_provider):
    token, keys = real_id_token(oidc_provider, "n-1")
    check = dict(issuer=oidc_provider.issuer, client_id=oidc_provider.client_id, nonce="n-1")
    claims = check_id_token(token, keys, now=time.time(), **check)
    assert claims["sub"] == oidc.subject_of("voter1")

    def refused(tok: str, where: str, **changes) -> None:
        with pytest.raises(Invalid) as e:
            check_id_token(tok, keys, **({"now": time.time(), **check} | changes))
        assert e.value.code == "bad_id_token" and e.value.where == f"id_token.{where}", e.value

    # the real token, changed: its payload (another sub), its signature
    h, p, s = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
    forged = _b64(json.dumps(payload | {"sub": "someone else"}).encode())
    refused(f"{h}.{forged}.{s}", "signature")
    refused(f"{h}.{p}.{s[:-4]}AAAA", "signature")
    # its claims against another sign-in, client, issuer, time
    refused(token, "nonce", nonce="n-2")
    refused(token, "aud", client_id="another-client")
    refused(token, "iss", issuer="http://127.0.0.1:1")
    refused(token, "exp", now=payload["exp"] + 3600)
    refused(token, "iat", now=payload["iat"] - 3600)
    # tokens the provider did not sign: by another key under its key id, unsigned, a MAC
    kid = json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))["kid"]
    other = RSAKey.generate_key(2048, parameters={"kid": kid})
    refused(jwt.encode({"alg": "RS256", "kid": kid}, payload, other), "signature")
    unsigned = f"{_b64(json.dumps({'alg': 'none'}).encode())}.{p}."
    refused(unsigned, "header.alg")
    mac = OctKey.import_key(b"k" * 32)
    refused(jwt.encode({"alg": "HS256"}, payload, mac, algorithms=["HS256"]), "header.alg")
    refused("not a token", "header")
    # several audiences: azp must be this client
    mine = RSAKey.generate_key(2048, parameters={"kid": "mine"})
    own = KeySet([mine])
    claims = payload | {"aud": [oidc_provider.client_id, "another"]}
    with pytest.raises(Invalid) as e:
        check_id_token(
            jwt.encode({"alg": "RS256", "kid": "mine"}, claims, mine),
            own,
            now=time.time(),
            **check,
        )
    assert e.value.where == "id_token.azp"
    signed = jwt.encode(
        {"alg": "RS256", "kid": "mine"}, claims | {"azp": oidc_provider.client_id}, mine
    )
    assert check_id_token(signed, own, now=time.time(), **check)["sub"] == payload["sub"]


def test_a_provider_that_changed_its_signing_key_is_followed(tmp_path, monkeypatch):
    """The provider restarted with a new key: the server fetches its JWKS again for the ID
    token's unknown key id (at most every JWKS_REFRESH seconds, here at once)."""
    from plebiscite.server import signin

    monkeypatch.setattr(signin, "JWKS_REFRESH", 0.0)
    first = oidc.start()
    port = int(first.issuer.rsplit(":", 1)[1])
    board = SQLiteBoard(tmp_path / "board.db")
    app = create_app(
        board,
        admin_token=TOKEN,
        key=SigningKey.from_seed(b"\x07" * 32),
        rate_limits=RateLimits.off(),
        oidc=OidcConfig(first.issuer, first.client_id, first.client_secret, oidc.REDIRECT_URI),
    )
    second = None
    try:
        with TestClient(app, follow_redirects=False) as c:
            opened = open_pool_referendum(c, pool=2)
            uuid = next(r for r in opened["regions"] if r["name"] == "North")["election"]
            with browser() as b:
                before = oidc.sign_in(c, b, uuid, "voter1").credential
            assert before is not None
            first.stop()
            second = oidc.start(port=port, secret=first.client_secret)  # a new key
            with browser() as b:
                assert oidc.sign_in(c, b, uuid, "voter1").credential == before
    finally:
        first.stop()
        if second is not None:
            second.stop()
        board.close()


def test_two_processes_on_postgresql_never_hand_one_credential_twice(
    pg_server, tmp_path, oidc_provider
):
    pool, accounts = 8, 12
    with pg_server.fresh_database() as dsn:
        dirs = [tmp_path / "a", tmp_path / "b"]
        servers = []
        for i, d in enumerate(dirs):
            d.mkdir()
            if i:
                (d / "server.key").write_bytes((dirs[0] / "server.key").read_bytes())
            s = Server(dsn, d)
            s.args = oidc_provider.args
            s.env = oidc_provider.env
            s.start()
            servers.append(s)
        try:
            clients = [httpx.Client(base_url=s.url, timeout=120) for s in servers]
            opened = open_pool_referendum(clients[0], "concurrent", pool, SERVE_TOKEN)
            uuid = next(r for r in opened["regions"] if r["name"] == "North")["election"]
            results: list[tuple[str, int, str | None]] = []
            lock = threading.Lock()
            # every account signs in through both processes at once (so also races itself)
            jobs = [(f"voter{k}", s) for k in range(1, accounts + 1) for s in servers]

            def run(login: str, server: Server) -> None:
                with httpx.Client(base_url=server.url, timeout=120) as srv, browser() as b:
                    signed = oidc.sign_in(srv, b, uuid, login)
                with lock:
                    results.append((login, signed.response.status_code, signed.credential))

            threads = [threading.Thread(target=run, args=job) for job in jobs]
            for t in threads:
                t.start()
            for t in threads:
                t.join(300)
            assert len(results) == len(jobs)
            assert {code for _, code, _ in results} <= {303, 409}, results
            by_account: dict[str, set[str]] = {}
            for login, _, cred in results:
                if cred is not None:
                    by_account.setdefault(login, set()).add(cred)
            # one credential per account, whichever process it went through
            assert all(len(c) == 1 for c in by_account.values()), by_account
            creds = [next(iter(c)) for c in by_account.values()]
            # never one credential to two accounts
            assert len(set(creds)) == len(creds) <= pool
            for h in clients:
                st = status(h, "concurrent")
                north = next(r for r in st["regions"] if r["name"] == "North")
                assert north["pool"]["assigned"] == len(creds)
            # and none lost: the accounts that come later get what is left, then no more
            late = accounts + 1
            while True:
                server = servers[late % 2]
                with httpx.Client(base_url=server.url, timeout=120) as srv, browser() as b:
                    signed = oidc.sign_in(srv, b, uuid, f"voter{late}")
                late += 1
                if signed.credential is None:
                    assert signed.response.json()["error"]["code"] == "pool_exhausted"
                    break
                creds.append(signed.credential)
            assert len(set(creds)) == len(creds) == pool
            # every credential handed out is one of the board's
            rng = DeterministicRandom("concurrent ballots")
            for k, cred in enumerate(creds[:3]):
                Voter(clients[k % 2], "concurrent", "North", cred, rng).vote([YES, A])
            for h in clients:
                h.close()
        finally:
            for s in servers:
                s.stop()
        logs = "".join(p.read_text() for d in dirs for p in d.glob("server-*.log"))
        for secret in [*creds, oidc_provider.client_secret]:
            assert secret not in logs
        for k in range(1, accounts + 1):
            assert oidc.subject_of(f"voter{k}") not in logs


def test_serve_takes_the_client_secret_from_the_environment_only(tmp_path, monkeypatch):
    from cli_run import cli

    db = str(tmp_path / "board.db")
    monkeypatch.delenv("PLEBISCITE_OIDC_CLIENT_SECRET", raising=False)
    for args, what in (
        (["--oidc-issuer", "https://id.example"], "go together"),
        (["--oidc-issuer", "https://id.example", "--oidc-client-id", "x"], "PLEBISCITE_OIDC"),
        (["--oidc-issuer", "http://id.example", "--oidc-client-id", "x"], "https://"),
        (["--oidc-issuer", "ftp://127.0.0.1", "--oidc-client-id", "x"], "https://"),
    ):
        rc, out = cli(["serve", "--database", db, *args])
        assert rc == 2 and what in out, out
    with pytest.raises(SystemExit) as e:  # no such option: never on the command line
        cli(["serve", "--database", db, "--oidc-client-secret", "s"])
    assert e.value.code == 2
