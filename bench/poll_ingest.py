#!/usr/bin/env python3
"""Benchmark: ballots into a sharded poll, one and two ``plebiscite serve`` processes on one
PostgreSQL database, Ed25519; and the projection for a hundred million ballots in a day.

For each process count P (``--processes 1,2``): a fresh PostgreSQL database, P server
processes on it (one signing key, as ``bench/ingest.py``), a poll created in one request
(``POST /api/polls``: one question, two answers, ``--voters`` voters, default 1,200, in
``--shards`` shards, default 4, the server's key alone), each voter's real ballot made from the
credential the answer returns (one per voter, its shard's election, on every core), a warm-up
of ``--warm-up`` ballots one at a time round-robin over the processes, then the rest from
``--clients`` concurrent clients (default 8; client k bound to process k mod P), the shards'
ballots interleaved. Reported: ballots per second accepted (the answer after the ballot is
verified and committed), the servers' CPU seconds per ballot (summed over the processes, read
once every process has read every board), the machine's busy cores over the run
(``/proc/stat``: servers, clients and PostgreSQL), and the share of the servers' CPU that proof
verification accounts for (``parse_ballot`` + ``verify_ballot`` on the same ballots in this
process).

The peer on the same input: each shard's archive is downloaded after the last run and
``belenios-tool election verify`` (3.0, Ed25519) runs on it; its wall time per ballot against
plebiscite's in-process verification per ballot, and against the server's CPU per ballot.

The projection: one core ingests ``1 / (CPU per ballot)`` ballots a second; a hundred million
ballots in a day are 1,157 a second on average and, at a peak ten times that, 11,574: the cores
it takes is the rate times the CPU per ballot (the servers' alone, and the machine's whole
busy time per ballot, clients and PostgreSQL included).

    ./dev bench poll_ingest [--voters 1200] [--shards 4] [--processes 1,2] [--clients 8]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import httpx

from common import ROOT
from ingest import TOKEN, servers_on, submit, wait_for_board
from plebiscite.crypto.context import Context
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.protocol.ballot import make_ballot, parse_ballot, verify_ballot
from plebiscite.protocol.messages import parse_election

PER_DAY = 100_000_000 / 86_400  # ballots a second, on average
PEAK = 10


def _busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine so far."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def _make(election_raw: bytes, items: list[tuple[int, str]]) -> list[bytes]:
    election = parse_election(election_raw)
    ctx = Context(election.group, election.public_key)
    return [
        make_ballot(
            election, cred, [[1, 0] if i % 3 else [0, 1]], DeterministicRandom(f"pi-{i}"), ctx=ctx
        )
        for i, cred in items
    ]


def create_poll(url: str, voters: int, shards: int) -> dict[str, object]:
    body = {
        "question": "Shall the benchmark pass?",
        "answers": ["Yes", "No"],
        "closing": "2099-01-01T00:00:00Z",
        "voters": {"emails": [f"v{i}@example.org" for i in range(voters)]},
        "shard_size": -(-voters // shards),
    }
    r = httpx.post(
        f"{url}/api/polls",
        json=body,
        headers={"authorization": f"Bearer {TOKEN}"},
        timeout=600,
    )
    if r.status_code != 201:
        raise SystemExit(f"the poll was refused: {r.status_code} {r.text[:500]}")
    out: dict[str, object] = r.json()
    return out


def ballots_of(url: str, credentials: list[dict[str, str]]) -> dict[str, tuple[bytes, list[bytes]]]:
    """Every voter's ballot, by shard election: (election.json, ballots)."""
    by: dict[str, list[tuple[int, str]]] = {}
    for i, c in enumerate(credentials):
        by.setdefault(c["election"], []).append((i, c["credential"]))
    elections = {u: httpx.get(f"{url}/api/elections/{u}/election", timeout=60).content for u in by}
    jobs = os.cpu_count() or 1
    tasks = [(u, items[k::jobs]) for u, items in by.items() for k in range(jobs)]
    with ProcessPoolExecutor(jobs) as pool:
        made = list(pool.map(_make, [elections[u] for u, _ in tasks], [t for _, t in tasks]))
    out: dict[str, tuple[bytes, list[bytes]]] = {u: (elections[u], []) for u in by}
    for (u, _), bs in zip(tasks, made, strict=True):
        out[u][1].extend(bs)
    return out


def verify_cpu(shards: dict[str, tuple[bytes, list[bytes]]], warm: int) -> tuple[float, int]:
    """CPU seconds of parsing and verifying the ballots after the first ``warm`` of each shard,
    in this process (its tables built by those), and how many."""
    total, n = 0.0, 0
    for election_raw, ballots in shards.values():
        election = parse_election(election_raw)
        ctx = Context(election.group, election.public_key)
        for b in ballots[:warm]:
            verify_ballot(parse_ballot(b, election), election, ctx)
        t0 = time.process_time()
        for b in ballots[warm:]:
            verify_ballot(parse_ballot(b, election), election, ctx)
        total += time.process_time() - t0
        n += len(ballots[warm:])
    return total, n


def run(
    pg: object, processes: int, args: argparse.Namespace, keep: Path | None
) -> dict[str, float]:
    with (
        tempfile.TemporaryDirectory(prefix="poll-ingest-", dir=ROOT / ".cache") as tmp,
        pg.fresh_database() as dsn,  # type: ignore[attr-defined]
        # every client here is one address: the per-address limits off (a poll's voters come
        # from many)
        servers_on(dsn, Path(tmp), processes, ["--rate-limits", "off"]) as servers,
    ):
        url = servers[0].url
        t0 = time.perf_counter()
        created = create_poll(url, args.voters, args.shards)
        creation = time.perf_counter() - t0
        credentials = created["credentials"]
        assert isinstance(credentials, list)
        shards = ballots_of(url, credentials)
        per_shard = max(1, args.warm_up // len(shards))
        warm = [(u, b) for u, (_, bs) in shards.items() for b in bs[:per_shard]]
        rest = [(u, b) for u, (_, bs) in shards.items() for b in bs[per_shard:]]
        random.Random(7).shuffle(rest)
        clients = [httpx.Client(base_url=s.url, timeout=600) for s in servers]
        for k, (u, b) in enumerate(warm):
            r = clients[k % len(clients)].post(f"/api/elections/{u}/ballots", content=b)
            if r.status_code != 200:
                raise SystemExit(f"ballot refused: {r.status_code} {r.text[:300]}")
        for c in clients:
            c.close()
        for u in shards:
            wait_for_board(servers, u, per_shard)
        cpu0, (busy0, all0) = sum(s.cpu() for s in servers), _busy()
        t0 = time.perf_counter()

        async def every_shard() -> None:
            # one submitter per shard, the clients shared out among them
            per = max(1, args.clients // len(shards))
            await asyncio.gather(
                *(
                    submit(
                        [s.url for s in servers],
                        f"/api/elections/{u}/ballots",
                        [b for v, b in rest if v == u],
                        per,
                    )
                    for u in shards
                )
            )

        asyncio.run(every_shard())
        wall = time.perf_counter() - t0
        for u, (_, bs) in shards.items():
            wait_for_board(servers, u, len(bs))
        cpu = sum(s.cpu() for s in servers) - cpu0
        busy1, all1 = _busy()
        cores = os.cpu_count() or 1
        busy_cores = (busy1 - busy0) / (all1 - all0) * cores if all1 > all0 else float("nan")
        if keep is not None:
            for u in shards:
                d = keep / u
                d.mkdir(parents=True)
                r = httpx.get(f"{url}/api/elections/{u}/archive", timeout=600)
                (d / f"{u}.bel").write_bytes(r.content)
        n = len(rest)
        return {
            "creation": creation,
            "ballots": n,
            "rate": n / wall,
            "cpu_per_ballot": cpu / n,
            "busy_cores": busy_cores,
            "busy_per_ballot": busy_cores * wall / n,
            "shards": float(len(shards)),
            "_shards": shards,  # type: ignore[dict-item]
            "_warm": float(per_shard),
        }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--voters", type=int, default=1200)
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--processes", default="1,2")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--warm-up", type=int, default=40)
    args = ap.parse_args()
    from board.pg import PgTestServer  # tests/ is on the path (common)
    from peer3 import belenios3_tool, belenios3_verify

    procs = [int(x) for x in args.processes.split(",") if x.strip()]
    print(f"load average before: {os.getloadavg()}", file=sys.stderr)
    pg = PgTestServer.start(dedicated=True)
    results: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="poll-ingest-archives-", dir=ROOT / ".cache") as keep:
        try:
            for p in procs:
                last = p == procs[-1]
                results[p] = run(pg, p, args, Path(keep) if last else None)
                r = results[p]
                print(
                    f"{p} process(es): {r['rate']:.1f} ballots/s, "
                    f"{1000 * r['cpu_per_ballot']:.2f} ms of server CPU a ballot",
                    file=sys.stderr,
                )
        finally:
            pg.stop()
        last = results[procs[-1]]
        shards = last.pop("_shards")  # type: ignore[misc]
        v_cpu, v_n = verify_cpu(shards, int(last.pop("_warm")))  # type: ignore[arg-type]
        verify_per_ballot = v_cpu / v_n
        peer: float | None = None
        if belenios3_tool() is not None:
            t0 = time.perf_counter()
            total = 0
            for d in sorted(Path(keep).iterdir()):
                out = belenios3_verify(d)
                if out.returncode != 0:
                    raise SystemExit(f"belenios-tool 3.0 refused shard {d.name}: {out.stderr}")
            total = sum(len(bs) for _, bs in shards.values())  # type: ignore[attr-defined]
            peer = (time.perf_counter() - t0) / total
    for r in results.values():
        r.pop("_shards", None)
        r.pop("_warm", None)
    print(
        f"\nsharded poll ingest, Ed25519, PostgreSQL, {args.voters} voters in "
        f"{int(last['shards'])} shards, {args.clients} clients; load average after: "
        f"{os.getloadavg()}"
    )
    print(
        f"{'processes':>9} {'ballots/s':>10} {'server CPU/ballot':>18} {'busy cores':>11} "
        f"{'verify share':>13}"
    )
    for p, r in results.items():
        share = verify_per_ballot / r["cpu_per_ballot"]
        print(
            f"{p:>9} {r['rate']:>10.1f} {1000 * r['cpu_per_ballot']:>15.2f} ms "
            f"{r['busy_cores']:>11.2f} {share:>12.0%}"
        )
    if len(results) > 1:
        a, b = results[procs[0]], results[procs[-1]]
        print(f"scaling {procs[-1]} processes / {procs[0]}: {b['rate'] / a['rate']:.2f}")
    print(f"proof verification in process: {1000 * verify_per_ballot:.2f} ms a ballot")
    if peer is not None:
        print(
            f"belenios-tool 3.0 election verify on the shards: {1000 * peer:.2f} ms a ballot "
            f"(plebiscite's verification / peer's: {verify_per_ballot / peer:.2f}; "
            f"the server's whole CPU per ballot / peer's: {last['cpu_per_ballot'] / peer:.2f})"
        )
    c, m = last["cpu_per_ballot"], last["busy_per_ballot"]
    print(
        f"projection, 100,000,000 ballots a day ({PER_DAY:,.0f}/s average, "
        f"{PEAK * PER_DAY:,.0f}/s at a peak {PEAK}x):"
    )
    print(
        f"  server processes alone: {PER_DAY * c:.1f} cores on average, "
        f"{PEAK * PER_DAY * c:.1f} at the peak"
    )
    print(
        f"  the whole machine (servers, clients, PostgreSQL): {PER_DAY * m:.1f} cores on "
        f"average, {PEAK * PER_DAY * m:.1f} at the peak"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
