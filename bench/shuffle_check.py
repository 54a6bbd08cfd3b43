#!/usr/bin/env python3
"""Benchmark: the check of a shuffle's proof (CheckShuffleProof) of a long non-homomorphic
column (a ciphertext a ballot), in one process (``check_shuffle_proof``) and by parts on a
Dask LocalCluster of two single-threaded workers (``check_shuffle_by_parts``, what the
verifier of ``verify --cluster local:2`` and ``serve --cluster local:2`` runs:
:data:`~plebiscite.protocol.verifier.SHUFFLE_CHUNK` ciphertexts a map step, the challenges and
the verdict in the verifier's process), on the same shuffle in the same run.

The shuffle is made from a seed under the Ed25519 election of
``tests/vectors/belenios3/ed25519.bel`` (random ciphertexts, ``gen_shuffle``). ``--rounds R``
runs the two ways R times in turn, every other round in the reverse order; each round gives
the cluster's throughput as a share of twice the one process's, and the median.

    ./dev bench shuffle_check [--ciphertexts 5000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from common import ROOT, load, on_cluster_and_here
from plebiscite.compute.cluster import DaskRunner, connect
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.crypto.shuffle import _generator, check_shuffle_proof
from plebiscite.protocol.ballot import election_context
from plebiscite.protocol.messages import ciphertext, shuffle_proof
from plebiscite.protocol.setup import read_setup
from plebiscite.protocol.tally import gen_shuffle
from plebiscite.protocol.verifier import SHUFFLE_CHUNK, check_shuffle_by_parts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--ciphertexts", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    print(f"load average: {load()}; {os.cpu_count()} cores")
    with (ROOT / "tests/vectors/belenios3/ed25519.bel").open("rb") as f:
        election_raw = read_setup(f).election
    election, ctx = election_context(election_raw)
    group, fp, n = election.group, election.fingerprint, args.ciphertexts
    rng = DeterministicRandom("bench shuffle_check")
    t = time.perf_counter()
    e = [(ctx.gpow(rng.below(ctx.q)), ctx.gpow(rng.below(ctx.q))) for _ in range(n)]
    e_prime, pj = gen_shuffle(ctx, e, fp, rng)
    pr = shuffle_proof(group, pj, "proof", n)
    e2 = [ciphertext(group, {"alpha": str(a), "beta": str(b)}, "c") for a, b in e_prime]
    print(f"a shuffle of {n} ciphertexts made in {time.perf_counter() - t:.1f} s")
    shares: list[float] = []
    with connect("local:2") as client:
        runner = DaskRunner(client, 2)
        for h in [runner.map(election_context, election_raw) for _ in "ab"]:
            runner.wait(h)  # both workers have imported what the step takes

        def cold() -> None:
            # the generators h_i made again by each way (a process keeps the last 4,096)
            _generator.cache_clear()
            client.run(_generator.cache_clear)

        def here() -> None:
            check_shuffle_proof(ctx, pr, e, e2, fp)

        def cluster() -> None:
            check_shuffle_by_parts(runner, election_raw, ctx, fp, pr, e, e2, SHUFFLE_CHUNK)

        def report(r: int, one: float, two: float, cpu: dict[str, float]) -> None:
            shares.append(one / (2 * two))
            print(
                f"  round {r + 1}: one process {one:.2f} s ({n / one:.0f}/s), --cluster local:2 "
                f"{two:.2f} s ({n / two:.0f}/s): {shares[-1]:.2f} of twice the one process; "
                f"CPU: the client with the scheduler {cpu['client']:.2f} s, the workers "
                f"{cpu['workers']:.2f} s",
                flush=True,
            )

        on_cluster_and_here(client, here, cluster, args.rounds, report, reset=cold)
    print(f"  median: {statistics.median(shares):.2f} of twice the one process")


if __name__ == "__main__":
    main()
