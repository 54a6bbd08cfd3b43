"""Several ``plebiscite serve`` processes on one PostgreSQL database behave as one server.

A whole referendum through three processes: created on the first, the trustees' ceremony on the
second, the external credential authorities on the third, ballots spread over all three from
concurrent clients while the second is killed (SIGKILL) and restarted, voting closed on the
third, decrypted through the first. Every process finds every acknowledged ballot, follows the
phases set by the others, streams the same archives byte for byte, and its live feed includes
the ballots cast through the others.
"""

from __future__ import annotations

import io
import json
import queue
import shutil
import threading
from pathlib import Path

import httpx
import pytest

from plebiscite.cli.demo_server import demo_record, status
from plebiscite.client import Administrator, CredentialAuthority, PartyError, Trustee, Voter
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.protocol.archive import iter_members
from plebiscite.protocol.record import read_record
from plebiscite.protocol.simulate import random_choices
from plebiscite.protocol.verifier import verify_archive
from server.test_robustness import TOKEN, Server

REGIONS = ["North", "South", "East"]
VOTERS = 12  # per region
KILL_AFTER = 10  # acknowledgements before the second process is killed


@pytest.fixture
def servers(pg_server, tmp_path: Path):
    """Three server processes on one fresh PostgreSQL database, with one signing key."""
    with pg_server.fresh_database() as dsn:
        dirs = [tmp_path / name for name in ("a", "b", "c")]
        for d in dirs:
            d.mkdir()
        procs = [Server(dsn, d) for d in dirs]
        procs[0].start()
        for d in dirs[1:]:
            shutil.copy(dirs[0] / "server.key", d / "server.key")
        for p in procs[1:]:
            p.start()
        try:
            yield procs
        finally:
            for p in procs:
                p.stop()


def _events(url: str, uuid: str, got: queue.SimpleQueue[dict[str, object]]) -> None:
    """Put every event of the live feed of ``uuid`` on ``got`` (until the stream ends)."""
    try:
        with (
            httpx.Client(base_url=url, timeout=httpx.Timeout(60, read=60)) as c,
            c.stream("GET", f"/api/elections/{uuid}/events") as r,
        ):
            for line in r.iter_lines():
                if line.startswith("data: "):
                    got.put(json.loads(line[6:]))
    except httpx.HTTPError:
        pass


def test_three_processes_on_one_database_run_a_referendum_as_one_server(servers):
    _, b, c = servers
    rng = DeterministicRandom("processes")
    clients = [httpx.Client(base_url=s.url, timeout=120) for s in servers]
    ha, hb, hc = clients

    # created on the first process
    rid = "processes"
    roll = {name: [f"{name.lower()}{i}" for i in range(VOTERS)] for name in REGIONS}
    authorities = {"North": "server", "South": "external", "East": "external"}
    created = Administrator(ha, TOKEN).create(demo_record(rid, REGIONS), roll, authorities)
    # every process knows it at once
    for h in clients:
        assert status(h, rid)["phase"] == "ceremony"

    # the ceremony through the second process
    trustees = [Trustee(hb, rid, t["index"], t["token"], rng) for t in created["trustees"]]
    for t in trustees:
        t.send_certificate()
    for t in trustees:
        t.send_polynomial()
    for t in trustees:
        cer = t.send_voutput()
    assert cer["phase"] == "done", cer["error"]
    assert status(ha, rid)["ceremony"]["phase"] == "done"

    # the external credential authorities through the third, the opening through the first
    private: dict[str, dict[str, str]] = {}
    for reg in created["regions"]:
        if reg["authority"] == "external":
            ca = CredentialAuthority(hc, rid, reg["name"], reg["authority_token"], rng)
            private[reg["name"]] = ca.make_credentials()
    opened = Administrator(ha, TOKEN).open(rid)
    for reg in opened["regions"]:
        if reg["credentials"] is not None:
            private[reg["name"]] = {x["login"]: x["credential"] for x in reg["credentials"]}
    uuids = {reg["name"]: reg["election"] for reg in opened["regions"]}
    for h in clients:
        assert status(h, rid)["phase"] == "open"

    # the live feed of the third process, for a ballot cast through the first
    feed: queue.SimpleQueue[dict[str, object]] = queue.SimpleQueue()
    threading.Thread(target=_events, args=(c.url, uuids["North"], feed), daemon=True).start()

    # ballots from concurrent clients over the three processes; the second killed mid-burst
    voters = [(name, login, private[name][login]) for name in REGIONS for login in roll[name]]
    ballots = {}
    for k, (name, login, cred) in enumerate(voters):
        v = Voter(clients[k % 3], rid, name, cred, rng)
        ballots[k] = (uuids[name], v, random_choices(v.election, rng))
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for k in ballots:
        todo.put(k)
    acknowledged: dict[int, tuple[str, str]] = {}  # voter -> (election, tracker)
    lock = threading.Lock()
    killed = threading.Event()

    def client() -> None:
        while True:
            try:
                k = todo.get_nowait()
            except queue.Empty:
                return
            uuid, v, choices = ballots[k]
            try:
                tracker = v.vote(choices)
            except (PartyError, httpx.TransportError):
                continue  # through the killed process: not acknowledged
            with lock:
                acknowledged[k] = (uuid, tracker)
                if len(acknowledged) >= KILL_AFTER and not killed.is_set():
                    killed.set()
                    b.kill()

    threads = [threading.Thread(target=client) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert killed.is_set()
    b.start()  # a new process on the same database
    clients[1] = hb = httpx.Client(base_url=b.url, timeout=120)
    # the voters whose ballot went unanswered vote again, through the first process
    for k, (uuid, _, choices) in ballots.items():
        if k not in acknowledged:
            name, _, cred = voters[k]
            acknowledged[k] = (uuid, Voter(ha, rid, name, cred, rng).vote(choices))

    # every process finds every acknowledged ballot
    for h in clients:
        for uuid, tracker in acknowledged.values():
            r = h.get(f"/api/elections/{uuid}/ballots/{tracker}")
            assert r.status_code == 200, (h.base_url, r.text)
    north_ballots = sum(1 for uuid, _ in acknowledged.values() if uuid == uuids["North"])
    seen = [feed.get(timeout=30) for _ in range(north_ballots)]
    assert all(e["type"] == "Ballot" for e in seen)

    # closed through the third process, decrypted through the first
    Administrator(hc, TOKEN).close(rid)
    for name in REGIONS:
        for t in trustees[:2]:
            t.http = ha
            t.decrypt(name)
    finals = [status(h, rid) for h in clients]
    assert {f["phase"] for f in finals} == {"done"}
    assert all(f["outcome"] == finals[0]["outcome"] for f in finals)

    # the same archives from every process, valid, with every acknowledged ballot
    for name, uuid in uuids.items():
        archives = [h.get(f"/api/elections/{uuid}/archive").content for h in clients]
        assert archives[0] == archives[1] == archives[2]
        report = verify_archive(lambda data=archives[0]: io.BytesIO(data))
        assert report.valid and report.status == "done", report.findings
        assert report.voters == VOTERS
    # one record board, whichever process is asked: the lifecycle once each, the outcome signed
    records = [h.get(f"/api/referendums/{rid}/record").content for h in clients]
    assert records[0] == records[1] == records[2]
    record = read_record(iter_members(io.BytesIO(records[0])))
    assert record.outcome == finals[0]["outcome"]
    assert [c.checkpoint.phase for c in record.checkpoints] == ["setup", "open", "closed", "done"]
    for h in clients:
        h.close()


def test_a_second_server_process_on_one_sqlite_file_is_refused(tmp_path):
    first = Server(str(tmp_path / "board.db"), tmp_path)
    first.start()
    try:
        second = Server(first.database, tmp_path)
        with pytest.raises(AssertionError):
            second.start(timeout=20)
        log = second.log.read_text()
        assert "another process" in log and "already serves this SQLite board" in log
        assert f"pid {first.proc.pid}" in log and "use PostgreSQL" in log
        assert httpx.get(f"{first.url}/healthz").status_code == 200  # the first goes on
    finally:
        first.stop()
    again = Server(first.database, tmp_path)  # once the first stopped, a new one starts
    again.start()
    again.stop()


def test_rate_limits_hold_across_the_processes_of_one_database(pg_server):
    """Two applications on one PostgreSQL database (as two processes would be) share their
    buckets: an address gets the burst once in all, not once per process."""
    from fastapi.testclient import TestClient

    from plebiscite.board import open_board
    from plebiscite.crypto.signing import SigningKey
    from plebiscite.server.app import create_app
    from plebiscite.server.ratelimit import Limit, RateLimits

    key = SigningKey.from_seed(b"\x07" * 32)
    limits = RateLimits(write=Limit(4, 0.001))
    with pg_server.fresh_database() as dsn:
        boards = [open_board(dsn), open_board(dsn)]
        try:
            apps = [create_app(b, admin_token=TOKEN, key=key, rate_limits=limits) for b in boards]
            with TestClient(apps[0]) as first, TestClient(apps[1]) as second:
                codes = [
                    c.post("/api/referendums", json={}).status_code
                    for c in (first, second, first, second, first, second)
                ]
                assert codes.count(429) == 2 and codes[-2:] == [429, 429]
                r = second.post("/api/referendums", json={})
                assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"
                assert int(r.headers["retry-after"]) >= 1
            # the buckets in the database hold no address, only keys made from them
            import psycopg

            with psycopg.connect(dsn) as conn:
                rows = conn.execute("SELECT name, key FROM rate_buckets").fetchall()
            assert rows and all(name == "route-write" for name, _ in rows)
            assert all(len(k) == 32 and "testclient" not in k for _, k in rows)
        finally:
            for b in boards:
                b.close()


def test_exactly_one_process_closes_at_the_closing_time(pg_server):
    """Two applications on one database, both looking at the closing times every 50 ms: one
    holds the lease and closes; each board gets one EndBallots and one encrypted tally."""
    import calendar
    import time

    from fastapi.testclient import TestClient

    from plebiscite.board import open_board
    from plebiscite.crypto.signing import SigningKey
    from plebiscite.server.app import create_app
    from server.test_lifecycle import VOTERS, record

    def at(iso: str) -> float:
        return float(calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ")))

    now = [at("2031-05-01T09:00:00Z")]
    key = SigningKey.from_seed(b"\x0b" * 32)
    rng = DeterministicRandom("one-closer")
    with pg_server.fresh_database() as dsn:
        boards = [open_board(dsn), open_board(dsn)]
        try:
            apps = [create_app(b, admin_token=TOKEN, key=key, clock=lambda: now[0]) for b in boards]
            for app in apps:
                app.state.referendums.close_interval = 0.05
            with TestClient(apps[0]) as first, TestClient(apps[1]) as second:
                admin = Administrator(first, TOKEN)
                rec = record(opening="2031-05-01T08:00:00Z", closing="2031-05-01T20:00:00Z")
                created = admin.create(rec, VOTERS)
                rid = created["id"]
                ts = [
                    Trustee(second, rid, t["index"], t["token"], rng) for t in created["trustees"]
                ]
                for step in ("send_certificate", "send_polynomial", "send_voutput"):
                    for t in ts:
                        getattr(t, step)()
                admin.open(rid)
                now[0] = at("2031-05-01T20:00:01Z")  # the closing time passed, for both
                deadline = time.monotonic() + 30
                while status(second, rid)["phase"] != "decrypting":
                    assert time.monotonic() < deadline, status(second, rid)
                    time.sleep(0.05)
                time.sleep(0.5)  # both closers look again meanwhile
                for region in status(first, rid)["regions"]:
                    archive = first.get(f"/api/elections/{region['election']}/archive").content
                    report = verify_archive(lambda data=archive: io.BytesIO(data))
                    assert report.valid and report.status == "tallied"
                    types = [
                        json.loads(m.content)["type"]
                        for m in iter_members(io.BytesIO(archive))
                        if m.kind == "event"
                    ]
                    assert types.count("EndBallots") == 1 and types.count("EncryptedTally") == 1
        finally:
            for b in boards:
                b.close()
