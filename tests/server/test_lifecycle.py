"""The referendum lifecycle over the API, in process (real SQLite board): each party a separate
client holding only its own secrets (plebiscite.cli.demo_server)."""

from __future__ import annotations

import copy
import io
import json
import shutil
import time

import pytest
from fastapi.testclient import TestClient

from peers import peer_verifies
from plebiscite.board.sqlite import SQLiteBoard
from plebiscite.cli.demo import DEMO_QUESTIONS
from plebiscite.cli.demo_server import play_referendum, status
from plebiscite.client import Administrator, CredentialAuthority, PartyError, Trustee, Voter
from plebiscite.crypto.groups import BELENIOS_2048
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.crypto.signing import SigningKey
from plebiscite.protocol import ceremony
from plebiscite.protocol.verifier import verify_archive
from plebiscite.server.app import create_app

TOKEN = "test-admin-token"
YES, NO, BLANK = [0, 1, 0], [0, 0, 1], [1, 0, 0]
A, B, C = [1, 0, 0], [0, 1, 0], [0, 0, 1]


@pytest.fixture
def client(tmp_path):
    board = SQLiteBoard(tmp_path / "board.db")
    app = create_app(board, admin_token=TOKEN, key=SigningKey.from_seed(b"\x02" * 32))
    with TestClient(app) as c:
        c.sent = []  # every request body, to check that no secret ever reaches the server
        c.event_hooks["request"].append(lambda r: c.sent.append(r.read()))
        yield c
    board.close()


def iso(seconds_from_now: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + seconds_from_now))


def record(**changes):
    base = {
        "version": 1,
        "id": "charter",
        "title": "Charter referendum",
        "questions": DEMO_QUESTIONS,
        "regions": [{"name": "North"}, {"name": "South", "weight": "1"}],
        "trustees": {"names": ["Alice", "Bob", "Carol"], "threshold": 2},
        "opening": iso(-3600),  # voting is open now
        "closing": iso(86400),
        "rule": {"type": "double-majority", "question": 0, "answer": 0, "regions": {"count": 2}},
    }
    base.update(changes)
    return base


VOTERS = {"North": ["a1", "a2", "a3"], "South": ["b1", "b2", {"login": "b3", "weight": 2}]}


def error(excinfo) -> tuple[int, str, str]:
    e = excinfo.value
    return e.status, e.code, e.message


def belenios_verify(tmp_path, uuid, data):
    d = tmp_path / uuid
    d.mkdir()
    (d / f"{uuid}.bel").write_bytes(data)
    peer_verifies(d)


def test_a_referendum_from_creation_to_outcome(client, tmp_path):
    rng = DeterministicRandom("lifecycle")
    admin = Administrator(client, TOKEN)
    # a Belenios 2.0 record (BELENIOS-2048, the 2.0 ceremony), as requested; the default
    # Ed25519 and its 3.x ceremony: tests/client/test_ed25519_referendum.py
    created = admin.create(record(), VOTERS, {"South": "external"}, group="BELENIOS-2048")
    rid = created["id"]
    assert [r["authority"] for r in created["regions"]] == ["server", "external"]
    tokens = [t["token"] for t in created["trustees"]]
    assert len(set(tokens)) == 3 and all(len(t) >= 43 for t in tokens)
    with pytest.raises(PartyError) as e:
        admin.create(record(), VOTERS)
    assert error(e)[:2] == (409, "exists")

    # -- the threshold ceremony, the server relaying ------------------------------------------
    trustees = [Trustee(client, rid, t["index"], t["token"], rng) for t in created["trustees"]]
    alice, bob, carol = trustees
    alice.send_certificate()
    # a trustee token acts only for its own trustee
    for path in ("certificate", "polynomial", "voutput"):
        with pytest.raises(PartyError) as e:
            alice.call("POST", f"/api/referendums/{rid}/trustees/2/{path}", content=b"{}")
        assert error(e)[:2] == (403, "forbidden")
        assert "trustee 1, not of trustee 2" in error(e)[2]
    for path in ("vinput", "dkey"):
        with pytest.raises(PartyError) as e:
            alice.call("GET", f"/api/referendums/{rid}/trustees/3/{path}")
        assert error(e)[0] == 403
    r = client.post(f"/api/referendums/{rid}/trustees/2/certificate", content=b"{}")
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    # another trustee's certificate (the same keys) is refused
    with pytest.raises(PartyError) as e:
        bob.call("POST", f"{bob.base}/certificate", content=alice._secret.cert.encode())
    assert error(e)[0] == 422 and "already used" in error(e)[2]
    bob.send_certificate()
    with pytest.raises(PartyError) as e:  # too early: Carol has not sent her certificate
        alice.call("POST", f"{alice.base}/polynomial", content=b"{}")
    assert error(e)[:2] == (409, "state")
    cer = carol.send_certificate()
    assert cer["phase"] == "polynomials" and cer["certificates"].count("\n") == 3
    # a polynomial for another threshold than the referendum's is refused
    wrong = ceremony.make_polynomial(BELENIOS_2048, cer["certificates"], alice._seed(), 3, rng)
    with pytest.raises(PartyError) as e:
        alice.call("POST", f"{alice.base}/polynomial", content=wrong.encode())
    assert error(e)[0] == 422 and "threshold is 2" in error(e)[2]
    # a polynomial whose signed commitments do not verify: found when the last one arrives,
    # set aside, and its trustee sends another
    certs = cer["certificates"]
    tampered = json.loads(ceremony.make_polynomial(BELENIOS_2048, certs, alice._seed(), 2, rng))
    tampered["coefexps"]["signature"]["response"] = "1"
    alice.call("POST", f"{alice.base}/polynomial", content=json.dumps(tampered).encode())
    bob.send_polynomial()
    cer = carol.send_polynomial()
    assert cer["phase"] == "polynomials"
    assert cer["error"].startswith("trustee 1 (Alice) must send its polynomial again")
    assert [t["polynomial"] for t in cer["trustees"]] == [False, True, True]
    cer = alice.send_polynomial()
    assert cer["phase"] == "voutputs" and cer["error"] is None
    for t in trustees:
        cer = t.send_voutput()
    assert cer["phase"] == "done" and cer["error"] is None
    assert cer["threshold_parameters"]["threshold"] == 2

    # -- credentials and the regional elections -----------------------------------------------
    with pytest.raises(PartyError) as e:
        admin.open(rid)
    assert error(e)[:2] == (409, "state") and "South" in error(e)[2]
    south = next(r for r in created["regions"] if r["name"] == "South")
    with pytest.raises(PartyError) as e:
        CredentialAuthority(client, rid, "South", tokens[0], rng).make_credentials()
    assert error(e)[:2] == (401, "unauthorized")
    ca = CredentialAuthority(client, rid, "South", south["authority_token"], rng)
    with pytest.raises(PartyError) as e:
        ca.call("PUT", f"/api/referendums/{rid}/regions/South/credentials", content=b"[]")
    assert error(e)[0] == 422 and "0 public credentials for 3 voters" in error(e)[2]
    south_creds = ca.make_credentials()
    opened = admin.open(rid)
    regions = {r["name"]: r for r in opened["regions"]}
    assert regions["South"]["credentials"] is None
    north_creds = {c["login"]: c["credential"] for c in regions["North"]["credentials"]}
    assert set(north_creds) == {"a1", "a2", "a3"}
    st = status(client, rid)
    assert st["phase"] == "open"
    assert st["record"]["trustees"]["hash"] == cer["trustees_hash"]
    assert {r["name"]: r["credential_authority"] for r in st["regions"]} == {
        "North": "server",
        "South": "external",
    }

    # -- voting: one revote (a2: yes, then no) ------------------------------------------------
    def voter(region, login):
        creds = north_creds if region == "North" else south_creds
        return Voter(client, rid, region, creds[login], rng)

    ballots = [
        ("North", "a1", [YES, A]),
        ("North", "a2", [YES, B]),
        ("North", "a3", [YES, C]),
        ("South", "b1", [NO, A]),
        ("South", "b2", [BLANK, A]),
        ("South", "b3", [YES, B]),
        ("North", "a2", [NO, B]),
    ]
    for region, login, choices in ballots:
        voter(region, login).vote(choices)
    with pytest.raises(PartyError) as e:  # a credential of North is not valid in South
        Voter(client, rid, "South", north_creds["a1"], rng).vote([YES, A])
    assert error(e)[0] == 422
    st = status(client, rid)
    assert [(r["ballots"], r["voted"]) for r in st["regions"]] == [(4, 3), (3, 3)]

    # -- close, tally, decryption ------------------------------------------------------------
    with pytest.raises(PartyError):
        Administrator(client, "wrong").close(rid)
    closed = admin.close(rid)
    assert [r["status"] for r in closed["regions"]] == ["tallied", "tallied"]
    assert closed["phase"] == "decrypting" and closed["outcome"] is None

    good = bob.partial_decryption("North")
    wrong = json.loads(good)
    wrong["decryption_factors"][0][0], wrong["decryption_factors"][0][1] = (
        wrong["decryption_factors"][0][1],
        wrong["decryption_factors"][0][0],
    )
    pd_path = f"{bob.base}/regions/North/partial-decryption"
    with pytest.raises(PartyError) as e:
        bob.call("POST", pd_path, content=json.dumps(wrong).encode())
    status_, code, message = error(e)
    assert (status_, code) == (422, "proof")
    assert "partial decryption refused" in message
    assert "decryption_proofs[0][0]" in message and "verification key" in message
    # Alice's valid partial decryption is still not Bob's
    with pytest.raises(PartyError) as e:
        bob.call("POST", pd_path, content=alice.partial_decryption("North"))
    assert error(e)[:2] == (422, "proof")
    with pytest.raises(PartyError) as e:
        bob.call("POST", pd_path, content=b'{"decryption_factors": []}')
    assert error(e)[:2] == (422, "encoding")
    with pytest.raises(PartyError) as e:  # Alice's token cannot send for Bob
        alice.call("POST", pd_path, content=good)
    assert error(e)[:2] == (403, "forbidden")
    north = bob.call("POST", pd_path, content=good).json()
    assert north["status"] == "decrypting" and north["decrypted_by"] == [2]
    with pytest.raises(PartyError) as e:
        bob.call("POST", pd_path, content=good)
    assert error(e)[:2] == (409, "state")
    north = carol.decrypt("North")
    assert north["status"] == "done" and north["decrypted_by"] == [2, 3]
    alice.decrypt("South")
    south_st = carol.decrypt("South")
    assert south_st["status"] == "done"
    with pytest.raises(PartyError) as e:  # too late: the result is on the board
        bob.decrypt("South")
    assert error(e)[:2] == (409, "state")

    # -- the result, the outcome, the archives -------------------------------------------------
    st = status(client, rid)
    assert st["phase"] == "done"
    results = {r["name"]: r["result"] for r in st["regions"]}
    assert results["North"] == [[0, 2, 1], [1, 1, 1]]  # a2's revote replaced her first ballot
    assert results["South"] == [[1, 2, 1], [2, 2, 0]]  # b3 weighs 2
    outcome = st["outcome"]
    assert outcome["verdict"] == "passed"
    counts = {r["name"]: r["count"] for r in outcome["regions"]}
    assert counts["North"]["yes"] == 2 and counts["North"]["valid"] == 3
    assert counts["South"] == {
        "blank": 1,
        "roll": 4,
        "share": "2/3",
        "turnout": "1",
        "valid": 3,
        "voted": 4,
        "yes": 2,
    }
    assert outcome["pooled"]["yes"] == 4 and outcome["pooled"]["valid"] == 6
    assert "Overall: passed." in outcome["explanation"]

    for region in st["regions"]:
        data = client.get(region["archive"]).content
        report = verify_archive(lambda data=data: io.BytesIO(data))
        assert report.valid, [f.describe() for f in report.findings]
        assert report.status == "done" and report.result == results[region["name"]]
        if shutil.which("belenios-tool"):
            belenios_verify(tmp_path, region["election"], data)

    # no trustee seed, decryption key or externally made credential ever reached the server
    secrets = [t._seed() for t in trustees] + [str(t._key) for t in trustees if t._key]
    secrets += list(south_creds.values())
    sent = b"".join(client.sent)
    assert alice._secret.cert.encode() in sent  # what was sent is recorded
    assert not [s for s in secrets if s.encode() in sent]


def test_creation_is_checked_and_admin_only(client):
    admin = Administrator(client, TOKEN)
    with pytest.raises(PartyError) as e:
        Administrator(client, "nope").create(record(), VOTERS)
    assert error(e)[:2] == (401, "unauthorized")
    ranking = {"type": "NonHomomorphic", "value": {"answers": ["x", "y"], "question": "Rank"}}
    with pytest.raises(PartyError) as e:  # a ranking, but a voter weighs 2
        admin.create(record(questions=[*DEMO_QUESTIONS, ranking]), VOTERS)
    assert error(e)[0] == 422 and "non-homomorphic: every voter's weight must be 1" in error(e)[2]
    trustees = {"names": ["A", "B"], "hash": "0" * 64}
    with pytest.raises(PartyError) as e:
        admin.create(record(trustees=trustees), VOTERS)
    assert "set by the server" in error(e)[2]
    with pytest.raises(PartyError) as e:
        admin.create(record(), {"North": ["a"]})
    assert error(e)[0] == 422 and "South" in error(e)[2]
    with pytest.raises(PartyError) as e:
        admin.create(record(), {"North": ["a", "a"], "South": ["b"]})
    assert "listed twice" in error(e)[2]
    bad_rule = copy.deepcopy(record())
    bad_rule["rule"]["answer"] = 5
    with pytest.raises(PartyError) as e:
        admin.create(bad_rule, VOTERS)
    assert "no answer 5" in error(e)[2]
    assert client.get("/api/referendums").json() == []
    assert client.get("/api/referendums/none").status_code == 404


def test_the_demo_plays_the_whole_lifecycle(client):
    final = play_referendum(
        client, TOKEN, voters=4, regions=2, rng=DeterministicRandom("demo"), log=lambda _: None
    )
    assert final["phase"] == "done"
    assert final["outcome"]["verdict"] in ("passed", "failed", "quorum-not-met")
    assert all(r["valid"] and r["status"] == "done" for r in final["regions"])
    assert [r["id"] for r in client.get("/api/referendums").json()] == [final["id"]]


def test_wrong_link_tokens_are_counted_never_the_right_one(client):
    """Wrong trustee tokens from an address (a proxy's, shared by many) get 429 past the
    limit; the right token, compared first, still works from that address."""
    from plebiscite.server.http import BAD_LINK_TOKENS

    admin = Administrator(client, TOKEN)
    created = admin.create(record(), VOTERS)
    rid = created["id"]
    url = f"/api/referendums/{rid}/trustees/1/certificate"
    for i in range(int(BAD_LINK_TOKENS.burst)):
        r = client.get(
            f"/api/referendums/{rid}/trustees/1/vinput", headers={"authorization": f"Bearer x{i}"}
        )
        assert r.status_code == 401, r.text
    r = client.post(url, content=b"{}", headers={"authorization": "Bearer one-more"})
    assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"
    assert int(r.headers["retry-after"]) >= 1
    rng = DeterministicRandom("link tokens")
    alice = Trustee(client, rid, 1, created["trustees"][0]["token"], rng)
    assert alice.send_certificate()["trustees"][0]["certificate"]
