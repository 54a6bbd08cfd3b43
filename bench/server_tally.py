#!/usr/bin/env python3
"""Benchmark: the server's encrypted tally of a closing region, on a SQLite board of N
ballots, computed the old way (sequentially, ``encrypted_tally_of_board``) and through the
partitioned reduce of ``plebiscite verify`` (``encrypted_tally_on``) in the server's process,
on two local worker processes (``serve --jobs 2``) and on a Dask LocalCluster of two
single-threaded workers (``serve --cluster local:2``). On the workers and the cluster the tasks
read their ranges of the board's members themselves (``read_range``, as the server does them);
the ways ``jobs2_sent`` and ``local2_sent`` (not run by default) have the bench's process read
every ballot and send them in chunks to the tasks, as the server did before, to compare.
The way ``shard`` (not run by default) is the task graph of the tally on a cluster of 1,000
worker threads, the server closing as many boards at once as it does there (its ranges,
partitions and rounds: ``TallyWorkers`` over a ``DaskRunner`` of that width) run by a
``dask scheduler`` and two ``dask worker`` processes of its own, the client's, the
scheduler's and the workers' CPU apart (and the scheduler's CPU over as long idle, its own
periodic work): what a poll's shard costs each of them, for the projection to a poll of
10^8 ballots.

For each size (``--voters``, 2% of them voting twice), the archive of ``plebiscite generate``
(made once into ``.cache/bench/``) is loaded up to its EndBallots into a SQLite board (made
once: ``.cache/bench/server-tally-N.db``): the board of a region the server is closing. Each
way runs in a fresh process of its own, reading the board as the server does
(``board.members``, or its start and ``read_range``) and computing the tally, which must be
the archive's, byte for byte; it prints the wall time (the workers' and the cluster's start
not counted), ballots per second, the ratio to the sequential producer, the CPU of the
server's process and of the workers, and the peak resident memory of the server's process
(with a LocalCluster, its scheduler's too) and of each worker (``getrusage``, or VmHWM); on
the cluster, the serial parts too: the time to the first range's task and after the last
(from Dask's task stream), and the number of its tasks. The
verifier's check of the tally, the same whichever way it was made, is not timed. On a shared
machine the CPU times say more than the wall times.

With ``here`` among the ways, each two-worker way's throughput is also given as a share of
twice the one process's, both from the same round: ``--rounds R`` runs the ways R times in
turn, every other round in the reverse order (``here,local2,local2,here,...``), so that the
machine's drift over minutes weighs on both sides of the ratios alike, and prints each
round's ratios and their median.

    ./dev bench server_tally [--voters 10000,100000] [--ways sequential,here,jobs2,local2]
                             [--ways ...,jobs2_sent,local2_sent,shard] [--rounds R]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import load
from dask_scale import generated

WAYS = {
    "sequential": "sequential (encrypted_tally_of_board)",
    "here": "reduce in the server's process",
    "jobs2": "reduce, --jobs 2",
    "local2": "reduce, --cluster local:2",
    "jobs2_sent": "reduce, --jobs 2, ballots sent",
    "local2_sent": "reduce, --cluster local:2, ballots sent",
    "shard": "reduce, as on 1,000 cores, 2 workers",
}
DEFAULT_WAYS = ("sequential", "here", "jobs2", "local2")
# the workers of the cluster whose task graph the way ``shard`` makes (its ranges, partitions
# and rounds)
SHARD_WIDTH = 1000
# seconds of the scheduler idle, measured before the way shard's tally (its periodic work's
# CPU, whatever the tasks)
IDLE = 10.0
# the ways on two workers, compared with twice the one process (``here``)
# the start of the names of the steps on a partition's state (DaskRunner's)
PINNED = "plebiscite-pinned-"
TWO_WORKERS = ("jobs2", "local2", "jobs2_sent", "local2_sent", "shard")


def _peak() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _hwm(pid: int) -> int:
    """The peak resident memory of process ``pid`` (Linux: VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _proc_cpu(pid: int) -> float:
    """The CPU seconds (user and system) process ``pid`` has spent."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu() -> float:
    return time.process_time()


def _mib(n: float) -> str:
    return f"{n / (1 << 20):.0f} MiB"


def _kinds(
    tasks: list[dict[str, Any]], t0: float
) -> tuple[dict[str, int], dict[str, tuple[float, float]]]:
    """The tasks of each kind (a key's function) and when the first began and the last
    ended, from the tally's start (``t0``)."""
    kinds: dict[str, int] = {}
    phases: dict[str, tuple[float, float]] = {}
    for task in tasks:  # a task's key: its function's name, a dash, its token
        kind = str(task["key"]).strip("('").rsplit("-", 1)[0].removeprefix(PINNED)
        kinds[kind] = kinds.get(kind, 0) + 1
        for ss in task["startstops"]:
            if ss["action"] == "compute":
                a, b = phases.get(kind, (ss["start"] - t0, ss["stop"] - t0))
                phases[kind] = (min(a, ss["start"] - t0), max(b, ss["stop"] - t0))
    return kinds, phases


def _idle(tasks: list[dict[str, Any]]) -> list[tuple[float, float]]:
    """For each worker, from its first task to its last: the seconds its thread ran no task,
    and those it spent receiving the values its tasks took (Dask's transfers)."""
    busy: dict[str, list[tuple[float, float]]] = {}
    moved: dict[str, float] = {}
    for task in tasks:
        for ss in task["startstops"]:
            if ss["action"] == "compute":
                busy.setdefault(task["worker"], []).append((ss["start"], ss["stop"]))
            elif ss["action"] == "transfer":
                moved[task["worker"]] = moved.get(task["worker"], 0.0) + ss["stop"] - ss["start"]
    out = []
    for worker, spans in sorted(busy.items()):
        spans.sort()
        idle, end = 0.0, spans[0][0]
        for a, b in spans:
            idle += max(0.0, a - end)
            end = max(end, b)
        out.append((idle, moved.get(worker, 0.0)))
    return out


def board_of(archive: Path, voters: int) -> tuple[Path, str, bytes]:
    """A SQLite board holding ``archive`` up to its EndBallots (made once), its election and
    the archive's encrypted tally."""
    from plebiscite.board.base import Head, Item
    from plebiscite.board.sqlite import SQLiteBoard
    from plebiscite.protocol.archive import iter_members

    db = Path(".cache/bench") / f"server-tally-{voters}.db"
    uuid, tally, items = "", b"", []
    data: list[bytes] = []
    contents: dict[str, bytes] = {}
    fresh = not db.exists()
    tmp = db.with_suffix(f".{os.getpid()}.tmp")
    board = SQLiteBoard(tmp) if fresh else None
    head = Head()
    with archive.open("rb") as f:
        for m in iter_members(f):
            if m.kind == "data":
                data.append(m.content)
                contents[m.hash] = m.content
                continue
            if m.kind != "event":
                continue
            ev = json.loads(m.content)
            if ev["type"] == "Setup":
                uuid = json.loads(contents[json.loads(data[-1])["election"]])["uuid"]
                if board is not None:
                    board.create(uuid, 0)
            if ev["type"] == "EncryptedTally":
                tally = contents[json.loads(data[-1])["encrypted_tally"]]
                break
            if board is not None:
                items.append(Item(ev["type"], tuple(data)))
                if len(items) >= 2000 or ev["type"] == "EndBallots":
                    head = board.append(uuid, head, items)
                    items = []
            data = []
            if ev["type"] != "Setup":
                contents.clear()
    if board is not None:
        board.close()
        tmp.rename(db)
    return db, uuid, tally


def one_way(way: str, db: str, uuid: str, ballots: int) -> dict[str, Any]:
    """The tally of the board the ``way`` given, in this process (fresh: its peak memory is
    this way's)."""
    from plebiscite.board.sqlite import SQLiteBoard
    from plebiscite.protocol.reduce import PoolRunner
    from plebiscite.protocol.tally import encrypted_tally_of_board, encrypted_tally_on
    from plebiscite.service.tallyread import range_reader, slice_reader

    board = SQLiteBoard(Path(db))
    out: dict[str, Any] = {}

    def tally_on(runner: Any) -> Any:
        from plebiscite.compute.spill import disk_partition

        # the partitions' states where they live, their runs on that disk (as the server)
        if way.endswith("_sent"):
            return encrypted_tally_on(
                board.members(uuid), runner, ballots=ballots, new_partition=disk_partition
            )
        return encrypted_tally_on(
            board.members(uuid),
            runner,
            ballots=ballots,
            read_range=range_reader(board.location, uuid),
            end_seq=board.next_seq(uuid),
            new_partition=disk_partition,
            read_slice=slice_reader(board.location, uuid),
        )

    def streamed(client: Any, runner: Any) -> Any:
        """The tally on a cluster, timed, its serial parts and tasks from its task stream."""
        from distributed import get_task_stream

        t, c, t0 = time.perf_counter(), _cpu(), time.time()
        with get_task_stream(client) as stream:
            et = tally_on(runner)
            out["seconds"], out["cpu"] = time.perf_counter() - t, _cpu() - c
            t1 = time.time()
        out["tasks"] = len(stream.data)
        out["kinds"], out["phases"] = _kinds(stream.data, t0)
        # the serial parts: to the first range's task (the Setup read, the credential list's
        # pieces), after the last (the last round, the partitions' ends, their tree)
        first, last = out["phases"].get("_tally_range", (0.0, t1 - t0))
        out["serial"] = (first, t1 - t0 - last)
        out["idle"] = _idle(stream.data)
        return et

    try:
        if way == "sequential":
            t, c = time.perf_counter(), _cpu()
            et = encrypted_tally_of_board(board.members(uuid))
        elif way == "here":
            t, c = time.perf_counter(), _cpu()
            et = encrypted_tally_on(board.members(uuid), PoolRunner(None, 1), ballots=ballots)
        elif way.startswith("jobs2"):
            from plebiscite.service.workers import TallyWorkers

            workers = TallyWorkers(jobs=2, small=0)
            runner = workers.runner_for(ballots)
            pool = runner.executor  # type: ignore[attr-defined]
            for f in [pool.submit(time.sleep, 0.5) for _ in range(2)]:
                f.result()  # both workers started: their start is not the tally's
            before = sum(_proc_cpu(pid) for pid in pool._processes)
            t, c = time.perf_counter(), _cpu()
            et = tally_on(runner)
            out["seconds"], out["cpu"] = time.perf_counter() - t, _cpu() - c
            out["workers_cpu"] = sum(_proc_cpu(pid) for pid in pool._processes) - before
            out["workers"] = [_hwm(pid) for pid in pool._processes]
            workers.close()
        elif way == "shard":
            from distributed import Client

            from dask_scale import cluster
            from plebiscite.compute.cluster import LOCAL_CONFIG, DaskRunner, peak_memory
            from plebiscite.service.workers import TallyWorkers

            with cluster(2, LOCAL_CONFIG) as address, Client(address, timeout=60) as client:
                client.wait_for_workers(2, timeout=60)
                # the task graph of a tally on 1,000 worker threads: its ranges, partitions
                # and rounds (run by these two), one of the regions closed at once there
                workers = TallyWorkers(DaskRunner(client, SHARD_WIDTH))
                runner, out["at_once"] = workers.runner_for(ballots), workers.at_once
                # the scheduler's own periodic work, with no task: its CPU a second idle
                idle, t = client.run_on_scheduler(_cpu), time.perf_counter()
                time.sleep(IDLE)
                idle = (client.run_on_scheduler(_cpu) - idle) / (time.perf_counter() - t)
                before = (client.run_on_scheduler(_cpu), sum(client.run(_cpu).values()))
                et = streamed(client, runner)
                out["scheduler_cpu"] = client.run_on_scheduler(_cpu) - before[0]
                out["scheduler_idle"] = idle * out["seconds"]
                out["workers_cpu"] = sum(client.run(_cpu).values()) - before[1]
                peaks = peak_memory(client)
                out["workers"] = list(peaks["workers"].values())
                out["scheduler"] = peaks["scheduler"]
        else:
            from plebiscite.compute.cluster import DaskRunner, connect, peak_memory

            with connect("local:2") as client:
                runner = DaskRunner(client, 2)
                before = sum(client.run(_cpu).values())
                et = streamed(client, runner)
                out["workers_cpu"] = sum(client.run(_cpu).values()) - before
                peaks = peak_memory(client)
                out["workers"] = list(peaks["workers"].values())
                out["scheduler"] = peaks["scheduler"]
        if "seconds" not in out:  # the ways timed here (the others time themselves)
            out["seconds"], out["cpu"] = time.perf_counter() - t, _cpu() - c
    finally:
        board.close()
    out["tally"] = et.json()[0].decode()
    out["server"] = _peak()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--voters", default="10000,100000")
    ap.add_argument("--ways", default=",".join(DEFAULT_WAYS))
    ap.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="the ways run this many times in turn (every other round in reverse)",
    )
    ap.add_argument(
        "--one", nargs=4, metavar=("WAY", "DB", "UUID", "BALLOTS"), help=argparse.SUPPRESS
    )
    args = ap.parse_args()
    if args.one:
        way, db, uuid, ballots = args.one
        json.dump(one_way(way, db, uuid, int(ballots)), sys.stdout)
        return
    ways = args.ways.split(",")
    if args.rounds < 1:
        raise SystemExit("--rounds: at least 1")
    print(f"load average: {load()}; {os.cpu_count()} cores")
    for voters in (int(v) for v in args.voters.split(",")):
        revotes = voters // 50
        ballots = voters + revotes
        archive = generated(voters, revotes)
        db, uuid, tally = board_of(archive, voters)
        print(f"\n{ballots} ballots ({voters} voters, {revotes} revotes), board {db}")
        shares: dict[str, list[float]] = {}
        for r in range(args.rounds):
            if args.rounds > 1:
                print(f"  round {r + 1} of {args.rounds} (load average: {load()})")
            # every other round in the reverse order: a steady drift of the machine's speed
            # weighs on both sides of the ratios alike over two rounds
            order = ways if r % 2 == 0 else ways[::-1]
            times = {way: run_way(way, db, uuid, ballots, tally) for way in order}
            for way, s in sorted(times.items(), key=lambda x: ways.index(x[0])):
                if "sequential" in times and way != "sequential":
                    print(f"  {WAYS[way]:36} x{times['sequential'] / s:.2f} the sequential")
                if "here" in times and way in TWO_WORKERS:
                    share = times["here"] / (2 * s)
                    shares.setdefault(way, []).append(share)
                    print(f"  {WAYS[way]:36} {share:.2f} of twice the one process's")
        if args.rounds > 1:
            for way, got in shares.items():
                listed = ", ".join(f"{x:.2f}" for x in got)
                print(f"  {WAYS[way]:36} of twice one process: {listed}; median "
                      f"{statistics.median(got):.2f}")  # fmt: skip


def run_way(way: str, db: Path, uuid: str, ballots: int, tally: bytes) -> float:
    """One way's tally in a fresh process, printed; its wall time."""
    p = subprocess.run(
        [sys.executable, __file__, "--one", way, str(db), uuid, str(ballots)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if p.returncode != 0:
        raise SystemExit(f"{way} failed:\n{p.stderr[-3000:]}")
    got = json.loads(p.stdout)
    assert got["tally"].encode() == tally, f"{way}: not the archive's tally"
    s: float = got["seconds"]
    cpu = f"CPU server {got['cpu']:.1f} s"
    if "scheduler_cpu" in got:
        cpu += f", scheduler {got['scheduler_cpu']:.2f} s ({got['scheduler_idle']:.2f} s idle)"
    if "workers_cpu" in got:
        cpu += f", workers {got['workers_cpu']:.1f} s"
    mem = f"server {_mib(got['server'])}"
    if "workers" in got:
        mem += ", workers " + " / ".join(_mib(w) for w in got["workers"][:2])
    if "scheduler" in got:
        mem += f", scheduler {_mib(got['scheduler'])}"
    if "serial" in got:
        a, b = got["serial"]
        cpu += f"; serial: {a:.2f} s to the first range, {b:.2f} s after the last"
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(got["kinds"].items(), key=lambda x: -x[1]))
        cpu += f"; {got['tasks']} tasks ({kinds})"
        spans = sorted(got["phases"].items(), key=lambda x: x[1])
        cpu += "; workers idle (receiving) " + ", ".join(
            f"{i:.2f} s ({m:.2f} s)" for i, m in got["idle"]
        )
        cpu += "; from the start: " + ", ".join(f"{k} {a:.2f}-{b:.2f} s" for k, (a, b) in spans)
    if "at_once" in got:
        cpu += f"; one of {got['at_once']} boards closed at once"
    print(f"  {WAYS[way]:36} {s:7.2f} s {ballots / s:6.0f} ballots/s", flush=True)
    print(f"  {'':36} {cpu}; peak RSS {mem}", flush=True)
    return s


if __name__ == "__main__":
    main()
