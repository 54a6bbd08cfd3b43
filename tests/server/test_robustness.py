"""The board server as a real process (``plebiscite serve``), on SQLite and on PostgreSQL.

- Crash (SECURITY-CASES 19): a burst of concurrent ballots, the server killed (SIGKILL) in the
  middle and restarted on the same database: every ballot it acknowledged is on the board, the
  archive verifies (plebiscite, and belenios-tool when installed), and the voters left without
  an answer can check their tracker and vote again.
- Load: 200 concurrent voters with revotes and invalid ballots mixed in: nothing lost, nothing
  duplicated, every invalid ballot refused (4xx) with nothing appended.
- Replays: the same ballot sent several times at once, or a superseded ballot sent again in
  another JSON encoding, is not appended again.

Every request goes to 127.0.0.1; the ballots are made once for the module, before any timing.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import queue
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from peers import peer_verifies
from plebiscite import strictjson
from plebiscite.crypto.context import Context
from plebiscite.crypto.groups import BELENIOS_2048
from plebiscite.crypto.hashing import h_json
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.protocol.archive import iter_members
from plebiscite.protocol.ballot import make_ballot
from plebiscite.protocol.election_setup import (
    generate_credentials,
    generate_uuid,
    make_election,
    make_trustee_key,
    make_trustees,
    public_credentials_json,
)
from plebiscite.protocol.messages import Election, parse_election
from plebiscite.protocol.verifier import verify_archive

TOKEN = "robustness-admin-token"
ADMIN = {"authorization": f"Bearer {TOKEN}"}
VOTERS = 200  # the load test: one ballot each
REVOTES = 5  # the first REVOTES voters vote again, in the same burst
SPARE = 3  # credentials on the list that no voter of the load test uses
CRASH_BALLOTS = 60  # the crash test: the first 60 voters, from 8 client threads
CRASH_CLIENTS = 8
KILL_AFTER = 20  # acknowledgements before the SIGKILL
TEMPLATE = {
    "description": "Robustness of the board server",
    "name": "robustness",
    "questions": [{"answers": ["Yes", "No"], "min": 1, "max": 1, "question": "Approve?"}],
}


# -- the election, made once ------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    texts: dict[str, str]  # the body of POST /api/elections
    election: Election
    credentials: list[str]  # private credentials, VOTERS + SPARE of them
    ballots: list[bytes]  # one per voter
    revotes: list[bytes]  # the second ballot of the first REVOTES voters
    outsider: bytes  # a ballot signed with a credential that is not on the list

    @property
    def uuid(self) -> str:
        return self.election.uuid


def make_setup() -> Setup:
    rng = DeterministicRandom("robustness")
    group = BELENIOS_2048
    uuid = generate_uuid(rng)
    _, server_key = make_trustee_key(group, rng)
    trustees = make_trustees([("Single", server_key)], group)
    election_raw = make_election(strictjson.dumps_compact(TEMPLATE), uuid, group, trustees)
    election = parse_election(election_raw)
    voters = [(f"voter{i}", None) for i in range(VOTERS + SPARE + 1)]
    creds = generate_credentials(voters, uuid, group, rng)
    published, outsider = creds[:-1], creds[-1]
    ctx = Context(group, election.public_key)

    def ballot(cred: str, seed: str, yes: bool) -> bytes:
        choices = [[1, 0] if yes else [0, 1]]
        return make_ballot(election, cred, choices, DeterministicRandom(seed), ctx=ctx)

    return Setup(
        texts={
            "election": election_raw.decode(),
            "trustees": trustees.decode(),
            "credentials": public_credentials_json(published).decode(),
        },
        election=election,
        credentials=[c.private for c in published],
        ballots=[
            ballot(c.private, f"vote{i}", i % 3 != 0) for i, c in enumerate(published[:VOTERS])
        ],
        revotes=[
            ballot(c.private, f"revote{i}", i % 3 == 0) for i, c in enumerate(published[:REVOTES])
        ],
        outsider=ballot(outsider.private, "outsider", True),
    )


@pytest.fixture(scope="module")
def setup() -> Setup:
    return make_setup()


# -- the databases ----------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh board: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield str(tmp_path / "board.db")
    else:
        with request.getfixturevalue("pg_server").fresh_database() as dsn:
            yield dsn


# -- the server process -----------------------------------------------------------------------


def _plebiscite() -> list[str]:
    exe = Path(sys.executable).parent / "plebiscite"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "plebiscite.cli.main"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``plebiscite serve`` on ``database`` as a child process on a free loopback port; each
    :meth:`start` is a new process on the same database and signing key."""

    def __init__(self, database: str, workdir: Path) -> None:
        self.database = database
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.starts = 0
        #: more environment of the next starts (a fault injection, say)
        self.env: dict[str, str] = {}
        #: more arguments of the next starts (an OpenID Connect provider, say)
        self.args: list[str] = []

    def start(self, timeout: float = 60) -> float:
        """Start and wait for ``/healthz``; returns the seconds it took."""
        t0 = time.monotonic()
        for _ in range(3):  # another process may take the free port before the server does
            if self._start_once(t0 + timeout):
                return time.monotonic() - t0
        raise AssertionError(f"the server did not start: {self.log.read_text()[-2000:]}")

    def _start_once(self, deadline: float) -> bool:
        self.starts += 1
        self.url = f"http://127.0.0.1:{_free_port()}"
        self.log = self.workdir / f"server-{self.starts}.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [
                    *_plebiscite(),
                    "serve",
                    "--database",
                    self.database,
                    "--host",
                    "127.0.0.1",
                    "--port",
                    self.url.rsplit(":", 1)[1],
                    "--key-file",
                    str(self.workdir / "server.key"),
                    *self.args,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PLEBISCITE_ADMIN_TOKEN": TOKEN, **self.env},
            )
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.kill()
        raise AssertionError(f"no /healthz after the deadline: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            assert self.proc.wait(timeout=30) == -signal.SIGKILL

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def server(database: str, tmp_path: Path) -> Iterator[Server]:
    s = Server(database, tmp_path)
    yield s
    s.stop()


# -- helpers ----------------------------------------------------------------------------------


def create_election(server: Server, setup: Setup) -> None:
    r = httpx.post(f"{server.url}/api/elections", json=setup.texts, headers=ADMIN, timeout=60)
    assert r.status_code == 201, r.text


def board_trackers(archive: bytes) -> list[str]:
    """The tracker of every ballot in the archive, in board order (duplicates kept)."""
    data: dict[str, bytes] = {}
    trackers = []
    for m in iter_members(io.BytesIO(archive)):
        if m.kind == "data":
            data[m.hash] = m.content
        elif m.kind == "event":
            event = json.loads(m.content)
            if event["type"] == "Ballot":
                trackers.append(h_json(data[event["payload"]]))
    return trackers


def verified(archive: bytes, ballots: int) -> None:
    report = verify_archive(lambda: io.BytesIO(archive))
    assert report.valid, [f.describe() for f in report.findings]
    assert report.status == "open" and report.ballots == ballots


def belenios_verifies(archive: bytes, uuid: str, workdir: Path) -> None:
    """``belenios-tool election verify`` accepts the archive (skipped if not installed)."""
    if shutil.which("belenios-tool") is None:
        return
    d = workdir / "belenios-verify"
    d.mkdir(exist_ok=True)
    (d / f"{uuid}.bel").write_bytes(archive)
    peer_verifies(d)


# -- crash ------------------------------------------------------------------------------------


def test_acknowledged_ballots_survive_a_sigkill_of_the_server(setup, server, tmp_path):
    ballots = setup.ballots[:CRASH_BALLOTS]
    server.start()
    create_election(server, setup)
    cast = f"/api/elections/{setup.uuid}/ballots"
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for i in range(len(ballots)):
        todo.put(i)
    acknowledged: dict[int, str] = {}  # ballot -> tracker, for every HTTP 200
    sent: set[int] = set()
    refused: list[str] = []
    lock = threading.Lock()
    enough = threading.Event()

    def client() -> None:
        with httpx.Client(base_url=server.url, timeout=60) as c:
            while True:
                try:
                    i = todo.get_nowait()
                except queue.Empty:
                    return
                with lock:
                    sent.add(i)
                try:
                    r = c.post(cast, content=ballots[i])
                except httpx.TransportError:
                    return  # the server is gone: this ballot has no answer
                with lock:
                    if r.status_code == 200:
                        acknowledged[i] = r.json()["tracker"]
                        if len(acknowledged) >= KILL_AFTER:
                            enough.set()
                    else:
                        refused.append(f"ballot {i}: {r.status_code} {r.text}")

    threads = [threading.Thread(target=client) for _ in range(CRASH_CLIENTS)]
    for t in threads:
        t.start()
    try:
        assert enough.wait(timeout=60), refused
        server.kill()
    finally:
        for t in threads:
            t.join(timeout=60)
    assert not refused
    assert KILL_AFTER <= len(acknowledged) < len(ballots), "the kill came after the burst"
    for i, tracker in acknowledged.items():
        assert tracker == h_json(ballots[i])

    server.start()  # the same database: the server verifies the board again on start-up
    with httpx.Client(base_url=server.url, timeout=60) as c:
        for tracker in acknowledged.values():
            r = c.get(f"/api/elections/{setup.uuid}/ballots/{tracker}")
            assert r.status_code == 200, f"acknowledged ballot {tracker} lost"
        archive = c.get(f"/api/elections/{setup.uuid}/archive").content
        on_board = board_trackers(archive)
        assert len(on_board) == len(set(on_board))
        assert set(acknowledged.values()) <= set(on_board) <= {h_json(ballots[i]) for i in sent}
        verified(archive, len(on_board))
        status = c.get(f"/api/elections/{setup.uuid}").json()
        assert status["valid"] and status["ballots"] == len(on_board), status

        # the voters without an answer check their tracker and, if it is missing, vote again
        retried = 0
        for i, ballot in enumerate(ballots):
            tracker = h_json(ballot)
            if c.get(f"/api/elections/{setup.uuid}/ballots/{tracker}").status_code == 404:
                r = c.post(cast, content=ballot)
                assert r.status_code == 200 and r.json()["tracker"] == tracker, r.text
                retried += 1
        assert retried == len(ballots) - len(on_board)
        archive = c.get(f"/api/elections/{setup.uuid}/archive").content
    assert sorted(board_trackers(archive)) == sorted(h_json(b) for b in ballots)
    verified(archive, len(ballots))
    belenios_verifies(archive, setup.uuid, tmp_path)


# -- load -------------------------------------------------------------------------------------


def _invalid_ballots(setup: Setup) -> dict[str, bytes]:
    """Ballots the server must refuse, each for its own reason."""
    spare = make_ballot(
        setup.election, setup.credentials[VOTERS], [[1, 0]], DeterministicRandom("spare")
    )
    bad_signature = json.loads(spare)
    bad_signature["signature"]["proof"]["response"] = "1"
    wrong_election = json.loads(spare)
    wrong_election["election_uuid"] = generate_uuid(DeterministicRandom("elsewhere"))
    return {
        "bad signature": strictjson.dumps_compact(bad_signature),
        "other election": strictjson.dumps_compact(wrong_election),
        "credential not on the list": setup.outsider,
        "truncated": spare[: len(spare) // 2],
        "not JSON": b"\xff\xfe ballot",
        "empty": b"",
    }


# 35 to 50 s per database where 10 would do: the burst reaches a cold server, whose 40 worker
# threads each build the fixed-base tables of g and y at once (plebiscite.crypto.context.fixed_base
# computes a missing table in every thread that asks for it).
@pytest.mark.slow
def test_200_concurrent_voters_nothing_lost_nothing_duplicated(setup, server):
    server.start()
    create_election(server, setup)
    cast = f"/api/elections/{setup.uuid}/ballots"
    valid = setup.ballots + setup.revotes
    invalid = _invalid_ballots(setup)
    burst = [(b, True) for b in valid] + [(b, False) for b in invalid.values()]
    random.Random(19).shuffle(burst)

    async def voters() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=len(burst), max_keepalive_connections=len(burst))
        async with httpx.AsyncClient(base_url=server.url, timeout=120, limits=limits) as c:
            return await asyncio.gather(*(c.post(cast, content=b) for b, _ in burst))

    t0 = time.monotonic()
    responses = asyncio.run(asyncio.wait_for(voters(), timeout=120))
    elapsed = time.monotonic() - t0
    trackers = []
    for (ballot, ok), r in zip(burst, responses, strict=True):
        if ok:
            assert r.status_code == 200, r.text
            assert r.json()["tracker"] == h_json(ballot)
            trackers.append(r.json()["tracker"])
        else:
            assert 400 <= r.status_code < 500, (r.status_code, r.text)
            assert r.json()["error"]["code"]

    with httpx.Client(base_url=server.url, timeout=60) as c:
        status = c.get(f"/api/elections/{setup.uuid}").json()
        assert status["ballots"] == len(valid) and status["voted"] == VOTERS, status
        for tracker in trackers:
            assert c.get(f"/api/elections/{setup.uuid}/ballots/{tracker}").status_code == 200
        # after the burst: another voter's ciphertexts under a spare credential, refused
        copy = make_ballot(
            setup.election, setup.credentials[VOTERS + 1], [[1, 0]], DeterministicRandom("vote1")
        )
        r = c.post(cast, content=copy)
        assert 400 <= r.status_code < 500 and r.json()["error"]["code"], r.text
        archive = c.get(f"/api/elections/{setup.uuid}/archive").content
    assert Counter(board_trackers(archive)) == Counter(trackers)  # nothing lost, nothing twice
    verified(archive, len(valid))
    assert elapsed < 90, f"{len(burst)} ballots took {elapsed:.1f} s"


# -- replays ------------------------------------------------------------------------------------


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_same_ballot_sent_concurrently_is_appended_once(setup, server):
    server.start()
    create_election(server, setup)
    ballot = setup.ballots[0]

    async def send() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as c:
            cast = f"/api/elections/{setup.uuid}/ballots"
            return await asyncio.gather(*(c.post(cast, content=ballot) for _ in range(8)))

    for r in asyncio.run(send()):
        assert r.status_code in (200, 409), r.text
    archive = httpx.get(f"{server.url}/api/elections/{setup.uuid}/archive", timeout=60).content
    assert board_trackers(archive) == [h_json(ballot)]


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_reencoded_copy_of_a_superseded_ballot_is_refused(setup, server):
    server.start()
    create_election(server, setup)
    cast = f"{server.url}/api/elections/{setup.uuid}/ballots"
    first, revote = setup.ballots[0], setup.revotes[0]
    for ballot in (first, revote):
        assert httpx.post(cast, content=ballot, timeout=60).status_code == 200
    for copy in (first.replace(b'":', b'": ', 1), b"\xef\xbb\xbf" + first):
        r = httpx.post(cast, content=copy, timeout=60)
        assert 400 <= r.status_code < 500, f"{r.status_code}: the old ballot replaces the revote"


# -- the demo command against a running server ------------------------------------------------


def test_plebiscite_demo_drives_the_whole_lifecycle_against_the_server(server, tmp_path):
    """``plebiscite demo --server URL`` (each party its own HTTP client) completes against a
    real server on each database, and prints each regional archive's URL; every archive passes
    plebiscite's verifier and belenios-tool."""
    server.start()
    p = subprocess.run(
        [*_plebiscite(), "demo", "--server", server.url, "--voters", "3", "--regions", "2"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PLEBISCITE_ADMIN_TOKEN": TOKEN},
    )
    assert p.returncode == 0, p.stdout + p.stderr
    urls = [
        line.split(": ", 1)[1]
        for line in p.stdout.splitlines()
        if line.partition(": ")[2].startswith(f"{server.url}/api/elections/")
    ]
    assert len(urls) == 2, p.stdout
    for i, url in enumerate(urls):
        archive = httpx.get(url, timeout=60).content
        report = verify_archive(lambda archive=archive: io.BytesIO(archive))
        assert report.valid and report.status == "done", [f.describe() for f in report.findings]
        (workdir := tmp_path / f"region-{i}").mkdir()
        belenios_verifies(archive, url.rstrip("/").split("/")[-2], workdir)
