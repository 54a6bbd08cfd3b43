"""Ballot verification on a Dask cluster: the map step and the partitioned reduce.

What runs where:

- the client (the process that calls :func:`verify_on_cluster`) reads the archive's start
  (the header, the setup) and, after the ballots, its end (the tally, the shuffles, the
  decryptions, the result) by an index of those parts only, and verifies them; the public
  credentials' membership is checked by tasks
  (:func:`~plebiscite.protocol.messages.first_non_member`);
- the election and the weights go to the cluster once (a task's result every task depends
  on), not with every task;
- each map task scans a byte range of the ballots (:func:`scan_range_at`,
  :mod:`plebiscite.protocol.scan`): it opens the archive at its path, reads its range, walks
  its members, checks every event and each ballot's hash (nothing it finds is trusted: the
  client links the ranges' edges and their chains, and reads the archive itself wherever they
  do not link), verifies the signature and every proof and routes the outcomes into the
  partitions (:func:`~plebiscite.protocol.reduce.route_result`); with ``scan=None`` the client
  indexes the whole archive and sends chunks of index entries instead (:func:`map_ballots_at`);
- the reduce (:class:`DaskRunner`): P partitions (from the ballots), each partition's state
  made on a worker and growing there a round of chunks at a time, its records beyond a bound
  written to that worker's disk as sorted runs (:mod:`plebiscite.compute.spill`), and at the
  end each partition's product, counts and findings are merged in a tree of tasks
  (:mod:`plebiscite.protocol.reduce`); the client fetches the root, never a record per ballot.

The workers must see the archive at the same absolute path (one machine, or a shared
filesystem) or read it by URL. A worker that dies mid-run has its tasks, and the partitions'
states it held, made again by the scheduler on another worker from their lineage; a task that
fails for good raises :class:`ClusterError`: no verdict is given then.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import operator
import re
import threading
import uuid
import weakref
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar, cast

from plebiscite.compute.spill import disk_partition
from plebiscite.protocol.ballot import BallotSetup, ChunkResult, verify_ballot_members
from plebiscite.protocol.reduce import collector_paused
from plebiscite.protocol.roll import roll_range
from plebiscite.protocol.scan import ScanSummary, scan_range
from plebiscite.protocol.verifier import MapStepError, Verifier

if TYPE_CHECKING:
    from distributed import Client

    from plebiscite.protocol.archive import IndexEntry
    from plebiscite.protocol.reduce import Part, PartitionState
    from plebiscite.protocol.report import Report

__all__ = [
    "CHUNK_BALLOTS",
    "CHUNK_BYTES",
    "PINNED",
    "ClusterError",
    "DaskRunner",
    "cluster_verifier",
    "connect",
    "dashboard",
    "executor_of",
    "is_url",
    "map_ballots_at",
    "on_own_thread",
    "open_archive",
    "parse_address",
    "peak_memory",
    "roll_range_at",
    "run_on_cluster",
    "scan_range_at",
    "verify_on_cluster",
]

# a task's chunk of ballots, at most: a task costs the scheduler about as much whatever its
# size, so a cluster's are larger than a process pool's (32 ballots, 1 MiB); two in flight
# per worker thread
CHUNK_BALLOTS = 256
CHUNK_BYTES = 4 << 20

# the scan step (scan_range_at): (location, setup, partitions, timestamp, start, end)
ScanAt = Callable[[str, BallotSetup, int, int, int, int], tuple[ScanSummary, tuple[Any, ...]]]

_LOCAL = re.compile(r"local:([1-9][0-9]{0,3})\Z")
_REMOTE = re.compile(r"(tcp|tls)://[^\s/]+:[0-9]{1,5}\Z")


class ClusterError(Exception):
    """The cluster could not be used (unreachable scheduler, a task that failed for good):
    the verification gave no verdict."""


class WorkerReadError(Exception):
    """A worker could not open or read the archive (not an OSError: the verifier would take
    that for an unreadable archive, an INVALID verdict)."""


def parse_address(address: str) -> tuple[str, int | str]:
    """``local:N`` (a LocalCluster of N single-threaded worker processes) or
    ``tcp://HOST:PORT`` (``tls://`` too: a running scheduler)."""
    m = _LOCAL.match(address)
    if m:
        return "local", int(m.group(1))
    if _REMOTE.match(address):
        return "remote", address
    raise ClusterError(
        f"cluster address {address!r} is neither local:N (N from 1 to 9999 worker processes) "
        "nor tcp://HOST:PORT (a running Dask scheduler)"
    )


_URL = re.compile(r"[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def is_url(location: str) -> bool:
    """Whether ``location`` is a URL (``https://...``, ``s3://...``), not a local path."""
    return _URL.match(location) is not None


def open_archive(location: str) -> BinaryIO:
    """The archive at ``location`` opened for reading: a local path, or a URL read through
    fsspec (``http(s)://`` by range requests, ``file://``, an object store's scheme when its
    fsspec package is installed); seeking reads only what is asked for."""
    if not is_url(location):
        return open(location, "rb")
    try:
        import fsspec
    except ImportError:
        raise OSError(
            f"{location}: reading an archive by URL needs fsspec: pip install 'plebiscite[cluster]'"
        ) from None
    try:
        f = fsspec.open(location, "rb").open()
    except (ImportError, ValueError) as e:  # no filesystem for the scheme, a malformed URL
        raise OSError(f"{location}: cannot be read ({e})") from None
    return cast(BinaryIO, f)


def map_ballots_at(
    location: str, setup: BallotSetup, chunk: list[tuple[int, str, IndexEntry]]
) -> ChunkResult:
    """The map step on a worker: the ballots of ``chunk`` read from their byte ranges of the
    archive at ``location`` (an absolute path, or a URL: see :func:`open_archive`), checked
    against their hashes and verified."""
    try:
        with open_archive(location) as stream:
            return verify_ballot_members(setup, stream, chunk)
    except OSError as e:
        raise WorkerReadError(f"a worker cannot read the archive {location}: {e}") from None


def scan_range_at(
    location: str, setup: BallotSetup, parts: int, timestamp: int, start: int, end: int
) -> tuple[ScanSummary, tuple[Part, ...]]:
    """The scan step on a worker (:func:`~plebiscite.protocol.scan.scan_range`): the byte
    range ``[start, end)`` of the archive at ``location`` read, its ballots verified and
    routed into ``parts`` partitions."""
    try:
        with open_archive(location) as stream:
            return scan_range(setup, parts, timestamp, stream, start, end)
    except OSError as e:
        raise WorkerReadError(f"a worker cannot read the archive {location}: {e}") from None


def roll_range_at(
    location: str, election_raw: bytes, parts: int, start: int, size: int, first: bool, last: bool
) -> tuple[Any, ...]:
    """A piece of the public credential list on a worker
    (:func:`~plebiscite.protocol.roll.roll_range`): the ``size`` bytes at ``start`` of the
    archive at ``location`` read, parsed, checked and routed into ``parts`` partitions."""
    try:
        with open_archive(location) as stream:
            stream.seek(start)
            raw = stream.read(size)
    except OSError as e:
        raise WorkerReadError(f"a worker cannot read the archive {location}: {e}") from None
    if len(raw) != size:
        raise WorkerReadError(f"a worker cannot read the archive {location}: it is shorter")
    return roll_range(election_raw, parts, raw, first, last)


_T = TypeVar("_T")


def on_own_thread(fn: Callable[[], _T]) -> _T:
    """``fn()`` run on a new thread, this one waiting (how :class:`DaskRunner` runs every map
    step): the map step's native arithmetic then runs near the top of a stack of its own. Its
    cost depends on where the stack stands (a membership check takes from 23 to 33 us on
    this project's test machine, as the depth of the calls above it varies), and a Dask
    worker's task thread runs deep in Dask's own calls: a range's scan took 3.2 s there and
    2.7 s on a new thread (the cost of one: tens of us)."""
    out: list[_T] = []
    err: list[BaseException] = []

    def run() -> None:
        try:
            out.append(fn())
        except BaseException as e:  # raised again on the caller's thread
            err.append(e)

    t = threading.Thread(target=run, name="plebiscite-map", daemon=True)
    t.start()
    t.join()
    if err:
        raise err[0]
    return out[0]


@contextlib.contextmanager
def connect(address: str, *, timeout: float = 10.0) -> Iterator[Client]:
    """A Dask client on the cluster ``address`` (see :func:`parse_address`), closed (and a
    local cluster stopped) on exit. Raises :class:`ClusterError` naming the address when the
    scheduler cannot be reached within ``timeout`` seconds."""
    kind, where = parse_address(address)
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ClusterError(
            "--cluster needs Dask: pip install 'plebiscite[cluster]' (dask[distributed])"
        ) from None
    if kind == "local":
        assert isinstance(where, int)
        import dask

        with (
            dask.config.set(LOCAL_CONFIG),  # each worker process takes it too
            LocalCluster(
                n_workers=where,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
                silence_logs=logging.ERROR,
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client
        return
    try:
        client = Client(str(where), timeout=timeout)
    except (OSError, TimeoutError) as e:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {e}") from None
    with client:
        try:
            client.wait_for_workers(1, timeout=timeout)
        except (OSError, TimeoutError):
            raise ClusterError(
                f"the Dask scheduler at {address} has no worker (none came in {timeout:g} s)"
            ) from None
        yield client


def executor_of(client: Client) -> tuple[Executor, int]:
    """A :class:`concurrent.futures.Executor` running its tasks on the cluster, and its width
    (the workers' threads together)."""
    workers = sum(client.nthreads().values())
    if workers == 0:
        raise ClusterError(
            f"the Dask scheduler at {client.scheduler_info()['address']} has no worker"
        )
    return client.get_executor(pure=False), workers


def dashboard(client: Client) -> str:
    """The address of the cluster's dashboard, or why there is none."""
    if "dashboard" not in client.scheduler_info().get("services", {}):
        return "none (the scheduler serves no dashboard: it needs bokeh)"
    return str(client.dashboard_link)


def verify_on_cluster(
    path: Path | str,
    client: Client,
    *,
    name: str = "",
    progress: Callable[[int], None] | None = None,
    map_ballots: Callable[
        [str, BallotSetup, list[tuple[int, str, IndexEntry]]], ChunkResult
    ] = map_ballots_at,
    chunk_size: int = CHUNK_BALLOTS,
    new_partition: Callable[[], PartitionState] = disk_partition,
    scan: ScanAt | None = scan_range_at,
    scan_bytes: int | None = None,
) -> Report:
    """Verify the archive at ``path`` (a local path, or a URL that every worker reads its own
    byte ranges of: see :func:`open_archive`), its ballots on the cluster's workers, the rest
    here: the same report as :class:`~plebiscite.protocol.verifier.Verifier` with a process
    pool. ``map_ballots`` is the task (:func:`map_ballots_at`: the archive's absolute path or
    URL, the setup, a chunk); ``new_partition`` makes each partition's state on the worker that
    holds it (:func:`~plebiscite.compute.spill.disk_partition`: runs spilled to its disk beyond
    a bound). ``scan`` (:func:`scan_range_at`): the ballots verified a byte range at a time
    where each range is read (:mod:`plebiscite.protocol.scan`: no index of the archive here),
    ranges of ``scan_bytes`` (None: from the archive's size and the workers); None: read here
    by an index, sent in chunks to ``map_ballots``. Raises :class:`ClusterError` when the
    cluster fails: no verdict then."""
    verifier = cluster_verifier(
        path,
        client,
        name=name,
        progress=progress,
        map_ballots=map_ballots,
        chunk_size=chunk_size,
        new_partition=new_partition,
        scan=scan,
        scan_bytes=scan_bytes,
    )
    return run_on_cluster(verifier)


def cluster_verifier(
    path: Path | str,
    client: Client,
    *,
    name: str = "",
    progress: Callable[[int], None] | None = None,
    map_ballots: Callable[
        [str, BallotSetup, list[tuple[int, str, IndexEntry]]], ChunkResult
    ] = map_ballots_at,
    chunk_size: int = CHUNK_BALLOTS,
    new_partition: Callable[[], PartitionState] = disk_partition,
    scan: ScanAt | None = scan_range_at,
    scan_bytes: int | None = None,
) -> Verifier:
    """The verifier of :func:`verify_on_cluster`, not yet run (:func:`run_on_cluster`): for a
    caller that reads more than the report from it (the roll, the election)."""
    workers = sum(client.nthreads().values())
    if workers == 0:
        raise ClusterError(
            f"the Dask scheduler at {client.scheduler_info()['address']} has no worker"
        )
    executor = client.get_executor(pure=False)
    location = str(path) if isinstance(path, str) and is_url(path) else str(Path(path).resolve())
    return Verifier(
        lambda: open_archive(location),
        executor=executor,
        workers=workers,
        map_ballots=functools.partial(map_ballots, location),
        scan=None if scan is None else functools.partial(scan, location),
        roll=None if scan is None else functools.partial(roll_range_at, location),
        partitions=DaskRunner(client, workers),
        new_partition=new_partition,
        # the election and the weights sent once: a task's result that every chunk's task
        # depends on (made again by the scheduler if the workers holding it die)
        share_setup=lambda setup: client.submit(_identity, setup, pure=False),
        name=name or str(path),
        progress=progress,
        chunk_size=chunk_size,
        chunk_bytes=CHUNK_BYTES,
        scan_bytes=scan_bytes,
    )


class DaskRunner:
    """The partitioned reduce's runner (:class:`plebiscite.protocol.reduce.Runner`) on a Dask
    cluster: the map and the reduce are tasks, the partitions' states stay on the workers,
    and the client fetches only what the end of the reduce gives. A step made from nothing (a
    new partition's state) is placed on the next worker thread in turn, and a step on what
    such a step gave (the state's next round, its end) runs on the same worker: a state never
    moves (its runs on that worker's disk with it) but when that worker is gone. A task whose
    worker dies is run again from its lineage elsewhere (the chunks' index entries: the
    ballots are read again from the archive). Threads may share one (the server's regions
    closed at once): Dask's client takes tasks from any thread."""

    def __init__(self, client: Client, width: int) -> None:
        self.client = client
        self._width = width
        self._nthreads = dict(client.nthreads())
        self._threads = [w for w, n in sorted(self._nthreads.items()) for _ in range(n)]
        self._turn = 0
        self._pinned: dict[Any, str] = {}  # a reduce step's key: the worker it runs on
        self._busy = dict.fromkeys(self._nthreads, 0)  # a worker's map steps not yet done
        self._lock = threading.Lock()
        self._unstealable_names: set[str] = set()

    @property
    def width(self) -> int:
        return self._width

    def _unstealable(self, key: str) -> None:
        """The scheduler's work stealing told never to move the tasks named as ``key`` is (a
        step on a partition's state: stolen, it would take the state to another worker, its
        runs read from disk and sent with it). Its restriction to the state's worker is loose,
        so that the step runs elsewhere when that worker is gone; Dask's stealing moves such
        a task to any worker, but never one whose name is among its ``fast_tasks``. Only the
        names of these steps are added there (``plebiscite-pinned-...``): the scheduler's
        other work is stolen as before. A scheduler where that cannot be done (another version
        of Dask) still gives the same verdict, with states moved."""
        from dask.utils import key_split

        name = key_split(key)
        if name in self._unstealable_names:
            return
        self._unstealable_names.add(name)
        with contextlib.suppress(Exception):
            self.client.run_on_scheduler(_mark_unstealable(name))

    def map(self, fn: Callable[..., Any], *args: Any) -> Any:
        key = _key(fn)
        if not self._busy:
            return self.client.submit(_boxed_on_own_thread, fn, *args, key=key, pure=False)
        # on the worker with the fewest map steps a thread (not where the inputs are: every
        # step takes the election's shared setup, and the scheduler would put them all where
        # it lies); another worker if that one is gone
        with self._lock:
            where = min(self._busy, key=lambda w: self._busy[w] / self._nthreads[w])
            self._busy[where] += 1
        future = self.client.submit(
            _boxed_on_own_thread, fn, *args, key=key, pure=False, workers=[where],
            allow_other_workers=True,
        )  # fmt: skip
        future.add_done_callback(functools.partial(self._done, where))
        return future

    def _done(self, where: str, _future: Any) -> None:
        with self._lock:
            self._busy[where] -= 1

    def reduce(self, fn: Callable[..., Any], *args: Any) -> Any:
        if args:
            where = self._pinned.get(getattr(args[0], "key", None))
        elif self._threads:
            with self._lock:  # threads share the runner (regions closed at once)
                where = self._threads[self._turn % len(self._threads)]
                self._turn += 1
        else:
            where = None
        taken = tuple(a.i if isinstance(a, _Slice) else None for a in args)
        if any(i is not None for i in taken):  # items of tuples, taken where the step runs
            handles = (a.handle if isinstance(a, _Slice) else a for a in args)
            args = (_boxed_taking, fn, taken, *handles)
        else:
            args = (_boxed, fn, *args)
        if where is None:
            return self.client.submit(*args, key=_key(fn), pure=False)
        key = _key(fn, PINNED)
        self._unstealable(key)
        future = self.client.submit(
            *args, key=key, pure=False, workers=[where], allow_other_workers=True
        )
        self._pinned[future.key] = where
        # forgotten with its handle (no later step can take it): a server's runner lives on
        weakref.finalize(future, self._pinned.pop, future.key, None)
        return future

    def item(self, handle: Any, i: int) -> Any:
        key = _key(operator.getitem)
        return self.client.submit(_boxed, operator.getitem, handle, i, key=key, pure=False)

    def parts(self, maps: Sequence[Any], states: Sequence[Any]) -> list[list[Any]]:
        """The parts of each map for the partitions, moved as few times as can be: a state's
        step takes the parts of a map on its own worker from the map's whole value, and
        those on another worker from one task on that worker that selects the parts of every
        partition the state's worker holds (one value sent, not one a partition). A task a
        map and a partition would cost the scheduler, at a million ballots on two workers,
        six tasks and three values sent a map; it is now one of each. A worker whose states
        take half the parts or more takes them from the map's whole value, sent there (twice
        the bytes of its parts at most, and no task: a task costs the scheduler about a
        millisecond, as much as some hundreds of kilobytes sent). Where a state's worker is
        not known (a state still to be made), its part is an item of its own."""
        holders = [self._pinned.get(getattr(s, "key", None)) for s in states]
        if not maps or not any(holders):
            return [[self.item(m, p) for m in maps] for p in range(len(states))]
        try:  # where each map's value is (they have all run)
            at = {k: set(v) for k, v in self.client.who_has(list(maps)).items()}
        except Exception:
            at = {}
        out: list[list[Any]] = [[] for _ in states]
        for m in maps:
            here = at.get(m.key, set())
            elsewhere: dict[str, list[int]] = {}
            for p, holder in enumerate(holders):
                if holder is None:
                    out[p].append(self.item(m, p))
                elif holder in here:
                    out[p].append(_Slice(m, p))
                else:
                    elsewhere.setdefault(holder, []).append(p)
            for ps in elsewhere.values():
                if 2 * len(ps) >= len(states):  # half the parts or more: the whole value
                    for p in ps:
                        out[p].append(_Slice(m, p))
                    continue
                chosen = self.client.submit(
                    _boxed, _select, m, tuple(ps), key=_key(_select), pure=False
                )
                for k, p in enumerate(ps):
                    out[p].append(_Slice(chosen, k))
        return out

    def wait(self, handle: Any) -> None:
        from distributed import wait

        wait([handle])
        if handle.status == "error":
            handle.result()  # raises the task's error

    def wait_first(self, handles: Sequence[Any]) -> Any:
        from distributed import wait

        wait(list(handles), return_when="FIRST_COMPLETED")
        first = next(h for h in handles if h.done())
        if first.status == "error":
            first.result()  # raises the task's error
        return first

    def result(self, handle: Any) -> Any:
        return cast(_Box, handle.result()).value


def run_on_cluster(verifier: Verifier) -> Report:
    """Run a :func:`cluster_verifier`; :class:`ClusterError` when the cluster fails."""
    try:
        return verifier.run()
    except MapStepError as e:
        from distributed import KilledWorker

        cause = e.__cause__
        if isinstance(cause, WorkerReadError):
            raise ClusterError(str(cause)) from None
        if isinstance(cause, KilledWorker):
            raise ClusterError(
                f"a task failed on every worker that ran it ({cause}): no verdict"
            ) from None
        raise ClusterError(f"the Dask cluster gave no verdict: {e}") from None


#: the configuration of a ``local:N`` cluster (its scheduler's and each worker's); a cluster
#: of one's own runs as fast with the same (README: "Dask"). The workers' statistical profiler
#: off (it samples every thread every 10 ms: CPU the map step does not get); no work stealing
#: (it would move a partition's state, its runs read from one worker's disk and written to
#: another's, to run a step elsewhere; the map steps are placed by DaskRunner); Dask's own
#: periodic work less often (the event loops' health check, the system and memory monitors:
#: a tenth of a core in the process of the scheduler and the nannies, and as much on each
#: worker, whatever the tasks; at 102,000 ballots of a tally a quarter of the scheduler's CPU
#: and a fifth of the workers' event loops' were theirs)
LOCAL_CONFIG: dict[str, Any] = {
    "distributed.worker.profile.enabled": False,
    "distributed.scheduler.work-stealing": False,
    "distributed.admin.tick.interval": "500ms",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
}

#: the start of the keys of the steps that run where a partition's state is
PINNED = "plebiscite-pinned-"


def _key(fn: Callable[..., Any], prefix: str = "") -> str:
    """A task's key, named after its step (the dashboard's and the task stream's names), not
    after the wrapper that runs it."""
    from dask.utils import funcname

    return f"{prefix}{funcname(fn)}-{uuid.uuid4().hex}"


def _mark_unstealable(name: str) -> Callable[..., bool]:
    """What the scheduler runs to never steal the tasks called ``name``: a closure, sent by
    value (a scheduler need not have plebiscite installed)."""

    def mark(dask_scheduler: Any = None) -> bool:
        from distributed import stealing

        fast = getattr(stealing, "fast_tasks", None)
        if not isinstance(fast, set):
            return False
        fast.add(name)
        return True

    return mark


class _Box:
    """A task's value as :class:`DaskRunner` gives it to Dask: pickled whole, in one call.
    Dask serialises a tuple or a list whose first element is bytes (a part's digests) element
    by element, each with a header of its own: 318 ms for the part of a range of 1,275 ballots
    where pickle takes 1.9 ms, 14% of a worker's time."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __reduce__(self) -> tuple[type[_Box], tuple[Any]]:
        return _Box, (self.value,)


def _unboxed(args: tuple[Any, ...]) -> list[Any]:
    return [a.value if isinstance(a, _Box) else a for a in args]


def _boxed(fn: Callable[..., Any], *args: Any) -> _Box:
    return _Box(collector_paused(fn, *_unboxed(args)))


class _Slice:
    """Item ``i`` of the tuple a future gives, as :meth:`DaskRunner.parts` gives it to a
    step: no task of its own, taken where the step runs."""

    __slots__ = ("handle", "i")

    def __init__(self, handle: Any, i: int) -> None:
        self.handle, self.i = handle, i


def _select(value: Sequence[Any], items: tuple[int, ...]) -> tuple[Any, ...]:
    return tuple(value[i] for i in items)


def _boxed_taking(fn: Callable[..., Any], taken: tuple[int | None, ...], *args: Any) -> _Box:
    values = [v if i is None else v[i] for v, i in zip(_unboxed(args), taken, strict=True)]
    return _Box(collector_paused(fn, *values))


def _boxed_on_own_thread(fn: Callable[..., Any], *args: Any) -> _Box:
    return _Box(on_own_thread(functools.partial(collector_paused, fn, *_unboxed(args))))


def _identity(value: BallotSetup) -> BallotSetup:
    return value


def _peak_rss() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def peak_memory(client: Client) -> dict[str, Any]:
    """The peak resident memory (bytes) of this process, of the scheduler and of each worker,
    as each process's ``getrusage`` gives it."""
    return {
        "client": _peak_rss(),
        "scheduler": client.run_on_scheduler(_peak_rss),
        "workers": client.run(_peak_rss),
    }
