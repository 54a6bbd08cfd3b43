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
from pathlib import Path

from common import (
    BenchElection,
    Took,
    bench_elections,
    group_option,
    load,
    plebiscite_command,
    ratios,
    run,
    timed,
    total,
)
from plebiscite.crypto.context import Context
from plebiscite.crypto.rand import SystemRandom
from plebiscite.protocol.ballot import make_ballot, parse_ballot, verify_ballot
from plebiscite.protocol.messages import parse_election

CHOICES = [[[1, 0], [0, 1, 0]], [[0, 1], [1, 0, 0]], [[1, 0], [0, 0, 1]]]


def measure(e: BenchElection, n: int, t: Path) -> dict[str, Took]:
    """Times per ballot of the peer, the plebiscite CLI and the library, on ``n`` ballots."""
    creds = e.credentials()[:n]
    election = parse_election(e.setup().election)
    ctx = Context(election.group, election.public_key)
    peer_dir = t / "peer"
    peer_dir.mkdir()
    (peer_dir / e.archive.name).write_bytes(e.archive.read_bytes())
    peer, cli = [], []
    ours = plebiscite_command()
    # one ballot each in turn, so that a change of the machine's load strikes both alike
    for i, cred in enumerate(creds):
        choices = json.dumps(CHOICES[i % 3])
        (t / "cred").write_text(cred + "\n")
        (t / "choices.json").write_text(choices)
        files = ["--privcred", str(t / "cred"), e.choice_option, str(t / "choices.json")]
        took, _ = run([e.tool, "election", "generate-ballot", "--dir", str(peer_dir), *files])
        peer.append(took)
        args = ["--archive", str(e.archive), "--credential", cred, "--choices", choices]
        took, out = run([*ours, "ballot", *args])
        cli.append(took)
        verify_ballot(parse_ballot(out.strip(), election), election, ctx)
    rng = SystemRandom()
    lib, made = timed(
        lambda: [
            make_ballot(election, c, CHOICES[i % 3], rng, ctx=ctx) for i, c in enumerate(creds)
        ]
    )
    for raw in made:
        verify_ballot(parse_ballot(raw, election), election, ctx)
    return {"peer": total(peer) / n, "cli": total(cli) / n, "lib": lib / n}


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
    print(f"{'':53} {'ms a ballot':>13} {'peer/this':>13}")
    print(f"{'group':14} {'ballot made by':38} {'wall':>6} {'CPU':>6} {'wall':>6} {'CPU':>6}")
    for e in elections:
        r = results[e.group]
        rows = [
            (f"{e.peer} (a process each)", r["peer"]),
            ("plebiscite CLI (a process each)", r["cli"]),
            ("plebiscite library (one process)", r["lib"]),
        ]
        for label, took in rows:
            print(
                f"{e.group:14} {label:38} {took.wall * 1e3:6.1f} {took.cpu * 1e3:6.1f} "
                f"{ratios(r['peer'], took)}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
