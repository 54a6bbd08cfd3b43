#!/usr/bin/env python3
"""Benchmark: the check of a partial decryption of a long tally (a non-homomorphic question's:
a decryption factor and its proof for every ballot), the map step of
``Verifier._decryption_factors`` (``checked_decryptions``: each factor and proof parsed, each
proof checked) run in one process and on a Dask
LocalCluster of two single-threaded workers (``verify --cluster local:2``, ``serve --cluster
local:2``), :data:`~plebiscite.protocol.verifier.DECRYPTION_CHUNK` proofs a map step, on the
same proofs in the same run; the verifier's own part, here either way (the decryption's JSON
read), timed apart.

The proofs are made from a seed under the Ed25519 election of
``tests/vectors/belenios3/ed25519.bel``: random ciphertexts' first components, a trustee's
key, each factor with its proof (``prove_decryption``). ``--rounds R`` runs the two ways R
times in turn, every other round in the reverse order; each round gives the cluster's
throughput as a share of twice the one process's, for the proofs and for the whole check
(the JSON read added to both sides), and the median.

    ./dev bench decryption_check [--proofs 20000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

from common import ROOT, load, on_cluster_and_here
from plebiscite import strictjson
from plebiscite.compute.cluster import DaskRunner, connect
from plebiscite.crypto.proofs import prove_decryption
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.protocol.ballot import election_context
from plebiscite.protocol.setup import read_setup
from plebiscite.protocol.verifier import (
    DECRYPTION_CHUNK,
    check_decryptions_by_parts,
    checked_decryptions,
)


def made(n: int) -> tuple[bytes, Any, list[tuple[Any, str, dict[str, str]]]]:
    """The election, a trustee's verification key, and ``n`` (alpha, factor, proof) items, the
    factor and proof as the decryption's JSON has them."""
    with (ROOT / "tests/vectors/belenios3/ed25519.bel").open("rb") as f:
        election_raw = read_setup(f).election
    election, ctx = election_context(election_raw)
    rng = DeterministicRandom("bench decryption_check")
    x = rng.below(ctx.q)
    items = []
    for _ in range(n):
        alpha = ctx.gpow(rng.below(ctx.q))
        factor, pr = prove_decryption(ctx, election.fingerprint, x, alpha, rng.below(ctx.q))
        items.append((alpha, str(factor), {"challenge": str(pr[0]), "response": str(pr[1])}))
    return election_raw, ctx.gpow(x), items


def loaded(raw: bytes) -> tuple[list[tuple[Any, str]], list[tuple[Any, str]]]:
    """The decryption's JSON (``raw``: the factors, then the proofs) read as the verifier reads
    it here, each value with its place: what the map step parses."""
    doc = strictjson.loads(raw, max_size=1 << 30, where="partial_decryption")
    return (
        [(f, f"factors[{k}]") for k, f in enumerate(doc["factors"])],
        [(p, f"proofs[{k}]") for k, p in enumerate(doc["proofs"])],
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--proofs", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    print(f"load average: {load()}; {os.cpu_count()} cores")
    t = time.perf_counter()
    election_raw, key, texts = made(args.proofs)
    print(f"{args.proofs} proofs made in {time.perf_counter() - t:.1f} s")
    raw = strictjson.dumps_compact(
        {"factors": [f for _, f, _ in texts], "proofs": [p for _, _, p in texts]}
    )
    alphas = [a for a, _, _ in texts]
    t = time.perf_counter()
    factors, proofs = loaded(raw)
    parse = time.perf_counter() - t
    print(f"  the verifier's part, here either way (the JSON read): {parse:.2f} s")
    shares: list[tuple[float, float]] = []
    with connect("local:2") as client:
        runner = DaskRunner(client, 2)
        for h in [
            runner.map(checked_decryptions, election_raw, key, alphas[:2], factors[:2], proofs[:2])
            for _ in "ab"
        ]:
            runner.result(h)  # both workers have imported what the step takes

        def here() -> None:
            got = checked_decryptions(election_raw, key, alphas, factors, proofs)
            assert got[1:] == (None, None)

        def cluster() -> None:
            parts = check_decryptions_by_parts(
                runner, election_raw, key, alphas, factors, proofs, DECRYPTION_CHUNK
            )
            assert all(p[1:] == (None, None) for p in parts)

        def report(r: int, one: float, two: float, cpu: dict[str, float]) -> None:
            share, whole = one / (2 * two), (parse + one) / (2 * (parse + two))
            shares.append((share, whole))
            print(
                f"  round {r + 1}: one process {one:.2f} s ({args.proofs / one:.0f}/s), "
                f"--cluster local:2 {two:.2f} s ({args.proofs / two:.0f}/s): {share:.2f} of "
                f"twice the one process, {whole:.2f} with the JSON read; CPU: the client "
                f"with the scheduler {cpu['client']:.2f} s, the workers {cpu['workers']:.2f} s",
                flush=True,
            )

        on_cluster_and_here(client, here, cluster, args.rounds, report)
    print(
        f"  median: {statistics.median(s for s, _ in shares):.2f} of twice the one process, "
        f"{statistics.median(w for _, w in shares):.2f} with the JSON read"
    )


if __name__ == "__main__":
    main()
