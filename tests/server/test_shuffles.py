"""Referendums with a non-homomorphic question over the API: after the close the server
shuffles, then ``threshold`` trustees each send a shuffle made on their side (plebiscite's
``trustee shuffle``, belenios-tool's ``election shuffle`` or the demo's client), every one
checked before it is appended; then EndShuffles, and only then the partial decryptions. Bad
shuffles are refused with nothing appended; a restart in the middle goes on."""

from __future__ import annotations

import io
import json
import shutil

import pytest
from fastapi.testclient import TestClient

from cli_run import ok
from peers import peer_shuffle
from plebiscite.board.sqlite import SQLiteBoard
from plebiscite.cli.demo import RANKING
from plebiscite.cli.demo_server import play_referendum, status
from plebiscite.client import Administrator, PartyError, Trustee, Voter
from plebiscite.crypto.context import Context
from plebiscite.crypto.hashing import sha256_hex
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.crypto.signing import SigningKey
from plebiscite.protocol.archive import iter_members
from plebiscite.protocol.tally import encrypted_tally_of_board, owned_json, shuffle_json
from plebiscite.protocol.verifier import Verifier, verify_archive
from plebiscite.server.app import create_app
from plebiscite.service import referendum as lifecycle
from server.test_lifecycle import NO, TOKEN, YES, belenios_verify, error, record
from server.test_persist import rebind, server

QUESTIONS = [
    {
        "answers": ["Yes", "No"],
        "blank": True,
        "min": 1,
        "max": 1,
        "question": "Do you approve the proposal?",
    },
    RANKING,
]
VOTERS = {"North": ["a1", "a2", "a3"]}
RANK1, RANK2 = [1, 2, 3], [3, 1, 2]


def nh_record(**changes):
    base = record(
        id="sites",
        questions=QUESTIONS,
        regions=[{"name": "North"}],
        rule={"type": "majority", "question": 0, "answer": 0},
    )
    base.update(changes)
    return base


@pytest.fixture
def client(tmp_path):
    board = SQLiteBoard(tmp_path / "board.db")
    app = create_app(board, admin_token=TOKEN, key=SigningKey.from_seed(b"\x03" * 32))
    with TestClient(app) as c:
        yield c
    board.close()


def open_and_vote(c, rng):
    """Create, run the ceremony, open and vote (a2 revotes); the administrator, the trustees
    and the region's election uuid."""
    admin = Administrator(c, TOKEN)
    created = admin.create(nh_record(), VOTERS)
    assert created["group"] == "Ed25519"
    rid = created["id"]
    trustees = [Trustee(c, rid, t["index"], t["token"], rng) for t in created["trustees"]]
    for step in ("send_certificate", "send_polynomial", "send_voutput"):
        for t in trustees:
            getattr(t, step)()
    opened = admin.open(rid)
    (north,) = opened["regions"]
    creds = {x["login"]: x["credential"] for x in north["credentials"]}
    for login, choices in (
        ("a1", [YES, RANK1]),
        ("a2", [NO, RANK2]),
        ("a3", [YES, RANK2]),
        ("a2", [YES, RANK1]),
    ):
        Voter(c, rid, "North", creds[login], rng).vote(choices)
    return admin, trustees, north["election"]


def height(c, uuid) -> int:
    return c.get(f"/api/elections/{uuid}").json()["height"]


def archive(c, uuid) -> bytes:
    return c.get(f"/api/elections/{uuid}/archive").content


def cli_shuffle(tmp_path, data: bytes, uuid: str, owner: int) -> bytes:
    """``plebiscite trustee shuffle`` on the archive as downloaded: both lines it prints."""
    d = tmp_path / f"cli-{owner}"
    d.mkdir()
    (d / f"{uuid}.bel").write_bytes(data)
    return ok(["trustee", "shuffle", "--dir", str(d), "--trustee-id", str(owner)]).encode()


def belenios_shuffle(tmp_path, data: bytes, uuid: str, owner: int) -> bytes | None:
    if not shutil.which("belenios-tool"):
        return None
    d = tmp_path / f"belenios-{owner}"
    d.mkdir()
    (d / f"{uuid}.bel").write_bytes(data)
    return peer_shuffle(d, owner)


def test_a_ranking_is_shuffled_then_decrypted(client, tmp_path):
    rng = DeterministicRandom("shuffles")
    admin, trustees, uuid = open_and_vote(client, rng)
    alice, bob, carol = trustees
    rid = "sites"
    path = f"/api/referendums/{rid}/regions/North/shuffle-input"
    shuffle_path = f"{alice.base}/regions/North/shuffle"
    # before the close: no shuffle
    with pytest.raises(PartyError) as e:
        alice.call("GET", path)
    assert error(e)[:2] == (409, "state")
    with pytest.raises(PartyError) as e:
        alice.call("POST", shuffle_path, content=b'{"ciphertexts": [], "proofs": []}')
    assert error(e)[:2] == (409, "state") and "voting is not closed" in error(e)[2]

    closed = admin.close(rid)
    (north,) = closed["regions"]
    assert closed["phase"] == "decrypting"  # shuffles first, see the region's "shuffles"
    assert north["status"] == "shuffling"  # the server shuffled right after the tally
    assert north["shuffles"] == {
        "questions": [1],
        "server": True,
        "by": [],
        "needed": 2,
        "done": False,
        "open": True,
    }
    served = alice.get(path)
    assert served["questions"] == [1] and len(served["ciphertexts"][0]) == 3

    # no decryption before the shuffles are over
    h = height(client, uuid)
    with pytest.raises(PartyError) as e:
        alice.decrypt("North")
    assert error(e)[:2] == (409, "shuffles_pending")
    assert "0 of the 2" in error(e)[2]

    # a tampered proof, a shuffle of the tally as it was before the server's shuffle, another
    # trustee's owner, garbage: each refused, nothing appended
    good = alice.shuffle_of("North")
    bad = json.loads(good)
    bad["proofs"][0][1][0] = str(int(bad["proofs"][0][1][0]) + 1)
    with pytest.raises(PartyError) as e:
        alice.call("POST", shuffle_path, content=json.dumps(bad).encode())
    assert error(e)[:2] == (422, "proof") and "shuffle refused" in error(e)[2]
    assert "proofs[0]" in error(e)[2]
    data = archive(client, uuid)
    v = Verifier(lambda: io.BytesIO(data))
    v.run()
    stale = encrypted_tally_of_board(iter_members(io.BytesIO(data))).tally  # before any shuffle
    assert v.election is not None and stale is not None
    ctx = Context(v.election.group, v.election.public_key)
    old = shuffle_json(v.election, ctx, stale, rng)
    with pytest.raises(PartyError) as e:
        alice.call("POST", shuffle_path, content=old)
    assert error(e)[:2] == (422, "proof") and "ciphertexts to shuffle now" in error(e)[2]
    with pytest.raises(PartyError) as e:  # the wrapper names Bob (owner 3)
        alice.call("POST", shuffle_path, content=good + b"\n" + owned_json(3, sha256_hex(good)))
    assert error(e)[:2] == (422, "encoding") and "owner 2" in error(e)[2]
    with pytest.raises(PartyError) as e:
        alice.call("POST", shuffle_path, content=b'{"ciphertexts": [[]], "proofs": [[]]}')
    assert error(e)[0] == 422
    with pytest.raises(PartyError) as e:  # Bob's token cannot send Alice's shuffle
        bob.call("POST", shuffle_path, content=good)
    assert error(e)[:2] == (403, "forbidden")
    assert height(client, uuid) == h

    # Alice shuffles with plebiscite's command line (both lines it prints)
    lines = cli_shuffle(tmp_path, archive(client, uuid), uuid, alice.index + 1)
    north = alice.call("POST", shuffle_path, content=lines).json()
    assert north["shuffles"]["by"] == [1] and north["status"] == "shuffling"
    assert height(client, uuid) == h + 1
    with pytest.raises(PartyError) as e:  # once only
        alice.call("POST", shuffle_path, content=alice.shuffle_of("North"))
    assert error(e)[:2] == (409, "state") and "already shuffled" in error(e)[2]
    assert height(client, uuid) == h + 1
    with pytest.raises(PartyError) as e:
        bob.decrypt("North")
    assert "1 of the 2" in error(e)[2]

    # Carol with belenios-tool (where installed), else with her own client
    theirs = belenios_shuffle(tmp_path, archive(client, uuid), uuid, carol.index + 1)
    if theirs is None:
        north = carol.shuffle("North")
    else:
        north = carol.call("POST", f"{carol.base}/regions/North/shuffle", content=theirs).json()
    assert north["status"] == "shuffled"  # EndShuffles appended
    assert north["shuffles"] == {
        "questions": [1],
        "server": True,
        "by": [1, 3],
        "needed": 2,
        "done": True,
        "open": False,
    }
    assert height(client, uuid) == h + 3
    assert status(client, rid)["phase"] == "decrypting"
    with pytest.raises(PartyError) as e:  # the shuffles are over
        bob.call("POST", f"{bob.base}/regions/North/shuffle", content=good)
    assert error(e)[:2] == (409, "state") and "shuffles are over" in error(e)[2]
    with pytest.raises(PartyError) as e:
        bob.get(path)
    assert error(e)[:2] == (409, "state")

    # the decryption of the shuffled tally
    assert bob.decrypt("North")["status"] == "decrypting"
    assert carol.decrypt("North")["status"] == "done"
    st = status(client, rid)
    assert st["phase"] == "done" and st["outcome"]["verdict"] == "passed"
    (result,) = [r["result"] for r in st["regions"]]
    assert result[0] == [0, 3, 0]  # a2's revote replaced her first ballot
    assert sorted(result[1]) == sorted([RANK1, RANK2, RANK1])

    data = archive(client, uuid)
    report = verify_archive(lambda: io.BytesIO(data))
    assert report.valid, [f.describe() for f in report.findings]
    assert report.status == "done" and report.result == result
    d = tmp_path / "verify"
    d.mkdir()
    (d / f"{uuid}.bel").write_bytes(data)
    assert ok(["verify", str(d / f"{uuid}.bel")]).endswith("VALID\n")
    if shutil.which("belenios-tool"):
        belenios_verify(tmp_path, uuid, data)


def test_non_homomorphic_questions_need_unit_weights(client):
    admin = Administrator(client, TOKEN)
    with pytest.raises(PartyError) as e:
        admin.create(nh_record(), {"North": ["a1", {"login": "a2", "weight": 2}]})
    assert error(e)[0] == 422 and "weight must be 1" in error(e)[2]
    assert client.get("/api/referendums").json() == []


def test_the_shuffles_go_on_after_restarts(tmp_path, monkeypatch):
    url = str(tmp_path / "board.db")
    rng = DeterministicRandom("shuffle restarts")
    real_server_shuffle = lifecycle._server_shuffle
    # the server dies between the tally and its own shuffle
    with server(url) as c:
        admin, trustees, uuid = open_and_vote(c, rng)
        alice, bob, carol = trustees
        monkeypatch.setattr(lifecycle, "_server_shuffle", lambda s, workers=None: None)
        closed = admin.close("sites")
        assert closed["regions"][0]["status"] == "tallied"
        assert closed["regions"][0]["shuffles"]["server"] is False
    monkeypatch.setattr(lifecycle, "_server_shuffle", real_server_shuffle)

    with server(url) as c:  # the start-up shuffles
        rebind(c, admin, *trustees)
        (north,) = status(c, "sites")["regions"]
        assert north["status"] == "shuffling" and north["shuffles"]["server"] is True
        bob.shuffle("North")
        # the server dies between the last trustee's shuffle and EndShuffles
        monkeypatch.setattr(lifecycle, "_end_shuffles", lambda ref, s: None)
        north = carol.shuffle("North")
        assert north["status"] == "shuffling" and north["shuffles"]["by"] == [2, 3]
    monkeypatch.undo()

    with server(url) as c:  # EndShuffles at start-up, then the decryption
        rebind(c, admin, *trustees)
        (north,) = status(c, "sites")["regions"]
        assert north["status"] == "shuffled" and north["shuffles"]["done"] is True
        with pytest.raises(PartyError) as e:
            alice.shuffle("North")
        assert error(e)[:2] == (409, "state")
        alice.decrypt("North")

    with server(url) as c:
        rebind(c, admin, *trustees)
        assert carol.decrypt("North")["status"] == "done"
        st = status(c, "sites")
        assert st["phase"] == "done"
        data = archive(c, uuid)
        report = verify_archive(lambda: io.BytesIO(data))
        assert report.valid and report.status == "done"


def test_the_demo_with_a_ranking_shuffles_over_http(client):
    final = play_referendum(
        client,
        TOKEN,
        voters=3,
        regions=1,
        rng=DeterministicRandom("demo ranking"),
        log=lambda _: None,
        ranking=True,
    )
    assert final["phase"] == "done"
    (region,) = final["regions"]
    assert region["valid"] and region["status"] == "done"
    assert region["shuffles"]["by"] == [1, 2] and region["shuffles"]["server"]
    assert len(region["result"][2]) == 3  # three rankings, in shuffled order


def test_a_region_without_ballots_is_shuffled_and_decrypted(client):
    rng = DeterministicRandom("no ballots")
    admin = Administrator(client, TOKEN)
    created = admin.create(nh_record(), VOTERS)
    rid = created["id"]
    trustees = [Trustee(client, rid, t["index"], t["token"], rng) for t in created["trustees"]]
    for step in ("send_certificate", "send_polynomial", "send_voutput"):
        for t in trustees:
            getattr(t, step)()
    admin.open(rid)
    admin.close(rid)
    for t in trustees[1:]:
        t.shuffle("North")
    for t in trustees[:2]:
        t.decrypt("North")
    st = status(client, rid)
    assert st["phase"] == "done"
    assert st["regions"][0]["result"] == [[0, 0, 0], []]
