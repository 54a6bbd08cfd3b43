#!/usr/bin/env python3
"""Benchmark: making ballots, plebiscite against ``belenios-tool election generate-ballot``,
same election (1000 voters, yes/no and one of three), same run.

Three measures, per ballot: belenios-tool (one process per ballot), the plebiscite CLI (one
process per ballot: ``plebiscite ballot``), and the plebiscite library (all ballots in one
process). Each ballot made by plebiscite is checked by plebiscite's verifier.

    ./dev bench ballots [--ballots N]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from common import bench_election, plebiscite_command, run
from plebiscite.crypto.context import Context
from plebiscite.crypto.rand import SystemRandom
from plebiscite.protocol.archive import iter_members
from plebiscite.protocol.ballot import make_ballot, parse_ballot, verify_ballot
from plebiscite.protocol.messages import parse_election

CHOICES = [[[1, 0], [0, 1, 0]], [[0, 1], [1, 0, 0]], [[1, 0], [0, 0, 1]]]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ballots", type=int, default=30, help="ballots per measure")
    ap.add_argument("--voters", type=int, default=1000, help="size of the election")
    args = ap.parse_args()
    d = bench_election(args.voters)
    archive = next(d.glob("*.bel"))
    creds = [line.split()[-1] for line in (d / "private_creds.txt").read_text().splitlines()]
    with archive.open("rb") as f:
        members = iter_members(f)
        next(members)
        election = parse_election(next(members).content)
    n = min(args.ballots, len(creds))
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        peer_dir = t / "peer"
        peer_dir.mkdir()
        (peer_dir / archive.name).write_bytes(archive.read_bytes())
        peer = 0.0
        for i in range(n):
            (t / "cred").write_text(creds[i] + "\n")
            (t / "choices.json").write_text(json.dumps(CHOICES[i % 3]))
            s, _ = run(
                [
                    "belenios-tool",
                    "election",
                    "generate-ballot",
                    "--dir",
                    str(peer_dir),
                    "--privcred",
                    str(t / "cred"),
                    "--ballot",
                    str(t / "choices.json"),
                ]
            )
            peer += s
        cli = 0.0
        ctx = Context(election.group, election.public_key)
        cmd = plebiscite_command()
        for i in range(n):
            s, out = run(
                [
                    *cmd,
                    "ballot",
                    "--archive",
                    str(archive),
                    "--credential",
                    creds[i],
                    "--choices",
                    json.dumps(CHOICES[i % 3]),
                ]
            )
            cli += s
            verify_ballot(parse_ballot(out.strip(), election), election, ctx)
    rng = SystemRandom()
    t0 = time.perf_counter()
    made = [make_ballot(election, creds[i], CHOICES[i % 3], rng, ctx=ctx) for i in range(n)]
    lib = time.perf_counter() - t0
    for raw in made:
        verify_ballot(parse_ballot(raw, election), election, ctx)
    per = {k: v / n for k, v in (("peer", peer), ("cli", cli), ("lib", lib))}
    print(f"election:             {archive.name} ({len(creds)} voters), {n} ballots per measure")
    print(f"belenios-tool:        {per['peer'] * 1e3:8.1f} ms per ballot (one process each)")
    print(
        f"plebiscite CLI:       {per['cli'] * 1e3:8.1f} ms per ballot (one process each), "
        f"{per['peer'] / per['cli']:.2f} x belenios-tool's speed"
    )
    print(
        f"plebiscite library:   {per['lib'] * 1e3:8.1f} ms per ballot (one process), "
        f"{per['peer'] / per['lib']:.2f} x belenios-tool's speed"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
