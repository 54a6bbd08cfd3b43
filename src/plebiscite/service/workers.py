"""Where the server's tally runs: the runner of the partitioned reduce
(:class:`plebiscite.protocol.reduce.Runner`) that computes a closing region's encrypted tally
(:func:`plebiscite.protocol.tally.encrypted_tally_on`), the pipeline of ``plebiscite verify``.

Given a runner (``plebiscite serve --cluster``: a Dask cluster's, made by
:mod:`plebiscite.compute.cluster`, which this layer does not import) every tally runs on it.
Without one, the map step runs on ``jobs`` local worker processes (default: every core) and
the reduce in the server's process; a board of fewer than ``small`` ballots is tallied in the
calling thread (the same map and reduce, here: worker processes would cost more than they
save). A tally on worker processes or on the cluster has its tasks read the board's ballots
themselves, by ranges of the board's members (:mod:`plebiscite.service.tallyread`): the
server's process reads only the board's start. The worker processes are started with
``spawn`` (the server has threads: a fork could
copy a lock held by one of them) the first time a large board closes, and kept.

A referendum's regions (a poll's shards) are closed :attr:`TallyWorkers.at_once` at a time:
on a cluster one for every :data:`THREADS_A_CLOSE` of its worker threads (a board's tally
leaves workers idle in its serial parts, the Setup read and the partitions' end, and a
shard of 100,000 ballots sized for 8 threads has 64 ranges), each tally sized for its share
of the threads; elsewhere one after the other (local worker processes are already all busy
with one board).
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

from plebiscite.protocol.reduce import PartitionState, PoolRunner, Runner

__all__ = ["SMALL_BOARD", "THREADS_A_CLOSE", "TallyWorkers"]

#: the ballots of a board below which its tally is computed in the calling thread
SMALL_BOARD = 2000
#: the cluster's worker threads for each region closed at once
THREADS_A_CLOSE = 8


class TallyWorkers:
    """The runner of each tally: ``runner`` when given (a cluster's), else local worker
    processes (``jobs``, default every core; 1: none) for boards of ``small`` ballots or
    more."""

    def __init__(
        self,
        runner: Runner | None = None,
        *,
        jobs: int = 0,
        small: int = SMALL_BOARD,
        new_partition: Callable[[], PartitionState] | None = None,
        at_once: int | None = None,
    ) -> None:
        self.runner = runner
        #: the regions closed at once (None: one for every THREADS_A_CLOSE of the cluster's
        #: threads, or one without a cluster)
        self.at_once = at_once if at_once is not None else (
            1 if runner is None else max(1, runner.width // THREADS_A_CLOSE)
        )  # fmt: skip
        #: makes a large board's partitions' states where they live (the server gives
        #: :func:`plebiscite.compute.spill.disk_partition`: their runs on that disk); None:
        #: in memory
        self.new_partition = new_partition
        self.jobs = max(1, jobs or os.cpu_count() or 1)
        self.small = small
        #: where the workers open the board (None: the server's board's own location)
        self.board_location: str | None = None
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    @property
    def where(self) -> str:
        """Where the tallies run, for the messages."""
        if self.runner is not None:
            return f"the cluster ({self.runner.width} workers)"
        if self.jobs > 1:
            return f"{self.jobs} local worker processes"
        return "the server's process"

    def runner_for(self, ballots: int) -> Runner:
        """The runner of a board of about ``ballots`` ballots: on a cluster closing
        :attr:`at_once` regions, its share of the cluster's threads (its ranges, partitions
        and rounds sized for those: fewer tasks for the scheduler than a tally sized for the
        whole cluster, on which the others run too)."""
        if self.runner is not None:
            if self.at_once > 1:
                return _Share(self.runner, max(1, self.runner.width // self.at_once))
            return self.runner
        if self.jobs <= 1 or ballots < self.small:
            return PoolRunner(None, 1)
        with self._lock:
            if self._pool is None:
                self._pool = concurrent.futures.ProcessPoolExecutor(
                    self.jobs, mp_context=multiprocessing.get_context("spawn")
                )
            return PoolRunner(self._pool, self.jobs)

    def reads_board(self, ballots: int) -> bool:
        """Whether the tasks of a board of about ``ballots`` ballots run elsewhere (on the
        cluster, on worker processes), where they read the board themselves."""
        return self.runner is not None or (self.jobs > 1 and ballots >= self.small)

    def close(self) -> None:
        """Stop the local worker processes (a cluster's runner is its owner's to close)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


class _Share:
    """A runner's share of its workers: its steps run on ``runner``, sized for ``width``."""

    def __init__(self, runner: Runner, width: int) -> None:
        self.runner, self._width = runner, width

    @property
    def width(self) -> int:
        return self._width

    def map(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self.runner.map(fn, *args)

    def reduce(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self.runner.reduce(fn, *args)

    def item(self, handle: Any, i: int) -> Any:
        return self.runner.item(handle, i)

    def parts(self, maps: Sequence[Any], states: Sequence[Any]) -> list[list[Any]]:
        return self.runner.parts(maps, states)

    def wait(self, handle: Any) -> None:
        self.runner.wait(handle)

    def wait_first(self, handles: Sequence[Any]) -> Any:
        return self.runner.wait_first(handles)

    def result(self, handle: Any) -> Any:
        return self.runner.result(handle)
