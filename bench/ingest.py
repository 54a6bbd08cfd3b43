#!/usr/bin/env python3
"""Benchmark: ballot ingestion by the board server (``plebiscite serve``), on SQLite and on
PostgreSQL, with one server process and with several on one PostgreSQL database.

N ballots (default 500) of one election (yes/no and one of three, as in the other benchmarks;
made once, kept in ``.cache/bench/``) are submitted by C concurrent clients (1, 8 and 32) to a
fresh server on a fresh database, after a sequential warm-up (``--warm-up``, 0 for a cold
server) that lets the server build its fixed-base tables. Each run reports ballots per second
accepted (the answer comes after the ballot is verified and durably committed), request latency
p50 and p99, the server process's CPU time over the run (``/proc/PID/stat``) and the share of
it that proof verification accounts for: the CPU time of ``parse_ballot`` + ``verify_ballot``
on the same ballots in this process (target: at least 70%). The server's peak memory
(``VmHWM``) and its restart time with every ballot on the board (it verifies the whole board
before serving) are reported too.

Several processes (``--processes 1,2,4``): on PostgreSQL, P ``plebiscite serve`` processes on
one fresh database with one signing key file (the first process's, copied for the others before
they start), ``--process-clients`` clients in all (default 8), client k bound to process
k mod P; the warm-up goes round-robin to every process. The CPU is the sum over the processes,
read once every process has read the whole board (each process checks the proofs of the ballots
it appends, and of those the others appended only their place on the board), so the servers' CPU
per ballot stays that of one process when the work is shared well, and the verify share is
still one process's verification over the sum. The scaling is the throughput with P processes
over that with one; the CPU columns tell whether it is the work or the machine that limits it
(on 2 cores, the clients and PostgreSQL share them with the servers). SQLite serves one
process only (a second ``serve`` on one file is refused). A run already made in the clients
table (same database, same number of clients, one process) is not made again.

Propagation (``--propagation M``, default 100, 0 to skip; PostgreSQL): two processes A and B on
a fresh database; M ballots cast one at a time on A, each followed by ``GET
/api/elections/UUID/ballots/TRACKER`` on B in a tight loop until it answers 200: the time from
A's answer to B's 200. Then M more ballots cast one at a time on A, with nothing sent to B but
the live feed (``GET .../events``, read by a thread): the time from A's answer to the feed's
event at that height. The two are measured apart because a lookup on B makes B read the board,
which also publishes the event on its feed.

The default run (500 ballots, clients 1, 8 and 32 on both databases, 2 and 4 processes, 2 x 100
propagation ballots) took 7 minutes on 2 shared, loaded cores, making the 540-ballot election
(once) included.

    ./dev bench ingest [--ballots N] [--clients 1,8,32] [--databases sqlite,postgres]
                       [--processes 1,2,4] [--process-clients 8] [--propagation 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import AsyncExitStack, contextmanager
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
        outs = list(pool.map(_ballots, [election_raw] * jobs, chunks))
    ballots = [""] * count
    for chunk, out in zip(chunks, outs, strict=True):
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


# -- the servers -------------------------------------------------------------------------------


class Server:
    """``plebiscite serve`` on ``database``, on a free loopback port, its signing key in
    ``workdir/server.key``."""

    def __init__(self, database: str, workdir: Path, extra: Sequence[str] = ()) -> None:
        self.database, self.workdir, self.extra = database, workdir, list(extra)
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self) -> float:
        """Start and wait for /healthz; returns the seconds it took."""
        t0 = time.perf_counter()
        for _ in range(3):  # another program may take the free port before the server does
            if self._start_once():
                return time.perf_counter() - t0
        log = (self.workdir / "server.log").read_text()
        raise SystemExit(f"the server exited: {log[-1000:]}")

    def _start_once(self) -> bool:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        with (self.workdir / "server.log").open("ab") as out:
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
                    *self.extra,
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PLEBISCITE_ADMIN_TOKEN": TOKEN},
            )
        while True:
            if self.proc.poll() is not None:
                return False
            try:
                if httpx.get(f"{self.url}/healthz", timeout=5).status_code == 200:
                    return True
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


@contextmanager
def servers_on(
    database: str, workdir: Path, count: int, extra: Sequence[str] = ()
) -> Iterator[list[Server]]:
    """``count`` server processes on ``database``, one signing key: the first process makes
    it, the others start with a copy of it (the server's sealed records depend on it);
    ``extra``: more options of ``plebiscite serve``."""
    dirs = [workdir / f"process-{k}" for k in range(count)]
    for d in dirs:
        d.mkdir()
    servers = [Server(database, d, extra) for d in dirs]
    try:
        servers[0].start()
        for d in dirs[1:]:
            shutil.copy(dirs[0] / "server.key", d / "server.key")
        for s in servers[1:]:
            s.start()
        yield servers
    finally:
        for s in servers:
            s.stop()


def create_election(url: str, setup: dict[str, str]) -> str:
    r = httpx.post(
        f"{url}/api/elections",
        json=setup,
        headers={"authorization": f"Bearer {TOKEN}"},
        timeout=600,
    )
    if r.status_code != 201:
        raise SystemExit(f"the election was refused: {r.text[:500]}")
    uuid: str = r.json()["uuid"]
    return uuid


def cast_one(client: httpx.Client, uuid: str, ballot: bytes) -> dict[str, object]:
    r = client.post(f"/api/elections/{uuid}/ballots", content=ballot)
    if r.status_code != 200:
        raise SystemExit(f"ballot refused: {r.status_code} {r.text[:300]}")
    answer: dict[str, object] = r.json()
    return answer


def warm_up(servers: Sequence[Server], uuid: str, warm: Sequence[bytes]) -> None:
    """Cast ``warm`` one at a time, round-robin over ``servers`` (each loads the election and
    builds its tables)."""
    clients = [httpx.Client(base_url=s.url, timeout=600) for s in servers]
    try:
        for k, ballot in enumerate(warm):
            cast_one(clients[k % len(clients)], uuid, ballot)
    finally:
        for c in clients:
            c.close()


def wait_for_board(servers: Sequence[Server], uuid: str, ballots: int) -> None:
    """Until every server has read and verified ``ballots`` ballots of ``uuid``."""
    deadline = time.monotonic() + 600
    for s in servers:
        while True:
            status = httpx.get(f"{s.url}/api/elections/{uuid}", timeout=60).json()
            if status["ballots"] == ballots and status["valid"]:
                break
            if status["ballots"] > ballots or not status["valid"] or time.monotonic() > deadline:
                raise SystemExit(f"the board is not as expected at {s.url}: {status}")
            time.sleep(0.02)


# -- one run -----------------------------------------------------------------------------------


@dataclass
class Run:
    database: str
    clients: int
    ballots: int
    wall: float
    latencies: list[float]
    server_cpu: float  # the sum over the processes
    peak_mib: float  # the largest of the processes
    processes: int = 1
    conflicts: int = 0  # 409 conflict answers (posted again)
    restart: float | None = None

    def percentile(self, p: int) -> float:
        return percentile(self.latencies, p)


def percentile(values: Sequence[float], p: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


async def submit(
    urls: Sequence[str], path: str, ballots: Sequence[bytes], clients: int
) -> tuple[list[float], int]:
    """Post every ballot from ``clients`` concurrent clients, client k bound to
    ``urls[k % len(urls)]``; the latency of each (from the first post to the answer 200) and
    the number of ``409 conflict`` answers. A ballot that lost the race to append against
    another process as often as the server tries again gets ``409 conflict`` (nothing was
    appended): it is posted again, as a voter's booth would."""
    latencies: list[float] = []
    conflicts = 0
    todo = iter(ballots)
    bound = [urls[k % len(urls)] for k in range(clients)]

    async def client(c: httpx.AsyncClient) -> None:
        nonlocal conflicts
        for ballot in todo:
            t0 = time.perf_counter()
            while True:
                r = await c.post(path, content=ballot)
                if r.status_code != 409 or r.json()["error"]["code"] != "conflict":
                    break
                conflicts += 1
            latencies.append(time.perf_counter() - t0)
            if r.status_code != 200:
                raise SystemExit(f"ballot refused: {r.status_code} {r.text[:300]}")

    async with AsyncExitStack() as stack:
        http: dict[str, httpx.AsyncClient] = {}
        for url in dict.fromkeys(bound):
            n = bound.count(url)
            limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
            http[url] = await stack.enter_async_context(
                httpx.AsyncClient(base_url=url, timeout=600, limits=limits)
            )
        await asyncio.gather(*(client(http[url]) for url in bound))
    return latencies, conflicts


def run(
    name: str,
    database: str,
    workdir: Path,
    setup: dict[str, str],
    warm: Sequence[bytes],
    ballots: Sequence[bytes],
    clients: int,
    *,
    processes: int = 1,
    restart: bool = False,
) -> Run:
    with servers_on(database, workdir, processes) as servers:
        uuid = create_election(servers[0].url, setup)
        path = f"/api/elections/{uuid}/ballots"
        warm_up(servers, uuid, warm)
        wait_for_board(servers, uuid, len(warm))
        cpu0, t0 = sum(s.cpu() for s in servers), time.perf_counter()
        latencies, conflicts = asyncio.run(submit([s.url for s in servers], path, ballots, clients))
        wall = time.perf_counter() - t0
        wait_for_board(servers, uuid, len(warm) + len(ballots))
        cpu = sum(s.cpu() for s in servers) - cpu0
        peak = max(s.peak_mib() for s in servers)
        result = Run(name, clients, len(ballots), wall, latencies, cpu, peak, processes, conflicts)
        if restart:
            servers[0].stop()
            result.restart = servers[0].start()
        return result


# -- propagation between two processes ---------------------------------------------------------


class Feed:
    """The live feed of one election on one server, read by a thread of its own: the time
    (``perf_counter``) each height arrived."""

    def __init__(self, url: str, uuid: str) -> None:
        self.url, self.uuid = url, uuid
        self.arrived: dict[int, float] = {}
        self.changed = threading.Condition()
        self.ready = threading.Event()
        self.failed: BaseException | None = None
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        if not self.ready.wait(60):
            raise SystemExit(f"the live feed of {url} did not start: {self.failed}")

    def _read(self) -> None:
        try:
            with (
                httpx.Client(base_url=self.url, timeout=httpx.Timeout(60, read=None)) as c,
                c.stream("GET", f"/api/elections/{self.uuid}/events") as r,
            ):
                for line in r.iter_lines():
                    now = time.perf_counter()
                    self.ready.set()  # the first line (a comment) once subscribed
                    if line.startswith("data: "):
                        event = json.loads(line[6:])
                        with self.changed:
                            self.arrived[int(event["height"])] = now
                            self.changed.notify_all()
        except httpx.HTTPError as e:  # the server stopped
            self.failed = e
        finally:
            self.ready.set()

    def wait(self, height: int, timeout: float = 60) -> float:
        """When the event at ``height`` arrived."""
        with self.changed:
            if not self.changed.wait_for(lambda: height in self.arrived, timeout):
                raise SystemExit(f"no event at height {height} on the live feed of {self.url}")
            return self.arrived[height]


@dataclass
class Propagation:
    lookup: list[float]  # A's answer to B's 200 for the ballot
    feed: list[float]  # A's answer to the event on B's live feed
    lookups_sent: int  # GET requests to B in all


def propagation(
    database: str,
    workdir: Path,
    setup: dict[str, str],
    warm: Sequence[bytes],
    ballots: Sequence[bytes],
) -> Propagation:
    """The first half of ``ballots`` cast on A, each looked up on B in a tight loop; the second
    half cast on A, each awaited on B's live feed."""
    half = len(ballots) // 2
    with servers_on(database, workdir, 2) as (a, b):
        uuid = create_election(a.url, setup)
        warm_up([a, b], uuid, warm)
        wait_for_board([a, b], uuid, len(warm))
        feed = Feed(b.url, uuid)
        result = Propagation([], [], 0)
        with (
            httpx.Client(base_url=a.url, timeout=600) as ha,
            httpx.Client(base_url=b.url, timeout=600) as hb,
        ):
            for ballot in ballots[:half]:
                tracker = cast_one(ha, uuid, ballot)["tracker"]
                acked = time.perf_counter()
                while True:
                    result.lookups_sent += 1
                    r = hb.get(f"/api/elections/{uuid}/ballots/{tracker}")
                    if r.status_code == 200:
                        break
                    if r.status_code != 404:
                        raise SystemExit(f"lookup on B: {r.status_code} {r.text[:300]}")
                result.lookup.append(time.perf_counter() - acked)
            for ballot in ballots[half:]:
                height = cast_one(ha, uuid, ballot)["height"]
                acked = time.perf_counter()
                assert isinstance(height, int)
                result.feed.append(feed.wait(height) - acked)
        wait_for_board([a, b], uuid, len(warm) + len(ballots))
    feed.thread.join(timeout=30)
    return result


# -- the whole benchmark -----------------------------------------------------------------------


@contextmanager
def fresh_database(name: str, workdir: Path, pg: PgTestServer | None) -> Iterator[str]:
    """A new empty board: a SQLite file in ``workdir`` or a new PostgreSQL database."""
    if name == "sqlite":
        yield str(workdir / "board.db")
    else:
        assert pg is not None
        with pg.fresh_database() as dsn:
            yield dsn


@contextmanager
def scratch(name: str, pg: PgTestServer | None) -> Iterator[tuple[str, Path]]:
    """A fresh database and a working directory for one run."""
    with (
        tempfile.TemporaryDirectory(prefix="ingest-", dir=ROOT / ".cache") as tmp,
        fresh_database(name, Path(tmp), pg) as url,
    ):
        yield url, Path(tmp)


def numbers(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ballots", type=int, default=500, help="ballots per run")
    ap.add_argument("--clients", default="1,8,32", help="concurrent clients of each run")
    ap.add_argument("--databases", default="sqlite,postgres", help="sqlite, postgres or both")
    ap.add_argument("--warm-up", type=int, default=40, help="sequential ballots before timing")
    ap.add_argument(
        "--processes", default="1,2,4", help="server processes on one database ('' for none)"
    )
    ap.add_argument(
        "--process-clients", type=int, default=8, help="clients in all, with several processes"
    )
    ap.add_argument(
        "--propagation", type=int, default=100, help="ballots per propagation measure (0: none)"
    )
    args = ap.parse_args()
    clients = numbers(args.clients)
    processes = numbers(args.processes)
    names = [d for d in args.databases.split(",") if d]
    if not set(names) <= {"sqlite", "postgres"}:
        raise SystemExit("--databases: sqlite, postgres or both")
    if any(p < 1 for p in processes) or args.process_clients < 1 or args.propagation < 0:
        raise SystemExit("--processes, --process-clients: at least 1; --propagation: 0 or more")
    spread_count = min(args.propagation, args.ballots // 2)  # it casts twice that many

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
    several: list[Run] = []
    spread: Propagation | None = None
    try:
        for name in names:
            for c in clients:
                with scratch(name, pg) as (url, tmp):
                    r = run(name, url, tmp, setup, warm, ballots, c, restart=c == clients[-1])
                runs.append(r)
                print(f"{name}, {c} clients: {r.ballots / r.wall:.1f} ballots/s", file=sys.stderr)
        for name in names:
            for p in processes if name == "postgres" else [1] if processes else []:
                c = args.process_clients
                done = [r for r in runs if (r.database, r.clients, p) == (name, c, 1)]
                if done:
                    several.append(done[0])
                    continue
                with scratch(name, pg) as (url, tmp):
                    r = run(name, url, tmp, setup, warm, ballots, c, processes=p)
                several.append(r)
                print(
                    f"{name}, {p} processes, {c} clients: {r.ballots / r.wall:.1f} ballots/s",
                    file=sys.stderr,
                )
        if spread_count and pg is not None:
            with scratch("postgres", pg) as (url, tmp):
                spread = propagation(url, tmp, setup, warm, ballots[: 2 * spread_count])
    finally:
        if pg is not None:
            pg.stop()

    print()
    print(
        f"{len(ballots)} ballots per run, BELENIOS-2048, yes/no and one of three; "
        f"{args.warm_up} sequential warm-up ballots first; {os.cpu_count()} cores"
    )
    if runs:
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
            f"verify share: CPU of parse_ballot + verify_ballot in one process ({verify:.2f} s) "
            f"over the server's CPU in the run; target >= {TARGET_SHARE:.0%} ('!' marks a run "
            "below)"
        )
        for r in runs:
            if r.restart is not None:
                print(
                    f"restart ({r.database}, {len(warm) + r.ballots} ballots on the board): "
                    f"{r.restart:.2f} s until /healthz answers"
                )
    if several:
        print()
        print(
            f"several server processes on one database, {args.process_clients} clients in all, "
            "client k on process k mod P (SQLite: one process)"
        )
        header = (
            f"{'database':<9} {'procs':>5} {'ballots/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
            f"{'wall s':>7} {'servers CPU s':>13} {'CPU ms/ballot':>13} {'verify share':>12} "
            f"{'peak MiB':>8} {'409s':>5} {'scaling':>7}"
        )
        print(header)
        print("-" * len(header))
        for r in several:
            share = verify / r.server_cpu if r.server_cpu else float("nan")
            base = [b for b in several if (b.database, b.processes) == (r.database, 1)]
            scaling = (
                f"{(r.ballots / r.wall) / (base[0].ballots / base[0].wall):.2f}" if base else "-"
            )
            print(
                f"{r.database:<9} {r.processes:>5} {r.ballots / r.wall:>9.1f} "
                f"{r.percentile(50) * 1e3:>8.1f} {r.percentile(99) * 1e3:>8.1f} {r.wall:>7.2f} "
                f"{r.server_cpu:>13.2f} {r.server_cpu / r.ballots * 1e3:>13.2f} "
                f"{share:>12.0%} {r.peak_mib:>8.0f} "
                f"{r.conflicts:>5} {scaling:>7}"
            )
        print(
            "servers CPU: the sum over the processes, until each has read the whole board "
            "(each checks the proofs of its own ballots only); scaling: "
            "ballots/s over those of one process; 409s: '409 conflict' answers (lost the race "
            "to append against another process as often as the server tries again; posted "
            "again, the latency counts from the first post)"
        )
    if spread is not None:
        print()
        print("propagation between two processes A and B on one PostgreSQL database")
        header = (
            f"{'from A answering to':<44} {'ballots':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}"
        )
        print(header)
        print("-" * len(header))
        for what, delays in (
            ("B answering 200 to GET .../ballots/TRACKER", spread.lookup),
            ("the event on B's live feed (GET .../events)", spread.feed),
        ):
            print(
                f"{what:<44} {len(delays):>7} {percentile(delays, 50) * 1e3:>8.1f} "
                f"{percentile(delays, 99) * 1e3:>8.1f} {max(delays) * 1e3:>8.1f}"
            )
        print(
            f"lookups: polled in a tight loop, {spread.lookups_sent / len(spread.lookup):.1f} "
            "requests to B per ballot; live feed: nothing else sent to B"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
