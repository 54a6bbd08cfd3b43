"""The reduce of ballot verification as a partitioned group-by, for a map step that runs
anywhere (worker processes, a Dask cluster) and a reduce whose memory is a partition's.

The map step (:func:`~plebiscite.protocol.ballot.verify_ballots` with
``BallotSetup.per_ballot``) gives, for every ballot of a chunk, its outcome, for a valid
ballot its homomorphic ciphertexts raised to the credential's weight, and the chunk's product
of those (given to one partition, :func:`multiply` making a range's chunks one). :func:`route_chunk`
splits a chunk's outcomes into ``P`` parts, where they are made:

- a valid ballot goes to the partition of its credential (a hash of it, :func:`part_of`), with
  its ciphertexts;
- each digest of its ciphertexts goes, with the ballot's height and credential, to the
  partition of the digest (a second partitioning: a ciphertext reused under two credentials
  meets itself in one partition, whichever partitions the credentials are in);
- an invalid ballot's error goes to the partition of its height.

Each partition's state (:class:`PartitionState`, grown by :func:`absorb` a round of chunks at
a time) holds, for its credentials, every valid ballot with its ciphertexts, and for its
digests every (digest, height, credential): which ballot is a credential's last (the largest
height: board order is the ballots' order in the archive) and which holder owns a digest (the
smallest height) is decided at the end, so the chunks may come in any order. Beyond a bound
the records are written out as sorted runs (to local disk, through the caller's
:class:`Spill`) and merged at the end, a block of each run at a time: a partition's memory does
not grow with the election. At the end the caller takes each partition's
:func:`shared_digests` (few: none in a valid archive), decides which ballots reused another
credential's ciphertext (the first ballot of a credential on the list owns it: the sequential
verifier's rule), and :func:`finish` gives each partition's :class:`Partial`: the product of
the chunks' products it was given with its ballots that do not count divided out (every
ballot of a credential but its last, every ballot of a credential not on the list: their
ciphertexts are in their records, not verified again), the number and weight counted, the
non-homomorphic ciphertexts of the last ballots and the findings, merged by :func:`combine`
in a tree. The end thus costs a division a replaced ballot, not a multiplication a counted
one.

This is exactly the tally of the specification: the product over the last valid ballot of each
credential on the list, raised to its weight; an invalid ballot (a proof, the signature) is
neither counted nor replaces the one before it.

Where these run is the caller's :class:`Runner`: :class:`PoolRunner` runs the map on a
:class:`concurrent.futures.Executor` (or here) and the reduce here; a Dask runner
(:mod:`plebiscite.compute.cluster`) runs both on the cluster, the partitions' states staying
on its workers. Nothing here imports an executor.
"""

from __future__ import annotations

import gc
import hashlib
import heapq
import itertools
import operator
import pickle
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from plebiscite.crypto.ed25519 import Point
from plebiscite.protocol.ballot import BallotOutcome, BallotSetup, ChunkResult, election_context

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from plebiscite.crypto.context import Context
    from plebiscite.crypto.group import Element
    from plebiscite.protocol.archive import IndexEntry
    from plebiscite.protocol.messages import Ciphertext

__all__ = [
    "BLOCK_RECORDS",
    "FAN_IN",
    "PARTITION_BALLOTS",
    "PROCESS_RECORDS",
    "SPILL_RECORDS",
    "ChunkProduct",
    "Listed",
    "MemorySpill",
    "Partial",
    "PartitionState",
    "PoolRunner",
    "Runner",
    "Spill",
    "absorb",
    "collector_paused",
    "combine",
    "credential_parts",
    "finish",
    "listed_among",
    "multiply",
    "outcomes_at",
    "pack_ciphertexts",
    "pack_elements",
    "part_of",
    "partitions_for",
    "reduce_partitions",
    "reused",
    "route_chunk",
    "route_result",
    "shared_digests",
    "unpack_ciphertexts",
    "unpack_elements",
]

# the ballots of one partition, about: its records beyond a bound are on disk, and its end is a
# merge of them, the chunks' products multiplied and the few ballots that do not count
# divided out (a few seconds); more partitions would cost the scheduler a task each every round
# of chunks (its absorb), and on more workers a task a chunk for each (the choice of its
# parts), fewer would leave that end to fewer workers
PARTITION_BALLOTS = 250_000

# a valid ballot in its credential's partition: (height, event hash, tracker, credential,
# weighted homomorphic ciphertexts of every question in order, non-homomorphic ciphertexts);
# in Ed25519 the homomorphic ones are packed, the 64 bytes of each pair end to end (a third
# of the memory of a tuple of pairs of points)
Packed = tuple["Ciphertext", ...] | bytes
BallotRecord = tuple[int, str, str, str, Packed, tuple["Ciphertext", ...]]
# a digest of a ciphertext in its own partition: (digest, height, credential)
DigestRecord = tuple[bytes, int, str]
# an invalid ballot: (height, event hash, tracker, (code, message, where))
ErrorRecord = tuple[int, str, str, tuple[str, str, str]]
# the product of a chunk's valid ballots, [question][choice] (None: not homomorphic)
ChunkProduct = list[list["Ciphertext"] | None]
# a partition's part of a chunk: its ballots, its digests, its errors and (in one
# partition of each chunk) the chunk's product
Part = tuple[list[BallotRecord], list[DigestRecord], list[ErrorRecord], list[ChunkProduct]]
# a finding of a ballot: (height, order at that height, check, code, message, where, event
# hash, tracker)
BallotFinding = tuple[int, int, str, str, str, str, str, str]

NOT_LISTED = ("consistency", "credential is not in the public credential list", "credential")
REUSED = (
    "consistency",
    "a ciphertext of this ballot already appears under another credential",
    "answers",
)
WEIGHTED_NH = (
    "consistency",
    "a voter with a weight other than 1 answered a non-homomorphic question",
    "",
)


class Runner(Protocol):
    """Where the map and the reduce run. A handle (what :meth:`map`, :meth:`reduce` and
    :meth:`item` return) may be passed as a positional argument of :meth:`map` and
    :meth:`reduce`: the function gets its value."""

    @property
    def width(self) -> int:
        """The workers that run maps at once."""
        ...

    def map(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run the map step ``fn(*args)`` (costly, stateless) on a worker."""
        ...

    def reduce(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a step of the reduce ``fn(*args)`` (cheap, on a partition's state)."""
        ...

    def item(self, handle: Any, i: int) -> Any:
        """The ``i``-th item of the tuple a handle gives, as a handle of its own."""
        ...

    def parts(self, maps: Sequence[Any], states: Sequence[Any]) -> list[list[Any]]:
        """For each partition ``p``, item ``p`` of every map's tuple, as arguments of the
        reduce step on ``states[p]`` (its handle, or None)."""
        ...

    def wait(self, handle: Any) -> None:
        """Until the handle's task has run, without fetching its value; raises what the task
        raised."""
        ...

    def wait_first(self, handles: Sequence[Any]) -> Any:
        """Until one of the handles' tasks has run, without fetching its value: the first of
        ``handles`` whose task has; raises what that task raised."""
        ...

    def result(self, handle: Any) -> Any:
        """The handle's value, here."""
        ...


class _Done:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def result(self) -> Any:
        return self.value


class _Item:
    __slots__ = ("handle", "i")

    def __init__(self, handle: Any, i: int) -> None:
        self.handle, self.i = handle, i

    def result(self) -> Any:
        return self.handle.result()[self.i]


_R = TypeVar("_R")
_collector_lock = threading.Lock()
# the steps of this process running with the collector paused, and whether it ran before
_collector: list[Any] = [0, False]


def collector_paused(fn: Callable[..., _R], *args: Any) -> _R:
    """``fn(*args)`` with Python's cyclic garbage collector paused (``gc.disable``), enabled
    again when the last step of this process that paused it ends, if it was enabled before.
    How the runners run every step of the reduce. A step makes no cycle that outlives it (its
    objects are freed by their reference counts); what the collector does meanwhile is
    traverse the process's objects again and again as the step allocates, every one of them
    in a full collection: a Dask worker's are tens of thousands (70 ms a full collection). At
    102,000 ballots on two Dask workers the collector took 1.5 s of each one's 18 s, 0.3 s
    paused in the map steps."""
    with _collector_lock:
        if _collector[0] == 0:
            _collector[1] = gc.isenabled()
            gc.disable()
        _collector[0] += 1
    try:
        return fn(*args)
    finally:
        with _collector_lock:
            _collector[0] -= 1
            if _collector[0] == 0 and _collector[1]:
                gc.enable()


class PoolRunner:
    """The map on ``executor``'s worker processes (here when None), the reduce here: the
    partitions' states are held by this process."""

    def __init__(self, executor: Executor | None, width: int = 1) -> None:
        self.executor = executor
        self._width = width

    @property
    def width(self) -> int:
        return self._width

    @staticmethod
    def _values(args: Sequence[Any]) -> list[Any]:
        return [a.result() if isinstance(a, _Done | _Item) or _is_future(a) else a for a in args]

    def map(self, fn: Callable[..., Any], *args: Any) -> Any:
        if self.executor is None:
            return _Done(collector_paused(fn, *self._values(args)))
        return self.executor.submit(collector_paused, fn, *self._values(args))

    def reduce(self, fn: Callable[..., Any], *args: Any) -> Any:
        return _Done(collector_paused(fn, *self._values(args)))

    def item(self, handle: Any, i: int) -> Any:
        return _Item(handle, i)

    def parts(self, maps: Sequence[Any], states: Sequence[Any]) -> list[list[Any]]:
        return [[_Item(m, p) for m in maps] for p in range(len(states))]

    def wait(self, handle: Any) -> None:
        handle.result()

    def wait_first(self, handles: Sequence[Any]) -> Any:
        from concurrent.futures import FIRST_COMPLETED
        from concurrent.futures import wait as wait_futures

        futures = [h for h in handles if _is_future(h)]
        if len(futures) == len(handles):  # else a step already run here
            wait_futures(futures, return_when=FIRST_COMPLETED)
        first = next(h for h in handles if not _is_future(h) or h.done())
        first.result()
        return first

    def result(self, handle: Any) -> Any:
        return handle.result()


def _is_future(a: Any) -> bool:
    from concurrent.futures import Future

    return isinstance(a, Future)


def partitions_for(ballots: int, workers: int) -> int:
    """P: enough that none holds more than :data:`PARTITION_BALLOTS` ballots, and two when
    there are two workers or more (the reduce of two partitions at once); not one a worker:
    each chunk costs a task for each worker holding a partition (the choice of its parts), and
    on a thousand workers that would be a thousand tasks a chunk. When there are as many as
    the workers or more, a multiple of them: each worker then holds as many partitions as the
    next, and does as much of their work."""
    parts = max(1, min(workers, 2), -(-ballots // PARTITION_BALLOTS))
    if workers > 1 and parts > workers:
        parts = -(-parts // workers) * workers
    return parts


def part_of(key: bytes, parts: int) -> int:
    """The partition of a credential's text or of a height (a hash of it: the same in every
    process, unlike Python's ``hash``)."""
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") % parts


def _digest_part(digest: bytes, parts: int) -> int:
    # a digest is already a hash
    return int.from_bytes(digest[:8], "big") % parts


def pack_elements(elements: Sequence[Element]) -> bytes | Sequence[Element]:
    """Elements as a task or a record carries them: Ed25519 points end to end (32 bytes
    each, a third of the memory of the objects), other elements as they are."""
    if elements and all(type(x) is Point for x in elements):
        return b"".join(cast(bytes, x) for x in elements)
    return elements


def unpack_elements(packed: bytes | Sequence[Element]) -> Sequence[Element]:
    """The elements of :func:`pack_elements`."""
    if isinstance(packed, bytes):
        return [Point(packed[i : i + 32]) for i in range(0, len(packed), 32)]
    return packed


def pack_ciphertexts(cts: Sequence[Ciphertext]) -> Packed:
    """Ciphertexts as :func:`pack_elements` carries their components, in turn."""
    packed = pack_elements([x for ct in cts for x in ct])
    return packed if isinstance(packed, bytes) else tuple(cts)


def unpack_ciphertexts(cts: Packed) -> Sequence[Ciphertext]:
    """The ciphertexts of :func:`pack_ciphertexts`."""
    if isinstance(cts, bytes):
        xs = unpack_elements(cts)
        return list(zip(xs[0::2], xs[1::2], strict=True))
    return cts


def route_result(res: ChunkResult, parts: int) -> tuple[Part, ...]:
    """The outcomes of a chunk split into the ``parts`` partitions (see the module)."""
    out: tuple[Part, ...] = tuple(([], [], [], []) for _ in range(parts))
    valid = [o.height for o in res.outcomes if o.error is None]
    if valid and res.product:  # the chunks' products spread over the partitions
        out[part_of(b"product %d" % valid[0], parts)][3].append(res.product)
    for o in res.outcomes:
        if o.error is not None:
            out[part_of(str(o.height).encode(), parts)][2].append(
                (o.height, o.event_hash, o.tracker, o.error)
            )
            continue
        cred = o.credential
        assert cred is not None
        out[part_of(cred.encode(), parts)][0].append(
            (o.height, o.event_hash, o.tracker, cred, pack_ciphertexts(o.ciphertexts), o.nh)
        )
        for d in set(o.alpha_digests):
            out[_digest_part(d, parts)][1].append((d, o.height, cred))
    return out


def route_chunk(
    map_ballots: Callable[[BallotSetup, list[tuple[int, str, IndexEntry]]], ChunkResult],
    parts: int,
    setup: BallotSetup,
    chunk: list[tuple[int, str, IndexEntry]],
) -> tuple[Part, ...]:
    """The map step and the routing of its outcomes, on the worker that verifies the chunk."""
    return route_result(map_ballots(setup, chunk), parts)


class Spill(Protocol):
    """Where a partition's sorted runs go once its records exceed its bound: each run written
    as blocks of bytes, read back in the same order, dropped once merged. A caller gives one
    that writes to local disk (:class:`plebiscite.compute.spill.DiskSpill`); this layer does
    no I/O itself."""

    def write(self, blocks: Iterable[bytes]) -> Any:
        """Store one run (its blocks in order); its token."""
        ...

    def read(self, run: Any) -> Iterator[bytes]:
        """The blocks of a stored run, in order."""
        ...

    def drop(self, run: Any) -> None:
        """Forget a run (merged into a larger one, or the state finished)."""
        ...

    def stored(self) -> int:
        """Bytes held in memory by the runs (none for a spill to disk)."""
        ...


class MemorySpill:
    """Runs kept in this process as pickled blocks: a compact form (bytes, not a Python
    object per field), not a bounded one."""

    __slots__ = ("_next", "_runs")

    def __init__(self) -> None:
        self._runs: dict[int, list[bytes]] = {}
        self._next = 0

    def write(self, blocks: Iterable[bytes]) -> int:
        self._next += 1
        self._runs[self._next] = list(blocks)
        return self._next

    def read(self, run: Any) -> Iterator[bytes]:
        return iter(self._runs[run])

    def drop(self, run: Any) -> None:
        del self._runs[run]

    def stored(self) -> int:
        return sum(len(b) for blocks in self._runs.values() for b in blocks)


#: records (ballots and digests of ciphertexts together) a partition keeps as Python objects
#: before it writes them, sorted, as a run (about 250 bytes a record in memory: 25 MiB)
SPILL_RECORDS = 100_000
#: records that all the partitions of one process keep as Python objects, about: beyond it the
#: partition a round is added to writes its own out, so that a worker's memory does not grow
#: with the number of partitions it holds (the partitions grow with the election)
PROCESS_RECORDS = 2 * SPILL_RECORDS
# the records held by the partitions of this process, as absorb and flush count them (a state
# that came from another process brings records not counted here: the count is a bound's
# estimate, never below zero)
_held = [0]
#: runs of one level merged into one of the next when there are this many: a partition's
#: runs stay few (the merge at the end reads a block of each at once), each record written
#: about log16(records / SPILL_RECORDS) times
FAN_IN = 16
#: records in a block of a run
BLOCK_RECORDS = 512

# a ballot in a run: (credential, height, event hash, tracker, packed ciphertexts,
# non-homomorphic ciphertexts), sorted by credential then height
RunBallot = tuple[str, int, str, str, Packed, tuple["Ciphertext", ...]]


def _by_two(rec: tuple[Any, ...]) -> tuple[Any, Any]:
    # the sort key of a run's records: (credential, height) or (digest, height), unique
    return rec[0], rec[1]


def _blocks(records: Iterable[Any]) -> Iterator[bytes]:
    block: list[Any] = []
    for rec in records:
        block.append(rec)
        if len(block) >= BLOCK_RECORDS:
            yield pickle.dumps(block, pickle.HIGHEST_PROTOCOL)
            block = []
    if block:
        yield pickle.dumps(block, pickle.HIGHEST_PROTOCOL)


class PartitionState:
    """What one partition keeps (see the module): every valid ballot of its credentials (with
    its ciphertexts, packed) and every (digest, height, credential) of the digests that fall
    in it, and the invalid ballots' errors (at most ``max_errors``, the others counted).

    The records come in any order; up to ``bound`` of them are held as they came (``ballots``,
    ``digests``), then written to ``spill`` as sorted runs (by credential then height, by
    digest then height), the runs of a level merged into one of the next level ``FAN_IN`` at a
    time. What a partition holds in memory is thus bounded whatever the election's size: the
    records of a round and the tokens of its runs; the end (:func:`finish`,
    :func:`shared_digests`) merges the runs, a block of each at a time. Without a ``spill``
    the runs stay in memory, pickled (:class:`MemorySpill`)."""

    __slots__ = ("ballot_runs", "ballots", "bound", "digest_runs", "digests", "dropped", "errors",
                 "products", "spill")  # fmt: skip

    def __init__(self, bound: int = SPILL_RECORDS, spill: Spill | None = None) -> None:
        self.bound = max(1, bound)
        self.spill: Spill = MemorySpill() if spill is None else spill
        self.ballots: list[RunBallot] = []
        self.digests: list[DigestRecord] = []
        self.ballot_runs: list[tuple[int, Any]] = []  # (level, token)
        self.digest_runs: list[tuple[int, Any]] = []
        self.errors: list[ErrorRecord] = []
        self.dropped = 0
        # the products of the chunks given to this partition (one a chunk, multiplied at the
        # end): its ballots are divided out of them where they do not count
        self.products: list[ChunkProduct] = []

    def __sizeof__(self) -> int:
        # what a scheduler weighs before moving the state (Dask's sizeof): its records held
        # here, not those spilled to disk
        held = 250 * (len(self.ballots) + len(self.digests) + len(self.errors))
        held += 1000 * len(self.products)
        return object.__sizeof__(self) + held + self.spill.stored()

    def flush(self) -> None:
        """The records held written as one run of each kind (merging the runs of a level
        when they are ``FAN_IN``)."""
        for held, runs in ((self.ballots, self.ballot_runs), (self.digests, self.digest_runs)):
            if not held:
                continue
            held.sort(key=_by_two)
            runs.append((0, self.spill.write(_blocks(held))))
            _held[0] = max(0, _held[0] - len(held))
            held.clear()
            level = 0
            while True:
                same = [token for lv, token in runs if lv == level]
                if len(same) < FAN_IN:
                    break
                merged = heapq.merge(*(self._records(t) for t in same), key=_by_two)
                token = self.spill.write(_blocks(merged))
                for t in same:
                    self.spill.drop(t)
                runs[:] = [(lv, t) for lv, t in runs if lv != level]
                runs.append((level + 1, token))
                level += 1

    def _records(self, run: Any) -> Iterator[Any]:
        for block in self.spill.read(run):
            # blocks this state wrote itself (a spill's files are private to its process)
            yield from pickle.loads(block)  # noqa: S301

    def sorted_ballots(self) -> Iterator[RunBallot]:
        """Every ballot held, by credential then height (the runs merged)."""
        runs = [self._records(t) for _, t in self.ballot_runs]
        return heapq.merge(*runs, sorted(self.ballots, key=_by_two), key=_by_two)

    def sorted_digests(self) -> Iterator[DigestRecord]:
        """Every (digest, height, credential) held, by digest then height."""
        runs = [self._records(t) for _, t in self.digest_runs]
        return heapq.merge(*runs, sorted(self.digests, key=_by_two), key=_by_two)

    def close(self) -> None:
        """The runs dropped (the state finished)."""
        for _, t in self.ballot_runs + self.digest_runs:
            self.spill.drop(t)
        self.ballot_runs, self.digest_runs = [], []


def absorb(state: PartitionState | None, max_errors: int, *parts: Part) -> PartitionState:
    """``state`` (a new one, held in memory, when None) with the records of ``parts`` added,
    in any order (the last ballot of a credential is the one of largest height, the first of
    a digest the smallest: decided at the end); written as runs once they exceed its bound."""
    s = PartitionState() if state is None else state
    ballots, digests = s.ballots, s.digests
    for part_ballots, part_digests, errors, products in parts:
        s.products.extend(products)
        for height, event, tracker, cred, packed, nh in part_ballots:
            ballots.append((cred, height, event, tracker, packed, nh))
        digests.extend(part_digests)
        _held[0] += len(part_ballots) + len(part_digests)
        for e in errors:
            if len(s.errors) < max_errors:
                s.errors.append(e)
            else:
                s.dropped += 1
        if len(ballots) + len(digests) >= s.bound or _held[0] >= PROCESS_RECORDS:
            s.flush()
    return s


def shared_digests(state: PartitionState | None) -> list[list[tuple[int, str]]]:
    """The occurrences (height, credential) of every digest held under several credentials."""
    if state is None:
        return []
    out = []
    for _, group in itertools.groupby(state.sorted_digests(), key=operator.itemgetter(0)):
        occ = [(h, c) for _, h, c in group]
        if len(occ) > 1 and len({c for _, c in occ}) > 1:
            out.append(occ)
    return out


def reused(occurrences: Iterable[list[tuple[int, str]]], listed: Callable[[str], bool]) -> set[int]:
    """The heights of the ballots that hold a ciphertext of an earlier ballot of another
    credential, of a credential on the list (``listed``): the first ballot on the list holding
    a ciphertext owns it."""
    flagged: set[int] = set()
    for occ in occurrences:
        on_list = sorted(o for o in occ if listed(o[1]))
        if on_list:
            owner = on_list[0][1]
            flagged.update(h for h, c in on_list if c != owner)
    return flagged


class Listed:
    """The public credentials of the list that fall in one partition, with their weights, as
    a task carries them: sorted, one string of bytes (a credential a line), the weights apart
    (None: every weight 1). About 65 bytes a credential in Ed25519 where a dict of them takes
    about 200, and pickled in one piece."""

    __slots__ = ("keys", "weights")

    def __init__(self, keys: bytes, weights: list[int] | None) -> None:
        self.keys, self.weights = keys, weights

    @classmethod
    def of(cls, publics: Iterable[str], weights: dict[str, int]) -> Listed:
        """``publics`` (each in ``weights``) in that form."""
        return cls.of_sorted([(c, weights[c]) for c in sorted(publics)])

    @classmethod
    def of_sorted(cls, items: Sequence[tuple[str, int]]) -> Listed:
        """(credential, weight) pairs, sorted by credential, in that form."""
        ws = [w for _, w in items]
        keys = "\n".join(c for c, _ in items).encode()
        return cls(keys, None if all(w == 1 for w in ws) else ws)

    def __len__(self) -> int:
        return 0 if not self.keys else self.keys.count(b"\n") + 1

    def items(self) -> Iterator[tuple[str, int]]:
        """(credential, weight), by credential."""
        if not self.keys:
            return iter(())
        publics = self.keys.decode().split("\n")
        if self.weights is None:
            return ((c, 1) for c in publics)
        return zip(publics, self.weights, strict=True)

    def in_order(self) -> Callable[[str], int | None]:
        """The weight of a credential, None when it is not here, for credentials asked in
        increasing order (a walk along the list, no table)."""
        rest = self.items()
        cur = next(rest, None)

        def weight(public: str) -> int | None:
            nonlocal cur
            while cur is not None and cur[0] < public:
                cur = next(rest, None)
            return cur[1] if cur is not None and cur[0] == public else None

        return weight


def listed_among(listed: Listed, publics: Iterable[str]) -> list[str]:
    """Those of ``publics`` that are in ``listed``."""
    weight = listed.in_order()
    return [c for c in sorted(set(publics)) if weight(c) is not None]


def credential_parts(weights: dict[str, int], parts: int) -> Callable[[int], Listed]:
    """The credentials of the list (``weights``: public credential -> weight) that fall in
    each of ``parts`` partitions, a :class:`Listed` made when it is asked for."""
    publics: list[list[str]] = [[] for _ in range(parts)]
    for public in weights:
        publics[part_of(public.encode(), parts)].append(public)
    return lambda p: Listed.of(publics[p], weights)


class Partial:
    """The reduce of some partitions: ``product`` of their counted ballots ([question][choice],
    None for a non-homomorphic question), ``counted`` credentials and their ``weight``, the
    non-homomorphic ciphertexts of the counted ballots by height (``nh``), the first
    ``findings`` by height and how many more were ``dropped``."""

    __slots__ = ("counted", "dropped", "findings", "nh", "product", "weight")

    def __init__(
        self,
        product: list[list[Ciphertext] | None],
        counted: int = 0,
        weight: int = 0,
        nh: list[tuple[int, tuple[Ciphertext, ...]]] | None = None,
        findings: list[BallotFinding] | None = None,
        dropped: int = 0,
    ) -> None:
        self.product = product
        self.counted, self.weight = counted, weight
        self.nh = [] if nh is None else nh
        self.findings = [] if findings is None else findings
        self.dropped = dropped


def _cap(findings: list[BallotFinding], most: int) -> tuple[list[BallotFinding], int]:
    findings.sort()
    return findings[:most], max(0, len(findings) - most)


def finish(
    state: PartitionState | None,
    setup: BallotSetup,
    credentials: Listed,
    flagged: set[int],
    max_findings: int,
) -> Partial:
    """A partition's :class:`Partial`: ``credentials`` are the public credentials of the list
    that fall in it, with their weights (a walk along them: its ballots come by credential);
    ``flagged`` the heights of the ballots found reusing another credential's ciphertext
    (:func:`reused`). Its product is that of the chunks it was given (every valid ballot of
    each, raised to its weight) with its ballots that do not count divided out: every ballot
    of a credential but its last, every ballot of a credential not on the list. Those are
    few: their ciphertexts, in their records, are not checked again."""
    election, ctx = election_context(setup.election_raw)
    if state is None:
        return Partial(_identity(ctx, election.questions))
    homomorphic = [q.homomorphic for q in election.questions]
    for chunk in state.products:
        if [acc is not None for acc in chunk] != homomorphic:
            raise ValueError("a chunk's product does not have the election's questions")
    out = Partial(multiply(setup, state.products))
    replaced_product = _identity(ctx, election.questions)
    replaced = _Sums(ctx, [acc for acc in replaced_product if acc is not None])
    findings: list[BallotFinding] = [
        (h, 0, "ballot", *error, event, tracker) for h, event, tracker, error in state.errors
    ]
    dropped = state.dropped
    weight_of = credentials.in_order()
    for cred, group in itertools.groupby(state.sorted_ballots(), key=operator.itemgetter(0)):
        recs = list(group)  # one credential's ballots, by height: the last one counts
        height, nh = recs[-1][1], recs[-1][5]
        ballots = [(h, e, t, bool(n)) for _, h, e, t, _, n in recs]
        weight = weight_of(cred)
        if weight is None:
            findings += [(h, 1, "ballot", *NOT_LISTED, e, t) for h, e, t, _ in ballots]
            for rec in recs:
                replaced.add(rec[4])
        else:
            for h, e, t, has_nh in ballots:
                if h in flagged:
                    findings.append((h, 2, "ballot", *REUSED, e, t))
                if has_nh and weight != 1:
                    findings.append((h, 3, "ballot", *WEIGHTED_NH, e, t))
            out.counted += 1
            out.weight += weight
            for rec in recs[:-1]:
                replaced.add(rec[4])
            if nh:
                out.nh.append((height, nh))
        if len(findings) > 2 * max_findings + 64:  # the first ones kept, the others counted
            findings, more = _cap(findings, max_findings)
            dropped += more
    replaced.flush()
    for acc, minus in zip(out.product, replaced_product, strict=True):
        if acc is not None and minus is not None:
            acc[:] = [
                (ctx.div(a, x), ctx.div(b, y)) for (a, b), (x, y) in zip(acc, minus, strict=True)
            ]
    out.findings, out.dropped = _cap(findings, max_findings)
    out.dropped += dropped
    return out


def multiply(setup: BallotSetup, products: Sequence[ChunkProduct]) -> ChunkProduct:
    """The products of chunks made one (each component's factors multiplied at once)."""
    election, ctx = election_context(setup.election_raw)
    out = _identity(ctx, election.questions)
    sums = _Sums(ctx, [acc for acc in out if acc is not None])
    for chunk in products:
        sums.add_product([acc for acc in chunk if acc is not None])
    sums.flush()
    return out


def _identity(ctx: Context, questions: Sequence[Any]) -> list[list[Ciphertext] | None]:
    return [
        [(ctx.one, ctx.one) for _ in range(q.size)] if q.homomorphic else None for q in questions
    ]


class _Sums:
    """The products ``accs`` ([question][choice] pairs) grown by the ciphertexts of ballots,
    each component's factors multiplied :data:`SUM_BATCH` at a time by the group's
    ``product`` (in Ed25519 one sum of points in the native library, each point decoded once:
    about a third of the cost of a multiplication at a time)."""

    __slots__ = ("accs", "ctx", "pending", "xs", "ys")

    def __init__(self, ctx: Context, accs: list[list[Ciphertext]]) -> None:
        self.ctx, self.accs = ctx, accs
        width = sum(len(acc) for acc in accs)
        self.xs: list[list[Element]] = [[] for _ in range(width)]
        self.ys: list[list[Element]] = [[] for _ in range(width)]
        self.pending = 0

    def add(self, packed: Packed) -> None:
        """A ballot's ciphertexts (packed, every question in order) as factors."""
        self.add_pairs(unpack_ciphertexts(packed))

    def add_product(self, accs: Sequence[Sequence[Ciphertext]]) -> None:
        """Another product's pairs (its homomorphic questions in order) as factors."""
        self.add_pairs([ct for acc in accs for ct in acc])

    def add_pairs(self, cts: Sequence[Ciphertext]) -> None:
        if len(cts) != len(self.xs):
            raise ValueError("ciphertexts that do not have the election's choices")
        for k, (x, y) in enumerate(cts):
            self.xs[k].append(x)
            self.ys[k].append(y)
        self.pending += 1
        if self.pending >= SUM_BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        product = self.ctx.group.product
        k = 0
        for acc in self.accs:
            for j in range(len(acc)):
                a, b = acc[j]
                acc[j] = (product([a, *self.xs[k]]), product([b, *self.ys[k]]))
                self.xs[k].clear()
                self.ys[k].clear()
                k += 1
        self.pending = 0


#: ballots whose ciphertexts :class:`_Sums` multiplies at once
SUM_BATCH = 4096


def combine(setup: BallotSetup, max_findings: int, a: Partial, b: Partial) -> Partial:
    """Two partials made one (a step of the tree reduce)."""
    _, ctx = election_context(setup.election_raw)
    product: list[list[Ciphertext] | None] = []
    for x, y in zip(a.product, b.product, strict=True):
        if x is None or y is None:
            product.append(None)
        else:
            product.append(
                [
                    (ctx.mul(a1, a2), ctx.mul(b1, b2))
                    for (a1, b1), (a2, b2) in zip(x, y, strict=True)
                ]
            )
    findings, dropped = _cap(list(heapq.merge(a.findings, b.findings)), max_findings)
    return Partial(
        product,
        a.counted + b.counted,
        a.weight + b.weight,
        a.nh + b.nh,
        findings,
        a.dropped + b.dropped + dropped,
    )


def reduce_partitions(
    runner: Runner,
    states: Sequence[Any],
    setup: BallotSetup,
    listed: Callable[[int], Any],
    max_findings: int,
    *,
    finish_by_map: bool = False,
) -> Partial:
    """The end of the partitioned reduce on ``runner``, from the partitions' ``states`` (or
    their handles): the ciphertexts held under several credentials (every partition's asked
    at once), each partition's :func:`finish` with its credentials of the list (``listed``:
    a partition's :class:`Listed`, or a handle to one on the runner: see
    :func:`credential_parts`), the partials merged by :func:`combine` in a tree; the root.
    ``finish_by_map``: each :func:`finish` a map step (its state sent to a worker: for a
    :class:`PoolRunner` whose states are here, the partitions' products computed on its
    workers at once instead of one after the other here). Raises what the runner raises when
    a task fails."""
    parts = len(states)
    shared = [runner.reduce(shared_digests, s) for s in states]
    occurrences = list(itertools.chain.from_iterable(runner.result(h) for h in shared))
    # which holders of a shared ciphertext are on the list: asked of their partitions
    # (none in a valid archive)
    holders: list[set[str]] = [set() for _ in range(parts)]
    for occ in occurrences:
        for _, c in occ:
            holders[part_of(c.encode(), parts)].add(c)
    asked = [runner.reduce(listed_among, listed(p), cs) for p, cs in enumerate(holders) if cs]
    on_list = {c for h in asked for c in runner.result(h)}
    flagged = reused(occurrences, on_list.__contains__)
    step = runner.map if finish_by_map else runner.reduce
    partials = [
        step(finish, s, setup, listed(p), flagged, max_findings) for p, s in enumerate(states)
    ]
    while len(partials) > 1:
        pairs = zip(partials[0::2], partials[1::2], strict=False)
        merged = [runner.reduce(combine, setup, max_findings, a, b) for a, b in pairs]
        partials = merged + partials[len(partials) - len(partials) % 2 :]
    total: Partial = runner.result(partials[0])
    return total


def outcomes_at(res: ChunkResult, height: int, event_hash: str) -> ChunkResult:
    """A one-ballot result checked apart (its outcome without its place on the board), put at
    its height."""
    (o,) = res.outcomes
    return ChunkResult([BallotOutcome(height, event_hash, *o[2:])], res.product)
