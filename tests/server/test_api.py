"""The board server over HTTP (in-process client, real SQLite board)."""

from __future__ import annotations

import io
import json
import shutil

import pytest
from fastapi.testclient import TestClient

from conftest import peer_vector
from peers import peer_verifies
from plebiscite.board.sqlite import SQLiteBoard
from plebiscite.crypto.hashing import h_json
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.crypto.signing import SigningKey
from plebiscite.protocol.ballot import make_ballot
from plebiscite.protocol.checkpoints import SignedCheckpoint, verify_checkpoint
from plebiscite.protocol.messages import parse_election
from plebiscite.protocol.verifier import verify_archive
from plebiscite.server.app import create_app
from tamper import Archive

TOKEN = "test-admin-token"
ADMIN = {"authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def setup():
    """The setup of the 'open' vector: election, trustees, credentials, and its voters."""
    path, meta = peer_vector("open")
    a = Archive.load(path)
    sd = a.data(a.payload_index("Setup"))
    texts = {k: a.entries[a.index_of_hash(sd[k])].content.decode() for k in sd}
    return texts, meta["private_credentials"], parse_election(texts["election"].encode())


@pytest.fixture
def client(tmp_path):
    board = SQLiteBoard(tmp_path / "board.db")
    key = SigningKey.from_seed(b"\x01" * 32)
    app = create_app(board, admin_token=TOKEN, key=key, timestamp=1_700_000_000)
    with TestClient(app) as c:
        c.key = key
        yield c
    board.close()


def test_an_election_from_setup_to_close(client, setup, tmp_path):
    texts, creds, election = setup
    r = client.post("/api/elections", json=texts, headers=ADMIN)
    assert r.status_code == 201, r.text
    uuid = election.uuid
    trackers = []
    for i, choices in enumerate([[[1, 0], [0, 1, 0]], [[0, 1], [1, 0, 0]], [[1, 0], [0, 0, 1]]]):
        ballot = make_ballot(election, creds[i], choices, DeterministicRandom(f"b{i}"))
        r = client.post(f"/api/elections/{uuid}/ballots", content=ballot)
        assert r.status_code == 200, r.text
        assert r.json()["tracker"] == h_json(ballot)
        trackers.append(r.json()["tracker"])
        again = client.post(f"/api/elections/{uuid}/ballots", content=ballot)
        assert again.status_code == 409 and again.json()["error"]["code"] == "duplicate"
    # a revote replaces the first ballot
    r = client.post(
        f"/api/elections/{uuid}/ballots",
        content=make_ballot(election, creds[0], [[0, 1], [0, 1, 0]], DeterministicRandom("revote")),
    )
    assert r.status_code == 200
    assert client.get(f"/api/elections/{uuid}/ballots/{trackers[1]}").status_code == 200
    assert client.get(f"/api/elections/{uuid}/ballots/nope").json()["error"]["code"] == (
        "unknown_tracker"
    )
    status = client.get(f"/api/elections/{uuid}").json()
    assert status["ballots"] == 4 and status["voted"] == 3 and status["status"] == "open"
    assert client.post(f"/api/elections/{uuid}/close").status_code == 401
    assert client.post(f"/api/elections/{uuid}/close", headers=ADMIN).status_code == 200
    late = make_ballot(election, creds[3], [[1, 0], [0, 1, 0]], DeterministicRandom("late"))
    r = client.post(f"/api/elections/{uuid}/ballots", content=late)
    assert r.status_code == 422 and "voting is not open" in r.json()["error"]["message"]
    # the archive: valid for plebiscite, and for belenios-tool
    data = client.get(f"/api/elections/{uuid}/archive").content
    report = verify_archive(lambda: io.BytesIO(data))
    assert report.valid and report.ballots == 4 and report.status == "closed"
    if shutil.which("belenios-tool"):
        (tmp_path / "e").mkdir()
        (tmp_path / "e" / f"{uuid}.bel").write_bytes(data)
        peer_verifies(tmp_path / "e")
    # signed checkpoints: start-up and close
    cps = [
        SignedCheckpoint.from_json(json.dumps(c))
        for c in client.get(f"/api/elections/{uuid}/checkpoints").json()
    ]
    assert [c.checkpoint.phase for c in cps] == ["open", "closed"]
    for c in cps:
        verify_checkpoint(client.key.public(), c)


def test_bad_ballots_are_refused_with_a_clear_error(client, setup):
    texts, creds, election = setup
    assert client.post("/api/elections", json=texts, headers=ADMIN).status_code == 201
    uuid = election.uuid
    ballot = json.loads(
        make_ballot(election, creds[0], [[1, 0], [0, 1, 0]], DeterministicRandom("x"))
    )
    ballot["signature"]["proof"]["response"] = "1"
    r = client.post(
        f"/api/elections/{uuid}/ballots", content=json.dumps(ballot, separators=(",", ":"))
    )
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "proof"
    r = client.post(f"/api/elections/{uuid}/ballots", content=json.dumps(ballot))
    assert r.status_code == 422 and "canonical form" in r.json()["error"]["message"]
    r = client.post(f"/api/elections/{uuid}/ballots", content=b"{" * 10)
    assert r.status_code == 422 and r.json()["error"]["code"] == "encoding"
    r = client.post(f"/api/elections/{uuid}/ballots", content=b"x" * (2 << 20))
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
    assert client.get(f"/api/elections/{uuid}").json()["ballots"] == 0
    assert client.get("/api/elections/unknown").status_code == 404


def test_setup_is_verified_and_admin_only(client, setup):
    texts, _, _ = setup
    assert client.post("/api/elections", json=texts).status_code == 401
    bad = dict(texts)
    bad["trustees"] = texts["trustees"].replace('"challenge":"', '"challenge":"1', 1)
    r = client.post("/api/elections", json=bad, headers=ADMIN)
    assert r.status_code == 422
    assert client.post("/api/elections", json=texts, headers=ADMIN).status_code == 201
    assert client.post("/api/elections", json=texts, headers=ADMIN).status_code == 409


def test_every_route_is_documented(client):
    spec = client.get("/openapi.json").json()
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            assert op.get("summary") and op.get("description"), f"{method} {path}"


def test_the_election_alone_for_a_voting_booth(client, setup):
    texts, _, election = setup
    assert client.post("/api/elections", json=texts, headers=ADMIN).status_code == 201
    r = client.get(f"/api/elections/{election.uuid}/election")
    assert r.status_code == 200 and r.content == texts["election"].encode()
    assert r.headers["content-type"] == "application/json"
    missing = client.get("/api/elections/NoSuchElection1234/election")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "unknown_election"
