#!/usr/bin/env python3
"""Benchmark: ``plebiscite verify`` of the 1000-ballot Ed25519 bench election with ``--jobs 1``,
``--jobs 2`` and ``--cluster local:2`` (the ballots verified by two Dask worker processes).

The archive is the one of ``./dev bench verify3`` (belenios-tool 3.0, a yes/no and a one-of-three
question, one single trustee, fully tallied; made once into ``.cache/bench/``). Each command
runs ``--repeat`` times as its own process (wall time, CPU time of it and its children, peak
RSS of its largest process); the best wall time is kept. Then, in this process: the archive
index alone (its time and size), and the verification on a LocalCluster of two single-threaded
worker processes started beforehand (its time without the cluster's start-up), with the peak
resident memory of this process (the client, where a LocalCluster's scheduler also runs) and of
each worker (``getrusage`` in each process).

Ballots per second are the election's ballots over the wall time; the ratio is the cluster's
throughput over twice that of ``--jobs 1`` (the target: at least 0.9 on two cores).

    ./dev bench dask [--voters N] [--repeat R] [--generated [--revotes R]]

With ``--generated`` the archive is made by ``plebiscite generate`` instead (any size: real
ballots and proofs from a seed, the same two questions, ``--revotes`` of the voters voting
twice; made once into ``.cache/bench/``, the time it took printed).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from common import bench_election3, best_of, load, plebiscite_command
from common import run_measured as run
from plebiscite.protocol.archive import index_archive


def _mib(n: float) -> str:
    return f"{n / (1 << 20):.0f} MiB"


def _cpu() -> float:
    import resource

    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def in_process(archive: Path, workers: int) -> tuple[float, float, float, float, dict[str, object]]:
    """Start-up of a LocalCluster and the verification on it, timed apart (wall, and the CPU
    time of this process during it: the client's part, the scheduler's included, and of the
    workers together); peak memories."""
    from distributed import Client, LocalCluster

    from plebiscite.compute.cluster import peak_memory, verify_on_cluster

    t0 = time.perf_counter()
    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        started = time.perf_counter() - t0
        before = sum(client.run(_cpu).values())
        t1, c1 = time.perf_counter(), time.process_time()
        report = verify_on_cluster(archive, client)
        took, cpu = time.perf_counter() - t1, time.process_time() - c1
        workers_cpu = sum(client.run(_cpu).values()) - before
        assert report.valid, [f.describe() for f in report.findings]
        memory = peak_memory(client)
    return started, took, cpu, workers_cpu, memory


def generated(voters: int, revotes: int) -> Path:
    """The archive of ``plebiscite generate`` for this size, made once (on every core)."""
    out = Path(".cache/bench") / f"generated-{voters}-{revotes}.bel"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(f".{os.getpid()}.tmp")  # plebiscite generate makes it new
        m = run(
            [*plebiscite_command(), "generate", "--voters", str(voters), "--revotes",
             str(revotes), "--seed", "bench", "--out", str(tmp)]
        )  # fmt: skip
        if m.returncode != 0:
            raise SystemExit(f"plebiscite generate failed:\n{m.stderr}")
        tmp.rename(out)
        print(
            f"generated {voters + revotes} ballots in {m.seconds:.1f} s wall, {m.cpu:.1f} s CPU "
            f"({(voters + revotes) / m.seconds:.1f} ballots/s); peak RSS of its largest "
            f"process {m.peak_kib / 1024:.0f} MiB"
        )
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--voters", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=1, help="runs of each; the best is kept")
    ap.add_argument(
        "--generated", action="store_true", help="an archive of plebiscite generate (any size)"
    )
    ap.add_argument("--revotes", type=int, default=-1, help="with --generated (default: 1%%)")
    args = ap.parse_args()
    if args.generated:
        revotes = args.revotes if args.revotes >= 0 else args.voters // 100
        archive = generated(args.voters, revotes)
        ballots = args.voters + revotes
    else:
        archive = bench_election3(args.voters)
        ballots = args.voters
    size = archive.stat().st_size
    print(f"archive: {archive} ({size} bytes, {ballots} ballots, {args.voters} voters)")
    args.voters = ballots  # the rates below are ballots per second
    print(f"load average at the start: {load()}")

    t0 = time.perf_counter()
    with archive.open("rb") as f:
        index = index_archive(f)
    took_index = time.perf_counter() - t0
    assert index.error is None
    print(
        f"index: {len(index)} members in {took_index * 1000:.1f} ms, {index.nbytes} bytes "
        f"({index.nbytes / len(index):.0f} per member)"
    )

    pleb = plebiscite_command()
    rows = {}
    for label, extra in (
        ("--jobs 1", ["--jobs", "1"]),
        ("--jobs 2", ["--jobs", "2"]),
        ("--cluster local:2", ["--cluster", "local:2"]),
    ):
        runs = [run([*pleb, "verify", str(archive), *extra]) for _ in range(args.repeat)]
        m = best_of(runs)
        if m.returncode != 0:
            print(f"{label}: exit status {m.returncode}\n{m.stderr}", file=sys.stderr)
            return 1
        rows[label] = m
        print(
            f"{label:>20}: {m.seconds:6.2f} s wall, {m.cpu:6.2f} s CPU, "
            f"{args.voters / m.seconds:6.1f} ballots/s, peak RSS of its largest process "
            f"{m.peak_kib / 1024:.0f} MiB"
        )
    one = args.voters / rows["--jobs 1"].seconds
    for label in ("--jobs 2", "--cluster local:2"):
        rate = args.voters / rows[label].seconds
        print(f"{label:>20}: {rate / (2 * one):.2f} of twice --jobs 1's throughput")

    started, took, cpu, workers_cpu, memory = in_process(archive, 2)
    rate = args.voters / took
    print(
        f"LocalCluster of 2 started in {started:.2f} s, then the verification on it "
        f"{took:.2f} s: {rate:.1f} ballots/s, {rate / (2 * one):.2f} of twice --jobs 1's; "
        f"the client's CPU (index, reading, reduce, tally, scheduler) {cpu:.2f} s, "
        f"{cpu / took:.0%} of the wall time; the workers' CPU {workers_cpu:.2f} s "
        f"(--jobs 1: {rows['--jobs 1'].cpu:.2f} s in all)"
    )
    workers = memory["workers"]
    assert isinstance(workers, dict)
    print(
        f"peak memory: client and scheduler (one process) {_mib(memory['client'])}; workers "  # type: ignore[arg-type]
        + ", ".join(_mib(v) for v in workers.values())
    )
    print(f"load average at the end: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
