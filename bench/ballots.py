#!/usr/bin/env python3
"""Benchmark: making ballots, plebiscite against belenios-tool's ``election generate-ballot``,
same election, same run, in each group: BELENIOS-2048 against belenios-tool 2.0 and Ed25519
against belenios-tool 3.0 (1000-voter elections made by those tools: yes/no and one of three).

Three measures per group, per ballot: belenios-tool (one process per ballot), the plebiscite CLI
(one process per ballot: ``plebiscite ballot``, with a fresh checkpoint cache: the first checks
the setup, the next ones remember it), and the plebiscite library (all ballots in one process).
Each ballot made by plebiscite is checked by plebiscite's verifier. The load average is printed:
on a shared machine the timings are disturbed.

    ./dev bench ballots [--ballots N] [--voters N] [--group BELENIOS-2048|Ed25519]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from common import BenchElection, bench_elections, group_option, load, plebiscite_command, run
from plebiscite.crypto.context import Context
from plebiscite.crypto.rand import SystemRandom
from plebiscite.protocol.ballot import make_ballot, parse_ballot, verify_ballot
from plebiscite.protocol.messages import parse_election

CHOICES = [[[1, 0], [0, 1, 0]], [[0, 1], [1, 0, 0]], [[1, 0], [0, 0, 1]]]


def measure(e: BenchElection, n: int, t: Path) -> dict[str, float]:
    """Seconds per ballot of the peer, the plebiscite CLI and the library, on ``n`` ballots."""
    creds = e.credentials()[:n]
    election = parse_election(e.setup().election)
    ctx = Context(election.group, election.public_key)
    peer_dir = t / "peer"
    peer_dir.mkdir()
    (peer_dir / e.archive.name).write_bytes(e.archive.read_bytes())
    peer = 0.0
    for i, cred in enumerate(creds):
        (t / "cred").write_text(cred + "\n")
        (t / "choices.json").write_text(json.dumps(CHOICES[i % 3]))
        s, _ = run(
            [
                e.tool,
                "election",
                "generate-ballot",
                "--dir",
                str(peer_dir),
                "--privcred",
                str(t / "cred"),
                e.choice_option,
                str(t / "choices.json"),
            ]
        )
        peer += s
    cli = 0.0
    cmd = plebiscite_command()
    for i, cred in enumerate(creds):
        choices = json.dumps(CHOICES[i % 3])
        s, out = run(
            [
                *cmd,
                "ballot",
                "--archive",
                str(e.archive),
                "--credential",
                cred,
                "--choices",
                choices,
            ]
        )
        cli += s
        verify_ballot(parse_ballot(out.strip(), election), election, ctx)
    rng = SystemRandom()
    t0 = time.perf_counter()
    made = [
        make_ballot(election, cred, CHOICES[i % 3], rng, ctx=ctx) for i, cred in enumerate(creds)
    ]
    lib = time.perf_counter() - t0
    for raw in made:
        verify_ballot(parse_ballot(raw, election), election, ctx)
    return {"peer": peer / n, "cli": cli / n, "lib": lib / n}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ballots", type=int, default=30, help="ballots per measure")
    ap.add_argument("--voters", type=int, default=1000, help="size of the elections")
    group_option(ap)
    args = ap.parse_args()
    elections = bench_elections(args.group, args.voters)
    n = min(args.ballots, args.voters)
    before = load()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["PLEBISCITE_CACHE"] = str(Path(tmp) / "cache")
        for e in elections:
            (Path(tmp) / e.group).mkdir()
            results[e.group] = measure(e, n, Path(tmp) / e.group)
    print(
        f"{args.voters}-voter elections, {n} ballots per measure; load average {before} "
        f"before, {load()} after ({os.cpu_count()} cores)"
    )
    print(f"{'group':14} {'ballot made by':38} {'ms/ballot':>9} {'peer/this':>9}")
    for e in elections:
        r = results[e.group]
        rows = [
            (f"{e.peer} (a process each)", r["peer"]),
            ("plebiscite CLI (a process each)", r["cli"]),
            ("plebiscite library (one process)", r["lib"]),
        ]
        for label, s in rows:
            print(f"{e.group:14} {label:38} {s * 1e3:9.1f} {r['peer'] / s:9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
