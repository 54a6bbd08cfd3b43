#!/usr/bin/env python3
"""Benchmark: ``plebiscite verify`` against ``belenios-tool election verify``, same archive,
same run.

The archive is a 1000-ballot election written by belenios-tool (questions: yes/no and one of
three; three single trustees; fully tallied), generated once and kept in ``.cache/bench/``.
Prints both times, the ratio, ballots per second, peak memory, how many modular
exponentiations the checks need, and two floors: what those exponentiations cost with plain
``gmpy2.powmod`` (no precomputation), and the arithmetic alone of plebiscite's own strategy
(fixed-base tables, OpenSSL for variable bases) on all cores, so the distance to it is the
Python and process overhead.

    ./dev bench [--voters N] [--jobs J] [--repeat R]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import gmpy2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from peer import run_scenario  # noqa: E402
from plebiscite.crypto.context import fixed_base  # noqa: E402
from plebiscite.crypto.powmod import backend_name  # noqa: E402
from plebiscite.protocol.archive import iter_members  # noqa: E402
from plebiscite.protocol.cost import ballot_exponentiations  # noqa: E402
from plebiscite.protocol.messages import Election, parse_election  # noqa: E402


def archive_for(voters: int) -> Path:
    d = ROOT / ".cache" / "bench" / f"bench-{voters}"
    found = sorted(d.glob("*.bel")) if d.exists() else []
    if found:
        return found[0]
    if d.exists():
        shutil.rmtree(d)
    print(f"generating a {voters}-ballot election with belenios-tool (once)...", file=sys.stderr)
    return run_scenario("bench", d, voters=voters).archive


def read_election(archive: Path) -> tuple[Election, int]:
    ballots = 0
    election = None
    with archive.open("rb") as f:
        for m in iter_members(f):
            if m.kind == "data" and election is None and m.content.startswith(b'{"version"'):
                election = parse_election(m.content)
            if m.kind == "event" and b'"type":"Ballot"' in m.content:
                ballots += 1
    assert election is not None
    return election, ballots


def run_timed(cmd: list[str]) -> tuple[float, int, int]:
    """Wall seconds, exit status and peak RSS (KiB) of the largest process of ``cmd``."""
    wrapper = (
        "import resource, subprocess, sys, time;"
        "t = time.perf_counter();"
        "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL,"
        " stderr=subprocess.DEVNULL).returncode;"
        "t = time.perf_counter() - t;"
        "print(t, rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True)
    t, rc, rss = out.stdout.split()
    return float(t), int(rc), int(rss)


def per_op_seconds(election: Election, n: int = 400) -> tuple[float, float, float]:
    """Seconds per exponentiation: plain gmpy2.powmod, plebiscite's variable-base backend and
    its fixed-base table, on exponents of the size of q."""
    g = election.group
    rng = random.Random(1)
    xs = [gmpy2.mpz(rng.randrange(2, int(g.p))) for _ in range(n)]
    es = [gmpy2.mpz(rng.randrange(int(g.q))) for _ in range(n)]
    t0 = time.perf_counter()
    for x, e in zip(xs, es, strict=True):
        gmpy2.powmod(x, e, g.p)
    t1 = time.perf_counter()
    for x, e in zip(xs, es, strict=True):
        g.powmod(x, e)
    t2 = time.perf_counter()
    fb = fixed_base(g, g.g)
    t3 = time.perf_counter()
    for e in es:
        fb.pow(e)
    t4 = time.perf_counter()
    return (t1 - t0) / n, (t2 - t1) / n, (t4 - t3) / n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--voters", type=int, default=1000)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--repeat", type=int, default=1, help="runs of each; the best is kept")
    args = ap.parse_args()

    archive = archive_for(args.voters)
    election, ballots = read_election(archive)
    # belenios-tool verifies the archive of a directory: give it one holding only the archive
    peer_dir = archive.parent / "verify-only"
    peer_dir.mkdir(exist_ok=True)
    if not (peer_dir / archive.name).exists():
        shutil.copy(archive, peer_dir / archive.name)
    exe = Path(sys.executable).parent / "plebiscite"
    ours = [str(exe)] if exe.exists() else [sys.executable, "-m", "plebiscite.cli.main"]
    peer_runs, our_runs = [], []
    for _ in range(args.repeat):
        peer_runs.append(run_timed(["belenios-tool", "election", "verify", "--dir", str(peer_dir)]))
        our_runs.append(run_timed([*ours, "verify", "--jobs", str(args.jobs), str(archive)]))
    peer_t, peer_rc, peer_rss = min(peer_runs)
    our_t, our_rc, our_rss = min(our_runs)

    cost = ballot_exponentiations(election)
    t_gmp, t_var, t_fixed = per_op_seconds(election)
    gmp_floor = ballots * cost.total * t_gmp
    own_floor = ballots * ((cost.variable + cost.membership) * t_var + cost.fixed * t_fixed)
    print(f"archive:          {archive.name}: {ballots} ballots, group {election.group.name}")
    print(f"verdicts:         belenios-tool exit {peer_rc}, plebiscite exit {our_rc}")
    print(
        f"belenios-tool:    {peer_t:7.2f} s  {ballots / peer_t:7.1f} ballots/s  "
        f"peak {peer_rss / 1024:.0f} MiB"
    )
    print(
        f"plebiscite:       {our_t:7.2f} s  {ballots / our_t:7.1f} ballots/s  "
        f"peak {our_rss / 1024:.0f} MiB (largest process; {args.jobs} worker processes)"
    )
    print(f"ratio:            {peer_t / our_t:7.2f} x faster")
    print(
        f"exponentiations:  {cost.total} per ballot ({cost.variable} variable-base, "
        f"{cost.fixed} fixed-base, {cost.membership} membership), {cost.total * ballots} in all"
    )
    print(
        f"GMP floor:        {gmp_floor:7.2f} s on one core, {gmp_floor / args.jobs:.2f} s on "
        f"{args.jobs} (every one a gmpy2.powmod: {t_gmp * 1e3:.3f} ms)"
    )
    print(
        f"arithmetic floor: {own_floor:7.2f} s on one core, {own_floor / args.jobs:.2f} s on "
        f"{args.jobs} ({backend_name()} variable-base {t_var * 1e3:.3f} ms, fixed-base table "
        f"{t_fixed * 1e3:.3f} ms)"
    )
    return 0 if (peer_rc == 0) == (our_rc == 0) else 1


if __name__ == "__main__":
    sys.exit(main())
