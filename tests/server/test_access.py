"""Roles and access (SECURITY-CASES 21, 22, 24): administrator accounts and sessions, voter
authentication by one-time codes through the outbox, Origin checks, security headers, and
no secret in any log. In process, on a real SQLite board and its private store (the voter
flow also on PostgreSQL)."""

from __future__ import annotations

import email
import email.policy
import json
import logging
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from plebiscite import strictjson
from plebiscite.board.sqlite import SQLiteBoard
from plebiscite.crypto.groups import BELENIOS_2048
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.crypto.signing import SigningKey
from plebiscite.protocol.ballot import make_ballot
from plebiscite.protocol.election_setup import (
    VoterCredential,
    generate_credentials,
    generate_uuid,
    make_election,
    make_trustee_key,
    make_trustees,
    public_credentials_json,
)
from plebiscite.protocol.messages import Election, parse_election
from plebiscite.server import accounts, voterauth
from plebiscite.server.app import create_app
from plebiscite.server.outbox import LocalOutbox
from plebiscite.server.ratelimit import Limit, RateLimits

TOKEN = "access-admin-token-0123456789"
ADMIN = {"authorization": f"Bearer {TOKEN}"}
PASSWORD = "correct horse battery staple"
BASE = "http://testserver"
TEMPLATE = {
    "description": "Access tests",
    "name": "Access <b>poll</b>",
    "questions": [{"answers": ["Yes", "No"], "min": 1, "max": 1, "question": "Approve?"}],
}


@pytest.fixture(autouse=True)
def _fast_scrypt(monkeypatch):
    """scrypt at N=2^10 in tests (the server's default is 2^15)."""
    monkeypatch.setattr(accounts, "DEFAULT", accounts.Scrypt(n=1 << 10, r=8, p=1))


# -- an election with voters whose logins are addresses ----------------------------------------


@dataclass(frozen=True)
class Poll:
    texts: dict[str, str]
    election: Election
    voters: list[VoterCredential]  # login is an address

    @property
    def uuid(self) -> str:
        return self.election.uuid

    def ballot(self, i: int, seed: str, yes: bool = True) -> bytes:
        cred = self.voters[i].private
        return make_ballot(
            self.election, cred, [[1, 0] if yes else [0, 1]], DeterministicRandom(seed)
        )


@pytest.fixture(scope="module")
def poll() -> Poll:
    rng = DeterministicRandom("access")
    uuid = generate_uuid(rng)
    _, server_key = make_trustee_key(BELENIOS_2048, rng)
    trustees = make_trustees([("Single", server_key)], BELENIOS_2048)
    raw = make_election(strictjson.dumps_compact(TEMPLATE), uuid, BELENIOS_2048, trustees)
    voters = [(f"voter{i}@example.org", None) for i in range(6)]
    creds = generate_credentials(voters, uuid, BELENIOS_2048, rng)
    texts = {
        "election": raw.decode(),
        "trustees": trustees.decode(),
        "credentials": public_credentials_json(creds).decode(),
    }
    return Poll(texts, parse_election(raw), creds)


def make_app(tmp_path: Path, board=None, **kw):
    board = board or SQLiteBoard(tmp_path / "board.db")
    kw.setdefault("rate_limits", RateLimits.off())
    kw.setdefault("outbox", LocalOutbox(tmp_path / "outbox"))
    kw.setdefault("public_url", BASE)
    app = create_app(board, admin_token=TOKEN, key=SigningKey.from_seed(b"\x05" * 32), **kw)
    return app, board


@pytest.fixture
def client(tmp_path):
    app, board = make_app(tmp_path)
    with TestClient(app) as c:
        yield c
    board.close()


def open_poll(c: TestClient, poll: Poll, roll=None) -> None:
    r = c.post("/api/elections", json=poll.texts, headers=ADMIN)
    assert r.status_code == 201, r.text
    if roll is not None:
        r = c.post(
            f"/api/elections/{poll.uuid}/voter-authentication", json={"voters": roll}, headers=ADMIN
        )
        assert r.status_code == 200, r.text


def messages(directory: Path, count: int, timeout: float = 10) -> list[email.message.EmailMessage]:
    """The first ``count`` messages of the local outbox, waiting for the background sends."""
    deadline = time.monotonic() + timeout
    while True:
        files = sorted(directory.glob("*.eml")) if directory.exists() else []
        if len(files) >= count or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert len(files) >= count, f"{len(files)} messages, expected {count}"
    return [email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files]


def code_and_token(m) -> tuple[str, str | None]:
    body = m.get_content()
    code = re.search(r"\b([0-9A-Z]{5}-[0-9A-Z]{5})\b", body).group(1)
    link = re.search(r"#login=([A-Za-z0-9_-]+)", body)
    return code, link.group(1) if link else None


# -- administrator accounts ---------------------------------------------------------------------


def test_accounts_log_in_act_and_log_out(client, poll):
    store = client.app.state.private
    assert accounts.add_account(store, "alice", PASSWORD)
    assert not accounts.add_account(store, "alice", PASSWORD)  # exists
    with pytest.raises(ValueError):
        accounts.add_account(store, "bob", "short")
    with pytest.raises(ValueError):
        accounts.add_account(store, "bad name", PASSWORD)

    wrong = client.post("/api/session", json={"name": "alice", "password": "wrong password!"})
    unknown = client.post("/api/session", json={"name": "mallory", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()
        == unknown.json()
        == {"error": {"code": "login_failed", "message": "name or password wrong"}}
    )
    r = client.post("/api/session", json={"name": "alice", "password": PASSWORD})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    token = r.json()["token"]
    assert len(token) >= 43 and r.json()["name"] == "alice"
    session = {"authorization": f"Bearer {token}"}
    # the store keeps the token's hash only
    assert [k for k, _ in store.items(accounts.SESSION)] == [accounts.token_hash(token)]
    assert token.encode() not in b"".join(v for _, v in store.items(accounts.SESSION))

    assert client.get("/api/session", headers=session).json()["name"] == "alice"
    assert client.get("/api/session", headers=ADMIN).json()["bootstrap"] is True
    assert client.post("/api/elections", json=poll.texts, headers=session).status_code == 201
    assert client.post("/api/session/logout", headers=session).json() == {"ended": True}
    r = client.post(f"/api/elections/{poll.uuid}/close", headers=session)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    # the bootstrap token stays valid
    assert client.post(f"/api/elections/{poll.uuid}/close", headers=ADMIN).status_code == 200


def test_a_password_hash_records_salt_and_parameters(client):
    a = json.loads(accounts.hash_password(PASSWORD))
    b = json.loads(accounts.hash_password(PASSWORD, accounts.Scrypt(n=1 << 11, r=4, p=2)))
    assert a["scrypt"] == {"n": 1 << 10, "r": 8, "p": 1} and b["scrypt"] == {
        "n": 2048,
        "r": 4,
        "p": 2,
    }
    assert a["salt"] != b["salt"] and len(bytes.fromhex(a["salt"])) == 16
    assert PASSWORD not in json.dumps(a)
    for rec in (a, b):
        raw = json.dumps(rec).encode()
        assert accounts.check_password(PASSWORD, raw)
        assert not accounts.check_password(PASSWORD + "!", raw)


def test_sessions_expire_and_end_with_their_account(client, monkeypatch):
    store = client.app.state.private
    accounts.add_account(store, "alice", PASSWORD)
    token = client.post("/api/session", json={"name": "alice", "password": PASSWORD}).json()[
        "token"
    ]
    session = {"authorization": f"Bearer {token}"}
    assert client.get("/api/session", headers=session).status_code == 200
    now = time.time()
    monkeypatch.setattr(accounts, "clock", lambda: now + accounts.SESSION_SECONDS + 1)
    assert client.get("/api/session", headers=session).status_code == 401
    assert store.items(accounts.SESSION) == []  # the expired session is gone
    monkeypatch.setattr(accounts, "clock", time.time)
    token = client.post("/api/session", json={"name": "alice", "password": PASSWORD}).json()[
        "token"
    ]
    session = {"authorization": f"Bearer {token}"}
    assert accounts.remove_account(store, "alice")
    assert client.get("/api/session", headers=session).status_code == 401
    # a new password ends the sessions too
    accounts.add_account(store, "alice", PASSWORD)
    token = client.post("/api/session", json={"name": "alice", "password": PASSWORD}).json()[
        "token"
    ]
    accounts.add_account(store, "alice", PASSWORD + " 2", replace=True)
    assert (
        client.get("/api/session", headers={"authorization": f"Bearer {token}"}).status_code == 401
    )


def test_failed_logins_are_limited_per_name_whether_it_exists_or_not(client):
    accounts.add_account(client.app.state.private, "alice", PASSWORD)
    for name in ("alice", "nobody"):
        for _ in range(int(accounts.FAILURES.burst)):
            r = client.post("/api/session", json={"name": name, "password": "not the password"})
            assert r.status_code == 401
        r = client.post("/api/session", json={"name": name, "password": PASSWORD})
        assert r.status_code == 429, r.text
        assert r.json()["error"]["code"] == "rate_limited" and int(r.headers["retry-after"]) >= 1
    # another account is not affected
    accounts.add_account(client.app.state.private, "bob", PASSWORD)
    assert (
        client.post("/api/session", json={"name": "bob", "password": PASSWORD}).status_code == 200
    )
    # nor is Alice from another address: the guesses did not lock her out
    with TestClient(client.app, client=("192.0.2.7", 50000)) as elsewhere:
        r = elsewhere.post("/api/session", json={"name": "alice", "password": PASSWORD})
        assert r.status_code == 200, r.text


def test_wrong_administrator_tokens_are_limited_per_address_never_the_right_one(client):
    for _ in range(5):  # no token: not a guess
        assert client.get("/api/session").status_code == 401
    for i in range(int(accounts.BAD_TOKENS.burst)):
        r = client.get("/api/session", headers={"authorization": f"Bearer guess-{i}"})
        assert r.status_code == 401
    r = client.get("/api/session", headers={"authorization": "Bearer one-more-guess"})
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    # the right token still works from that address (a proxy's, shared by everyone behind it):
    # it is compared before the count of wrong ones is looked at
    for _ in range(3):
        assert client.get("/api/session", headers=ADMIN).status_code == 200
    assert client.get("/api/elections").status_code == 200


def test_admin_account_command(tmp_path, monkeypatch, capsys):
    from plebiscite.board.private import open_private
    from plebiscite.cli.main import main

    db = str(tmp_path / "board.db")
    monkeypatch.setenv("PLEBISCITE_ADMIN_PASSWORD", PASSWORD)
    assert main(["admin-account", "add", "carol", "--database", db]) == 0
    assert main(["admin-account", "add", "carol", "--database", db]) == 1
    assert main(["admin-account", "add", "carol", "--replace", "--database", db]) == 0
    assert main(["admin-account", "list", "--database", db]) == 0
    assert capsys.readouterr().out.split() == ["carol"]
    monkeypatch.setenv("PLEBISCITE_ADMIN_PASSWORD", "short")
    assert main(["admin-account", "add", "dave", "--database", db]) == 2
    store = open_private(db)
    try:
        ((_, record),) = store.items(accounts.ACCOUNT)
        assert accounts.check_password(PASSWORD, record)
    finally:
        store.close()
    assert main(["admin-account", "remove", "carol", "--database", db]) == 0
    assert main(["admin-account", "remove", "carol", "--database", db]) == 1
    assert PASSWORD not in capsys.readouterr().err


# -- rate limits, Origin, headers -----------------------------------------------------------------


def test_rate_limits_answer_429_with_retry_after(tmp_path, poll):
    limits = RateLimits(ballot=Limit(2, 0.01), login=Limit(3, 0.01), code=None, write=Limit(50, 1))
    app, board = make_app(tmp_path, rate_limits=limits)
    with TestClient(app) as c:
        open_poll(c, poll)
        cast = f"/api/elections/{poll.uuid}/ballots"
        assert c.post(cast, content=b"{}").status_code == 422  # counted even when refused
        assert c.post(cast, content=poll.ballot(0, "r0")).status_code == 200
        r = c.post(cast, content=poll.ballot(1, "r1"))
        assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(r.headers["retry-after"]) <= 100
        assert r.headers["x-content-type-options"] == "nosniff"
        assert c.get(f"/api/elections/{poll.uuid}").json()["ballots"] == 1  # nothing appended
        for _ in range(3):
            assert c.post("/api/session", json={"name": "x", "password": "y"}).status_code == 401
        assert c.post("/api/session", json={"name": "x", "password": "y"}).status_code == 429
        for _ in range(20):  # reads are not limited
            assert c.get(f"/api/elections/{poll.uuid}").status_code == 200
    board.close()


def test_the_default_limits_take_a_burst_of_ballots_from_one_address():
    limits = RateLimits()
    assert limits.ballot is not None and limits.ballot.burst >= 250  # tests/server/test_robustness
    assert RateLimits.parse("off") == RateLimits.off()
    assert RateLimits.parse("login=3/0.5,code=off").login == Limit(3, 0.5)
    assert RateLimits.parse("login=3/0.5,code=off").code is None
    with pytest.raises(ValueError):
        RateLimits.parse("logins=3/1")


def test_buckets_refill_and_are_per_key():
    from plebiscite.server.ratelimit import Buckets

    now = [0.0]
    b = Buckets(Limit(2, 0.5), clock=lambda: now[0], max_keys=10)
    assert b.take("a") == 0 and b.take("a") == 0
    assert b.take("a") == pytest.approx(2.0)
    assert b.take("b") == 0  # another address
    now[0] += 2
    assert b.take("a") == 0 and b.take("a") > 0
    for i in range(30):  # bounded memory
        b.take(i)
    assert len(b._buckets) <= 11


def test_cross_origin_writes_are_refused(client, poll):
    cast = f"/api/elections/{poll.uuid}/ballots"
    for headers in (
        {"origin": "https://evil.example"},
        {"origin": "null"},
        {"origin": "http://testserver:8080"},
        {"sec-fetch-site": "cross-site"},
    ):
        r = client.post(cast, content=b"{}", headers=headers)
        assert r.status_code == 403 and r.json()["error"]["code"] == "cross_origin", headers
        r = client.post("/api/session", json={"name": "a", "password": "b"}, headers=headers)
        assert r.status_code == 403
    # the server's own pages, clients without Origin, bearer-token API clients, reads
    same = {"origin": BASE, "sec-fetch-site": "same-origin"}
    assert (
        client.post("/api/session", json={"name": "a", "password": "b"}, headers=same).status_code
        == 401
    )
    assert client.post("/api/session", json={"name": "a", "password": "b"}).status_code == 401
    evil_admin = {**ADMIN, "origin": "https://evil.example"}
    assert client.post("/api/elections", json=poll.texts, headers=evil_admin).status_code == 201
    assert (
        client.get(
            f"/api/elections/{poll.uuid}", headers={"origin": "https://evil.example"}
        ).status_code
        == 200
    )


def test_the_origin_defaults_to_the_requests_host(tmp_path):
    app, board = make_app(tmp_path, public_url=None)
    with TestClient(app, base_url="https://vote.example:8443") as c:
        body = {"name": "a", "password": "b"}
        ok = c.post("/api/session", json=body, headers={"origin": "https://vote.example:8443"})
        assert ok.status_code == 401
        bad = c.post("/api/session", json=body, headers={"origin": "https://vote.example"})
        assert bad.status_code == 403
    board.close()


def test_security_headers_on_every_answer(client):
    for r in (
        client.get("/api/elections"),
        client.get("/api/elections/nope"),
        client.post("/api/elections", json={}),
        client.get("/openapi.json"),
    ):
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["x-frame-options"] == "DENY"
        assert "set-cookie" not in r.headers


# -- voter authentication ----------------------------------------------------------------------


def roll_of(poll: Poll, with_credentials: int = 0) -> dict[str, str | None]:
    """Every voter; the first ``with_credentials`` with their public credential."""
    return {
        v.login: (str(v.public) if i < with_credentials else None)
        for i, v in enumerate(poll.voters)
    }


def login(c: TestClient, uuid: str, outbox: Path, address: str, seen: int) -> tuple[str, str]:
    """Ask for a code, read it from the outbox (message ``seen + 1``), log in with it;
    the session header and the link token of that message."""
    r = c.post(f"/api/elections/{uuid}/login-code", json={"login": address})
    assert r.status_code == 202, r.text
    m = messages(outbox, seen + 1)[seen]
    assert m["To"] == address
    code, token = code_and_token(m)
    r = c.post(f"/api/elections/{uuid}/login", json={"login": address, "code": code})
    assert r.status_code == 200, r.text
    return r.json()["token"], token


@pytest.fixture(params=["sqlite", "postgres"])
def any_board(request, tmp_path):
    if request.param == "sqlite":
        board = SQLiteBoard(tmp_path / "board.db")
        yield board
        board.close()
        return
    from plebiscite.board.postgres import PostgresBoard

    with request.getfixturevalue("pg_server").fresh_database() as dsn:
        board = PostgresBoard(dsn)
        yield board
        board.close()


def test_a_voter_logs_in_with_a_code_and_casts(tmp_path, poll, any_board):
    outbox = tmp_path / "outbox"
    app, _ = make_app(tmp_path, board=any_board)
    with TestClient(app) as c:
        open_poll(c, poll, roll_of(poll, with_credentials=2))
        uuid = poll.uuid
        assert c.get(f"/api/elections/{uuid}/voter-authentication").json() == {
            "required": True,
            "codes": True,
        }
        cast = f"/api/elections/{uuid}/ballots"
        r = c.post(cast, content=poll.ballot(0, "v0"))
        assert r.status_code == 401 and r.json()["error"]["code"] == "voter_session"

        address = poll.voters[0].login
        r = c.post(f"/api/elections/{uuid}/login-code", json={"login": address.upper()})
        assert r.status_code == 202
        (m,) = messages(outbox, 1)
        assert m["To"] == address and "Access <b>poll</b>" in m.get_content()
        code, token = code_and_token(m)
        assert token is not None and len(token) >= 43
        assert f"{BASE}/vote/{uuid}#login={token}" in m.get_content()
        # a wrong code, then the right one (case and dashes do not matter)
        bad = c.post(f"/api/elections/{uuid}/login", json={"login": address, "code": "00000-00000"})
        assert bad.status_code == 401 and bad.json()["error"]["code"] == "login_failed"
        r = c.post(
            f"/api/elections/{uuid}/login",
            json={"login": address, "code": code.lower().replace("-", "")},
        )
        assert r.status_code == 200, r.text
        session = {"authorization": f"Bearer {r.json()['token']}"}
        # single use: the code and the link of the message are both spent
        again = c.post(f"/api/elections/{uuid}/login", json={"login": address, "code": code})
        assert again.status_code == 401
        assert c.post(f"/api/elections/{uuid}/login", json={"token": token}).status_code == 401

        r = c.post(cast, content=poll.ballot(0, "v0"), headers=session)
        assert r.status_code == 200, r.text
        # the voter's own credential only: voter 1's ballot under voter 0's session
        r = c.post(cast, content=poll.ballot(1, "v1"), headers=session)
        assert r.status_code == 403 and r.json()["error"]["code"] == "wrong_credential"
        # a revote with the same session
        assert (
            c.post(cast, content=poll.ballot(0, "v0b", False), headers=session).status_code == 200
        )

        # the link of a second message logs in too
        r = c.post(f"/api/elections/{uuid}/login-code", json={"login": poll.voters[1].login})
        _, token = code_and_token(messages(outbox, 2)[1])
        r = c.post(f"/api/elections/{uuid}/login", json={"token": token})
        assert r.status_code == 200
        s1 = {"authorization": f"Bearer {r.json()['token']}"}
        assert c.post(f"/api/elections/{uuid}/login", json={"token": token}).status_code == 401
        assert c.post(cast, content=poll.ballot(1, "v1"), headers=s1).status_code == 200
        # a session of one election is nothing in another's routes; logout ends it
        assert c.post(f"/api/elections/{uuid}/logout", headers=s1).json() == {"ended": True}
        assert c.post(cast, content=poll.ballot(1, "v1c"), headers=s1).status_code == 401
        assert c.get(f"/api/elections/{uuid}").json()["ballots"] == 3
        # the store keeps no code, token or session in clear
        store = app.state.private
        kept = b"".join(
            k.encode() + v
            for kind in (voterauth.CODE, voterauth.LINK, voterauth.SESSION)
            for k, v in store.items(kind)
        )
        assert code.replace("-", "").encode() not in kept and token.encode() not in kept


def test_the_first_ballot_binds_a_credential_to_a_login(client, tmp_path, poll):
    outbox = tmp_path / "outbox"
    open_poll(client, poll, [v.login for v in poll.voters])  # no credentials given
    uuid, cast = poll.uuid, f"/api/elections/{poll.uuid}/ballots"
    a, _ = login(client, uuid, outbox, poll.voters[2].login, 0)
    b, _ = login(client, uuid, outbox, poll.voters[3].login, 1)
    sa, sb = ({"authorization": f"Bearer {t}"} for t in (a, b))
    assert client.post(cast, content=poll.ballot(4, "a"), headers=sa).status_code == 200
    # voter b cannot use the credential a voted with
    r = client.post(cast, content=poll.ballot(4, "b"), headers=sb)
    assert r.status_code == 403 and r.json()["error"]["code"] == "credential_taken"
    # voter a cannot switch credentials
    r = client.post(cast, content=poll.ballot(5, "a2"), headers=sa)
    assert r.status_code == 403 and r.json()["error"]["code"] == "wrong_credential"
    assert client.post(cast, content=poll.ballot(4, "a3"), headers=sa).status_code == 200
    assert client.post(cast, content=poll.ballot(5, "b2"), headers=sb).status_code == 200
    assert client.get(f"/api/elections/{uuid}").json()["voted"] == 2


def test_a_refused_ballot_binds_nothing(client, tmp_path, poll, monkeypatch):
    """Only a ballot on the board binds its credential to the login: one refused (here the
    database fails as it is appended) leaves both free, and a reservation left by a process
    killed before its ballot reached the board is void after PENDING_SECONDS."""
    from plebiscite.errors import BoardError
    from plebiscite.service.election import ElectionState

    outbox = tmp_path / "outbox"
    open_poll(client, poll, [v.login for v in poll.voters])  # no credentials given
    uuid, cast = poll.uuid, f"/api/elections/{poll.uuid}/ballots"
    a, _ = login(client, uuid, outbox, poll.voters[2].login, 0)
    b, _ = login(client, uuid, outbox, poll.voters[3].login, 1)
    sa, sb = ({"authorization": f"Bearer {t}"} for t in (a, b))
    real = ElectionState.append

    def failing(self, items, check=None):
        raise BoardError("the database is read-only")

    monkeypatch.setattr(ElectionState, "append", failing)
    r = client.post(cast, content=poll.ballot(4, "a"), headers=sa)
    assert r.status_code == 503, r.text
    monkeypatch.setattr(ElectionState, "append", real)
    # neither a's login nor credential 4 is bound: b casts with 4, a with 5
    assert client.post(cast, content=poll.ballot(4, "b"), headers=sb).status_code == 200
    assert client.post(cast, content=poll.ballot(5, "a2"), headers=sa).status_code == 200
    r = client.post(cast, content=poll.ballot(3, "a3"), headers=sa)  # now bound to 5
    assert r.status_code == 403 and r.json()["error"]["code"] == "wrong_credential"
    # a reservation of a killed process: c's login bound to credential 1, no ballot of 1
    store = client.app.state.private
    c, _ = login(client, uuid, outbox, poll.voters[0].login, 2)
    sc = {"authorization": f"Bearer {c}"}
    lkey = f"{uuid}/{voterauth.login_key(poll.voters[0].login)}"
    store.put(voterauth.CAST_LOGIN, lkey, str(poll.voters[1].public).encode())
    store.put(voterauth.CAST_PENDING, lkey, repr(time.time()).encode())
    r = client.post(cast, content=poll.ballot(0, "c"), headers=sc)
    assert r.status_code == 403 and r.json()["error"]["code"] == "wrong_credential"
    later = time.time() + voterauth.PENDING_SECONDS + 1
    monkeypatch.setattr(voterauth, "clock", lambda: later)
    assert client.post(cast, content=poll.ballot(0, "c2"), headers=sc).status_code == 200
    assert client.get(f"/api/elections/{uuid}").json()["voted"] == 3


def test_the_answer_does_not_say_who_is_on_the_list(client, tmp_path, poll):
    outbox = tmp_path / "outbox"
    open_poll(client, poll, roll_of(poll))
    url = f"/api/elections/{poll.uuid}/login-code"
    known = client.post(url, json={"login": poll.voters[0].login})
    unknown = client.post(url, json={"login": "stranger@example.org"})
    not_an_address = client.post(url, json={"login": "stranger"})
    for r in (unknown, not_an_address):
        assert r.status_code == known.status_code == 202
        assert r.content == known.content
        assert {k: v for k, v in r.headers.items() if k != "date"} == {
            k: v for k, v in known.headers.items() if k != "date"
        }
    time.sleep(0.3)
    assert len(messages(outbox, 1)) == 1  # only the voter on the list got a message
    # a login without a code and a wrong code for an unknown login: the same failure
    r1 = client.post(
        f"/api/elections/{poll.uuid}/login",
        json={"login": "stranger@example.org", "code": "ABCDE-FGHJK"},
    )
    r2 = client.post(
        f"/api/elections/{poll.uuid}/login",
        json={"login": poll.voters[1].login, "code": "ABCDE-FGHJK"},
    )
    assert r1.status_code == r2.status_code == 401 and r1.content == r2.content


def test_codes_die_after_wrong_attempts_and_expire(client, tmp_path, poll, monkeypatch):
    outbox = tmp_path / "outbox"
    open_poll(client, poll, roll_of(poll))
    address = poll.voters[0].login
    url = f"/api/elections/{poll.uuid}/login"
    wrong = {"login": address, "code": "ZZZZZ-ZZZZZ"}
    client.post(f"/api/elections/{poll.uuid}/login-code", json={"login": address})
    code, _ = code_and_token(messages(outbox, 1)[0])
    # wrong codes from one address (a proxy's, say): that address must wait for its next
    # wrong one, but the right code, compared first, still works from it
    for _ in range(voterauth.CODE_ATTEMPTS):
        assert client.post(url, json=wrong).status_code == 401
    r = client.post(url, json=wrong)
    assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"
    assert client.post(url, json={"login": address, "code": code}).status_code == 200
    # a code is destroyed by CODE_MAX_FAILURES wrong tries, from all addresses together
    client.post(f"/api/elections/{poll.uuid}/login-code", json={"login": address})
    code, _ = code_and_token(messages(outbox, 2)[1])
    tries = 0
    for i in range(voterauth.CODE_MAX_FAILURES // voterauth.CODE_ATTEMPTS):
        with TestClient(client.app, client=(f"192.0.2.{i + 1}", 50000)) as other:
            for _ in range(voterauth.CODE_ATTEMPTS):
                assert other.post(url, json=wrong).status_code == 401
                tries += 1
    assert tries == voterauth.CODE_MAX_FAILURES
    with TestClient(client.app, client=("198.51.100.1", 50000)) as fresh:
        assert fresh.post(url, json={"login": address, "code": code}).status_code == 401
    # a new code, expired
    client.post(f"/api/elections/{poll.uuid}/login-code", json={"login": address})
    code, token = code_and_token(messages(outbox, 3)[2])
    now = time.time()
    monkeypatch.setattr(voterauth, "clock", lambda: now + voterauth.CODE_SECONDS + 1)
    with TestClient(client.app, client=("198.51.100.2", 50000)) as fresh:
        assert fresh.post(url, json={"login": address, "code": code}).status_code == 401
        assert fresh.post(url, json={"token": token}).status_code == 401


def test_codes_per_login_are_limited(client, tmp_path, poll):
    outbox = tmp_path / "outbox"
    open_poll(client, poll, roll_of(poll))
    address = poll.voters[0].login
    for _ in range(int(voterauth.CODE_REQUESTS.burst) + 3):
        r = client.post(f"/api/elections/{poll.uuid}/login-code", json={"login": address})
        assert r.status_code == 202
    time.sleep(0.5)
    assert len(messages(outbox, 3)) == voterauth.CODE_REQUESTS.burst
    # a new code leaves the earlier ones valid (requests in the voter's name never spoil the
    # code the voter types); logging in spends them all
    url = f"/api/elections/{poll.uuid}/login"
    answers = [
        client.post(url, json={"login": address, "code": code_and_token(m)[0]}).status_code
        for m in messages(outbox, 3)
    ]
    assert answers == [200, 401, 401]


def test_voter_authentication_is_set_by_the_administrator_only(client, poll):
    client.post("/api/elections", json=poll.texts, headers=ADMIN)
    url = f"/api/elections/{poll.uuid}/voter-authentication"
    assert client.post(url, json={"voters": ["a@example.org"]}).status_code == 401
    for bad in (["voter1"], {"a@example.org": "123"}, ["a@example.org", "A@example.org"], []):
        r = client.post(url, json={"voters": bad}, headers=ADMIN)
        assert r.status_code == 422, bad
    assert client.get(url).json()["required"] is False
    # an election without it: ballots need no session, codes are not sent
    assert (
        client.post(f"/api/elections/{poll.uuid}/ballots", content=poll.ballot(0, "x")).status_code
        == 200
    )
    r = client.post(f"/api/elections/{poll.uuid}/login-code", json={"login": "a@example.org"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_required"


def test_without_a_public_url_the_message_has_no_link(tmp_path, poll):
    app, board = make_app(tmp_path, public_url=None)
    with TestClient(app, base_url="http://attacker.example") as c:
        open_poll(c, poll, roll_of(poll))
        c.post(f"/api/elections/{poll.uuid}/login-code", json={"login": poll.voters[0].login})
        (m,) = messages(tmp_path / "outbox", 1)
        _code, token = code_and_token(m)
        assert token is None and "attacker.example" not in m.get_content()
    board.close()


# -- no secret in any log, no address on the board ------------------------------------------------


def test_no_secret_reaches_a_log(tmp_path, poll, caplog, capfd):
    """A whole flow against a real uvicorn server with its access log on and every logger at
    DEBUG: no password, token, code, credential or link token appears anywhere."""
    import uvicorn

    caplog.set_level(logging.DEBUG)
    app, board = make_app(tmp_path, rate_limits=RateLimits())
    accounts.add_account(app.state.private, "alice", PASSWORD)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_config=None, log_level="debug", access_log=True
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        secrets_seen: list[str] = [PASSWORD, TOKEN]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as c:
            r = c.post("/api/session", json={"name": "alice", "password": PASSWORD})
            admin = r.json()["token"]
            secrets_seen.append(admin)
            h = {"authorization": f"Bearer {admin}"}
            assert (
                c.post(
                    "/api/session", json={"name": "alice", "password": "x" + PASSWORD}
                ).status_code
                == 401
            )
            assert c.post("/api/elections", json=poll.texts, headers=h).status_code == 201
            url = f"/api/elections/{poll.uuid}/voter-authentication"
            assert c.post(url, json={"voters": roll_of(poll)}, headers=h).status_code == 200
            address = poll.voters[0].login
            assert (
                c.post(
                    f"/api/elections/{poll.uuid}/login-code", json={"login": address}
                ).status_code
                == 202
            )
            code, link = code_and_token(messages(tmp_path / "outbox", 1)[0])
            secrets_seen += [code, code.replace("-", ""), link]
            bad = {"login": address, "code": "00000-00000"}
            assert c.post(f"/api/elections/{poll.uuid}/login", json=bad).status_code == 401
            r = c.post(f"/api/elections/{poll.uuid}/login", json={"login": address, "code": code})
            voter = r.json()["token"]
            secrets_seen.append(voter)
            ballot = poll.ballot(0, "logged")
            r = c.post(
                f"/api/elections/{poll.uuid}/ballots",
                content=ballot,
                headers={"authorization": f"Bearer {voter}"},
            )
            assert r.status_code == 200, r.text
            secrets_seen.append(poll.voters[0].private)
            c.post("/api/session/logout", headers=h)
            archive = c.get(f"/api/elections/{poll.uuid}/archive").content
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        board.close()
    out, err = capfd.readouterr()
    logged = "\n".join(
        [out, err, caplog.text]
        + [str(rec.args) for rec in caplog.records]
        + [rec.getMessage() for rec in caplog.records]
    )
    assert "POST /api/elections" in logged  # the access log was on
    for secret in secrets_seen:
        assert secret not in logged
    assert address not in logged  # nor who asked for a code
    assert b"127.0.0.1" not in archive  # no client address on the board


def test_every_new_route_is_documented(client):
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/api/session",
        "/api/session/logout",
        "/api/elections/{uuid}/login-code",
        "/api/elections/{uuid}/login",
        "/api/elections/{uuid}/logout",
        "/api/elections/{uuid}/voter-authentication",
    ):
        for op in paths[path].values():
            assert op.get("summary") and op.get("description"), path


# -- plebiscite serve --------------------------------------------------------------------------


def test_serve_with_an_account_an_outbox_and_limits(tmp_path, poll):
    import os
    import socket
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PLEBISCITE_ADMIN_TOKEN": TOKEN, "PLEBISCITE_ADMIN_PASSWORD": PASSWORD}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "plebiscite.cli.main",
            "serve",
            "--database",
            str(tmp_path / "board.db"),
            "--port",
            str(port),
            "--admin-account",
            "alice",
            "--outbox-dir",
            str(tmp_path / "outbox"),
            "--public-url",
            base,
            "--rate-limits",
            "login=4/0.01",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, "no server"
            time.sleep(0.1)
        with httpx.Client(base_url=base, timeout=60) as c:
            r = c.post("/api/session", json={"name": "alice", "password": PASSWORD})
            assert r.status_code == 200, r.text
            h = {"authorization": f"Bearer {r.json()['token']}"}
            assert c.post("/api/elections", json=poll.texts, headers=h).status_code == 201
            url = f"/api/elections/{poll.uuid}/voter-authentication"
            assert c.post(url, json={"voters": roll_of(poll)}, headers=h).status_code == 200
            address = poll.voters[0].login
            c.post(f"/api/elections/{poll.uuid}/login-code", json={"login": address})
            _, token = code_and_token(messages(tmp_path / "outbox", 1)[0])
            assert token is not None
            r = c.post(f"/api/elections/{poll.uuid}/login", json={"token": token})
            assert r.status_code == 200
            codes = [
                c.post("/api/session", json={"name": "x", "password": "y"}).status_code
                for _ in range(3)
            ]
            assert codes == [401, 401, 429]
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert "administrator account 'alice' created" in out
    for secret in (PASSWORD, TOKEN, token, address):
        assert secret not in out
