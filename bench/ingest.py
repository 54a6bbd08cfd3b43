#!/usr/bin/env python3
"""Benchmark: ballot ingestion by the board server (``plebiscite serve``), on SQLite and on
PostgreSQL.

N ballots (default 1000) of one election (yes/no and one of three, as in the other benchmarks;
made once, kept in ``.cache/bench/``) are submitted by C concurrent clients (1, 8 and 32) to a
fresh server on a fresh database, after a sequential warm-up (``--warm-up``, 0 for a cold
server) that lets the server build its fixed-base tables. Each run reports ballots per second
accepted (the answer comes after the ballot is verified and durably committed), request latency
p50 and p99, the server process's CPU time over the run (``/proc/PID/stat``) and the share of
it that proof verification accounts for: the CPU time of ``parse_ballot`` + ``verify_ballot``
on the same ballots in this process (target: at least 70%). The server's peak memory
(``VmHWM``) and its restart time with every ballot on the board (it verifies the whole board
before serving) are reported too.

    ./dev bench ingest [--ballots N] [--clients 1,8,32] [--databases sqlite,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from common import ROOT, plebiscite_command
from peer import ONE_OF_THREE, YES_NO
from plebiscite import strictjson
from plebiscite.crypto.context import Context
from plebiscite.crypto.groups import BELENIOS_2048
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.protocol.ballot import make_ballot, parse_ballot, verify_ballot
from plebiscite.protocol.election_setup import (
    generate_credentials,
    generate_uuid,
    make_election,
    make_trustee_key,
    make_trustees,
    public_credentials_json,
)
from plebiscite.protocol.messages import parse_election

if TYPE_CHECKING:
    from board.pg import PgTestServer

TOKEN = "bench-admin-token"
TARGET_SHARE = 0.70
CLK_TCK = os.sysconf("SC_CLK_TCK")


# -- the election and its ballots, made once ---------------------------------------------------


def _ballots(election_raw: bytes, items: Sequence[tuple[int, str]]) -> list[str]:
    election = parse_election(election_raw)
    ctx = Context(election.group, election.public_key)
    return [
        make_ballot(
            election,
            cred,
            [[1, 0] if i % 2 else [0, 1], [1 if j == i % 3 else 0 for j in range(3)]],
            DeterministicRandom(f"ingest-{i}"),
            ctx=ctx,
        ).decode()
        for i, cred in items
    ]


def election_with_ballots(count: int) -> tuple[dict[str, str], list[bytes]]:
    """The setup (the body of ``POST /api/elections``) and ``count`` ballots of distinct voters.
    An election made for more voters serves too: its first ballots are the same."""
    cache = ROOT / ".cache" / "bench"
    made = sorted((int(p.stem.split("-")[1]), p) for p in cache.glob("ingest-*.json"))
    for size, saved_path in made:
        if size >= count:
            saved = json.loads(saved_path.read_text())
            return saved["setup"], [b.encode() for b in saved["ballots"][:count]]
    path = cache / f"ingest-{count}.json"
    print(f"making an election with {count} ballots (once)...", file=sys.stderr)
    rng = DeterministicRandom("bench-ingest")
    group = BELENIOS_2048
    uuid = generate_uuid(rng)
    _, key = make_trustee_key(group, rng)
    trustees = make_trustees([("Single", key)], group)
    template = {"description": "ingest", "name": "ingest", "questions": [YES_NO, ONE_OF_THREE]}
    election_raw = make_election(strictjson.dumps_compact(template), uuid, group, trustees)
    creds = generate_credentials([(f"v{i}", None) for i in range(count)], uuid, group, rng)
    items = [(i, c.private) for i, c in enumerate(creds)]
    jobs = os.cpu_count() or 1
    chunks = [items[k::jobs] for k in range(jobs)]
    with ProcessPoolExecutor(jobs) as pool:
        made = list(pool.map(_ballots, [election_raw] * jobs, chunks))
    ballots = [""] * count
    for chunk, out in zip(chunks, made, strict=True):
        for (i, _), b in zip(chunk, out, strict=True):
            ballots[i] = b
    setup = {
        "election": election_raw.decode(),
        "trustees": trustees.decode(),
        "credentials": public_credentials_json(creds).decode(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"setup": setup, "ballots": ballots}))
    return setup, [b.encode() for b in ballots]


def verification_cpu(election_raw: bytes, warm: Sequence[bytes], ballots: Sequence[bytes]) -> float:
    """CPU seconds of parsing and verifying ``ballots`` in this process (after ``warm``, as the
    server: its fixed-base tables built)."""
    election = parse_election(election_raw)
    ctx = Context(election.group, election.public_key)
    for b in warm:
        verify_ballot(parse_ballot(b, election), election, ctx)
    t0 = time.process_time()
    for b in ballots:
        verify_ballot(parse_ballot(b, election), election, ctx)
    return time.process_time() - t0


# -- the server --------------------------------------------------------------------------------


class Server:
    """``plebiscite serve`` on ``database``, on a free loopback port."""

    def __init__(self, database: str, workdir: Path) -> None:
        self.database, self.workdir = database, workdir
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self) -> float:
        """Start and wait for /healthz; returns the seconds it took."""
        t0 = time.perf_counter()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        log = self.workdir / "server.log"
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    *plebiscite_command(),
                    "serve",
                    "--database",
                    self.database,
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--key-file",
                    str(self.workdir / "server.key"),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PLEBISCITE_ADMIN_TOKEN": TOKEN},
            )
        while True:
            if self.proc.poll() is not None:
                raise SystemExit(f"the server exited: {log.read_text()[-1000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=5).status_code == 200:
                    return time.perf_counter() - t0
            except httpx.TransportError:
                pass
            time.sleep(0.05)

    def cpu(self) -> float:
        """CPU seconds (user + system) of the server process so far."""
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def peak_mib(self) -> float:
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# -- one run -----------------------------------------------------------------------------------


@dataclass
class Run:
    database: str
    clients: int
    ballots: int
    wall: float
    latencies: list[float]
    server_cpu: float
    peak_mib: float
    restart: float | None = None

    def percentile(self, p: int) -> float:
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1]


async def submit(url: str, path: str, ballots: Sequence[bytes], clients: int) -> list[float]:
    """Post every ballot from ``clients`` concurrent clients; the latency of each."""
    latencies: list[float] = []
    todo = iter(ballots)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=600, limits=limits) as c:

        async def client() -> None:
            for ballot in todo:
                t0 = time.perf_counter()
                r = await c.post(path, content=ballot)
                latencies.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    raise SystemExit(f"ballot refused: {r.status_code} {r.text[:300]}")

        await asyncio.gather(*(client() for _ in range(clients)))
    return latencies


def run(
    name: str,
    database: str,
    workdir: Path,
    setup: dict[str, str],
    warm: Sequence[bytes],
    ballots: Sequence[bytes],
    clients: int,
    *,
    restart: bool,
) -> Run:
    server = Server(database, workdir)
    server.start()
    try:
        r = httpx.post(
            f"{server.url}/api/elections",
            json=setup,
            headers={"authorization": f"Bearer {TOKEN}"},
            timeout=600,
        )
        if r.status_code != 201:
            raise SystemExit(f"the election was refused: {r.text[:500]}")
        uuid = r.json()["uuid"]
        path = f"/api/elections/{uuid}/ballots"
        if warm:
            asyncio.run(submit(server.url, path, warm, 1))
        cpu0, t0 = server.cpu(), time.perf_counter()
        latencies = asyncio.run(submit(server.url, path, ballots, clients))
        wall, cpu = time.perf_counter() - t0, server.cpu() - cpu0
        status = httpx.get(f"{server.url}/api/elections/{uuid}", timeout=60).json()
        if status["ballots"] != len(warm) + len(ballots) or not status["valid"]:
            raise SystemExit(f"the board is not as expected: {status}")
        result = Run(name, clients, len(ballots), wall, latencies, cpu, server.peak_mib())
        if restart:
            server.stop()
            result.restart = server.start()
        return result
    finally:
        server.stop()


@contextmanager
def fresh_database(name: str, workdir: Path, pg: PgTestServer | None) -> Iterator[str]:
    """A new empty board: a SQLite file in ``workdir`` or a new PostgreSQL database."""
    if name == "sqlite":
        yield str(workdir / "board.db")
    else:
        assert pg is not None
        with pg.fresh_database() as dsn:
            yield dsn


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ballots", type=int, default=1000, help="ballots per run")
    ap.add_argument("--clients", default="1,8,32", help="concurrent clients of each run")
    ap.add_argument("--databases", default="sqlite,postgres", help="sqlite, postgres or both")
    ap.add_argument("--warm-up", type=int, default=40, help="sequential ballots before timing")
    args = ap.parse_args()
    clients = [int(c) for c in args.clients.split(",")]
    names = [d for d in args.databases.split(",") if d]
    if not set(names) <= {"sqlite", "postgres"}:
        raise SystemExit("--databases: sqlite, postgres or both")

    setup, all_ballots = election_with_ballots(args.warm_up + args.ballots)
    warm, ballots = all_ballots[: args.warm_up], all_ballots[args.warm_up :]
    verify = verification_cpu(setup["election"].encode(), warm, ballots)
    print(
        f"verifying the same {len(ballots)} ballots in one process: {verify:.2f} s CPU "
        f"({verify / len(ballots) * 1e3:.2f} ms per ballot)",
        flush=True,
    )

    pg = None
    if "postgres" in names:
        from board.pg import PgTestServer, PgTestServerError  # tests/ is on the path (common)

        try:
            pg = PgTestServer.start(dedicated=True)
        except PgTestServerError as exc:
            print(f"PostgreSQL skipped (./dev test installs it): {exc}", file=sys.stderr)
            names.remove("postgres")
    runs: list[Run] = []
    try:
        for name in names:
            for c in clients:
                with (
                    tempfile.TemporaryDirectory(prefix="ingest-", dir=ROOT / ".cache") as tmp,
                    fresh_database(name, Path(tmp), pg) as url,
                ):
                    r = run(name, url, Path(tmp), setup, warm, ballots, c, restart=c == clients[-1])
                runs.append(r)
                print(f"{name}, {c} clients: {r.ballots / r.wall:.1f} ballots/s", file=sys.stderr)
    finally:
        if pg is not None:
            pg.stop()

    print()
    print(
        f"{len(ballots)} ballots per run, BELENIOS-2048, yes/no and one of three; "
        f"{args.warm_up} sequential warm-up ballots first; {os.cpu_count()} cores"
    )
    header = (
        f"{'database':<9} {'clients':>7} {'ballots/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'wall s':>7} {'server CPU s':>12} {'CPU ms/ballot':>13} {'verify share':>12} "
        f"{'peak MiB':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in runs:
        share = verify / r.server_cpu if r.server_cpu else float("nan")
        print(
            f"{r.database:<9} {r.clients:>7} {r.ballots / r.wall:>9.1f} "
            f"{r.percentile(50) * 1e3:>8.1f} {r.percentile(99) * 1e3:>8.1f} {r.wall:>7.2f} "
            f"{r.server_cpu:>12.2f} {r.server_cpu / r.ballots * 1e3:>13.2f} "
            f"{share:>11.0%}{'' if share >= TARGET_SHARE else '!'} {r.peak_mib:>8.0f}"
        )
    print(
        f"verify share: CPU of parse_ballot + verify_ballot in one process ({verify:.2f} s) over "
        f"the server's CPU in the run; target >= {TARGET_SHARE:.0%} ('!' marks a run below)"
    )
    for r in runs:
        if r.restart is not None:
            print(
                f"restart ({r.database}, {len(warm) + r.ballots} ballots on the board): "
                f"{r.restart:.2f} s until /healthz answers"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
