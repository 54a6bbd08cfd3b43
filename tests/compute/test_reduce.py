"""The partitioned reduce (plebiscite.protocol.reduce) against the board-order reduce it
replaces: the same ballots counted, the same product, the same findings, whatever the chunks,
the rounds, their order and the number of partitions; then the whole verification on separate
``dask scheduler`` and ``dask worker`` processes, a generated election with revotes, and one
of the workers killed while the partitions' states are on it."""

from __future__ import annotations

import contextlib
import functools
import gc
import io
import json
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexed_cases import VECTORS
from plebiscite.cli.main import main
from plebiscite.compute.generate import Plan, generate_archive
from plebiscite.compute.spill import DiskSpill, disk_partition
from plebiscite.protocol import reduce as reduce_module
from plebiscite.protocol.ballot import BallotOutcome, BallotSetup, ChunkResult, election_context
from plebiscite.protocol.reduce import (
    FAN_IN,
    Listed,
    MemorySpill,
    Partial,
    PartitionState,
    PoolRunner,
    absorb,
    collector_paused,
    combine,
    finish,
    part_of,
    reused,
    route_result,
    shared_digests,
)
from plebiscite.protocol.setup import read_setup

DASK = Path(sys.executable).parent / "dask"

with (VECTORS / "belenios3/ed25519.bel").open("rb") as _f:
    SETUP = BallotSetup(read_setup(_f).election, None, per_ballot=True)
ELECTION, CTX = election_context(SETUP.election_raw)
SIZE = sum(q.size for q in ELECTION.questions if q.homomorphic)
LISTED = {"A": 1, "B": 2, "C": 1, "D": 3}  # "X" and "Y" are not on the list
POINTS = [CTX.gpow(k + 2) for k in range(8)]


def _ballots(draw: st.DrawFn) -> list[BallotOutcome]:
    n = draw(st.integers(0, 40))
    out = []
    for h in range(1, n + 1):
        cred = draw(st.sampled_from("ABCDXY"))
        if draw(st.integers(0, 9)) == 0:
            out.append(BallotOutcome(h, f"e{h}", f"t{h}", cred, ("proof", "bad", "here")))
            continue
        # digests from a small pool: reuse, within and across credentials, is frequent
        digests = tuple(
            bytes([draw(st.integers(0, 30))]) * 16 for _ in range(draw(st.integers(1, 3)))
        )
        cts = tuple(
            (POINTS[(h + j) % 8], POINTS[(3 * h + j) % 8]) for j in range(SIZE)
        )  # fmt: skip
        out.append(BallotOutcome(h, f"e{h}", f"t{h}", cred, None, digests, (), cts))
    return out


ballots = st.composite(_ballots)


def _chunk(outcomes: list[BallotOutcome]) -> ChunkResult:
    """The outcomes as a map step gives them: with the product of their valid ballots."""
    flat = [(CTX.one, CTX.one)] * SIZE
    for o in outcomes:
        if o.error is None:
            flat = [
                (CTX.mul(a, x), CTX.mul(b, y))
                for (a, b), (x, y) in zip(flat, o.ciphertexts, strict=True)
            ]
    product: list = []
    for q in ELECTION.questions:
        product.append(flat[: q.size] if q.homomorphic else None)
        flat = flat[q.size :] if q.homomorphic else flat
    return ChunkResult(outcomes, product)


def _in_board_order(outcomes: list[BallotOutcome]) -> tuple[list[tuple[int, int]], Partial]:
    """The reduce of the verifier in one process, in board order."""
    owner: dict[bytes, str] = {}
    last: dict[str, BallotOutcome] = {}
    findings = []
    for o in outcomes:
        if o.error is not None:
            findings.append((o.height, 0))
            continue
        assert o.credential is not None
        if o.credential not in LISTED:
            findings.append((o.height, 1))
            continue
        owners = [owner.setdefault(d, o.credential) for d in o.alpha_digests]
        if any(c != o.credential for c in owners):
            findings.append((o.height, 2))
        last[o.credential] = o
    acc = [(CTX.one, CTX.one)] * SIZE
    for o in last.values():
        acc = [
            (CTX.mul(a, x), CTX.mul(b, y))
            for (a, b), (x, y) in zip(acc, o.ciphertexts, strict=True)
        ]
    weight = sum(LISTED[c] for c in last)
    return findings, Partial([acc], len(last), weight)


def _new_state(kind: str, bound: int, directory: Path) -> PartitionState | None:
    if kind == "first round":
        return None  # made by absorb, in memory
    return PartitionState(bound, DiskSpill(directory) if kind == "disk" else MemorySpill())


@settings(max_examples=80, deadline=None)
@given(
    ballots(),
    st.integers(1, 5),
    st.sampled_from(["first round", "memory", "disk"]),
    st.integers(1, 12),
    st.data(),
)
def test_the_partitions_reduce_as_the_board_order_does(
    outcomes: list[BallotOutcome], parts: int, kind: str, bound: int, data: st.DataObject
) -> None:
    # chunks of any size, routed, absorbed in rounds of any size, in any order; the states
    # made by the first round, or spilling sorted runs (in memory or to disk) beyond a tiny
    # bound (FAN_IN runs of a level merged), moved between processes (pickled) on the way
    cuts = sorted(data.draw(st.lists(st.integers(0, len(outcomes)), max_size=6)))
    bounds = [0, *cuts, len(outcomes)]
    chunks = [route_result(_chunk(outcomes[a:b]), parts) for a, b in pairwise(bounds)]
    order = data.draw(st.permutations(range(len(chunks))))
    moved = data.draw(st.sets(st.integers(0, len(chunks))))
    batch = data.draw(st.sampled_from([1, 2, 3, reduce_module.SUM_BATCH]))
    saved, reduce_module.SUM_BATCH = reduce_module.SUM_BATCH, batch  # the products' batches
    try:
        with tempfile.TemporaryDirectory() as d:
            total = _reduce(chunks, order, moved, parts, kind, bound, Path(d))
            assert kind != "disk" or all(
                p.name.startswith("plebiscite-runs-") for p in Path(d).iterdir()
            )
    finally:
        reduce_module.SUM_BATCH = saved

    findings, expected = _in_board_order(outcomes)
    assert [(f[0], f[1]) for f in total.findings] == findings
    assert (total.counted, total.weight) == (expected.counted, expected.weight)
    homomorphic = [acc for acc in total.product if acc is not None]
    assert [ct for acc in homomorphic for ct in acc] == expected.product[0]


def _reduce(
    chunks: list, order: list[int], moved: set[int], parts: int, kind: str, bound: int, d: Path
) -> Partial:
    states: list = [_new_state(kind, bound, d) for _ in range(parts)]
    for k, i in enumerate(order):
        for p in range(parts):
            states[p] = absorb(states[p], 200, chunks[i][p])
            if k in moved:
                states[p] = pickle.loads(pickle.dumps(states[p]))
    flagged = reused(
        [occ for s in states for occ in shared_digests(s)], LISTED.__contains__
    )  # fmt: skip
    listed: list[list[str]] = [[] for _ in range(parts)]
    for c in LISTED:
        listed[part_of(c.encode(), parts)].append(c)
    partials = [
        finish(s, SETUP, Listed.of(listed[p], LISTED), flagged, 200) for p, s in enumerate(states)
    ]
    total = partials[0]
    for other in partials[1:]:
        total = combine(SETUP, 200, total, other)
    return total


def test_runs_merge_by_level_and_leave_no_file(tmp_path: Path) -> None:
    """Beyond FAN_IN runs of a level they are merged into one of the next: a partition's
    runs stay few; its files go with the state."""
    outcomes = [
        BallotOutcome(h, f"e{h}", f"t{h}", f"c{h % 7}", None, (bytes([h % 251]) * 16,), (),
                      tuple((POINTS[h % 8], POINTS[(h + 1) % 8]) for _ in range(SIZE)))
        for h in range(1, 400)
    ]  # fmt: skip
    state = PartitionState(2, DiskSpill(tmp_path))
    for o in outcomes:
        absorb(state, 10, route_result(ChunkResult([o]), 1)[0])
    levels = [lv for lv, _ in state.ballot_runs]
    assert max(levels) >= 2 and all(levels.count(lv) < FAN_IN for lv in set(levels))
    seven = {f"c{k}": 1 for k in range(7)}
    partial = finish(state, SETUP, Listed.of(seven, seven), set(), 10)
    assert (partial.counted, partial.weight) == (7, 7)
    (directory,) = tmp_path.iterdir()
    assert len(list(directory.iterdir())) == len(state.ballot_runs) + len(state.digest_runs)
    del state
    gc.collect()
    assert list(tmp_path.iterdir()) == []


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(st.text("0123456789abcdef", min_size=1, max_size=6), st.integers(1, 9)),
    st.lists(st.text("0123456789abcdef", max_size=6), max_size=20),
)
def test_listed_gives_the_weights_of_a_dict(weights: dict[str, int], asked: list[str]) -> None:
    """A partition's compact list gives what the dict gives, its credentials asked in order,
    pickled whole."""
    listed = pickle.loads(pickle.dumps(Listed.of(weights, weights)))
    assert len(listed) == len(weights) and dict(listed.items()) == weights
    weight = listed.in_order()
    assert [weight(c) for c in sorted(asked)] == [weights.get(c) for c in sorted(asked)]


def test_findings_beyond_the_limit_are_counted() -> None:
    outcomes = [BallotOutcome(h, "e", "t", "A", ("proof", "bad", "")) for h in range(1, 11)]
    state = absorb(None, 3, route_result(ChunkResult(outcomes), 1)[0])
    partial = finish(state, SETUP, Listed.of(LISTED, LISTED), set(), 4)
    assert [f[0] for f in partial.findings] == [1, 2, 3] and partial.dropped == 7


def test_a_pool_runner_takes_the_first_step_to_end_first() -> None:
    """``wait_first`` on worker threads gives a step that has run, not the oldest one still
    running; a step run here is taken at once; what a step raised is raised."""
    go = threading.Event()
    with ThreadPoolExecutor(2) as pool:
        runner = PoolRunner(pool, 2)
        slow = runner.map(go.wait, 60)
        fast = runner.map(int, "7")
        try:
            assert runner.wait_first([slow, fast]) is fast
        finally:
            go.set()
        assert runner.wait_first([slow]) is slow and runner.result(slow) is True
        with pytest.raises(ValueError):
            runner.wait_first([runner.map(int, "x")])
    here = PoolRunner(None, 1)
    done = here.map(int, "3")
    assert here.wait_first([done]) is done and here.result(done) == 3


def test_the_collector_is_paused_while_any_step_runs_and_as_it_was_after() -> None:
    """Steps at once on two threads: the collector stays paused until the last one ends,
    then runs again (or stays off, when it was off before); a step's error goes through."""
    assert gc.isenabled()
    inside, release = threading.Event(), threading.Event()

    def first() -> bool:
        inside.set()
        release.wait(10)
        return gc.isenabled()

    with ThreadPoolExecutor(1) as other:
        running = other.submit(collector_paused, first)
        assert inside.wait(10)
        assert collector_paused(gc.isenabled) is False
        assert not gc.isenabled()  # the first step still runs
        release.set()
        assert running.result() is False
    assert gc.isenabled()

    def fails() -> None:
        raise ValueError("the step's error")

    with pytest.raises(ValueError, match="the step's error"):
        collector_paused(fails)
    assert gc.isenabled()
    gc.disable()
    try:
        collector_paused(int)
        assert not gc.isenabled()
    finally:
        gc.enable()


# -- on separate scheduler and worker processes ----------------------------------------------


@pytest.fixture(scope="module")
def election(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated election with revotes, large enough for several rounds of the reduce."""
    path = tmp_path_factory.mktemp("generated") / "revotes.bel"
    with ThreadPoolExecutor(1) as one:
        generate_archive(path, Plan(voters=420, seed="reduce", revotes=60), one, 1)
    return path


@contextlib.contextmanager
def _cluster(directory: Path, workers: int) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    """A ``dask scheduler`` on a free port and ``workers`` single-threaded ``dask worker``
    processes without a nanny (a worker killed stays dead), each its own process."""
    scheduler_file = directory / "scheduler.json"
    env = os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)}
    quiet = {"env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = [
        subprocess.Popen(
            [str(DASK), "scheduler", "--port", "0", "--dashboard-address", ":0",
             "--scheduler-file", str(scheduler_file)], **quiet,  # type: ignore[call-overload]
        )
    ]  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        for _ in range(workers):
            procs.append(
                subprocess.Popen(
                    [str(DASK), "worker", "--scheduler-file", str(scheduler_file),
                     "--nthreads", "1", "--no-nanny", "--no-dashboard"], **quiet,  # type: ignore[call-overload]
                )
            )  # fmt: skip
        yield json.loads(scheduler_file.read_text())["address"], procs[1:]
    finally:
        for p in reversed(procs):
            p.terminate()
            p.wait(timeout=30)


def _run(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(args)
    return rc, out.getvalue(), err.getvalue()


def test_a_generated_election_on_a_scheduler_and_two_workers(
    election: Path, tmp_path: Path
) -> None:
    rc1, out1, err1 = _run(["verify", str(election), "--jobs", "1", "--json"])
    assert rc1 == 0, err1
    report = json.loads(out1)
    assert (report["ballots"], report["tallied"]) == (480, 420)
    with _cluster(tmp_path, 2) as (address, _):
        rc, out, err = _run(
            ["verify", str(election), "--cluster", address, "--cluster-timeout", "30", "--json"]
        )
    assert (rc, json.loads(out)) == (rc1, report), err


def test_a_worker_killed_while_it_holds_partitions(election: Path, tmp_path: Path) -> None:
    """Half-way through, once the partitions' states have absorbed rounds of chunks (of 16
    ballots here, eight chunks a round), one of
    the two workers is killed: the scheduler makes what it held again from the lineage (the
    chunks read again from the archive) and the report is that of ``--jobs 1``."""
    from distributed import Client

    from plebiscite.compute.cluster import verify_on_cluster
    from plebiscite.protocol.verifier import Verifier

    alone = Verifier(lambda: election.open("rb"), name=str(election)).run()
    with _cluster(tmp_path, 2) as (address, workers), Client(address, timeout=30) as client:
        client.wait_for_workers(2, timeout=30)
        seen = [0]

        def kill_half_way(n: int) -> None:
            seen[0] += n
            if seen[0] >= 240 and workers[0].poll() is None:
                workers[0].send_signal(signal.SIGKILL)
                workers[0].wait(timeout=30)

        report = verify_on_cluster(
            election,
            client,
            name=str(election),
            progress=kill_half_way,
            chunk_size=16,
            # runs spilled to the workers' disks every few rounds, made again with the states
            new_partition=functools.partial(disk_partition, 40),
        )
        assert workers[0].returncode == -signal.SIGKILL
        assert len(client.nthreads()) == 1
    assert report.to_json() == alone.to_json()


def test_the_steps_on_a_state_are_never_stolen(election: Path, tmp_path: Path) -> None:
    """On a scheduler with its work stealing on (the default of ``dask scheduler``), the
    steps that run where a partition's state is are named among the tasks it never steals:
    no state goes from one worker to another."""
    from distributed import Client

    from plebiscite.compute.cluster import PINNED, verify_on_cluster

    def states_sent(dask_worker: Any = None) -> list[str]:
        # the partitions' states this worker sent to another worker or to a client
        steps = (f"{PINNED}absorb-", f"{PINNED}disk_partition-")
        return [
            str(key)
            for entry in getattr(dask_worker, "transfer_outgoing_log", ())
            for key in entry.get("keys", {})
            if str(key).startswith(steps)
        ]

    def unstealable(dask_scheduler: Any = None) -> list[str]:
        from distributed import stealing

        return sorted(n for n in stealing.fast_tasks if n.startswith("plebiscite"))

    with _cluster(tmp_path, 2) as (address, _), Client(address, timeout=30) as client:
        client.wait_for_workers(2, timeout=30)
        assert client.run_on_scheduler(unstealable) == []
        report = verify_on_cluster(
            election,
            client,
            name=str(election),
            chunk_size=16,
            new_partition=functools.partial(disk_partition, 40),
        )
        assert report.valid
        names = client.run_on_scheduler(unstealable)
        sent = client.run(states_sent)
    assert "plebiscite-pinned-absorb" in names and "plebiscite-pinned-finish" in names
    assert all(keys == [] for keys in sent.values()), sent
