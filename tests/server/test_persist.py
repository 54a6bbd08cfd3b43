"""The referendum lifecycle survives restarts of the server (a new application over the same
database, SQLite or PostgreSQL): the ceremony, the credentials, the opening, the votes and the
decryption go on where they were; what the server keeps of its own is in the private store,
its trustee key sealed, the link tokens as hashes only; a failed write changes nothing."""

from __future__ import annotations

import io
import itertools
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from plebiscite.board import open_board
from plebiscite.board.private import open_private
from plebiscite.cli.demo_server import status
from plebiscite.client import Administrator, CredentialAuthority, PartyError, Trustee, Voter
from plebiscite.crypto.hashing import sha256_hex
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.crypto.signing import SigningKey
from plebiscite.errors import StateError
from plebiscite.protocol.tally import owned_json
from plebiscite.protocol.verifier import verify_archive
from plebiscite.server.app import create_app
from plebiscite.service.election import CHECKPOINT_KIND
from plebiscite.service.referendum import (
    KIND,
    KIND_OPENING,
    KIND_OPENING_REGION,
    KIND_ROLL,
    KIND_ROLL_REGION,
)
from server.test_lifecycle import BLANK, NO, TOKEN, VOTERS, YES, A, B, C, record

KEY = SigningKey.from_seed(b"\x07" * 32)


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "board.db")
    else:
        with request.getfixturevalue("pg_server").fresh_database() as dsn:
            yield dsn


@contextmanager
def server(url: str, key: SigningKey = KEY) -> Iterator[TestClient]:
    """One life of the server: a new board connection, a new application, its lifespan."""
    board = open_board(url)
    try:
        app = create_app(board, admin_token=TOKEN, key=key)
        with TestClient(app) as client:
            yield client
    finally:
        board.close()


def rebind(client: TestClient, *parties) -> None:
    for p in parties:
        p.http = client


def private_records(url: str) -> list[bytes]:
    store = open_private(url)
    try:
        kinds = (
            KIND,
            KIND_ROLL,
            KIND_ROLL_REGION,
            KIND_OPENING,
            KIND_OPENING_REGION,
            CHECKPOINT_KIND,
        )
        return [v for k in kinds for _, v in store.items(k)]
    finally:
        store.close()


def test_a_referendum_survives_restarts_at_every_step(database):
    rng = DeterministicRandom("persist")
    with server(database) as c:
        admin = Administrator(c, TOKEN)
        created = admin.create(record(), VOTERS, {"South": "external"})
        rid = created["id"]
        trustees = [Trustee(c, rid, t["index"], t["token"], rng) for t in created["trustees"]]
        alice, bob, carol = trustees
        for t in trustees:
            t.send_certificate()
        alice.send_polynomial()
        bob.send_polynomial()
        server_key = c.app.state.referendums.refs[rid].server_key
        before = status(c, rid)

    with server(database) as c:  # mid-ceremony
        rebind(c, admin, *trustees)
        st = status(c, rid)
        assert st == before
        assert [t["polynomial"] for t in st["ceremony"]["trustees"]] == [True, True, False]
        assert carol.send_polynomial()["phase"] == "voutputs"
        alice.send_voutput()
        # tokens are still checked after the restart
        r = c.post(f"/api/referendums/{rid}/trustees/2/voutput", content=b"{}")
        assert r.status_code == 401

    with server(database) as c:
        rebind(c, admin, *trustees)
        bob.send_voutput()
        done = carol.send_voutput()
        assert done["phase"] == "done"
        south = next(r for r in created["regions"] if r["name"] == "South")
        ca = CredentialAuthority(c, rid, "South", south["authority_token"], rng)
        south_creds = ca.make_credentials()

    with server(database) as c:  # the ceremony's outcome and the credentials are kept
        rebind(c, admin, *trustees)
        st = status(c, rid)
        assert st["phase"] == "ready"
        assert st["ceremony"]["trustees_hash"] == done["trustees_hash"]
        assert all(r["credentials_ready"] for r in st["regions"])
        opened = admin.open(rid)
        regions = {r["name"]: r for r in opened["regions"]}
        north_creds = {x["login"]: x["credential"] for x in regions["North"]["credentials"]}
        Voter(c, rid, "North", north_creds["a1"], rng).vote([YES, A])
        Voter(c, rid, "South", south_creds["b1"], rng).vote([NO, A])

    with server(database) as c:  # voting goes on
        rebind(c, admin, *trustees)
        st = status(c, rid)
        assert st["phase"] == "open"
        assert st["record"]["trustees"]["hash"] == done["trustees_hash"]
        with pytest.raises(PartyError) as e:
            admin.open(rid)
        assert e.value.status == 409
        for region, login, choices in [
            ("North", "a2", [YES, B]),
            ("North", "a3", [NO, C]),
            ("South", "b2", [BLANK, A]),
            ("South", "b3", [YES, B]),
            ("North", "a1", [NO, A]),  # a revote
        ]:
            creds = north_creds if region == "North" else south_creds
            Voter(c, rid, region, creds[login], rng).vote(choices)
        closed = admin.close(rid)
        assert closed["phase"] == "decrypting"
        bob.decrypt("North")

    with server(database) as c:  # mid-decryption: the server's own key is still there
        rebind(c, admin, *trustees)
        assert c.app.state.referendums.refs[rid].server_key == server_key
        assert carol.decrypt("North")["status"] == "done"
        alice.decrypt("South")
        assert carol.decrypt("South")["status"] == "done"

    with server(database) as c:
        st = status(c, rid)
        assert st["phase"] == "done"
        results = {r["name"]: r["result"] for r in st["regions"]}
        assert results == {"North": [[0, 1, 2], [1, 1, 1]], "South": [[1, 2, 1], [2, 2, 0]]}
        assert st["outcome"]["verdict"] == "failed"
        for region in st["regions"]:
            data = c.get(region["archive"]).content
            report = verify_archive(lambda data=data: io.BytesIO(data))
            assert report.valid, [f.describe() for f in report.findings]
            assert report.result == results[region["name"]]

    # what the server kept: its key sealed, the link tokens hashed, no opening left over
    records = b"".join(private_records(database))
    assert str(server_key).encode() not in records
    tokens = [t["token"] for t in created["trustees"]] + [south["authority_token"]]
    assert not [t for t in tokens if t.encode() in records]
    assert not [x for x in north_creds.values() if x.encode() in records]
    store = open_private(database)
    try:
        assert store.get(KIND_OPENING, rid) is None
        assert store.get(KIND, rid) is not None
    finally:
        store.close()


def test_the_voter_roll_is_a_record_a_region_written_when_it_changes(tmp_path):
    """The roll's head names how many regions; each region's part is its own record, written
    again only when a change replaced it (the external authority's credentials: that region's
    part alone; a ceremony step: none). A roll written whole in its head (an earlier layout)
    is read as well."""
    url = str(tmp_path / "board.db")
    rng = DeterministicRandom("roll")
    with server(url) as c:
        admin = Administrator(c, TOKEN)
        created = admin.create(record(), VOTERS, {"South": "external"})
        rid = created["id"]
        store = open_private(url)
        try:
            head = json.loads(store.get(KIND_ROLL, rid))
            assert head == {"version": 2, "regions": 2}
            first = store.versions(KIND_ROLL_REGION)
            assert sorted(first) == [f"{rid}/0", f"{rid}/1"]
            trustee = created["trustees"][0]
            Trustee(c, rid, trustee["index"], trustee["token"], rng).send_certificate()
            assert store.versions(KIND_ROLL_REGION) == first  # nothing of the roll changed
            south = next(r for r in created["regions"] if r["name"] == "South")
            CredentialAuthority(c, rid, "South", south["authority_token"], rng).make_credentials()
            now = store.versions(KIND_ROLL_REGION)
            north_i, south_i = (f"{rid}/{i}" for i in (0, 1))
            assert now[north_i] == first[north_i] and now[south_i] > first[south_i]
            before = status(c, rid)
            # the earlier layout: every region in the head
            parts = [json.loads(v) for _, v in sorted(store.items(KIND_ROLL_REGION, f"{rid}/"))]
            store.put(KIND_ROLL, rid, json.dumps({"version": 1, "regions": parts}).encode())
            store.delete_prefix(KIND_ROLL_REGION, f"{rid}/")
        finally:
            store.close()
    with server(url) as c:
        assert status(c, rid) == before
        # a change of one region's part writes the earlier layout's roll a region at a time
        CredentialAuthority(c, rid, "South", south["authority_token"], rng).make_credentials()
    store = open_private(url)
    try:
        assert json.loads(store.get(KIND_ROLL, rid)) == {"version": 2, "regions": 2}
        assert sorted(store.versions(KIND_ROLL_REGION)) == [f"{rid}/0", f"{rid}/1"]
    finally:
        store.close()
    with server(url) as c:
        assert status(c, rid) == before


def test_the_server_key_opens_only_with_the_servers_key_file(tmp_path):
    url = str(tmp_path / "board.db")
    with server(url) as c:
        Administrator(c, TOKEN).create(record(), VOTERS)
    other = SigningKey.from_seed(b"\x08" * 32)
    with (
        pytest.raises(StateError, match="does not open with this server's key"),
        server(url, other),
    ):
        pass


def ceremony(c, rng, authorities=None):
    admin = Administrator(c, TOKEN)
    created = admin.create(record(), VOTERS, authorities)
    rid = created["id"]
    trustees = [Trustee(c, rid, t["index"], t["token"], rng) for t in created["trustees"]]
    for step in ("send_certificate", "send_polynomial", "send_voutput"):
        for t in trustees:
            getattr(t, step)()
    return admin, rid, trustees


def test_a_decryption_interrupted_before_its_result_is_finished_at_start_up(tmp_path):
    """The server crashed after appending the last partial decryption a threshold needed but
    before its own and the result: the next start finishes them."""
    url = str(tmp_path / "board.db")
    rng = DeterministicRandom("interrupted")
    with server(url) as c:
        admin, rid, (alice, bob, _) = ceremony(c, rng)
        opened = admin.open(rid)
        for reg in opened["regions"]:
            cred = reg["credentials"][0]["credential"]
            Voter(c, rid, reg["name"], cred, rng).vote([YES, A])
        admin.close(rid)
        alice.decrypt("North")
        pd = bob.partial_decryption("North")
        uuid = next(r["election"] for r in opened["regions"] if r["name"] == "North")
    # the append the server made before it crashed
    board = open_board(url)
    try:
        from plebiscite.board import Item

        item = Item("PartialDecryption", (pd, owned_json(bob.index + 1, sha256_hex(pd))))
        board.append(uuid, board.head(uuid), [item])
    finally:
        board.close()
    with server(url) as c:
        north = next(r for r in status(c, rid)["regions"] if r["name"] == "North")
        assert north["status"] == "done" and north["result"] == [YES, A]
        assert north["decrypted_by"] == [1, 2]


@contextmanager
def failing_writes(url: str, kind: str) -> Iterator[None]:
    """The database refuses to change the records of ``kind`` (a real failure of the write,
    made by a trigger), until the block ends."""
    conn = sqlite3.connect(url, isolation_level=None)
    try:
        for op in ("INSERT", "UPDATE"):
            conn.execute(
                f"CREATE TRIGGER fail_{op.lower()} BEFORE {op} ON private "
                f"WHEN NEW.kind = '{kind}' BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
            )
        yield
    finally:
        for op in ("INSERT", "UPDATE"):
            conn.execute(f"DROP TRIGGER IF EXISTS fail_{op.lower()}")
        conn.close()


def test_a_change_that_cannot_be_stored_is_not_made(tmp_path):
    url = str(tmp_path / "board.db")
    rng = DeterministicRandom("failing")
    with server(url) as c:
        admin = Administrator(c, TOKEN)
        with failing_writes(url, KIND):
            with pytest.raises(PartyError) as e:
                admin.create(record(), VOTERS)
            assert (e.value.status, e.value.code) == (503, "board_unavailable")
            assert c.get("/api/referendums").json() == []
        created = admin.create(record(), VOTERS)
        rid = created["id"]
        trustees = [Trustee(c, rid, t["index"], t["token"], rng) for t in created["trustees"]]
        trustees[0].send_certificate()
        trustees[1].send_certificate()
        before = status(c, rid)
        with failing_writes(url, KIND):
            with pytest.raises(PartyError) as e:
                trustees[2].send_certificate()
            assert e.value.status == 503
        assert status(c, rid) == before  # not half-changed
        assert trustees[2].send_certificate()["phase"] == "polynomials"
    with server(url) as c:
        assert status(c, rid)["ceremony"]["phase"] == "polynomials"


def test_an_opening_interrupted_is_finished_with_the_same_credentials(tmp_path):
    """The opening made the boards but could not record it (the database failed): the next
    attempt finishes it with the boards and credentials already made, also after a restart."""
    url = str(tmp_path / "board.db")
    rng = DeterministicRandom("opening")
    with server(url) as c:
        admin, rid, _ = ceremony(c, rng)
        with failing_writes(url, KIND):
            with pytest.raises(PartyError) as e:
                admin.open(rid)
            assert e.value.status == 503
        assert status(c, rid)["phase"] == "ready"
        uuids = list(c.app.state.elections.states)
        assert len(uuids) == 2  # the boards were made
        # the plan is there, a part a region, each with its credentials sealed
        store = open_private(url)
        plan = store.get(KIND_OPENING, rid)
        parts = store.items(KIND_OPENING_REGION, f"{rid}/")
        store.close()
        assert plan is not None and sorted(
            json.loads(plan)["regions"][i]["uuid"] for i in (0, 1)
        ) == sorted(uuids)
        assert sorted(k for k, _ in parts) == sorted(f"{rid}/{u}" for u in uuids)
        assert all(b'"credentials"' in v for _, v in parts)
    with server(url) as c:
        admin.http = c
        opened = admin.open(rid)
        assert sorted(r["election"] for r in opened["regions"]) == sorted(uuids)
        for reg in opened["regions"]:
            cred = reg["credentials"][0]["credential"]
            Voter(c, rid, reg["name"], cred, rng).vote([YES, A])  # the credentials work
        assert status(c, rid)["phase"] == "open"
    store = open_private(url)
    try:
        assert store.get(KIND_OPENING, rid) is None
        assert store.items(KIND_OPENING_REGION, f"{rid}/") == []
    finally:
        store.close()


def test_restart_resumes_the_verifier_from_its_checkpoint(tmp_path):
    url = str(tmp_path / "board.db")
    rng = DeterministicRandom("resume")
    with server(url) as c:
        admin, rid, _ = ceremony(c, rng)
        opened = admin.open(rid)
        north = next(r for r in opened["regions"] if r["name"] == "North")
        for x in north["credentials"]:
            Voter(c, rid, "North", x["credential"], rng).vote([YES, A])
        summary = c.get(f"/api/elections/{north['election']}").json()
    # saved when the server stopped: at the head of the board
    store = open_private(url)
    header = store.get(CHECKPOINT_KIND, north["election"]).split(b"\n", 1)[0]
    store.close()
    assert json.loads(header)["height"] == summary["height"] == 3
    with server(url) as c:
        s = c.app.state.elections.states[north["election"]]
        assert s.resumed
        assert c.get(f"/api/elections/{north['election']}").json() == summary
        assert len(s.trackers) == 3
        Voter(c, rid, "North", north["credentials"][0]["credential"], rng).vote([NO, B])
        admin.http = c
        admin.close(rid)
        assert s.verifier.report.status == "tallied"
    # a checkpoint that no longer fits the board (here: another board's) is set aside
    store = open_private(url)
    south = next(r["election"] for r in opened["regions"] if r["name"] == "South")
    store.put(CHECKPOINT_KIND, north["election"], store.get(CHECKPOINT_KIND, south))
    store.close()
    with server(url) as c:
        s = c.app.state.elections.states[north["election"]]
        assert not s.resumed and s.verifier.report.status == "tallied"
        assert s.verifier.report.ballots == 4


# -- two servers on one board ----------------------------------------------------------------


def open_vector_setup():
    """The setup of belenios-tool's 'open' vector and its voters' private credentials."""
    from conftest import peer_vector
    from plebiscite.protocol.messages import parse_election
    from tamper import Archive

    path, meta = peer_vector("open")
    a = Archive.load(path)
    sd = a.data(a.payload_index("Setup"))
    texts = {k: a.entries[a.index_of_hash(sd[k])].content.decode() for k in sd}
    return texts, meta["private_credentials"], parse_election(texts["election"].encode())


def test_two_servers_on_one_board_read_each_others_ballots_before_appending(database):
    from plebiscite.protocol.ballot import make_ballot

    texts, creds, election = open_vector_setup()
    uuid = election.uuid
    admin = {"authorization": f"Bearer {TOKEN}"}
    with server(database) as one:
        assert one.post("/api/elections", json=texts, headers=admin).status_code == 201
        with server(database) as two:  # started once the election exists
            ballots = [
                make_ballot(election, creds[i], [[1, 0], [0, 1, 0]], DeterministicRandom(f"{i}"))
                for i in range(4)
            ]
            assert one.post(f"/api/elections/{uuid}/ballots", content=ballots[0]).status_code == 200
            # two's head is stale: it reads one's ballot, checks its own again, appends
            r = two.post(f"/api/elections/{uuid}/ballots", content=ballots[1])
            assert r.status_code == 200, r.text
            assert r.json()["height"] == 2
            assert two.get(f"/api/elections/{uuid}").json()["ballots"] == 2
            # the same ballot through the other server: found on the board, a clear 409
            r = one.post(f"/api/elections/{uuid}/ballots", content=ballots[1])
            assert r.status_code == 409 and r.json()["error"]["code"] == "duplicate"
            assert one.get(f"/api/elections/{uuid}").json()["ballots"] == 2
            assert one.post(f"/api/elections/{uuid}/ballots", content=ballots[2]).status_code == 200
            assert two.post(f"/api/elections/{uuid}/close", headers=admin).status_code == 200
            r = one.post(f"/api/elections/{uuid}/ballots", content=ballots[3])
            assert r.status_code == 409 and r.json()["error"]["code"] == "voting_closed"
            data = one.get(f"/api/elections/{uuid}/archive").content
    report = verify_archive(lambda: io.BytesIO(data))
    assert report.valid and report.status == "closed" and report.ballots == 3


def test_closing_a_referendum_reads_the_ballots_another_server_appended(database):
    rng = DeterministicRandom("shared")
    with server(database) as one:
        admin, rid, (alice, bob, _) = ceremony(one, rng)
        opened = admin.open(rid)
        creds = {r["name"]: r["credentials"] for r in opened["regions"]}
        Voter(one, rid, "North", creds["North"][0]["credential"], rng).vote([YES, A])
        with server(database) as two:  # a second server on the same board
            assert status(two, rid)["phase"] == "open"
            Voter(two, rid, "North", creds["North"][1]["credential"], rng).vote([NO, B])
            Voter(two, rid, "South", creds["South"][0]["credential"], rng).vote([YES, B])
        # one's view of the boards is stale: closing reads the new ballots, then tallies them
        closed = admin.close(rid)
        assert [r["ballots"] for r in closed["regions"]] == [2, 1]
        for name in ("North", "South"):
            alice.decrypt(name)
            bob.decrypt(name)
        st = status(one, rid)
        assert st["phase"] == "done"
        assert [r["result"] for r in st["regions"]] == [[[0, 1, 1], [1, 1, 0]], [YES, B]]


def test_signed_checkpoints_form_one_chain_across_restarts(database):
    from plebiscite.protocol.ballot import make_ballot
    from plebiscite.protocol.checkpoints import (
        SignedCheckpoint,
        detect_equivocation,
        verify_checkpoint,
    )

    texts, creds, election = open_vector_setup()
    uuid = election.uuid
    admin = {"authorization": f"Bearer {TOKEN}"}
    with server(database) as c:
        assert c.post("/api/elections", json=texts, headers=admin).status_code == 201
        ballot = make_ballot(election, creds[0], [[1, 0], [0, 1, 0]], DeterministicRandom("c"))
        assert c.post(f"/api/elections/{uuid}/ballots", content=ballot).status_code == 200
    with server(database) as c:
        assert c.post(f"/api/elections/{uuid}/close", headers=admin).status_code == 200
    with server(database) as c:
        seen = c.get(f"/api/elections/{uuid}/checkpoints").json()
    cps = [SignedCheckpoint.from_json(json.dumps(x)) for x in seen]
    # the creation, the second start, the close, the third start
    assert [c.checkpoint.height for c in cps] == [0, 1, 2, 2]
    for a, b in itertools.pairwise(cps):
        assert b.checkpoint.previous == a.fingerprint
    assert all(verify_checkpoint(KEY.public(), c) for c in cps)
    assert detect_equivocation(cps) == []
