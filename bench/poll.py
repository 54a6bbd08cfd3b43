#!/usr/bin/env python3
"""Benchmark: a poll created in one request, its voters split into shards.

``POST /api/polls`` with N voters (default 20,000; ``--voters N``) and a shard size (default
5,000; ``--shard-size S``) on the in-process application over a SQLite board in a temporary
directory: the request's wall and CPU time (the credentials made, one a voter, the shards'
elections made and opened, the record board started), the size of the answer (every private
credential with its booth link), then ``GET /api/polls/ID``, the close with no ballot (each
shard's tally, decryption and result by the server) and the peak memory of the process
(``ru_maxrss``). Run it several times (``--runs R``) on a loaded machine: the CPU time is the
steadier figure. With ``--open`` the poll is open to the accounts of an identity provider
(``"voters": {"open": {"pool": N}}``): the N credentials are made at the opening and kept
sealed in the pools' records, the answer has none.

    ./dev bench poll [--voters N] [--shard-size S] [--runs R] [--open]
"""

from __future__ import annotations

import argparse
import math
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from plebiscite.board.sqlite import SQLiteBoard
from plebiscite.crypto.signing import SigningKey
from plebiscite.server.app import create_app
from plebiscite.server.signin import OidcConfig

TOKEN = "bench-admin-token"
ADMIN = {"authorization": f"Bearer {TOKEN}"}


def timed(f: Callable[[], Any]) -> tuple[Any, float, float]:
    w, c = time.perf_counter(), time.process_time()
    out = f()
    return out, time.perf_counter() - w, time.process_time() - c


def one_run(voters: int, shard_size: int, directory: Path, open_: bool) -> dict[str, Any]:
    board = SQLiteBoard(directory / "board.db")
    # an open poll needs a provider configured; creating it asks the provider nothing
    oidc = OidcConfig("https://id.example.org", "bench", "secret") if open_ else None
    app = create_app(
        board,
        admin_token=TOKEN,
        key=SigningKey.from_seed(b"\x0b" * 32),
        poll_shard_size=shard_size,
        oidc=oidc,
    )
    closing = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))
    body = {
        "question": "Adopt the plan?",
        "answers": ["Yes", "No"],
        "closing": closing,
        "voters": {"emails": [f"voter{i}@example.org" for i in range(voters)]},
    }
    if open_:
        body["voters"] = {"open": {"pool": voters}}
    with TestClient(app) as c:
        r, cw, cc = timed(lambda: c.post("/api/polls", json=body, headers=ADMIN))
        assert r.status_code == 201, r.text
        created = r.json()
        pid = created["id"]
        _, sw, _ = timed(lambda: c.get(f"/api/polls/{pid}"))
        r2, xw, xc = timed(lambda: c.post(f"/api/polls/{pid}/close", headers=ADMIN))
        assert r2.status_code == 200 and r2.json()["state"] == "closed", r2.text
    board.close()
    return {
        "shards": len(created["poll"]["shards"]),
        "create_wall": cw,
        "create_cpu": cc,
        "answer_bytes": len(r.content),
        "status_wall": sw,
        "close_wall": xw,
        "close_cpu": xc,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--voters", type=int, default=20_000)
    p.add_argument("--shard-size", type=int, default=5_000)
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--open", action="store_true", help="open to an identity provider's accounts")
    args = p.parse_args()
    k = math.ceil(args.voters / args.shard_size)
    who = "credentials for whoever signs in" if args.open else "voters"
    print(f"poll of {args.voters} {who}, shard size {args.shard_size}: {k} shards expected")
    for run in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="plebiscite-bench-poll-") as d:
            got = one_run(args.voters, args.shard_size, Path(d), args.open)
        per = got["create_cpu"] / args.voters * 1e6
        print(
            f"run {run + 1}: {got['shards']} shards; create {got['create_wall']:.2f} s wall, "
            f"{got['create_cpu']:.2f} s CPU ({per:.0f} us CPU a voter), answer "
            f"{got['answer_bytes'] / 1e6:.1f} MB; status {got['status_wall'] * 1000:.0f} ms; "
            f"close and result {got['close_wall']:.2f} s wall, {got['close_cpu']:.2f} s CPU"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of the process: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
