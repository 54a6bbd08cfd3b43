#!/usr/bin/env python3
"""Benchmark: the public ballot box's index (:class:`plebiscite.service.ballotbox.BallotBox`)
with a million ballots: the latency of a page and of a tracker search, what an append costs
it, and its memory per ballot.

The index is filled as the server fills it when it indexes a board (in board order, one
:meth:`~plebiscite.service.ballotbox.BallotBox.add` per Ballot event): N ballots (default
1,000,000; ``--ballots N``) with trackers that are SHA256 digests in Base64 (43 characters, as
on a board), of 0.9 N voters (the others vote again: 10% of the ballots replace one), each
credential a public credential of the Ed25519 group (64 hexadecimal digits). Its memory is
what ``tracemalloc`` counts after filling it, all of it (the trackers' strings, the dict
tracker → height the election's tracker look-up shares, the sorted blocks, the heights, the
credential digests), divided by N. Then, with ``--queries Q`` of each (default 2000):

- a page of 100 and of 500 ballots after a random height (``after``), and 100 before one
  (``before``), and the same page of 100 made into the JSON the API answers;
- a search of a random prefix of 4 and of 8 characters of a tracker on the board, of a whole
  tracker, and of 4 characters matching none;
- one more ballot appended (``add``), 10,000 of them.

Latencies are wall time (p50, p99, max) and CPU time (p50, p99) of the process: on a shared
machine the wall time's tail is the other work's, the CPU time and the p50 are the steady
figures.

    ./dev bench ballot_box [--ballots N] [--queries Q]
"""

from __future__ import annotations

import argparse
import base64
import gc
import hashlib
import json
import os
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable

from plebiscite.service.ballotbox import BallotBox, BoxQuery


def tracker(i: int) -> str:
    return base64.b64encode(hashlib.sha256(b"ballot %d" % i).digest()).decode().rstrip("=")


def credential(v: int) -> bytes:
    return hashlib.sha256(b"voter %d" % v).hexdigest().encode()


def fill(n: int, voters: int, rng: random.Random) -> BallotBox:
    box = BallotBox()
    for i in range(n):
        # the first `voters` ballots are each a new voter; the rest revote, at random
        v = i if i < voters else rng.randrange(voters)
        box.add(tracker(i), i + 1, credential(v))  # the Setup is at height 0
    return box


def timed(run: Callable[[], object], count: int) -> tuple[list[float], list[float]]:
    """The wall and CPU seconds of ``count`` runs."""
    wall, cpu = [], []
    for _ in range(count):
        t, c = time.perf_counter(), time.process_time()
        run()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - t)
    return wall, cpu


def _p(xs: list[float], fraction: float) -> float:
    return sorted(xs)[min(len(xs) - 1, int(len(xs) * fraction))] * 1e6


def line(label: str, times: tuple[list[float], list[float]]) -> None:
    wall, cpu = times
    print(
        f"| {label} | {statistics.median(wall) * 1e6:,.1f} | {_p(wall, 0.99):,.1f} "
        f"| {max(wall) * 1e6:,.1f} | {statistics.median(cpu) * 1e6:,.1f} | {_p(cpu, 0.99):,.1f} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--ballots", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=2000)
    args = ap.parse_args()
    n, q = args.ballots, args.queries
    voters = int(n * 0.9)
    rng = random.Random(1)
    print(f"load average at the start: {os.getloadavg()[0]:.1f}", file=sys.stderr)

    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    t0 = time.perf_counter()
    box = fill(n, voters, rng)
    filled = time.perf_counter() - t0
    gc.collect()
    used = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    print(
        f"{n:,} ballots of {voters:,} voters indexed in {filled:.1f} s (under tracemalloc); "
        f"{box.counted:,} counted; index memory {used / 2**20:,.1f} MiB, "
        f"{used / n:,.0f} bytes per ballot"
    )
    height = n  # the last ballot's height

    print()
    print("| query | wall p50 (us) | wall p99 | wall max | CPU p50 | CPU p99 |")
    print("| --- | --- | --- | --- | --- | --- |")
    line(
        "page of 100 after a height",
        timed(lambda: box.page(BoxQuery(after=rng.randrange(height))), q),
    )
    line(
        "page of 500 after a height",
        timed(lambda: box.page(BoxQuery(after=rng.randrange(height), limit=500)), q),
    )
    line(
        "page of 100 before a height",
        timed(lambda: box.page(BoxQuery(before=rng.randrange(1, height + 1))), q),
    )

    def as_json() -> None:
        page = box.page(BoxQuery(after=rng.randrange(height)))
        json.dumps([e.to_json() for e in page.entries])

    line("page of 100, as the API's JSON", timed(as_json, q))
    for length in (4, 8, 43):

        def search(length: int = length) -> None:
            box.page(BoxQuery(tracker=tracker(rng.randrange(n))[:length]))

        line(f"search: {length} characters of a tracker on the board", timed(search, q))
    line(
        "search: 4 characters matching no tracker",
        timed(lambda: box.page(BoxQuery(tracker="~~~~")), q),
    )
    extra = iter(range(n, n + 10_000))

    def append() -> None:
        i = next(extra)
        box.add(tracker(i), i + 1, credential(rng.randrange(voters)))

    line("one more ballot appended (add, tracker made included)", timed(append, 10_000))
    made, _ = timed(lambda: tracker(rng.randrange(n)), 10_000)
    print(f"\n(making one tracker, included above: p50 {statistics.median(made) * 1e6:.1f} us)")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}", file=sys.stderr)


if __name__ == "__main__":
    main()
