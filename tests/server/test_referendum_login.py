"""A referendum whose voters log in: created with ``"voter_authentication": true`` (logins are
e-mail addresses), each region's voter list goes to the voter authentication at opening. Where
the server is the credential authority a login casts with its own credential only; where an
external authority made the credentials, a login's first ballot binds its credential. Codes
come through the local outbox, end to end over the API."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient

from plebiscite.board.sqlite import SQLiteBoard
from plebiscite.cli.demo_server import status
from plebiscite.client import Administrator, CredentialAuthority, PartyError, Trustee, Voter
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.crypto.signing import SigningKey
from plebiscite.protocol.verifier import verify_archive
from plebiscite.server.app import create_app
from plebiscite.server.outbox import LocalOutbox
from plebiscite.server.ratelimit import RateLimits
from server.test_access import code_and_token, messages
from server.test_lifecycle import NO, TOKEN, YES, A, B, error, record

NORTH = ["ann@north.example", "bob@north.example"]
SOUTH = ["cat@south.example", "dan@south.example"]


@pytest.fixture
def client(tmp_path):
    board = SQLiteBoard(tmp_path / "board.db")
    app = create_app(
        board,
        admin_token=TOKEN,
        key=SigningKey.from_seed(b"\x04" * 32),
        outbox=LocalOutbox(tmp_path / "outbox"),
        public_url="http://testserver",
        rate_limits=RateLimits.off(),
    )
    with TestClient(app) as c:
        yield c
    board.close()


def log_in(c: TestClient, uuid: str, outbox, address: str, seen: int) -> str:
    """Ask for a code, read it from the outbox (message ``seen + 1``), log in: the session."""
    r = c.post(f"/api/elections/{uuid}/login-code", json={"login": address})
    assert r.status_code == 202, r.text
    m = messages(outbox, seen + 1)[seen]
    assert m["To"] == address
    code, _ = code_and_token(m)
    r = c.post(f"/api/elections/{uuid}/login", json={"login": address, "code": code})
    assert r.status_code == 200, r.text
    token: str = r.json()["token"]
    return token


def test_voters_of_a_referendum_log_in_before_casting(client, tmp_path):
    rng = DeterministicRandom("referendum login")
    outbox = tmp_path / "outbox"
    admin = Administrator(client, TOKEN)
    voters = {"North": NORTH, "South": SOUTH}
    # logins must be addresses, and the field a boolean
    for bad_voters, bad_flag, what in (
        ({"North": ["ann"], "South": SOUTH}, True, "e-mail address"),
        (voters, "yes", "true or false"),
    ):
        body = {"referendum": record(), "voters": bad_voters, "voter_authentication": bad_flag}
        with pytest.raises(PartyError) as e:
            admin.call("POST", "/api/referendums", json=body)
        assert error(e)[0] == 422 and what in error(e)[2]
    body = {
        "referendum": record(),
        "voters": voters,
        "credential_authority": {"South": "external"},
        "voter_authentication": True,
    }
    created = admin.call("POST", "/api/referendums", json=body).json()
    assert created["voter_authentication"] is True
    rid = created["id"]
    trustees = [Trustee(client, rid, t["index"], t["token"], rng) for t in created["trustees"]]
    for step in ("send_certificate", "send_polynomial", "send_voutput"):
        for t in trustees:
            getattr(t, step)()
    south = next(r for r in created["regions"] if r["name"] == "South")
    south_creds = CredentialAuthority(
        client, rid, "South", south["authority_token"], rng
    ).make_credentials()
    opened = admin.open(rid)
    regions = {r["name"]: r for r in opened["regions"]}
    north_creds = {c["login"]: c["credential"] for c in regions["North"]["credentials"]}
    north_uuid, south_uuid = regions["North"]["election"], regions["South"]["election"]
    st = status(client, rid)
    assert st["voter_authentication"] is True
    for uuid in (north_uuid, south_uuid):
        assert client.get(f"/api/elections/{uuid}/voter-authentication").json() == {
            "required": True,
            "codes": True,
        }

    # without a session, no ballot
    ann = Voter(client, rid, "North", north_creds[NORTH[0]], rng)
    with pytest.raises(PartyError) as e:
        ann.vote([YES, A])
    assert error(e)[:2] == (401, "voter_session")

    # North (the server made the credentials): a login casts with its own credential only
    session = log_in(client, north_uuid, outbox, NORTH[0], 0)
    ann = Voter(client, rid, "North", north_creds[NORTH[0]], rng, session)
    ann.vote([YES, A])
    with pytest.raises(PartyError) as e:  # Bob's credential under Ann's session
        Voter(client, rid, "North", north_creds[NORTH[1]], rng, session).vote([NO, B])
    assert error(e)[:2] == (403, "wrong_credential")
    ann.vote([NO, B])  # a revote
    bob = Voter(
        client,
        rid,
        "North",
        north_creds[NORTH[1]],
        rng,
        log_in(client, north_uuid, outbox, NORTH[1], 1),
    )
    bob.vote([YES, B])
    # a session of North is nothing in South
    with pytest.raises(PartyError) as e:
        Voter(client, rid, "South", south_creds[SOUTH[0]], rng, session).vote([YES, A])
    assert error(e)[:2] == (401, "voter_session")

    # South (an external authority): the first ballot binds the login's credential
    cat_session = log_in(client, south_uuid, outbox, SOUTH[0], 2)
    Voter(client, rid, "South", south_creds[SOUTH[0]], rng, cat_session).vote([YES, A])
    with pytest.raises(PartyError) as e:
        Voter(client, rid, "South", south_creds[SOUTH[1]], rng, cat_session).vote([NO, A])
    assert error(e)[:2] == (403, "wrong_credential")
    dan_session = log_in(client, south_uuid, outbox, SOUTH[1], 3)
    with pytest.raises(PartyError) as e:  # Cat's credential is hers now
        Voter(client, rid, "South", south_creds[SOUTH[0]], rng, dan_session).vote([NO, A])
    assert error(e)[:2] == (403, "credential_taken")
    Voter(client, rid, "South", south_creds[SOUTH[1]], rng, dan_session).vote([NO, A])
    # a login not on the list gets no code
    r = client.post(f"/api/elections/{south_uuid}/login-code", json={"login": "eve@x.example"})
    assert r.status_code == 202
    r = client.post(f"/api/elections/{north_uuid}/login-code", json={"login": SOUTH[0]})
    assert r.status_code == 202

    # the rest of the lifecycle is unchanged
    admin.close(rid)
    for name in ("North", "South"):
        for t in trustees[:2]:
            t.decrypt(name)
    st = status(client, rid)
    assert st["phase"] == "done"
    results = {r["name"]: r["result"] for r in st["regions"]}
    assert results["North"] == [[0, 1, 1], [0, 2, 0]]
    assert results["South"] == [[0, 1, 1], [2, 0, 0]]
    for region in st["regions"]:
        data = client.get(region["archive"]).content
        assert verify_archive(lambda data=data: io.BytesIO(data)).valid
    assert len(list(outbox.glob("*.eml"))) == 4  # none for the logins not on the lists


def test_login_codes_cannot_be_enabled_on_a_server_that_cannot_send_mail(tmp_path):
    board = SQLiteBoard(tmp_path / "board.db")
    app = create_app(
        board,
        admin_token=TOKEN,
        key=SigningKey.from_seed(b"\x04" * 32),
        rate_limits=RateLimits.off(),
    )  # no outbox
    with TestClient(app) as c:
        body = {
            "referendum": record(),
            "voters": {"North": NORTH, "South": SOUTH},
            "voter_authentication": True,
        }
        r = c.post("/api/referendums", json=body, headers={"authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 422, r.text
        err = r.json()["error"]
        assert err["code"] == "no_outbox"
        assert err["message"].startswith("request.voter_authentication: ")
        assert "--smtp-url" in err["message"]
        assert c.get("/api/referendums").json() == []  # nothing was created
    board.close()
