"""Slow and many clients against a real ``plebiscite serve`` process
(:mod:`plebiscite.server.connections`, :mod:`plebiscite.server.livefeed`).

- headers never finished (slowloris) and a body that trickles in: 408 in the documented shape
  within the time limits, the connection closed, one log line each;
- requests in flight from one address past the cap: 429, while another address gets through;
  past the cap on connections: 503;
- a live-feed subscriber that never reads is dropped once its queue fills;
- a client that leaves mid-body: one log line, no traceback; a ballot cut off mid-body,
  whether its client left or the limit passed, leaves the board as it was;
- health checks answered promptly while 200 slow connections are open.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from plebiscite import strictjson
from plebiscite.crypto.context import Context
from plebiscite.crypto.ed25519 import ED25519
from plebiscite.crypto.rand import DeterministicRandom
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
from plebiscite.server.connections import ConnectionLimits
from server.test_robustness import ADMIN, TOKEN, _free_port, _plebiscite

HEADERS_LIMIT = 2.0  # --header-timeout
BODY_LIMIT = 1.0  # --body-timeout
PER_ADDRESS = 5  # --max-per-address
MAX_CONNECTIONS = 260  # --max-connections
FEED_QUEUE = 4  # --feed-queue
SLOW = 200  # slow connections open during the health checks


class Serve:
    """``plebiscite serve`` with small limits, on a free loopback port."""

    def __init__(self, workdir: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "server.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [
                    *_plebiscite(),
                    "serve",
                    "--database",
                    str(workdir / "board.db"),
                    "--port",
                    str(self.port),
                    "--header-timeout",
                    str(HEADERS_LIMIT),
                    "--body-timeout",
                    str(BODY_LIMIT),
                    "--max-per-address",
                    str(PER_ADDRESS),
                    "--max-connections",
                    str(MAX_CONNECTIONS),
                    "--feed-queue",
                    str(FEED_QUEUE),
                    "--rate-limits",
                    "off",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PLEBISCITE_ADMIN_TOKEN": TOKEN},
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.text()
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        raise AssertionError(f"no /healthz: {self.text()}")

    def text(self) -> str:
        return self.log.read_text()

    def lines(self, part: str) -> int:
        return sum(part in line for line in self.text().splitlines())

    def connect(self, source: str = "127.0.0.1", rcvbuf: int | None = None) -> socket.socket:
        s = socket.socket()
        if rcvbuf is not None:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.bind((source, 0))
        s.settimeout(10)
        s.connect(("127.0.0.1", self.port))
        return s

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    s = Serve(tmp_path_factory.mktemp("slow-clients"))
    yield s
    s.stop()
    assert "Traceback" not in s.text(), s.text()


def answer(s: socket.socket) -> tuple[int, dict[str, object], float]:
    """The status and JSON body of the answer on ``s`` (read to its end), and when it came."""
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    when = time.monotonic()
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"\r\nx-content-type-options: nosniff\r\n" in head  # the security headers too
    return int(head.split()[1]), json.loads(body), when


def slow_post(path: str = "/api/session") -> bytes:
    """The headers of a POST whose body is to come, and its first byte."""
    return (
        f"POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
        "content-length: 100\r\n\r\n{"
    ).encode()


def test_headers_never_finished_are_cut_off_with_408(server: Serve) -> None:
    before = server.lines("request headers did not arrive")
    s = server.connect()
    t0 = time.monotonic()
    s.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-slow: ")
    status, body, when = answer(s)
    assert status == 408 and body["error"]["code"] == "request_timeout"  # type: ignore[index]
    assert HEADERS_LIMIT - 0.1 < when - t0 < HEADERS_LIMIT + 2
    s.close()
    time.sleep(0.1)
    assert server.lines("request headers did not arrive") == before + 1


def test_a_trickling_body_is_cut_off_with_408(server: Serve) -> None:
    before = server.lines("request body did not arrive")
    left = server.lines("client left")
    s = server.connect()
    t0 = time.monotonic()
    s.sendall(slow_post())
    for _ in range(3):  # a byte every 0.4 s: never the whole body within the limit
        time.sleep(0.4)
        try:
            s.sendall(b" ")
        except OSError:
            break
    status, body, when = answer(s)
    assert status == 408 and body["error"]["code"] == "request_timeout"  # type: ignore[index]
    assert "body" in body["error"]["message"]  # type: ignore[index]
    assert BODY_LIMIT - 0.1 < when - t0 < BODY_LIMIT + 2
    s.close()
    time.sleep(0.1)
    assert server.lines("request body did not arrive") == before + 1
    assert server.lines("client left") == left  # one line for the cut, not two


def test_a_client_gone_mid_body_is_one_log_line(server: Serve) -> None:
    before = server.lines("client left before its whole request body")
    s = server.connect()
    s.sendall(slow_post())
    time.sleep(0.2)
    s.close()
    time.sleep(0.3)
    assert server.lines("client left before its whole request body") == before + 1
    assert "Traceback" not in server.text()


def test_requests_in_flight_per_address_are_capped(server: Serve) -> None:
    with ExitStack() as stack:
        held = []
        for _ in range(PER_ADDRESS):
            s = stack.enter_context(server.connect())
            s.sendall(slow_post())
            held.append(s)
        time.sleep(0.2)
        r = httpx.get(f"{server.url}/healthz", timeout=5)
        assert r.status_code == 429, r.text
        assert r.json()["error"]["code"] == "too_many_connections"
        assert "at most 5" in r.json()["error"]["message"]
        assert r.headers["retry-after"] == "1" and r.headers["x-frame-options"] == "DENY"
        other = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"))
        with other:  # another address gets through
            assert other.get(f"{server.url}/healthz", timeout=5).status_code == 200
    time.sleep(0.2)  # the held requests gone: the address gets through again
    assert httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200


def test_past_the_cap_on_connections_503(server: Serve) -> None:
    with ExitStack() as stack:
        for _ in range(MAX_CONNECTIONS):
            stack.enter_context(server.connect())
        r = httpx.get(f"{server.url}/healthz", timeout=5)
        assert r.status_code == 503, r.text
        assert r.json()["error"]["code"] == "busy" and r.headers["retry-after"] == "1"
        assert r.headers["x-frame-options"] == "DENY"
    time.sleep(0.2)
    assert httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200


def test_health_checks_answered_while_slow_clients_are_connected(server: Serve) -> None:
    with ExitStack() as stack:
        slow = []
        for i in range(SLOW):  # half never finish their headers, half trickle a body
            s = stack.enter_context(server.connect(source=f"127.0.1.{i % 250 + 1}"))
            s.sendall(b"GET / HTTP/1.1\r\nhost: x\r\n" if i % 2 else slow_post())
            slow.append(s)
        opened = time.monotonic()
        waits = []
        with httpx.Client(base_url=server.url, timeout=5) as http:
            for _ in range(20):
                t0 = time.monotonic()
                assert http.get("/healthz").status_code == 200
                waits.append(time.monotonic() - t0)
        # while the slowloris half at least were all open (the stalled bodies are cut at 1 s)
        assert time.monotonic() - opened < HEADERS_LIMIT - 0.2, "the health checks took too long"
        assert max(waits) < 0.5, waits
        for s in slow:  # every slow one cut off within its limit
            status, _, when = answer(s)
            assert status == 408
            assert when - opened < HEADERS_LIMIT + 3


def ed25519_election() -> tuple[dict[str, str], bytes]:
    """A one-question Ed25519 election (its ``POST /api/elections`` body) and one voter's
    ballot maker."""
    rng = DeterministicRandom("slow-clients")
    uuid = generate_uuid(rng)
    _, key = make_trustee_key(ED25519, rng)
    trustees = make_trustees([("Single", key)], ED25519)
    template = {
        "description": "slow clients",
        "name": "slow clients",
        "questions": [{"answers": ["Yes", "No"], "min": 1, "max": 1, "question": "Approve?"}],
    }
    raw = make_election(strictjson.dumps_compact(template), uuid, ED25519, trustees)
    creds = generate_credentials([("voter", None)], uuid, ED25519, rng)
    texts = {
        "election": raw.decode(),
        "trustees": trustees.decode(),
        "credentials": public_credentials_json(creds).decode(),
    }
    return texts, creds[0].private.encode()


@dataclass(frozen=True)
class Board:
    election: Election
    credential: str
    ctx: Context

    def ballot(self, seed: str) -> bytes:
        rng = DeterministicRandom(seed)
        return make_ballot(self.election, self.credential, [[1, 0]], rng, ctx=self.ctx)


@pytest.fixture(scope="module")
def board(server: Serve) -> Board:
    """An election on the server, and its one voter."""
    texts, credential = ed25519_election()
    r = httpx.post(f"{server.url}/api/elections", json=texts, headers=ADMIN, timeout=60)
    assert r.status_code == 201, r.text
    election = parse_election(texts["election"].encode())
    return Board(election, credential.decode(), Context(ED25519, election.public_key))


def summary(server: Serve, board: Board) -> dict[str, object]:
    r = httpx.get(f"{server.url}/api/elections/{board.election.uuid}", timeout=10)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_a_ballot_cut_off_mid_body_leaves_the_board_as_it_was(server: Serve, board: Board) -> None:
    before = summary(server, board)
    ballot = board.ballot("cut off")
    head = (
        f"POST /api/elections/{board.election.uuid}/ballots HTTP/1.1\r\nhost: x\r\n"
        f"content-type: application/json\r\ncontent-length: {len(ballot)}\r\n\r\n"
    ).encode()
    gone = server.connect()  # leaves with one byte missing
    gone.sendall(head + ballot[:-1])
    time.sleep(0.2)
    gone.close()
    late = server.connect()  # stops one byte short of the end until the limit
    late.sendall(head + ballot[:-1])
    status, _, _ = answer(late)
    assert status == 408
    late.close()
    assert summary(server, board) == before
    r = httpx.post(
        f"{server.url}/api/elections/{board.election.uuid}/ballots", content=ballot, timeout=30
    )
    assert r.status_code == 200, r.text  # the same ballot, whole: accepted


def test_a_feed_subscriber_that_never_reads_is_dropped(server: Serve, board: Board) -> None:
    uuid = board.election.uuid
    s = server.connect(rcvbuf=1024)  # it never reads: its buffers fill
    s.sendall(f"GET /api/elections/{uuid}/events HTTP/1.1\r\nhost: x\r\n\r\n".encode())
    time.sleep(0.2)
    cast = 0
    with httpx.Client(base_url=server.url, timeout=30) as http:
        while "live-feed subscriber left" not in server.text():
            assert cast < 400, f"not dropped after {cast} events"
            r = http.post(f"/api/elections/{uuid}/ballots", content=board.ballot(f"b{cast}"))
            assert r.status_code == 200, r.text
            cast += 1
    assert server.lines("live-feed subscriber left") == 1
    got = b""
    try:  # the connection ends: what the kernel held, then its end
        while chunk := s.recv(65536):
            got += chunk
    except ConnectionResetError:
        pass
    s.close()
    events = got.count(b"\ndata: ")
    assert events < cast - FEED_QUEUE  # the rest was dropped with the subscriber
    print(f"dropped after {cast} events; {events} of them ({len(got)} bytes) had reached it")


def test_limits_out_of_range_are_refused_at_start(tmp_path: Path) -> None:
    for kwargs, says in [
        ({"headers": 0}, "time limits on headers and bodies must be positive"),
        ({"body": -1}, "time limits on headers and bodies must be positive"),
        ({"per_address": 0}, "connection caps must be at least 1"),
        ({"max_connections": 0}, "connection caps must be at least 1"),
    ]:
        with pytest.raises(ValueError, match=says):
            ConnectionLimits(**kwargs)  # type: ignore[arg-type]
    run = subprocess.run(
        [*_plebiscite(), "serve", "--database", str(tmp_path / "b.db"), "--feed-queue", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2 and "--feed-queue must be at least 1" in run.stderr, run.stderr


def test_connections_per_address_are_capped(server: Serve) -> None:
    """Connections whose headers never end are not in flight, but count against their
    address (one that is not a trusted proxy): past the cap, 429 and closed."""
    with ExitStack() as stack:
        for _ in range(PER_ADDRESS):
            s = stack.enter_context(server.connect(source="127.0.0.3"))
            s.sendall(b"GET / HTTP/1.1\r\n")  # and nothing more
        one_more = stack.enter_context(server.connect(source="127.0.0.3"))
        one_more.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        status, body, _ = answer(one_more)
        assert status == 429 and body["error"]["code"] == "too_many_connections"  # type: ignore[index]
        silent = stack.enter_context(server.connect(source="127.0.0.3"))
        t0 = time.monotonic()
        status, body, when = answer(silent)  # past the cap, a second to send its headers
        assert status == 408 and when - t0 < 1.5
        assert "within 1 s" in body["error"]["message"]  # type: ignore[index]
        other = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.4"))
        with other:
            assert other.get(f"{server.url}/healthz", timeout=5).status_code == 200
    time.sleep(0.2)
    with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.3")) as again:
        assert again.get(f"{server.url}/healthz", timeout=5).status_code == 200
