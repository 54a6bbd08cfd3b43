#!/usr/bin/env python3
"""Benchmark: verification of generated Ed25519 elections of growing size with ``--jobs 1`` and
on a Dask cluster of two workers, the serial parts timed apart, and the Amdahl projection to a
hundred million ballots.

For each size (``--voters``, with ``--revotes`` of them, 2% by default, voting twice), the
archive of ``plebiscite generate`` (made once into ``.cache/bench/``, or given by ``--archive``):

- ``plebiscite verify --jobs 1`` as its own process: wall, CPU, peak RSS;
- a ``dask scheduler`` and two single-threaded ``dask worker`` processes (without a nanny),
  then the verification with this process as the client (``verify_on_cluster``: the ballots
  scanned a byte range at a time on the workers, the client reading the setup, the ballots
  across the ranges' edges and what follows the ballots): wall time, ballots per second and
  the ratio to twice ``--jobs 1``'s; the ranges and the ballots the ranges took; the CPU of
  the client, of the
  scheduler and of the workers; the client's time in the group-by (submitting the chunks,
  their routing and the partitions' rounds) and in the end of the reduce (the shared
  ciphertexts, each partition's product and counts, the tree); peak resident memory of the
  client, the scheduler and each worker (``getrusage`` in each, a fresh cluster per size: the
  client's is this process's, the sizes before included); each serial part's
  share of the cluster's wall time.

The projection: the serial part per ballot (the client's CPU: the setup, the edges of the
ranges, the tail, the tasks and their results) and the workers' CPU per ballot give
the wall time of N ballots on C cores as ``N * serial + N * work / C``, plus the group-by's
tasks on the scheduler: each range's scan, the getitem of each of its P parts (P from the
ballots, 250,000 a partition) and the partitions' rounds, ``ranges * (P + 3 + P / cores)``
tasks at the scheduler's CPU a task, measured apart on 20,000 small tasks. One archive holds
at most about 4 million voters (its credential list is one member of 256 MiB at most), so the
projection is also given for 25 archives of 4 million: at once on 1,000 cores (40 each, their
tasks on one scheduler), one after the other on 8.

With ``--kill-after F``, each size's cluster run is made again on a fresh cluster, one of its
workers killed (SIGKILL, no nanny to restart it) at F of the first run's wall time: the same
report (verdict, counts, result, findings) is asserted, and its wall time printed.

    ./dev bench dask_scale [--voters 10000,100000] [--revotes-share 0.02] [--archive N=PATH]
                           [--skip-jobs1] [--kill-after 0.5]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from common import load, plebiscite_command
from common import run_measured as run

DASK = Path(sys.executable).parent / "dask"


def _mib(n: float) -> str:
    return f"{n / (1 << 20):.0f} MiB"


def _cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def _peak() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def generated(voters: int, revotes: int) -> Path:
    """The archive of ``plebiscite generate`` for this size, made once (on every core)."""
    out = Path(".cache/bench") / f"generated-{voters}-{revotes}.bel"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(f".{os.getpid()}.tmp")
        m = run(
            [*plebiscite_command(), "generate", "--voters", str(voters), "--revotes",
             str(revotes), "--seed", "bench", "--out", str(tmp)]
        )  # fmt: skip
        if m.returncode != 0:
            raise SystemExit(f"plebiscite generate failed:\n{m.stderr}")
        tmp.rename(out)
        print(f"generated {voters + revotes} ballots in {m.seconds:.1f} s")
    return out


@contextlib.contextmanager
def cluster(workers: int, config: dict[str, Any] | None = None) -> Iterator[str]:
    """A scheduler and ``workers`` worker processes, given Dask's ``config`` too (its keys
    as ``distributed.worker.profile.enabled``); the scheduler's address."""
    with tempfile.TemporaryDirectory() as d:
        sf = Path(d) / "scheduler.json"
        # the workers' statistical profiler off, as plebiscite's LocalCluster has it
        env = {**os.environ, "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False"}
        for k, v in (config or {}).items():
            env["DASK_" + k.upper().replace(".", "__").replace("-", "_")] = str(v)
        quiet: dict[str, Any] = {
            "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env
        }  # fmt: skip
        procs = [
            subprocess.Popen(
                [str(DASK), "scheduler", "--port", "0", "--dashboard-address", ":0",
                 "--scheduler-file", str(sf)], **quiet,
            )
        ]  # fmt: skip
        try:
            while not sf.exists():
                time.sleep(0.1)
            for _ in range(workers):
                procs.append(
                    subprocess.Popen(
                        [str(DASK), "worker", "--scheduler-file", str(sf), "--nthreads", "1",
                         "--no-nanny", "--no-dashboard"], **quiet,
                    )
                )  # fmt: skip
            yield json.loads(sf.read_text())["address"]
        finally:
            for p in reversed(procs):
                p.terminate()
                p.wait(timeout=60)


def on_cluster(archive: Path, workers: int, kill_after: float | None = None) -> dict[str, Any]:
    """The verification with this process as the client of a fresh cluster, timed by part;
    with ``kill_after``, one worker process killed (SIGKILL) that many seconds after the start
    (the CPU and peaks are then the survivors')."""
    import signal
    import threading

    from distributed import Client

    from plebiscite.compute.cluster import cluster_verifier, run_on_cluster

    with cluster(workers) as address, Client(address, timeout=60) as client:
        client.wait_for_workers(workers, timeout=60)
        before = (client.run_on_scheduler(_cpu), sum(client.run(_cpu).values()))
        verifier = cluster_verifier(archive, client)
        spent = {"group-by": 0.0, "end": 0.0}

        def timed(name: str, method: Any) -> Any:
            def wrapper(*a: Any) -> Any:
                t = time.process_time()
                try:
                    return method(*a)
                finally:
                    spent[name] += time.process_time() - t

            return wrapper

        verifier._absorb_round = timed("group-by", verifier._absorb_round)  # type: ignore[method-assign]
        end = verifier._reduce_partitions
        t_end = [0.0]

        def reduce_end() -> None:
            verifier._submit()  # the last chunks in flight verified first: not timed here
            verifier._drain(0)
            t = time.perf_counter()
            end()
            t_end[0] = time.perf_counter() - t

        verifier._reduce_partitions = reduce_end  # type: ignore[method-assign]
        killed: list[str] = []

        def kill() -> None:
            address, pid = sorted(client.run(os.getpid).items())[0]
            os.kill(pid, signal.SIGKILL)
            killed.append(address)

        timer = None if kill_after is None else threading.Timer(kill_after, kill)
        t0, c0 = time.perf_counter(), time.process_time()
        if timer is not None:
            timer.start()
        report = run_on_cluster(verifier)
        if timer is not None:
            timer.cancel()
        wall, client_cpu = time.perf_counter() - t0, time.process_time() - c0
        assert report.valid, [f.describe() for f in report.findings[:5]]
        return {
            "wall": wall,
            "client_cpu": client_cpu,
            "absorb_cpu": spent["group-by"],
            "end_wall": t_end[0],
            "partitions": verifier._parts,
            "scheduler_cpu": client.run_on_scheduler(_cpu) - before[0],
            "workers_cpu": sum(client.run(_cpu).values()) - before[1],
            "client_peak": _peak(),
            "scheduler_peak": client.run_on_scheduler(_peak),
            "worker_peaks": sorted(client.run(_peak).values()),
            "tasks": client.run_on_scheduler(_tasks_run),
            "moved": tuple(map(sum, zip(*client.run(_states_sent).values(), strict=True))),
            "ranges": verifier.ranges,
            "scanned": verifier.scanned,
            "report": {k: v for k, v in report.to_json().items() if k != "archive"},
            "killed": killed,
        }


def task_cost(workers: int, tasks: int = 20_000) -> float:
    """The scheduler's CPU a task, measured: ``tasks`` small tasks (the getitem of a part of a
    map step's result, the commonest task of the group-by) on a fresh cluster, their CPU on
    the scheduler less its idle CPU over the same time."""
    import operator

    from distributed import Client, wait

    with cluster(workers) as address, Client(address, timeout=60) as client:
        client.wait_for_workers(workers, timeout=60)
        base = client.submit(tuple, range(64), pure=False)
        wait([base])
        c0, t0 = client.run_on_scheduler(_cpu), time.perf_counter()
        time.sleep(5)
        idle = (client.run_on_scheduler(_cpu) - c0) / (time.perf_counter() - t0)
        c0, t0 = client.run_on_scheduler(_cpu), time.perf_counter()
        for start in range(0, tasks, 1000):
            wait([client.submit(operator.getitem, base, i % 64, pure=False)
                  for i in range(start, start + 1000)])  # fmt: skip
        spent = client.run_on_scheduler(_cpu) - c0 - idle * (time.perf_counter() - t0)
    return max(spent, 0.0) / tasks


def _states_sent(dask_worker: Any = None) -> tuple[int, int]:
    """The partitions' states this worker sent to another (a state made or grown by a task
    the scheduler moved away: its runs travel with it): how many, and their bytes."""
    n = size = 0
    for entry in getattr(dask_worker, "transfer_outgoing_log", ()):
        for key, nbytes in entry.get("keys", {}).items():
            name = key[0] if isinstance(key, tuple) else str(key)
            if name.startswith(("plebiscite-pinned-absorb-", "plebiscite-pinned-disk_partition-")):
                n, size = n + 1, size + int(nbytes)
    return n, size


def _tasks_run(dask_scheduler: Any = None) -> int:
    """Tasks the scheduler has seen in all (its transition log is bounded: an estimate)."""
    return int(getattr(dask_scheduler, "transition_counter", -1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--voters", default="10000,100000", help="sizes, comma-separated")
    ap.add_argument("--revotes-share", type=float, default=0.02)
    ap.add_argument(
        "--archive", action="append", default=[], metavar="VOTERS=PATH",
        help="a generated archive of that many voters to use instead of making one",
    )  # fmt: skip
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip-jobs1", action="store_true", help="only the cluster")
    ap.add_argument(
        "--kill-after", type=float, metavar="FRACTION",
        help="then the cluster again, one worker killed at FRACTION of the first run's wall "
        "time: the same report?",
    )  # fmt: skip
    args = ap.parse_args()
    given = {int(k): Path(v) for k, v in (a.split("=", 1) for a in args.archive)}
    print(f"load average at the start: {load()}")
    rows = []
    for voters in (int(v) for v in args.voters.split(",")):
        revotes = int(voters * args.revotes_share)
        archive = given.get(voters) or generated(voters, revotes)
        ballots = voters + revotes
        print(f"\n{archive}: {archive.stat().st_size} bytes, {ballots} ballots")
        row: dict[str, Any] = {
            "voters": voters,
            "ballots": ballots,
            "bytes": archive.stat().st_size,
        }
        if not args.skip_jobs1:
            m = run([*plebiscite_command(), "verify", str(archive), "--jobs", "1"])
            assert m.returncode == 0, m.stderr
            row["jobs1"] = m
            print(
                f"  --jobs 1: {m.seconds:.1f} s wall, {m.cpu:.1f} s CPU, "
                f"{ballots / m.seconds:.1f} ballots/s, peak RSS {m.peak_kib / 1024:.0f} MiB"
            )
        c = on_cluster(archive, args.workers)
        row["cluster"] = c
        rate = ballots / c["wall"]
        ratio = f", {rate / (args.workers * ballots / row['jobs1'].seconds):.2f} of " \
            f"{args.workers} times --jobs 1's" if "jobs1" in row else ""  # fmt: skip
        print(
            f"  cluster of {args.workers} ({c['partitions']} partitions): {c['wall']:.1f} s "
            f"wall, {rate:.1f} ballots/s{ratio}\n"
            f"    {c['ranges']} ranges scanned, {c['scanned']} ballots taken from them (the "
            f"others across their edges, read by the client)\n"
            f"    CPU: client {c['client_cpu']:.1f} s (of which the partitions' rounds "
            f"{c['absorb_cpu']:.2f} s), scheduler {c['scheduler_cpu']:.1f} s, workers "
            f"{c['workers_cpu']:.1f} s; the end of the reduce {c['end_wall']:.2f} s wall; "
            f"{c['tasks']} task transitions; partitions' states moved between workers: "
            f"{c['moved'][0]} ({_mib(c['moved'][1])} as Dask weighs them)\n"
            f"    serial parts, of the wall time: the client's CPU "
            f"{c['client_cpu'] / c['wall']:.1%} (the partitions' rounds "
            f"{c['absorb_cpu'] / c['wall']:.1%}), the end of the reduce "
            f"{c['end_wall'] / c['wall']:.1%}\n"
            f"    peak RSS: client {_mib(c['client_peak'])}, scheduler "
            f"{_mib(c['scheduler_peak'])}, workers " + ", ".join(_mib(v) for v in c["worker_peaks"])
        )
        if args.kill_after is not None:
            k = on_cluster(archive, args.workers, args.kill_after * c["wall"])
            same = k["report"] == c["report"]
            print(
                f"  the cluster again, worker {', '.join(k['killed']) or '(none)'} killed at "
                f"{args.kill_after * c['wall']:.1f} s: {k['wall']:.1f} s wall, "
                f"{ballots / k['wall']:.1f} ballots/s; the same report: {same}; peak RSS "
                f"client {_mib(k['client_peak'])}, scheduler {_mib(k['scheduler_peak'])}, "
                "the worker left " + ", ".join(_mib(v) for v in k["worker_peaks"])
            )
            assert same and k["killed"], "a worker killed changed the report"
        rows.append(row)
    big = rows[-1]
    n, c = big["ballots"], big["cluster"]
    # the serial part: the client's CPU (the setup, the edges of the ranges, the tail, the
    # tasks and their results); with two sizes or more, its growth a ballot between the two
    # largest (what stays is fixed: the cluster's and the verification's start, the tail)
    # rather than its mean a ballot. The scheduler's CPU grows with the wall time (heartbeats,
    # the dashboard: its own process, beside the critical path) and with its tasks, counted
    # below at their measured cost
    serial_cpu = c["client_cpu"]
    fixed, serial = 0.0, serial_cpu / n
    if len(rows) >= 2:
        m, d = rows[-2]["ballots"], rows[-2]["cluster"]
        serial = max(0.0, (serial_cpu - d["client_cpu"]) / (n - m))
        fixed = max(0.0, serial_cpu - serial * n)
    work = c["workers_cpu"] / n
    print(
        f"\nserial (the client): {serial * 1e6:.1f} us a ballot"
        + (
            f" (their growth from {rows[-2]['ballots']} ballots), {fixed:.1f} s fixed"
            if fixed
            else ""
        )
        + f"; of the mean a ballot, the client {c['client_cpu'] / n * 1e6:.1f} us; workers "
        f"{work * 1e3:.2f} ms a ballot; serial fraction {serial / (serial + work):.2%}; the "
        f"scheduler's CPU {c['scheduler_cpu'] / c['wall']:.1%} of the wall time"
    )
    # the group-by's tasks: each range's scan, its summary and parts (2 getitems), the
    # getitem of each of its P parts (P from the ballots: plebiscite.protocol.reduce.
    # partitions_for) and a round of absorbs every range a worker: ranges x (P + 3 + P /
    # cores), the ranges about eight a worker within 64 MiB each (plebiscite.protocol.scan.
    # range_bytes)
    per_task = task_cost(args.workers)
    size = big["bytes"] / n
    print(f"the scheduler's CPU a task: {per_task * 1e6:.0f} us (20,000 small tasks)")

    from plebiscite.protocol.reduce import partitions_for

    def projected(ballots: float, cores: int) -> tuple[float, float]:
        """One archive of ``ballots`` on ``cores``: its wall time and its tasks' part."""
        ranges = max(8 * cores, ballots * size / (64 << 20))
        parts = partitions_for(int(ballots), cores)
        # each range: its scan, its summary and parts, a getitem a partition, and a
        # partition's absorb every ``cores`` ranges
        tasks = ranges * (parts + 3 + parts / cores)
        return fixed + ballots * (serial + work / cores) + tasks * per_task, tasks * per_task

    for cores in (8, 1000):
        t, on_tasks = projected(1e8, cores)
        print(
            f"projection, 100,000,000 ballots in one archive on {cores} cores: {t:.0f} s "
            f"({t / 3600:.1f} h; speed-up {1e8 * (serial + work) / t:.0f}); of which the "
            f"group-by's tasks on the scheduler {on_tasks:.0f} s"
        )
    # an archive holds at most about 4 million voters (its public credentials are one data
    # member of 256 MiB at most): a hundred million are 25 regions' archives; on 1,000 cores
    # verified at once, 40 cores and a client each, their tasks on one scheduler (its part
    # counted 25 times); on 8 cores one after the other
    for cores, at_once in ((8, 1), (1000, 25)):
        t, on_tasks = projected(4e6, cores // at_once)
        on_tasks *= 25
        t = t * 25 / at_once + on_tasks * (1 - 1 / at_once)
        how = "at once, 40 cores each" if at_once > 1 else "one after the other"
        print(
            f"projection, 100,000,000 ballots as 25 archives of 4,000,000 ({how}) on {cores} "
            f"cores: {t:.0f} s ({t / 3600:.1f} h); of which the tasks {on_tasks:.0f} s"
        )
    print(f"load average at the end: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
