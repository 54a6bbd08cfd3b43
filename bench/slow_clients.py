#!/usr/bin/env python3
"""Benchmark: the board server (``plebiscite serve``, SQLite) with slow and many clients.

Health checks: with S slow connections open (``--slow 0,100,500,1000``), half of them never
finishing their headers (a header byte every second, slowloris) and half trickling a body (a
byte every second), each from its own loopback address, ``--checks`` health checks
(``GET /healthz``) one after the other, each on a fresh connection of a raw socket: their
latency p50, p99 and maximum (from the connection to the answer's end), and the server's
resident memory (``VmRSS``) with the S connections open. The time limits are raised to 120 s
for this part so that the slow connections stay open while the checks run (the limits' own
cutting is what the tests check).

Live feed: K subscribers (``--subscribers 50``) follow one election's feed and never read
(receive buffers of 4 KiB), while E ballots (``--events 600``) are appended one after the other;
each subscriber is dropped once ``--feed-queue`` events (the server's default, 256) wait for
it. Reported: the subscribers dropped, the events appended when the last one was dropped, and
the server's resident memory before the subscribers, with them connected, at its highest while
the events are appended, and at the end.

    ./dev bench slow_clients [--slow 0,100,500,1000] [--checks 200] [--subscribers 50]
                             [--events 600]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from plebiscite.crypto.context import Context  # noqa: E402
from plebiscite.crypto.ed25519 import ED25519  # noqa: E402
from plebiscite.crypto.rand import DeterministicRandom  # noqa: E402
from plebiscite.protocol.ballot import make_ballot  # noqa: E402
from plebiscite.protocol.messages import parse_election  # noqa: E402
from server.test_slow_clients import ed25519_election  # noqa: E402

TOKEN = "bench-slow-clients"


def plebiscite_command() -> list[str]:
    exe = Path(sys.executable).parent / "plebiscite"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "plebiscite.cli.main"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, workdir: Path, *options: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "server.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [
                    *plebiscite_command(),
                    "serve",
                    "--database",
                    str(workdir / "board.db"),
                    "--port",
                    str(self.port),
                    "--rate-limits",
                    "off",
                    *options,
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PLEBISCITE_ADMIN_TOKEN": TOKEN},
            )
        while True:
            if self.proc.poll() is not None:
                raise SystemExit(f"the server stopped: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def connect(self, source: str = "127.0.0.1", rcvbuf: int | None = None) -> socket.socket:
        s = socket.socket()
        if rcvbuf is not None:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.bind((source, 0))
        s.connect(("127.0.0.1", self.port))
        return s

    def health(self) -> bytes:
        """``GET /healthz`` on a new connection, as a raw socket: the whole answer (the time
        is the server's and the network's, not an HTTP client's)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        return data

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def percentile(values: Sequence[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def source(i: int) -> str:
    """A loopback address of its own for slow client ``i``."""
    return f"127.{10 + i // 62500}.{i // 250 % 250}.{i % 250 + 1}"


def health_checks(workdir: Path, slow_counts: Sequence[int], checks: int) -> None:
    most = max(slow_counts)
    server = Server(
        workdir,
        "--header-timeout",
        "120",
        "--body-timeout",
        "120",
        "--max-connections",
        str(most + 100),
        "--max-per-address",
        "256",
    )
    print("slow connections | health check p50 / p99 / max (ms) | server memory (MiB)")
    try:
        for count in slow_counts:
            slow: list[socket.socket] = []
            stop = threading.Event()
            for i in range(count):
                s = server.connect(source(i))
                if i % 2:
                    s.sendall(b"GET / HTTP/1.1\r\nhost: x\r\n")
                else:
                    s.sendall(
                        b"POST /api/session HTTP/1.1\r\nhost: x\r\ncontent-type: "
                        b"application/json\r\ncontent-length: 1000\r\n\r\n{"
                    )
                slow.append(s)

            def trickle(slow: list[socket.socket] = slow, stop: threading.Event = stop) -> None:
                while not stop.wait(1.0):
                    for i, s in enumerate(slow):
                        s.sendall(b"x" if i % 2 else b" ")

            feeder = threading.Thread(target=trickle, daemon=True)
            feeder.start()
            time.sleep(0.5)
            waits = []
            for _ in range(checks):
                t0 = time.perf_counter()
                answer = server.health()
                waits.append((time.perf_counter() - t0) * 1000)
                assert answer.startswith(b"HTTP/1.1 200 "), answer
            rss = server.rss_mib()
            stop.set()
            feeder.join()
            for s in slow:
                s.close()
            print(
                f"{count:16} | {statistics.median(waits):.1f} / {percentile(waits, 99):.1f} / "
                f"{max(waits):.1f} | {rss:.1f}",
                flush=True,
            )
            time.sleep(1.0)
    finally:
        server.stop()


def feed(workdir: Path, subscribers: int, events: int) -> None:
    server = Server(workdir, "--max-per-address", str(subscribers + 10))
    try:
        texts, credential = ed25519_election()
        r = httpx.post(
            f"{server.url}/api/elections",
            json=texts,
            headers={"authorization": f"Bearer {TOKEN}"},
            timeout=60,
        )
        assert r.status_code == 201, r.text
        election = parse_election(texts["election"].encode())
        ctx = Context(ED25519, election.public_key)
        print(f"making {events} ballots...", file=sys.stderr, flush=True)
        ballots = [
            make_ballot(
                election, credential.decode(), [[1, 0]], DeterministicRandom(f"b{i}"), ctx=ctx
            )
            for i in range(events)
        ]
        before = server.rss_mib()
        path = f"/api/elections/{election.uuid}/events"
        subs = [server.connect(rcvbuf=4096) for _ in range(subscribers)]
        for s in subs:
            s.sendall(f"GET {path} HTTP/1.1\r\nhost: x\r\n\r\n".encode())
        time.sleep(1.0)
        connected = server.rss_mib()
        peak, last_drop = connected, None
        with httpx.Client(base_url=server.url, timeout=60) as http:
            for i, ballot in enumerate(ballots, 1):
                r = http.post(f"/api/elections/{election.uuid}/ballots", content=ballot)
                assert r.status_code == 200, r.text
                if i % 10 == 0:
                    peak = max(peak, server.rss_mib())
                    dropped = server.log.read_text().count("live-feed subscriber left")
                    if dropped == subscribers and last_drop is None:
                        last_drop = i
        time.sleep(0.5)
        dropped = server.log.read_text().count("live-feed subscriber left")
        print(
            f"{subscribers} subscribers that never read, {events} events appended: {dropped} "
            f"dropped (the last after {last_drop} events); server memory: {before:.1f} MiB "
            f"before them, {connected:.1f} with them, {peak:.1f} at most while the events were "
            f"appended, {server.rss_mib():.1f} at the end"
        )
        for s in subs:
            s.close()
    finally:
        server.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--slow", default="0,100,500,1000", help="slow connections of each run")
    ap.add_argument("--checks", type=int, default=200, help="health checks per run")
    ap.add_argument("--subscribers", type=int, default=50, help="feed subscribers not reading")
    ap.add_argument("--events", type=int, default=600, help="ballots appended to their board")
    args = ap.parse_args()
    print(f"load average at the start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "health").mkdir()
        (Path(d) / "feed").mkdir()
        health_checks(Path(d) / "health", [int(x) for x in args.slow.split(",")], args.checks)
        if args.subscribers:
            feed(Path(d) / "feed", args.subscribers, args.events)
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
