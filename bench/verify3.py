#!/usr/bin/env python3
"""Benchmark: ``plebiscite verify`` against belenios-tool 3.0's ``election verify``, same
Ed25519 archive, same run, with the arithmetic floor.

The archive is a 1000-ballot Ed25519 election written by belenios-tool 3.0 (tests/peer3.py's
"bench" scenario: a yes/no and a one-of-three question, one single trustee, fully tallied),
generated once and kept in ``.cache/bench/``. The three commands (belenios-tool 3.0,
plebiscite on all cores, plebiscite ``--jobs 1``) run in turn, ``--repeat`` times; the best
wall time of each is kept (the machine may be shared: the load average is printed).

The floor: the curve operations one ballot's verification takes, counted from the proof
equations for the backend in use (``plebiscite --version`` names it), times the cost of each
call of its library measured here, in the same run (through ctypes, libsodium's through cffi).
On curve25519-dalek (:func:`plebiscite.protocol.cost.ballot_operations_dalek`; for this
election 13 double-scalar multiplications ``g^r a^c``, 12 multi-scalar ones ``g^s y^r b^c`` on
dalek's tables of ``g`` and ``y``, 4 sums, 10 additions, 11 membership checks of which the
credential's is made once, when the list is read). On libsodium
(:func:`plebiscite.protocol.cost.ballot_operations_ed25519`: 37 variable-base and 20 base-point
multiplications, 48 additions, 11 membership checks of which 1 explicit, the variable-base
multiplication refusing a base outside the subgroup).

    ./dev bench verify3 [--voters N] [--repeat R] [--jobs J]
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from collections.abc import Callable
from pathlib import Path

from common import Measured, archive_only, bench_election3, best_of, plebiscite_command
from common import run_measured as run
from peer3 import belenios3_tool
from plebiscite.crypto import ed25519
from plebiscite.crypto.ed25519 import BACKEND, ED25519, ffi, lib
from plebiscite.protocol.archive import iter_members
from plebiscite.protocol.cost import (
    Ed25519OperationCount,
    ballot_operations_dalek,
    ballot_operations_ed25519,
)
from plebiscite.protocol.messages import Election, parse_election

_Q = 2**252 + 27742317777372353535851937790883648493

#: The libsodium call of each operation of the count.
CALLS = {
    "variable": "crypto_scalarmult_ed25519_noclamp",
    "base": "crypto_scalarmult_ed25519_base_noclamp",
    "additions": "crypto_core_ed25519_add",
    "membership": "crypto_core_ed25519_is_valid_point",
}


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


def op_seconds(rounds: int, n: int = 2000) -> tuple[dict[str, float], float]:
    """Seconds per call of each operation of :data:`CALLS` (the best of ``rounds`` rounds of
    ``n`` calls, on 64 random points and full-size scalars), and of an empty cffi call (the
    part of each that is the call from Python, not libsodium)."""
    out = ffi.new("unsigned char[32]")
    scalars = [(secrets.randbelow(_Q - 1) + 1).to_bytes(32, "little") for _ in range(64)]
    points = []
    for s in scalars:
        assert lib.crypto_scalarmult_ed25519_base_noclamp(out, s) == 0
        points.append(ffi.buffer(out, 32)[:])
    calls: dict[str, Callable[[int], object]] = {
        "variable": lambda i: lib.crypto_scalarmult_ed25519_noclamp(out, scalars[i], points[i]),
        "base": lambda i: lib.crypto_scalarmult_ed25519_base_noclamp(out, scalars[i]),
        "additions": lambda i: lib.crypto_core_ed25519_add(out, points[i], points[i - 1]),
        "membership": lambda i: lib.crypto_core_ed25519_is_valid_point(points[i]),
        "empty": lambda i: lib.crypto_core_ed25519_bytes(),
    }
    best = dict.fromkeys(calls, float("inf"))
    for _ in range(rounds):
        for name, call in calls.items():
            t0 = time.perf_counter()
            for i in range(n):
                call(i & 63)
            best[name] = min(best[name], (time.perf_counter() - t0) / n)
    empty = best.pop("empty")
    return best, empty


def dalek_op_seconds(rounds: int, n: int = 2000) -> tuple[dict[str, float], float]:
    """Seconds per call of each operation of the curve25519-dalek count (the best of
    ``rounds`` rounds of ``n`` calls, on 64 random points and full-size scalars), and of an
    empty call through ctypes (``ple_precomputation_free`` of null). As in a ballot, the
    membership checks decode their points (``n`` points, more than the library's cache
    holds) and the multiplications find theirs decoded."""
    native = ed25519._native
    out = ed25519._new()
    s = [(secrets.randbelow(_Q - 1) + 1).to_bytes(32, "little") for _ in range(64)]
    p = [ED25519.gpow(int.from_bytes(x, "little")) for x in s]
    table = ED25519.precompute_public((ED25519.g, p[0]))
    pairs = [s[i] + s[i - 1] for i in range(64)]
    triples = [p[i] + p[i - 1] + p[i - 2] for i in range(64)]
    fresh = [ED25519.mul(p[i & 63], ED25519.gpow(i + 1)) for i in range(n)]
    calls: dict[str, Callable[[int], object]] = {
        "base_double": lambda i: native.ple_mul_base2_vartime(out, s[i], p[i], s[i - 1]),
        "precomputed": lambda i: native.ple_precomputed_vartime(
            out, table.handle, 2, pairs[i], 1, s[i - 2], p[i]
        ),
        "sums": lambda i: native.ple_sum(out, 3, triples[i]),
        "additions": lambda i: native.ple_add(out, p[i], p[i - 1]),
        "membership": lambda i: native.ple_member(fresh[i]),
        "empty": lambda i: native.ple_precomputation_free(None),
    }
    best = dict.fromkeys(calls, float("inf"))
    for _ in range(rounds):
        for name, call in calls.items():
            t0 = time.perf_counter()
            for i in range(n):
                call(i if name == "membership" else i & 63)
            best[name] = min(best[name], (time.perf_counter() - t0) / n)
    empty = best.pop("empty")
    return best, empty


#: The native call of each operation of the curve25519-dalek count.
DALEK_CALLS = {
    "base_double": ("ple_mul_base2_vartime", "double-scalar g^r a^c"),
    "precomputed": ("ple_precomputed_vartime", "multi-scalar g^s y^r b^c"),
    "sums": ("ple_sum", "sums (3 points)"),
    "additions": ("ple_add", "point additions"),
    "membership": ("ple_member", "membership checks"),
}


def floors(ops: Ed25519OperationCount, cost: dict[str, float]) -> tuple[float, float]:
    """Seconds a ballot on one core: with libsodium's calls as they are (each variable-base
    multiplication checks its base, only the credential is checked apart), and the estimate
    of a multiplication that would not (its cost less one membership check), every element
    checked once."""
    common = ops.base * cost["base"] + ops.additions * cost["additions"]
    api = common + ops.variable * cost["variable"] + ops.membership_explicit * cost["membership"]
    unchecked = (
        common
        + ops.variable * (cost["variable"] - cost["membership"])
        + ops.membership * cost["membership"]
    )
    return api, unchecked


def libsodium_floor(election: Election, cost: dict[str, float], empty: float) -> float:
    """Prints the libsodium count and its cost; the seconds a ballot on one core."""
    ops = ballot_operations_ed25519(election)
    per_ballot, unchecked = floors(ops, cost)
    print()
    print("arithmetic floor, per ballot (libsodium through cffi, measured in this run):")
    counts = {
        "variable": (ops.variable, "variable-base multiplications"),
        "base": (ops.base, "base-point multiplications"),
        "additions": (ops.additions, "point additions"),
        "membership": (ops.membership_explicit, "membership checks"),
    }
    for key, (count, what) in counts.items():
        extra = (
            f" (and {ops.membership - ops.membership_explicit} inside the variable-base ones)"
            if key == "membership"
            else ""
        )
        print(
            f"  {count:3d} {what:30} {cost[key] * 1e6:7.1f} us  {CALLS[key]}  "
            f"= {count * cost[key] * 1e3:5.2f} ms{extra}"
        )
    print(f"  (an empty cffi call: {empty * 1e6:.2f} us, included above)")
    print(
        f"  if the multiplication did not re-check its base (estimated, its cost less a "
        f"membership check): {unchecked * 1e3:.2f} ms a ballot"
    )
    return per_ballot


def dalek_floor(election: Election, cost: dict[str, float], empty: float) -> float:
    """Prints the curve25519-dalek count and its cost; the seconds a ballot on one core (the
    credential's membership counted once a ballot, every voter voting once)."""
    ops = ballot_operations_dalek(election)
    print()
    print("arithmetic floor, per ballot (curve25519-dalek through ctypes, measured in this run):")
    total = 0.0
    for key, (call, what) in DALEK_CALLS.items():
        count = getattr(ops, key)
        total += count * cost[key]
        print(
            f"  {count:3d} {what:30} {cost[key] * 1e6:7.1f} us  {call}  "
            f"= {count * cost[key] * 1e3:5.2f} ms"
        )
    print(f"  (an empty ctypes call: {empty * 1e6:.2f} us, included above)")
    return total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--voters", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each; the best is kept")
    ap.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="plebiscite's processes (default: its own, all cores)",
    )
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    jobs = args.jobs or cores

    tool = belenios3_tool()
    if tool is None:
        raise SystemExit("belenios-tool 3.0 is not installed: run scripts/belenios3-setup")
    archive = bench_election3(args.voters)
    election, ballots = read_election(archive)
    peer_dir = archive_only(archive)
    ours = [*plebiscite_command(), "verify"]
    commands: dict[str, list[str]] = {
        "belenios-tool 3.0": [tool, "election", "verify", "--dir", str(peer_dir)],
        f"plebiscite ({jobs} jobs)": [
            *ours,
            *([] if args.jobs is None else ["--jobs", str(args.jobs)]),
            str(archive),
        ],
        "plebiscite (1 job)": [*ours, "--jobs", "1", str(archive)],
    }

    load_before = os.getloadavg()
    runs: dict[str, list[Measured]] = {name: [] for name in commands}
    for _ in range(args.repeat):
        for name, cmd in commands.items():
            runs[name].append(run(cmd))
    rounds = max(3, args.repeat)
    cost, empty = op_seconds(rounds) if BACKEND == "libsodium" else dalek_op_seconds(rounds)
    load_after = os.getloadavg()
    best = {name: best_of(r) for name, r in runs.items()}

    ok = True
    peer = best["belenios-tool 3.0"]
    for name, r in runs.items():
        for m in r:
            passed = m.returncode == 0 and (
                "all checks passed" in m.stderr or name != "belenios-tool 3.0"
            )
            if not passed:
                ok = False
                print(f"{name} failed (exit {m.returncode}): {m.stderr[-500:]}", file=sys.stderr)

    print(
        f"archive: {archive.name}: {ballots} ballots, group {election.group.name}, "
        f"{len(election.questions)} questions"
    )
    print(f"plebiscite's Ed25519 arithmetic: {BACKEND}")
    print(
        f"machine: {cores} cores, load average {load_before[0]:.2f} {load_before[1]:.2f} before, "
        f"{load_after[0]:.2f} {load_after[1]:.2f} after; best of {args.repeat} runs each"
    )
    print()
    print(f"{'':22} {'wall s':>8} {'ms/ballot':>10} {'CPU s':>8} {'peak MiB':>9} {'peer/this':>10}")
    for name, m in best.items():
        print(
            f"{name:22} {m.seconds:8.2f} {m.seconds / ballots * 1e3:10.2f} {m.cpu:8.2f} "
            f"{m.peak_kib / 1024:9.0f} {peer.seconds / m.seconds:10.2f}"
        )

    if BACKEND == "libsodium":
        per_ballot = libsodium_floor(election, cost, empty)
    else:
        per_ballot = dalek_floor(election, cost, empty)
    floor1 = per_ballot * ballots
    floor_all = floor1 / jobs
    print(
        f"floor:  {per_ballot * 1e3:.2f} ms a ballot on one core: {floor1:.2f} s; "
        f"{floor_all:.2f} s on {jobs} cores"
    )
    one = best["plebiscite (1 job)"]
    many = best[f"plebiscite ({jobs} jobs)"]
    print(
        f"plebiscite from the floor: {one.seconds / floor1:.2f} x on one core (CPU "
        f"{one.cpu / floor1:.2f} x), {many.seconds / floor_all:.2f} x on {jobs} "
        f"(CPU {many.cpu / floor1:.2f} x); belenios-tool 3.0: {peer.seconds / floor1:.2f} x "
        "the one-core floor"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
