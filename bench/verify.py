#!/usr/bin/env python3
"""Benchmark: ``plebiscite verify`` against ``belenios-tool election verify``, same archive,
same run.

The archive is a 1000-ballot election written by belenios-tool (questions: yes/no and one of
three; three single trustees; fully tallied), generated once and kept in ``.cache/bench/``.
Prints both times, the ratio, ballots per second, peak memory, how many modular
exponentiations the checks need and what they would cost at GMP's speed alone.

    ./dev bench [--voters N] [--jobs J] [--repeat R]
"""

from __future__ import annotations

import argparse
import json
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
from plebiscite.protocol.archive import iter_members  # noqa: E402
from plebiscite.protocol.cost import ballot_exponentiations  # noqa: E402
from plebiscite.protocol.messages import parse_election  # noqa: E402


def archive_for(voters: int) -> Path:
    d = ROOT / ".cache" / "bench" / f"bench-{voters}"
    found = sorted(d.glob("*.bel")) if d.exists() else []
    if found:
        return found[0]
    if d.exists():
        shutil.rmtree(d)
    print(f"generating a {voters}-ballot election with belenios-tool (once)...", file=sys.stderr)
    return run_scenario("bench", d, voters=voters).archive


def timed(cmd: list[str]) -> tuple[float, int, int, str]:
    """Run ``cmd``; return wall seconds, exit status, peak RSS (KiB, with children), stdout."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out, _ = proc.communicate()
    elapsed = time.perf_counter() - t0
    return elapsed, proc.returncode, _peak_rss_kib(), out


_peak_seen = 0


def _peak_rss_kib() -> int:
    import resource

    global _peak_seen
    now = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    _peak_seen = max(_peak_seen, now)
    return now


def gmp_powmod_seconds(p: int, exp_bits: int, n: int = 300) -> float:
    rng = random.Random(1)
    xs = [gmpy2.mpz(rng.randrange(2, p)) for _ in range(n)]
    es = [gmpy2.mpz(rng.getrandbits(exp_bits)) for _ in range(n)]
    t0 = time.perf_counter()
    for x, e in zip(xs, es, strict=True):
        gmpy2.powmod(x, e, p)
    return (time.perf_counter() - t0) / n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--voters", type=int, default=1000)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()

    archive = archive_for(args.voters)
    with archive.open("rb") as f:
        members = iter_members(f)
        next(members)
        election = parse_election(next(members).content)
    ballots = 0
    with archive.open("rb") as f:
        for m in iter_members(f):
            if m.kind == "event" and b'"type":"Ballot"' in m.content:
                ballots += 1

    plebiscite = [str(Path(sys.executable).parent / "plebiscite")]
    if not Path(plebiscite[0]).exists():
        plebiscite = [sys.executable, "-m", "plebiscite.cli.main"]
    peer_times, ours_times = [], []
    peer_rss = ours_rss = 0
    for _ in range(args.repeat):
        # belenios-tool reads the directory; give it one holding only the archive
        peer_dir = archive.parent / "verify-only"
        peer_dir.mkdir(exist_ok=True)
        target = peer_dir / archive.name
        if not target.exists():
            shutil.copy(archive, target)
        t, rc_peer, _, _ = timed(["belenios-tool", "election", "verify", "--dir", str(peer_dir)])
        peer_times.append(t)
        import resource

        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        peer_rss = max(peer_rss, before)
        t, rc_ours, _, out = timed(
            [*plebiscite, "verify", "--json", "--jobs", str(args.jobs), str(archive)]
        )
        ours_times.append(t)
        ours_rss = _measure_rss([*plebiscite, "verify", "--jobs", str(args.jobs), str(archive)])
    report = json.loads(out)
    peer_t, ours_t = min(peer_times), min(ours_times)
    cost = ballot_exponentiations(election)
    p = int(election.group.p)
    t_var = gmp_powmod_seconds(p, int(election.group.q).bit_length())
    floor_1 = ballots * cost.total * t_var
    print(f"archive:            {archive} ({ballots} ballots, group {election.group.name})")
    print(
        f"verdicts:           belenios-tool exit {rc_peer}, plebiscite exit {rc_ours}"
        f" ({'valid' if report['valid'] else 'INVALID'})"
    )
    print(f"belenios-tool:      {peer_t:8.2f} s   ({ballots / peer_t:7.1f} ballots/s)")
    print(
        f"plebiscite:         {ours_t:8.2f} s   ({ballots / ours_t:7.1f} ballots/s,"
        f" {args.jobs} processes)"
    )
    print(f"ratio:              {peer_t / ours_t:8.2f} x faster")
    print(
        f"exponentiations:    {cost.total} per ballot ({cost.variable} variable-base, "
        f"{cost.fixed} fixed-base, {cost.membership} membership), {cost.total * ballots} in all"
    )
    print(
        f"GMP floor:          {floor_1:8.2f} s on one core, {floor_1 / args.jobs:.2f} s on "
        f"{args.jobs} (gmpy2.powmod {t_var * 1e3:.3f} ms each, no precomputation)"
    )
    print(
        f"peak memory:        plebiscite {ours_rss / 1024:.0f} MiB (largest process), "
        f"archive {archive.stat().st_size / 2**20:.1f} MiB"
    )
    return 0 if (rc_peer == 0) == (rc_ours == 0) else 1


def _measure_rss(cmd: list[str]) -> int:
    """Peak RSS in KiB of the largest process of ``cmd`` (the parent or a worker)."""
    wrapper = (
        "import resource, subprocess, sys;"
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True)
    return int(out.stdout.strip() or 0)


if __name__ == "__main__":
    sys.exit(main())
