"""``plebiscite generate``: a valid election of any size, to measure with
(:mod:`plebiscite.compute.generate`): real ballots with real proofs from a seed, made on every
core here or on a Dask cluster, written as a standard archive."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from plebiscite.cli.common import CommandError

__all__ = ["register"]


def _cmd_generate(args: argparse.Namespace) -> int:
    from plebiscite.compute.generate import Plan, generate_archive

    out = Path(args.out)
    if out.exists():
        raise CommandError(f"{out} exists: it is kept (choose another --out)", status=2)
    if args.jobs and args.cluster:
        raise CommandError("give --jobs or --cluster, not both", status=2)
    try:
        plan = Plan(voters=args.voters, seed=args.seed, revotes=args.revotes)
    except ValueError as e:
        raise CommandError(str(e), status=2) from None
    progress = None
    if sys.stderr.isatty():
        from plebiscite.cli.progress import Progress

        bar = Progress(sys.stderr, "generating ballots")
        done = [0]

        def progress(n: int) -> None:
            bar.advance(n - done[0])
            done[0] = n

    t = time.perf_counter()
    if args.cluster:
        from plebiscite.compute.cluster import ClusterError, connect, dashboard, executor_of

        try:
            with connect(args.cluster, timeout=args.cluster_timeout) as client:
                print(f"dask dashboard: {dashboard(client)}", file=sys.stderr, flush=True)
                executor, workers = executor_of(client)
                made = generate_archive(out, plan, executor, workers, progress=progress)
        except ClusterError as e:
            raise CommandError(str(e), status=2) from None
    else:
        from concurrent.futures import ProcessPoolExecutor

        jobs = args.jobs or os.cpu_count() or 1
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            made = generate_archive(out, plan, pool, jobs, progress=progress)
    wall = time.perf_counter() - t
    summary: dict[str, Any] = {
        "archive": str(out),
        "election": made.uuid,
        "voters": plan.voters,
        "ballots": made.ballots,
        "result": made.counts,
        "seconds": {k: round(v, 3) for k, v in made.seconds.items()} | {"total": round(wall, 3)},
        "ballots_per_second": round(made.ballots / made.seconds["ballots"], 1),
    }
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        print(
            f"{out}: election {made.uuid}, {plan.voters} voters, {made.ballots} ballots "
            f"({plan.revotes} replaced), tallied and decrypted: {made.counts}; "
            f"{wall:.1f} s ({summary['ballots_per_second']} ballots/s)"
        )
    return 0


def register(sub: Any) -> None:
    g = sub.add_parser(
        "generate",
        help="generate a valid election of any size, to measure with",
        description="Write a fully tallied Ed25519 election (a yes/no and a one-of-three "
        "question, one trustee) with real ballots and proofs, all of them from --seed: the "
        "same options always give the same archive. The ballots are made on every core "
        "(--jobs) or on a Dask cluster (--cluster).",
    )
    g.add_argument("--voters", type=int, required=True, metavar="N", help="number of voters")
    g.add_argument(
        "--revotes",
        type=int,
        default=0,
        metavar="R",
        help="the first R voters vote a second time, replacing their first ballot",
    )
    g.add_argument("--seed", default="plebiscite", help="the seed of every random choice")
    g.add_argument("--out", required=True, metavar="FILE", help="the archive to write (new)")
    g.add_argument("--json", action="store_true", help="print the summary as JSON")
    g.add_argument(
        "--jobs", type=int, default=0, metavar="N", help="processes (default: all cores)"
    )
    g.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="make the ballots on a Dask cluster: local:N or tcp://HOST:PORT",
    )
    g.add_argument(
        "--cluster-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="how long to try to reach the scheduler of --cluster (default: 10)",
    )
    g.set_defaults(func=_cmd_generate)
