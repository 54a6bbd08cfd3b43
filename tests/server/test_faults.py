"""Faults and states: a referendum whose close was interrupted by a crash between two regions
is closed in every region at the next start, before any ballot is taken (a real ``plebiscite
serve`` killed by SIGKILL where the fault injection ``PLEBISCITE_TEST_CRASH`` says); a database
that cannot be written for a while (:mod:`readonly`: an immutable SQLite file, a read-only
PostgreSQL database) is answered 503 ``board_unavailable`` while reads go on, and used again
once it can be written, without a restart, the checkpoints signed meanwhile stored then."""

from __future__ import annotations

import io
import itertools
import json
import signal
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from plebiscite.board import open_board
from plebiscite.cli.demo_server import random_choices, setup_referendum, status
from plebiscite.client import PartyError, Voter, connect
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.protocol.ballot import make_ballot
from plebiscite.protocol.checkpoints import (
    SignedCheckpoint,
    detect_equivocation,
    verify_checkpoint,
)
from plebiscite.protocol.verifier import verify_archive
from plebiscite.service.election import MAX_UNSTORED_CHECKPOINTS
from readonly import read_only
from server.test_lifecycle import YES, A
from server.test_persist import KEY, open_vector_setup
from server.test_persist import TOKEN as PERSIST_TOKEN
from server.test_persist import ceremony as persist_ceremony
from server.test_persist import server as persist_server
from server.test_robustness import TOKEN, Server


def last_event(database: str, uuid: str) -> str:
    """The type of the last event on a board, read from the database itself."""
    board = open_board(database)
    try:
        events = [m for m in board.members(uuid) if m.kind == "event"]
    finally:
        board.close()
    return str(json.loads(events[-1].content)["type"])


@pytest.fixture
def server(tmp_path):
    s = Server(str(tmp_path / "board.db"), tmp_path)
    yield s
    s.stop()


def test_a_close_interrupted_between_two_regions_is_finished_at_start_up(server):
    rng = DeterministicRandom("crash-close")
    server.start()
    with connect(server.url, timeout=120) as http:
        d = setup_referendum(http, TOKEN, voters=6, regions=3, rng=rng, say=lambda _: None)
        first = d.names[0]
        voters = {
            name: [Voter(http, d.rid, name, d.private[name][login], rng) for login in d.roll[name]]
            for name in d.names
        }
        for name in d.names:
            voters[name][0].vote(random_choices(voters[name][0].election, rng))
        uuids = {r["name"]: r["election"] for r in status(http, d.rid)["regions"]}
    server.stop()

    server.env = {"PLEBISCITE_TEST_CRASH": f"region-closed:{first}"}
    server.start()
    with connect(server.url, timeout=120) as http:
        d.admin.http = http
        with pytest.raises(httpx.TransportError):  # the server died answering
            d.admin.close(d.rid)
    assert server.proc is not None and server.proc.wait(timeout=30) == -signal.SIGKILL
    assert f"region {first} closed, crashing" in server.log.read_text()
    # the crash came between two regions: the first one tallied, the others still open
    assert [last_event(server.database, uuids[n]) for n in d.names] == [
        "EncryptedTally",
        "Ballot",
        "Ballot",
    ]

    server.env = {}
    server.start()
    with connect(server.url, timeout=120) as http:
        st = status(http, d.rid)
        assert [r["status"] for r in st["regions"]] == ["tallied"] * 3, st["regions"]
        for name in d.names:  # no region takes a ballot: a revote and a first ballot
            for v in voters[name]:
                v.http = http
                with pytest.raises(PartyError) as e:
                    v.vote(random_choices(v.election, rng))
                assert (e.value.status, e.value.code) == (409, "voting_closed"), name
        for region in st["regions"]:
            data = http.get(region["archive"]).content
            report = verify_archive(lambda data=data: io.BytesIO(data))
            assert report.valid, [f.describe() for f in report.findings]
            assert report.status == "tallied" and report.ballots == 1
        for name in d.names:
            for t in d.trustees[:2]:
                t.http = http
                t.decrypt(name)
        assert status(http, d.rid)["phase"] == "done"


# -- a database that cannot be written for a while ----------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def database(request, tmp_path):
    if request.param == "sqlite":
        yield str(tmp_path / "board.db")
    else:
        with request.getfixturevalue("pg_server").fresh_database() as dsn:
            yield dsn


@contextmanager
def held_open(database: str) -> Iterator[None]:
    """An SQLite database kept open by another connection (a backup tool, say), so its
    write-ahead log stays while the server restarts (SQLite opens a read-only database in WAL
    mode only if its log is there). Nothing on PostgreSQL."""
    if "://" in database:
        yield
        return
    conn = sqlite3.connect(database)
    try:
        conn.execute("SELECT count(*) FROM members").fetchone()
        yield
    finally:
        conn.close()


def read_again(c, path: str) -> dict:
    """GET ``path``, once more if it failed with 503: on PostgreSQL the read-only condition
    ends the sessions open (as a failover does), and the request using one fails once."""
    r = c.get(path)
    if r.status_code == 503:
        r = c.get(path)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_a_database_read_only_for_a_while_is_used_again_without_a_restart(database):
    texts, creds, election = open_vector_setup()
    uuid = election.uuid
    ballots = [
        make_ballot(election, creds[i], [[1, 0], [0, 1, 0]], DeterministicRandom(f"ro{i}"))
        for i in range(3)
    ]
    admin = {"authorization": f"Bearer {PERSIST_TOKEN}"}
    base = f"/api/elections/{uuid}"
    with persist_server(database) as c:
        assert c.post("/api/elections", json=texts, headers=admin).status_code == 201
        assert c.post(f"{base}/ballots", content=ballots[0]).status_code == 200
        before = c.get(f"{base}/checkpoints").json()
    with held_open(database), read_only(database), persist_server(database) as c:
        # the server starts on a database it cannot write: it serves the board
        s = c.app.state.elections.states[uuid]
        assert len(s.unstored) == 1  # signed at start-up, not stored, not shown
        assert c.get(f"{base}/checkpoints").json() == before
        summary = c.get(base).json()
        assert summary["ballots"] == 1 and summary["status"] == "open"
        archive = c.get(f"{base}/archive").content
        for _ in range(2):
            r = c.post(f"{base}/ballots", content=ballots[1])
            assert r.status_code == 503, r.text
            assert r.json()["error"]["code"] == "board_unavailable"
        r = c.post(f"{base}/close", headers=admin)
        assert r.status_code == 503 and r.json()["error"]["code"] == "board_unavailable"
        assert c.get(f"{base}/archive").content == archive
        assert c.get(base).json() == summary
    with persist_server(database) as c:
        s = c.app.state.elections.states[uuid]
        shown = c.get(f"{base}/checkpoints").json()
        assert len(shown) == len(before) + 1  # the one of this start
        with read_only(database):  # while the server runs
            assert read_again(c, base)["ballots"] == 1
            s.checkpoint()  # as at a change of phase
            assert len(s.unstored) == 1
            assert c.get(f"{base}/checkpoints").json() == shown
            r = c.post(f"{base}/ballots", content=ballots[1])
            assert r.status_code == 503, r.text
        # writable again: the server's periodic look stores the checkpoint signed meanwhile
        deadline = time.monotonic() + 20
        while s.unstored and time.monotonic() < deadline:
            time.sleep(0.1)
        assert s.unstored == []
        assert len(c.get(f"{base}/checkpoints").json()) == len(shown) + 1
        # the ballot refused is not half-admitted: it goes on the board now, once
        r = c.post(f"{base}/ballots", content=ballots[1])
        assert r.status_code == 200, r.text
        assert c.post(f"{base}/ballots", content=ballots[2]).status_code == 200
        assert c.post(f"{base}/close", headers=admin).status_code == 200
        assert c.get(base).json()["ballots"] == 3
        seen = c.get(f"{base}/checkpoints").json()
    with persist_server(database) as c:
        stored = c.get(f"{base}/checkpoints").json()
        data = c.get(f"{base}/archive").content
    assert stored[: len(seen)] == seen
    cps = [SignedCheckpoint.from_json(json.dumps(x)) for x in stored]
    assert all(verify_checkpoint(KEY.public(), cp) for cp in cps)
    assert detect_equivocation(cps) == []
    for a, b in itertools.pairwise(cps):
        assert b.checkpoint.previous == a.fingerprint  # one chain
    report = verify_archive(lambda: io.BytesIO(data))
    assert report.valid and report.status == "closed" and report.ballots == 3


def test_an_election_whose_setup_could_not_be_appended_is_created_when_sent_again(tmp_path):
    """The board was made, then its Setup refused by the database (a real failure of the
    write, made by a trigger): the creation sent again appends the Setup on that board."""
    url = str(tmp_path / "board.db")
    texts, _, election = open_vector_setup()
    admin = {"authorization": f"Bearer {PERSIST_TOKEN}"}
    with persist_server(url) as c:
        conn = sqlite3.connect(url, isolation_level=None)
        try:
            conn.execute(
                "CREATE TRIGGER fail_members BEFORE INSERT ON members "
                "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
            )
            r = c.post("/api/elections", json=texts, headers=admin)
            assert r.status_code == 503 and r.json()["error"]["code"] == "board_unavailable"
            assert c.get(f"/api/elections/{election.uuid}").status_code == 404
        finally:
            conn.execute("DROP TRIGGER fail_members")
            conn.close()
        r = c.post("/api/elections", json=texts, headers=admin)
        assert r.status_code == 201, r.text
        assert c.get(f"/api/elections/{election.uuid}").json()["status"] == "open"
        r = c.post("/api/elections", json=texts, headers=admin)
        assert r.status_code == 409 and r.json()["error"]["code"] == "exists"


def test_the_checkpoints_waiting_for_the_database_are_bounded(tmp_path):
    url = str(tmp_path / "board.db")
    texts, _, election = open_vector_setup()
    admin = {"authorization": f"Bearer {PERSIST_TOKEN}"}
    with persist_server(url) as c:
        assert c.post("/api/elections", json=texts, headers=admin).status_code == 201
        s = c.app.state.elections.states[election.uuid]
        shown = list(s.checkpoints)
        with read_only(url):
            signed = [s.checkpoint() for _ in range(MAX_UNSTORED_CHECKPOINTS + 3)]
            assert all(cp is not None for cp in signed[:MAX_UNSTORED_CHECKPOINTS])
            assert signed[MAX_UNSTORED_CHECKPOINTS:] == [None] * 3  # none signed past them
            assert s.unstored == signed[:MAX_UNSTORED_CHECKPOINTS] and s.checkpoints == shown
            assert not s.store_checkpoints()
        assert s.store_checkpoints() and s.unstored == []
        assert s.checkpoints == shown + signed[:MAX_UNSTORED_CHECKPOINTS]
    with persist_server(url) as c:
        stored = c.app.state.elections.states[election.uuid].checkpoints
        cps = stored[: len(shown) + MAX_UNSTORED_CHECKPOINTS]
        assert [cp.to_json() for cp in cps] == [cp.to_json() for cp in s.checkpoints]
        for a, b in itertools.pairwise(stored):
            assert b.checkpoint.previous == a.fingerprint


def test_a_close_made_through_another_process_stops_the_ballots_before_the_boards_close(
    pg_server,
):
    """Two server processes on one PostgreSQL database: once the administrator's close through
    one is recorded, the other refuses ballots to a region not closed yet (it reads the
    referendum again at its next look)."""
    rng = DeterministicRandom("two-closes")
    with pg_server.fresh_database() as dsn, persist_server(dsn) as one:
        admin, rid, _ = persist_ceremony(one, rng)
        opened = admin.open(rid)
        creds = {r["name"]: [x["credential"] for x in r["credentials"]] for r in opened["regions"]}
        first, second = (r["name"] for r in opened["regions"])
        uuid = next(r["election"] for r in opened["regions"] if r["name"] == second)
        with persist_server(dsn) as two:
            late = Voter(two, rid, second, creds[second][0], rng)
            late.election
            answers: list[tuple[int, str]] = []

            def between(_rid: str, name: str) -> None:  # in one's close, after its first region
                if name != first:
                    return
                s = two.app.state.elections.states[uuid]
                deadline = time.monotonic() + 10
                while s.closed_at is None and time.monotonic() < deadline:
                    time.sleep(0.05)
                # its board is not closed yet, unless two's own closer, having read the close,
                # finished it first (under load): the ballot is refused the same way
                try:
                    late.vote([YES, A])
                    answers.append((200, "accepted"))
                except PartyError as e:
                    answers.append((e.status, e.code))

            one.app.state.referendums.region_closed = between
            admin.close(rid)
            assert answers == [(409, "voting_closed")]
            st = status(two, rid)
            assert [r["status"] for r in st["regions"]] == ["tallied", "tallied"]
            assert [r["ballots"] for r in st["regions"]] == [0, 0]
