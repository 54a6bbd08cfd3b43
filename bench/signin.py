#!/usr/bin/env python3
"""Benchmark: the credential pool of an open poll (plebiscite.service.pool) on SQLite and
PostgreSQL: how fast the private credentials are stored at the opening, how many accounts get
their credential per second when they sign in at once, and how fast an account that signed in
before gets its credential again.

For each database (``--databases sqlite,postgres``; PostgreSQL a server started for the
benchmark), a pool of N credentials (default 2000, ``--pool N``) is stored
(:func:`~plebiscite.service.pool.store_pool`), then T threads (``--threads 1,4,16``) over S
stores of that database (``--stores 2`` on PostgreSQL: as two server processes; SQLite takes
one server process) assign a credential to N distinct accounts, then every account signs in
again. Every run checks that no credential went to two accounts and that the whole pool was
given. The OpenID Connect round trips (the provider's login, the code exchange, the ID token's
signature) are not in these figures: the provider's time, not the server's.

    ./dev bench signin [--pool N] [--threads 1,4,16] [--databases sqlite,postgres]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from common import ROOT
from plebiscite.board.private import open_private
from plebiscite.crypto.signing import SigningKey
from plebiscite.service import pool
from plebiscite.service.errors import Refused
from plebiscite.service.pool import Account

if TYPE_CHECKING:
    from board.pg import PgTestServer

KEY = SigningKey.from_seed(b"\x09" * 32)
UUID = "benchSignIn000"
ISSUER = "https://id.example"


@contextmanager
def database(name: str, pg: PgTestServer | None) -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="signin-", dir=ROOT / ".cache") as tmp:
        if name == "sqlite":
            yield str(Path(tmp) / "board.db")
        else:
            assert pg is not None
            with pg.fresh_database() as dsn:
                yield dsn


def run(url: str, size: int, threads: int, stores: int) -> dict[str, float]:
    opened = [open_private(url) for _ in range(stores)]
    try:
        credentials = [f"credential-{i:07d}" for i in range(size)]
        t0 = time.perf_counter()
        pool.store_pool(opened[0], KEY, UUID, credentials)
        stored = time.perf_counter() - t0
        latencies: list[float] = []
        given: dict[int, str] = {}
        lock = threading.Lock()

        def sign_in(k: int, again: bool) -> None:
            for i in range(k, size, threads):
                store = opened[i % stores]
                t = time.perf_counter()
                try:
                    cred = pool.assign(store, KEY, UUID, Account(ISSUER, f"sub-{i}")).credential
                except Refused:  # an account refused while another's claim went back
                    cred = pool.assign(store, KEY, UUID, Account(ISSUER, f"sub-{i}")).credential
                took = time.perf_counter() - t
                with lock:
                    latencies.append(took)
                    if again:
                        assert given[i] == cred
                    else:
                        given[i] = cred

        out: dict[str, float] = {"store": stored}
        for again in (False, True):
            latencies.clear()
            workers = [threading.Thread(target=sign_in, args=(k, again)) for k in range(threads)]
            t0 = time.perf_counter()
            for w in workers:
                w.start()
            for w in workers:
                w.join()
            wall = time.perf_counter() - t0
            if not again:
                assert len(set(given.values())) == len(given) == size
            latencies.sort()
            key = "again" if again else "first"
            out[f"{key}/s"] = size / wall
            out[f"{key} p50"] = statistics.median(latencies) * 1000
            out[f"{key} p99"] = latencies[int(len(latencies) * 0.99) - 1] * 1000
        return out
    finally:
        for s in opened:
            s.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pool", type=int, default=2000, help="credentials in the pool")
    ap.add_argument("--threads", default="1,4,16", help="concurrent sign-ins")
    ap.add_argument("--databases", default="sqlite,postgres")
    args = ap.parse_args()
    names = [n for n in args.databases.split(",") if n]
    pg = None
    if "postgres" in names:
        from board.pg import PgTestServer  # tests/ is on the path (common)

        pg = PgTestServer.start(dedicated=True)
    try:
        print(f"pool of {args.pool}; load average {os.getloadavg()[0]:.1f}")
        print(
            "database    threads stores  store s   first/s  p50 ms  p99 ms   again/s  p50 ms"
            "  p99 ms"
        )
        for name in names:
            for threads in (int(x) for x in args.threads.split(",")):
                stores = 2 if name == "postgres" else 1
                with database(name, pg) as url:
                    r = run(url, args.pool, threads, stores)
                print(
                    f"{name:<11} {threads:>7} {stores:>6} {r['store']:>8.2f} "
                    f"{r['first/s']:>9.1f} {r['first p50']:>7.2f} {r['first p99']:>7.2f} "
                    f"{r['again/s']:>9.1f} {r['again p50']:>7.2f} {r['again p99']:>7.2f}",
                    flush=True,
                )
        print(f"load average at the end {os.getloadavg()[0]:.1f}")
    finally:
        if pg is not None:
            pg.stop()


if __name__ == "__main__":
    main()
