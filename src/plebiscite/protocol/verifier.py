"""The verifier: every check of the spec's audit section (3.5) and the ones it implies.

It reads an archive as a stream, once (plus a short second pass over superseded ballots when
voters revoted, which does not verify their proofs again), and never holds all ballots: ballots
are verified in chunks, through an optional :class:`concurrent.futures.Executor` (the map step is
:func:`~plebiscite.protocol.ballot.verify_ballots`), and the chunk results are reduced in board
order.

Memory, whatever the archive declares or holds: the reader (:mod:`~plebiscite.protocol.archive`)
holds at most ``DEFAULT_MAX_MEMBER`` (256 MiB) of member content at once, and drops data that no
event refers to at the next event (reported there); a member an event refers to is parsed only if
:func:`~plebiscite.strictjson.memory_estimate` puts its parse within ``PARSE_MEMORY`` (2 GiB);
ballots are verified in chunks of at most ``chunk_size`` ballots or ``CHUNK_BYTES`` (1 MiB), two
chunks in flight per worker, and the second pass over replaced ballots goes a chunk at a time. What
the verification keeps grows with the election (credentials, a digest per ciphertext, the tally).

Checks, in order of the archive:

- layout: tar, header, member names equal to the SHA256 of their content, every data member
  referenced by the event that follows it;
- chain: heights from 0, parents, the allowed order of event types;
- setup: election, trustees (proofs of knowledge, certificates, coefficient commitments,
  verification keys against the commitments), the election key equal to the product of the
  trustees' sub-keys, public credentials (valid elements, distinct, positive weights);
- each ballot: uuid, fingerprint, credential in the list, shape against the questions, signature,
  every proof; no ciphertext reused under another credential;
- the tally: num_tallied, total_weight and the encrypted tally recomputed from the last ballot of
  each credential, raised to its weight (non-homomorphic: weight 1, board order);
- shuffles: each proof against the previous ciphertexts, owners distinct trustees;
- partial decryptions: shapes and proofs against the owner's key; invalid threshold shares are set
  aside while enough valid ones remain;
- the result: equal to the decryption of the tally (homomorphic counts are checked as
  ``g^count = beta / F`` and bounded by the total weight; non-homomorphic ones decoded).
"""

from __future__ import annotations

import io
import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, BinaryIO

from plebiscite import strictjson
from plebiscite.crypto.context import Context, fixed_base
from plebiscite.crypto.dlog import discrete_log, discrete_logs
from plebiscite.crypto.group import Element, Group
from plebiscite.crypto.groups import FiniteFieldGroup, parse_natural
from plebiscite.crypto.hashing import sha256_hex
from plebiscite.crypto.proofs import Proof, verify_decryption
from plebiscite.crypto.shuffle import (
    ShufflePart,
    ShuffleProof,
    check_shuffle_proof,
    get_generator,
    shuffle_challenges,
    shuffle_part,
    shuffle_verdict,
)
from plebiscite.crypto.threshold import lagrange
from plebiscite.errors import (
    ConsistencyError,
    EncodingError,
    MembershipError,
    PlebisciteError,
    ProofError,
    SizeError,
    StateError,
)
from plebiscite.protocol.archive import (
    BLOCK,
    DEFAULT_MAX_MEMBER,
    MAX_DATA_RUN,
    ArchiveIndex,
    IndexEntry,
    Member,
    index_archive,
    iter_members,
    parse_header,
    read_member,
)
from plebiscite.protocol.ballot import (
    BallotOutcome,
    BallotSetup,
    ChunkResult,
    election_context,
    verify_ballots,
)
from plebiscite.protocol.messages import (
    LIMITS,
    Ciphertext,
    Credential,
    Election,
    Event,
    Pedersen,
    Question,
    QuestionH,
    QuestionL,
    QuestionNH,
    Single,
    TrusteeKind,
    arr,
    ciphertext,
    first_non_member,
    hash_ref,
    obj,
    parse_credentials,
    parse_election,
    parse_event,
    parse_trustees,
    proof,
    shuffle_proof,
    small_int,
)
from plebiscite.protocol.phases import AFTER_EVENT, BoardPhase
from plebiscite.protocol.reduce import (
    Packed,
    PartitionState,
    Runner,
    absorb,
    credential_parts,
    outcomes_at,
    pack_ciphertexts,
    pack_elements,
    partitions_for,
    reduce_partitions,
    route_chunk,
    route_result,
    unpack_ciphertexts,
    unpack_elements,
)
from plebiscite.protocol.report import Finding, Report
from plebiscite.protocol.roll import ROLL_INLINE, ROLL_PIECE, RollSummary, merge_listed, roll_pieces
from plebiscite.protocol.scan import MIN_RANGE, ScanSummary, range_bytes
from plebiscite.protocol.setup import Owner, check_trustees

if TYPE_CHECKING:
    from concurrent.futures import Executor, Future

__all__ = ["MapStepError", "Verifier", "verify_archive"]

Opener = Callable[[], BinaryIO]
# the map step over ballots read by workers from their byte ranges of the archive:
# verify_ballot_members, with the archive opened where it runs
MapBallots = Callable[[BallotSetup, list[tuple[int, str, IndexEntry]]], ChunkResult]
# the scan of a byte range of the archive where it runs: plebiscite.protocol.scan.scan_range
# with the archive opened there, (setup, partitions, timestamp, start, end)
Scan = Callable[[Any, int, int, int, int], tuple[ScanSummary, tuple[Any, ...]]]
# a piece of the public credential list parsed where it is read:
# plebiscite.protocol.roll.roll_range with the archive opened there, (election's text,
# partitions, the piece's first byte in the archive, its size, whether it begins the list,
# whether it ends it)
Roll = Callable[[bytes, int, int, int, bool, bool], tuple[Any, ...]]

NEXT: dict[str | None, tuple[str, ...]] = {
    None: ("Setup",),
    "Setup": ("Ballot", "EndBallots"),
    "Ballot": ("Ballot", "EndBallots"),
    "EndBallots": ("EncryptedTally",),
    "EncryptedTally": ("Shuffle", "EndShuffles", "PartialDecryption", "Result"),
    "Shuffle": ("Shuffle", "EndShuffles"),
    "EndShuffles": ("PartialDecryption", "Result"),
    "PartialDecryption": ("PartialDecryption", "Result"),
    "Result": (),
}
STATUS = AFTER_EVENT
PARSE_MEMORY = LIMITS.parse_memory  # the most the parse of one member may take
# a chunk of ballots is sent to be verified once it has this many bytes (or chunk_size ballots):
# with two chunks in flight per worker, the ballots held stay under 4 MiB per worker
CHUNK_BYTES = 1 << 20
#: the proofs of a partial decryption checked by one map step of a runner (about 0.2 s of
#: work in Ed25519)
DECRYPTION_CHUNK = 1024
#: the ciphertexts of a shuffle whose part of its proof's check one map step of a runner makes
#: (about 0.4 s of work in Ed25519)
SHUFFLE_CHUNK = 1024


class _StopError(Exception):
    """A structural failure after which nothing further can be checked."""


class MapStepError(Exception):
    """The executor gave no result for a chunk of ballots (a worker lost, a task that failed,
    a connection closed): the verification has no verdict. The executor's error is the
    ``__cause__``. Not a :class:`~plebiscite.errors.PlebisciteError`: nothing is wrong with the
    archive."""


class Verifier:
    def __init__(
        self,
        open_archive: Opener,
        *,
        executor: Executor | None = None,
        workers: int | None = None,
        map_ballots: MapBallots | None = None,
        share_setup: Callable[[BallotSetup], Any] | None = None,
        chunk_size: int = 32,
        chunk_bytes: int = CHUNK_BYTES,
        max_findings: int = 200,
        progress: Callable[[int], None] | None = None,
        name: str = "",
        stop_after: int | None = None,
        check_credentials: bool = True,
        partitions: Runner | None = None,
        new_partition: Callable[[], PartitionState] | None = None,
        scan: Scan | None = None,
        scan_bytes: int | None = None,
        credential_chunk: int = 20_000,
        roll: Roll | None = None,
        roll_inline: int = ROLL_INLINE,
        roll_piece: int = ROLL_PIECE,
    ) -> None:
        self.open_archive = open_archive
        self.stop_after = stop_after  # verify events up to this height only
        self.check_credentials = check_credentials  # subgroup membership of the whole list
        self.executor = executor
        # the executor's width: two chunks in flight per worker
        if workers is None:
            workers = getattr(executor, "_max_workers", 1) if executor else 1
        self.workers: int = workers
        # with map_ballots, the archive is indexed first (self.index) and read by the index;
        # ballots are not read here but mapped (through the executor) by their index entries
        self.map_ballots = map_ballots
        self.index: ArchiveIndex | None = None
        # what map_ballots is given for the setup, when the executor holds it once for all
        # its tasks (a Dask future); made at the first chunk
        self.share_setup = share_setup
        self._shared_setup: Any = None
        # with map_ballots: the reduce partitioned by credential on this runner
        # (plebiscite.protocol.reduce) instead of here in board order, for a verification run
        # once (run): no checkpoint, no consume after it, last_ballot_of unknown
        self.partitions = partitions
        # what makes each partition's state where it lives (a state spilling its runs to that
        # worker's disk: a bounded memory), made by a step of the runner; when None the states
        # are made by the first round, in memory, and P grows with the ballots
        self.new_partition = new_partition
        # with partitions: the ballots verified a byte range at a time where the range is
        # read (plebiscite.protocol.scan), ranges of scan_bytes (rounded to a block; None:
        # from the archive's size and the workers); the archive is then never indexed whole
        self.scan = scan
        self.scan_bytes = scan_bytes
        # with partitions: the public credentials' membership checked by the runner's workers,
        # this many a task (a list no longer than this is checked here)
        self.credential_chunk = credential_chunk
        #: with a runner: a partial decryption's proofs checked by its workers, this many a
        #: map step (no more than this are checked here)
        self.decryption_chunk = DECRYPTION_CHUNK
        #: with a runner: a shuffle's proof checked by its workers, this many ciphertexts a
        #: map step (a column no longer than this is checked here)
        self.shuffle_chunk = SHUFFLE_CHUNK
        # with scan: a list larger than ROLL_INLINE parsed by the runner's workers, a piece
        # each (plebiscite.protocol.roll), and held there, never here
        self.roll = roll
        self.roll_inline = roll_inline  # a list of this size or less is parsed here
        self.roll_piece = roll_piece  # the bytes of a piece, about
        self._defer_roll = False  # the start of the archive being read: large data left
        self._roll_entries: dict[str, tuple[IndexEntry, list[tuple[int, int]]]] = {}
        self._stream: BinaryIO | None = None
        self._roll_entry: IndexEntry | None = None  # the list's member, when held there
        self._listed: list[Any] | None = None  # each partition's credentials, on the runner
        self._roll_weight = 0
        self._ballots_hint = 0  # the ballots expected, when there is no index to count them
        #: the ballots taken from the ranges' regular parts (the others were read here), and
        #: the ranges scanned
        self.scanned = 0
        self.ranges = 0
        self._parts = 0  # P, chosen at the first chunk
        self._states: list[Any] = []  # each partition's state (a runner's handle)
        self._mapped: deque[tuple[Any, int]] = deque()  # chunks in flight, their ballots
        self._round: list[Any] = []  # chunks verified, not yet absorbed by the partitions
        self._totals: tuple[int, int] | None = None  # voters counted and their weight
        self.chunk_size = chunk_size
        # the ballots' bytes of a chunk read by map_ballots, at most (a ballot alone aside)
        self.chunk_bytes = chunk_bytes
        self.max_findings = max_findings
        self.progress = progress
        self._report = Report(archive=name)
        # state
        self._pending: dict[str, bytes] = {}
        # data members left for map_ballots to read (ballots), by hash, with where they lie
        self._deferred: dict[str, IndexEntry] = {}
        self._ref_batch: list[tuple[int, str, IndexEntry]] = []
        self._prev: Event | None = None
        self._election: Election | None = None
        self._ctx: Context | None = None
        self._trustees: tuple[TrusteeKind, ...] = ()
        self._owners: list[Owner] = []
        #: the public credentials on the list, in its order, with their weights (a weight only:
        #: a board of a million voters holds a million of them)
        self._credentials: dict[str, int] = {}
        self._setup: BallotSetup | None = None
        self._batch: list[tuple[int, str, bytes]] = []
        self._batch_bytes = 0
        self._inflight: deque[Future[ChunkResult] | ChunkResult] = deque()
        #: the second pass's chunks in flight (replaced ballots, divided out of the product)
        self._dividing: deque[Future[ChunkResult]] = deque()
        self._alpha_owner: dict[bytes, str] = {}
        self._last: dict[str, int] = {}  # credential -> height of its last ballot
        self._superseded: list[int] = []
        # what the last checkpoint delta holds (checkpoint_delta, delta_saved): the number of
        # alpha_owner entries and superseded ballots, the credentials whose last ballot changed
        self._delta_mark = (0, 0)
        self._last_changed: set[str] = set()
        self._product: list[list[Ciphertext] | None] = []
        self._nh_by_height: dict[int, tuple[Ciphertext, ...]] = {}
        self._tally: list[list[Ciphertext]] | None = None
        self._shuffle_owners: set[int] = set()
        self._decryptions: dict[int, list[list[Element]]] = {}
        # recomputed at EndBallots, for whoever produces the tally from this board
        self._computed_tally: list[list[Ciphertext]] | None = None
        self._computed_num = 0
        self._computed_weight = 0
        # resuming from a checkpoint: events up to this one are only chain-checked
        self._resume: Event | None = None
        self._skip_prev: Event | None = None
        self._timestamp: int | None = None
        # ballots checked by precheck_ballot, by payload hash, not to be checked again
        self._prechecked: dict[str, ChunkResult] = {}
        self._proofs_checked = False  # the member being consumed: see consume
        # shuffles and partial decryptions checked before they were appended, not to be
        # checked again: by payload hash, with the tally state they were checked against
        self._prechecked_shuffles: dict[str, tuple[int, list[tuple[int, list[Ciphertext]]]]] = {}
        self._prechecked_decryptions: dict[tuple[int, str], tuple[int, list[list[Element]]]] = {}
        self._tally_state = 0  # moves on at each change of the tally's ciphertexts
        self._raw_setup: tuple[bytes, bytes, bytes] | None = None

    # -- what the verification found so far (read-only) ----------------------------------------
    @property
    def report(self) -> Report:
        """The report so far (read it, do not change it)."""
        return self._report

    @property
    def phase(self) -> BoardPhase:
        """The board's phase, from its last event verified."""
        return BoardPhase(self._report.status)

    @property
    def election(self) -> Election | None:
        return self._election

    @property
    def ctx(self) -> Context | None:
        """The group and the election's public key."""
        return self._ctx

    @property
    def raw_setup(self) -> tuple[bytes, bytes, bytes] | None:
        """The exact election, trustees and credentials texts of the Setup event (the list
        read again from the archive when the runner's workers hold it)."""
        if self._raw_setup is not None and self._roll_entry is not None:
            with self.open_archive() as stream:
                listed = read_member(stream, self._roll_entry)
            return (*self._raw_setup[:2], listed)
        return self._raw_setup

    @property
    def raw_trustees(self) -> bytes | None:
        """The exact trustees text of the Setup event (the list not read for it)."""
        return None if self._raw_setup is None else self._raw_setup[1]

    @property
    def trustees(self) -> tuple[TrusteeKind, ...]:
        return self._trustees

    @property
    def owners(self) -> tuple[Owner, ...]:
        """The owners (trustee numbers 1, 2, ...) of partial decryptions and shuffles."""
        return tuple(self._owners)

    @property
    def head(self) -> Event | None:
        """The last event verified."""
        return self._prev

    @property
    def resumes_from(self) -> Event | None:
        """The event this verification resumes from (:meth:`from_checkpoint`) until it is
        reached."""
        return self._resume

    @property
    def tally(self) -> tuple[tuple[Ciphertext, ...], ...] | None:
        """The encrypted tally on the board, each non-homomorphic column as the last shuffle
        left it; None before the EncryptedTally event."""
        if self._tally is None:
            return None
        return tuple(tuple(col) for col in self._tally)

    @property
    def shuffled_by(self) -> frozenset[int]:
        """The owners whose shuffle is on the board and valid."""
        return frozenset(self._shuffle_owners)

    @property
    def decrypted_by(self) -> frozenset[int]:
        """The owners whose partial decryption is on the board and valid."""
        return frozenset(self._decryptions)

    @property
    def voted(self) -> int:
        """The voters (credentials) with a ballot on the board."""
        return len(self._last) if self._totals is None else self._totals[0]

    @property
    def roll_weight(self) -> int:
        """The weight of every credential of the list (the voters when unweighted)."""
        if self._listed is not None:
            return self._roll_weight
        return sum(self._credentials.values())

    @property
    def voted_weight(self) -> int:
        """The weight of the credentials with a ballot on the board."""
        if self._totals is not None:
            return self._totals[1]
        return sum(self._credentials[c] for c in self._last)

    def is_credential(self, public: str) -> bool:
        """Whether ``public`` is on the election's public credential list."""
        if self._listed is not None:
            raise StateError("the credential list is held by the runner's workers, not here")
        return public in self._credentials

    def last_ballot_of(self, public: str) -> int | None:
        """The height of the last ballot of credential ``public`` on the board (the one
        counted), or None (always, after a partitioned reduce: it was not kept here)."""
        return self._last.get(public)

    def resume_at_checkpoint(self, timestamp: int) -> Event:
        """Go on from the checkpoint's event as if every member up to it had been read
        (the caller has checked that it is on the board, at its place): the members after it
        are then given to :meth:`consume`. Returns that event."""
        if self._resume is None:
            raise StateError("this verification does not resume from a checkpoint")
        self._timestamp = timestamp
        self._prev, self._resume = self._resume, None
        return self._prev

    # -- findings ----------------------------------------------------------------------------
    def fail(
        self,
        check: str,
        err: PlebisciteError,
        event: Event | None = None,
        tracker: str | None = None,
        severity: str = "error",
    ) -> None:
        if len(self._report.findings) >= self.max_findings:
            self._report.truncated_findings += 1
            return
        self._report.findings.append(
            Finding(
                check=check,
                code=err.code,
                message=err.message,
                where=err.where,
                height=event.height if event else None,
                event=event.hash if event else None,
                tracker=tracker,
                severity=severity,
            )
        )

    # -- main loop ---------------------------------------------------------------------------
    def run(self) -> Report:
        try:
            with self.open_archive() as stream:
                try:
                    if (
                        self.scan is not None
                        and self.partitions is not None
                        and self.stop_after is None
                        and self._resume is None
                    ):
                        self._run_scanned(stream)
                    elif self.map_ballots is None:
                        self._read(iter_members(stream))
                    else:
                        self.index = index_archive(stream)
                        self._read(self._indexed_members(stream, self.index))
                except _StopError:
                    pass
                except PlebisciteError as e:
                    self.fail("archive", e, self._prev)
        except OSError as e:
            self.fail("archive", EncodingError(f"cannot read the archive: {e.strerror or e}"))
        if self._setup is not None:
            self._submit()  # the ballots of an election still open
        self._drain(0)
        if self.partitions is not None and self._totals is None and self._setup is not None:
            self._reduce_partitions()
        return self._report

    def _indexed_members(self, stream: BinaryIO, index: ArchiveIndex) -> Iterator[Member]:
        """The members of the archive as :func:`iter_members` yields them (the same checks, the
        same errors at the same place), read by its index (of the whole archive, or of a part
        of it); the data member of a ballot is not read but yielded empty, its index entry kept
        in ``_deferred`` for ``map_ballots``."""
        ahead: tuple[int, bytes] | None = None  # the event read ahead of its data members
        for i in range(len(index)):
            e = index[i]
            name = "BELENIOS" if e.kind == "header" else f"{e.hash}.{e.kind}.json"
            if e.kind == "data" and self._defer_roll and e.size > self.roll_inline:
                # perhaps the credential list: checked as it is read, not kept
                self._roll_entries[e.hash] = (e, roll_pieces(stream, e, piece=self.roll_piece))
                yield Member(name, "data", e.hash, b"", e.offset, e.mtime)
                continue
            if e.kind == "data":
                j = index.next_event(i)
                if j is not None and (ahead is None or ahead[0] != j):
                    try:
                        ahead = (j, read_member(stream, index[j]))
                    except PlebisciteError:
                        ahead = None  # raised when that event's turn comes
                if ahead is not None and ahead[0] == j and _is_ballot_event(ahead[1], index[j]):
                    self._deferred[e.hash] = e
                    yield Member(name, "data", e.hash, b"", e.offset, e.mtime)
                    continue
            read_ahead = ahead is not None and ahead[0] == i
            content = ahead[1] if ahead is not None and read_ahead else read_member(stream, e)
            yield Member(name, e.kind, e.hash, content, e.offset, e.mtime)
        if index.error is not None:
            raise index.error

    def _read(self, members: Iterator[Member]) -> None:
        self._read_header(members)
        if not self._read_members(members):
            self._at_end()

    def _read_header(self, members: Iterator[Member]) -> None:
        header = next(members)
        self._timestamp = int(parse_header(header).timestamp)
        if self._resume is None:
            self._report.status = BoardPhase.SETUP

    def _read_members(self, members: Iterator[Member]) -> bool:
        """The members after the header; True when verification stops (``stop_after``)."""
        for m in members:
            if m.mtime != self._timestamp:
                raise EncodingError(
                    f"member {m.name} has mtime {m.mtime}, not the header's timestamp "
                    f"{self._timestamp}",
                    where=f"archive byte {m.offset}",
                )
            if self._member(m.kind, m.hash, m.content, f"archive byte {m.offset}"):
                return True
        return False

    # -- the ballots scanned a range at a time (plebiscite.protocol.scan) ----------------------
    def _run_scanned(self, stream: BinaryIO) -> None:
        """The archive read here but for its ballots: its header and setup (to the Setup
        event), then the ballots a byte range at a time where each range is read (``scan``),
        then, from where the ranges' regular parts stop (the end of the ballots, or anything
        the scan does not take), the rest by an index of that part only, with every check of
        the sequential reader."""
        head = index_archive(stream, max_events=1)
        size = stream.seek(0, io.SEEK_END)
        self._ballots_hint = (size - head.end) // 4096
        members = self._indexed_members(stream, head)
        self._stream, self._defer_roll = stream, self.roll is not None and self.check_credentials
        try:
            self._read_header(members)
            self._read_members(members)
        finally:
            self._stream, self._defer_roll = None, False
            self._roll_entries.clear()
        start = head.end
        prev = self._prev
        if (
            self._setup is not None
            and prev is not None
            and prev.type == "Setup"
            and not (self._pending or self._deferred)
        ):
            start = self._scan_ballots(stream, start)
        tail = index_archive(stream, start=start)
        self._read_members(self._indexed_members(stream, tail))
        self._at_end()

    def _scan_ballots(self, stream: BinaryIO, start: int) -> int:
        """The ranges from ``start`` (where a member begins, after the Setup event) to the
        archive's end scanned, their regular parts taken in order; where the archive is to be
        read from here on (the first byte not taken).

        The first ranges are small (256 KiB, then twice the one before, up to the size for the
        archive and the workers: what an archive whose ballots stop early makes read in vain
        stays small), the last ones too (at most half of what is left a worker: the workers
        end together), a range begins no earlier than where the members taken end (none is
        read twice: a large member is not read in ranges), and two ranges a worker are in
        flight (one when the scan runs here)."""
        assert self.scan is not None and self.partitions is not None
        assert self._setup is not None and self._timestamp is not None
        runner = self.partitions
        size = stream.seek(0, io.SEEK_END)
        if self.scan_bytes is None:
            step, grow = range_bytes(size - start, self.workers), MIN_RANGE
        else:
            step = grow = max(BLOCK, self.scan_bytes - self.scan_bytes % BLOCK)
        if self._shared_setup is None:
            share = self.share_setup
            self._shared_setup = self._setup if share is None else share(self._setup)
        parts = self._partitions()
        ahead = 1 if self.executor is None else 2 * self.workers
        inflight: deque[Any] = deque()
        cursor, expected, trail = start, start, list[IndexEntry]()
        try:
            while True:
                while len(inflight) < ahead and max(cursor, expected) < size:
                    a = max(cursor, expected)
                    # the last ranges smaller (a share of what is left for each worker):
                    # the workers end together
                    taper = max(MIN_RANGE, (size - a) // (2 * self.workers))
                    if self.scan_bytes is not None:
                        taper = step  # the ranges' size given: all of it
                    cursor = min(a + min(grow, step, taper - taper % BLOCK), size)
                    grow *= 2
                    task = (self.scan, self._shared_setup, parts, self._timestamp, a, cursor)
                    inflight.append(runner.map(*task))
                    self.ranges += 1
                if not inflight:
                    return trail[0].offset if trail else expected
                handle = inflight.popleft()
                try:
                    summary: ScanSummary = runner.result(runner.item(handle, 0))
                except Exception as e:
                    raise MapStepError(
                        f"a range of ballots could not be verified: {type(e).__name__}: {e}"
                    ) from e
                resume = self._take_range(stream, summary, handle, expected, trail)
                if resume is not None:
                    return resume
                if summary.first is not None:
                    expected, trail = summary.end, summary.trail
        finally:
            for handle in inflight:
                cancel = getattr(handle, "cancel", None)
                if cancel is not None:
                    cancel()

    def _take_range(
        self,
        stream: BinaryIO,
        s: ScanSummary,
        handle: Any,
        expected: int,
        trail: list[IndexEntry],
    ) -> int | None:
        """Take what the scan of a range found, after the ranges before it: None, or the
        byte from which the archive is to be read here (the range does not begin where the
        one before it ends, or its regular part stops in it). ``expected`` is where the last
        range's members end, ``trail`` its data members after its last event."""
        back = trail[0].offset if trail else expected
        if s.first is None:  # no member begins in the range: it lies in one member
            return None if expected >= s.until else back
        if s.first != expected or (trail and not s.lead):
            return back
        at = s.first
        if trail or s.lead:
            # the ballots across the edge (and any other event there): read here, in order
            edge = index_archive(stream, start=back, max_events=len(s.lead))
            self._read_members(self._indexed_members(stream, edge))
            at = edge.end
        if s.ballots and at != s.body:
            return at  # the range's walk is not the one read here: read on from here
        if s.ballots:
            first, last = s.first_event, s.last_event
            assert first is not None and last is not None
            self._chain(first)
            self._prev = last
            self._report.events += s.ballots
            self._report.ballots += s.ballots
            self.scanned += s.ballots
            self._report.last_event = last.hash
            self._report.status = STATUS[last.type]
            assert self.partitions is not None
            self._mapped.append((self.partitions.item(handle, 1), s.ballots))
            self._drain(2 * self.workers)
        return None if s.stop is None else max(s.stop, at)

    def _member(self, kind: str, hash_: str, content: bytes, where: str) -> bool:
        """Process one member; True when verification stops here (``stop_after``)."""
        if kind == "data":
            if hash_ not in self._deferred and hash_ not in self._roll_entries:
                self._pending[hash_] = content
            if len(self._pending) + len(self._deferred) + len(self._roll_entries) > MAX_DATA_RUN:
                raise EncodingError(
                    f"more than {MAX_DATA_RUN} data members in a row with no event: no event "
                    "refers to more than 5",
                    where=where,
                )
            waiting = (
                sum(map(len, self._pending.values()))
                + sum(e.size for e in self._deferred.values())
                + sum(e.size for e, _ in self._roll_entries.values())
            )
            if waiting > DEFAULT_MAX_MEMBER:
                raise SizeError(
                    f"the data waiting for the next event has {waiting} bytes, more than the "
                    f"limit of {DEFAULT_MAX_MEMBER}",
                    where=where,
                )
            return False
        try:
            ev = parse_event(content, hash_, f"event {hash_}")
        except PlebisciteError as e:
            self.fail("chain", e)
            raise _StopError from None
        if self._resume is not None:
            self._skip(ev)
            return False
        self._chain(ev)
        self._event(ev)
        if self._pending or self._deferred or self._roll_entries:
            left = sorted([*self._pending, *self._deferred, *self._roll_entries])
            self.fail(
                "archive",
                EncodingError(
                    f"{len(left)} data member(s) not referenced by the next event",
                    where=", ".join(left)[:200],
                ),
                ev,
            )
            self._pending.clear()
            self._deferred.clear()
            self._roll_entries.clear()
        self._prev = ev
        self._report.events += 1
        self._report.last_event = ev.hash
        self._report.status = STATUS[ev.type]
        return self.stop_after is not None and ev.height >= self.stop_after

    def _at_end(self) -> None:
        if self._resume is not None:
            self.fail(
                "since",
                ConsistencyError(
                    f"the archive ends before event {self._resume.height} ({self._resume.hash}) of "
                    "the verification it resumes: events were removed"
                ),
            )
        if self._pending or self._deferred:
            self.fail(
                "archive",
                EncodingError(
                    "data members at the end of the archive are not referenced by any event"
                ),
                self._prev,
            )

    # -- live use: a board that grows while it is watched -------------------------------------
    def consume(
        self, kind: str, hash_: str, content: bytes, *, proofs_checked: bool = False
    ) -> None:
        """Verify one more member appended to the archive verified so far (a board server or
        an observer following the live feed). Findings go to the report as usual.
        ``open_archive`` must open the archive as it now is, this member included: the tally
        reads replaced ballots again when voters revoted.

        ``proofs_checked``: the member is a ballot whose signature and proofs were checked in
        full by whoever appended it, and this verifier trusts that check (a server process
        reading what another process of the same server appended to their shared database):
        everything else is checked (its place in the chain, the election, the credential on
        the list, no ciphertext of another credential, one counted ballot per credential)."""
        self._proofs_checked = proofs_checked
        try:
            self._member(kind, hash_, content, f"member {hash_}")
        except _StopError:
            pass
        except PlebisciteError as e:
            self.fail("archive", e, self._prev)
        finally:
            self._proofs_checked = False
        if kind == "event":
            self._submit()
            self._drain(0)

    def precheck_ballot(self, raw: bytes) -> ChunkResult:
        """Check a ballot against the board as it stands, before it is appended: every proof
        and the signature, the election, the credential on the list, no ciphertext of another
        credential, voting still open. Raises the error that refuses it; nothing changes. The
        result, passed to :meth:`consume` through :meth:`admit_ballot`, spares checking twice.
        A server runs the two halves apart: :meth:`check_ballot_alone` (the costly proofs,
        on any core, no lock) then :meth:`check_ballot_on_board` (under its append lock)."""
        res = self.check_ballot_alone(raw)
        self.check_ballot_on_board(res)
        return res

    def check_ballot_alone(self, raw: bytes) -> ChunkResult:
        """The checks of a ballot that do not depend on the rest of the board."""
        if self._setup is None:
            raise StateError("the election is not set up")
        res = verify_ballots(self._setup, [(-1, "", raw)])
        (o,) = res.outcomes
        if o.error is not None:
            raise _error(*o.error)
        return res

    def check_ballot_on_board(self, res: ChunkResult) -> None:
        """The checks of a ballot against the board as it now stands."""
        if (
            not self.phase.takes_ballots
            or self._prev is None
            or (self._prev.type not in ("Setup", "Ballot"))
        ):
            raise StateError("voting is not open")
        (o,) = res.outcomes
        cred = o.credential
        if cred is None or cred not in self._credentials:
            raise ConsistencyError(
                "credential is not in the public credential list", where="credential"
            )
        for d in o.alpha_digests:
            owner = self._alpha_owner.get(d)
            if owner is not None and owner != cred:
                raise ConsistencyError(
                    "a ciphertext of this ballot already appears under another credential",
                    where="answers",
                )
        if o.nh and self._credentials[cred] != 1:
            raise ConsistencyError(
                "a voter with a weight other than 1 cannot answer a non-homomorphic question"
            )

    def _skip(self, ev: Event) -> None:
        """Before the checkpoint: check the chain only, and that the checkpoint's event is
        where it should be (same height, same hash, hence the same content before it)."""
        resume = self._resume
        assert resume is not None
        self._pending.clear()
        self._deferred.clear()
        expected = 0 if self._skip_prev is None else self._skip_prev.height + 1
        if ev.height != expected or ev.parent != (
            self._skip_prev.hash if self._skip_prev else None
        ):
            self.fail("chain", StateError("event out of chain"), ev)
            raise _StopError
        self._skip_prev = ev
        if ev.height == resume.height:
            if ev.hash != resume.hash:
                self.fail(
                    "since",
                    ConsistencyError(
                        f"event {ev.height} differs from the one this verification resumes from "
                        f"({resume.hash}): the archive was rewritten"
                    ),
                    ev,
                )
                raise _StopError
            self._resume = None
            self._prev = ev

    def checkpoint(self) -> bytes:
        """The state reached, as JSON, to resume verification of a longer copy of the same
        archive later (:meth:`from_checkpoint`) without checking earlier events again. Only a
        valid state is saved, and only between events (no chunk in flight)."""
        return strictjson.dumps_compact(self._state(growing=True))

    def _state(self, *, growing: bool) -> dict[str, Any]:
        """The state to checkpoint; without the setup and what grows with the ballots unless
        ``growing``."""
        if not self._report.valid or self._prev is None or self._raw_setup is None:
            raise StateError("only a valid, set-up verification can be checkpointed")
        if self.partitions is not None:
            raise StateError("a partitioned reduce keeps no state here to checkpoint")
        if self._batch or self._ref_batch or self._inflight:
            raise StateError("ballots are still being verified")

        def cts(xs: Any) -> Any:
            return [[str(a), str(b)] for a, b in xs]

        state = {
            "version": 1,
            "event": {
                "height": self._prev.height,
                "type": self._prev.type,
                "hash": self._prev.hash,
                "parent": self._prev.parent,
                "payload": self._prev.payload,
            },
            "report": {
                k: v
                for k, v in self._report.to_json().items()
                if k not in ("findings", "valid", "archive", "since")
            },
            "product": [None if col is None else cts(col) for col in self._product],
            "nh_by_height": {str(h): cts(v) for h, v in self._nh_by_height.items()},
            "tally": None if self._tally is None else [cts(col) for col in self._tally],
            "shuffle_owners": sorted(self._shuffle_owners),
            "decryptions": {
                str(o): [[str(f) for f in row] for row in rows]
                for o, rows in self._decryptions.items()
            },
            "computed": None
            if self._computed_tally is None
            else {
                "tally": [cts(col) for col in self._computed_tally],
                "num": self._computed_num,
                "weight": self._computed_weight,
            },
        }
        if growing:
            state |= {
                "setup": [r.decode() for r in self._raw_setup],
                "alpha_owner": {d.hex(): c for d, c in self._alpha_owner.items()},
                "last": self._last,
                "superseded": self._superseded,
            }
        return state

    # -- incremental checkpoints: a base of fixed size and deltas ----------------------------------
    def checkpoint_base(self) -> bytes:
        """The state reached, without the setup and without what grows with the ballots (the
        owner of every ciphertext, the last ballot of every credential, the ballots replaced):
        those are in the deltas (:meth:`checkpoint_delta`). Resumed by
        :meth:`from_checkpoint_parts`."""
        return strictjson.dumps_compact(self._state(growing=False) | {"version": 2})

    def checkpoint_delta(self) -> bytes:
        """What the growing part of the state gained since the last delta saved
        (:meth:`delta_saved`; all of it the first time): new ciphertext owners, changed last
        ballots, newly replaced ballots; credentials by their place in the list."""
        n_alpha, n_superseded = self._delta_mark
        index = self._credential_index()
        alphas = itertools.islice(self._alpha_owner.items(), n_alpha, None)
        return strictjson.dumps_compact(
            {
                "alpha_owner": [[d.hex(), index[c]] for d, c in alphas],
                "last": sorted([index[c], self._last[c]] for c in self._last_changed),
                "superseded": self._superseded[n_superseded:],
            }
        )

    def delta_saved(self) -> None:
        """The delta of :meth:`checkpoint_delta` is stored: the next one starts from here."""
        self._delta_mark = (len(self._alpha_owner), len(self._superseded))
        self._last_changed.clear()

    def _credential_index(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self._credentials)}

    @classmethod
    def from_checkpoint_parts(
        cls,
        base: bytes,
        deltas: Iterable[bytes],
        setup: tuple[bytes, bytes, bytes],
        open_archive: Opener,
        **kwargs: Any,
    ) -> Verifier:
        """A verifier that continues from :meth:`checkpoint_base` and every delta saved
        before it, in order, for the election of ``setup`` (the texts of its Setup event)."""
        s = strictjson.loads(base, max_size=1 << 34, where="checkpoint")
        if not isinstance(s, dict) or s.get("version") != 2:
            raise EncodingError("not a checkpoint base of this version", where="checkpoint")
        s |= {
            "setup": [x.decode() for x in setup],
            "alpha_owner": {},
            "last": {},
            "superseded": [],
        }
        v = cls._restored(s, open_archive, **kwargs)
        publics = list(v._credentials)  # in the list's order
        try:
            for i, raw in enumerate(deltas):
                d = strictjson.loads(raw, max_size=1 << 34, where=f"checkpoint delta {i}")
                for digest, c in d["alpha_owner"]:
                    v._alpha_owner[bytes.fromhex(digest)] = publics[c]
                for c, height in d["last"]:
                    v._last[publics[c]] = int(height)
                v._superseded.extend(int(h) for h in d["superseded"])
        except (KeyError, TypeError, ValueError, IndexError) as e:
            raise EncodingError(f"a checkpoint delta is malformed ({e})", where="checkpoint") from e
        v.delta_saved()  # what it was made of is stored
        return v

    @classmethod
    def from_checkpoint(cls, data: bytes, open_archive: Opener, **kwargs: Any) -> Verifier:
        """A verifier that continues from :meth:`checkpoint`: the archive must contain the
        checkpoint's event at the same height; only the events after it are verified."""
        s = strictjson.loads(data, max_size=1 << 34, where="checkpoint")
        if not isinstance(s, dict) or s.get("version") != 1:
            raise EncodingError("not a checkpoint of this version", where="checkpoint")
        return cls._restored(s, open_archive, **kwargs)

    @classmethod
    def _restored(cls, s: dict[str, Any], open_archive: Opener, **kwargs: Any) -> Verifier:
        v = cls(open_archive, **kwargs)
        e = s["event"]
        v._resume = Event(e["height"], e["type"], e["parent"], e["payload"], e["hash"])
        el_raw, tr_raw, cr_raw = (x.encode() for x in s["setup"])
        v._setup_from(el_raw, tr_raw, cr_raw, None)

        group = v._election.group if v._election else None
        assert group is not None
        dec = group.decode

        def cts(xs: Any) -> list[Ciphertext]:
            return [(dec(a), dec(b)) for a, b in xs]

        for k, val in s["report"].items():
            setattr(v._report, k, val)
        v._alpha_owner = {bytes.fromhex(d): c for d, c in s["alpha_owner"].items()}
        v._last = dict(s["last"])
        v._superseded = list(s["superseded"])
        v._product = [None if col is None else cts(col) for col in s["product"]]
        v._nh_by_height = {int(h): tuple(cts(x)) for h, x in s["nh_by_height"].items()}
        v._tally = None if s["tally"] is None else [cts(col) for col in s["tally"]]
        v._shuffle_owners = set(s["shuffle_owners"])
        v._decryptions = {
            int(o): [[dec(f) for f in row] for row in rows] for o, rows in s["decryptions"].items()
        }
        if s["computed"] is not None:
            c = s["computed"]
            v._computed_tally = [cts(col) for col in c["tally"]]
            v._computed_num, v._computed_weight = c["num"], c["weight"]
        return v

    def _chain(self, ev: Event) -> None:
        prev = self._prev
        expected_height = 0 if prev is None else prev.height + 1
        if ev.height != expected_height:
            self.fail("chain", StateError(f"height is {ev.height}, expected {expected_height}"), ev)
            raise _StopError
        if (prev is None) != (ev.parent is None) or (prev is not None and ev.parent != prev.hash):
            self.fail(
                "chain",
                StateError(
                    "parent does not refer to the previous event"
                    if prev
                    else "the first event must not have a parent"
                ),
                ev,
            )
            raise _StopError
        allowed = NEXT[prev.type if prev else None]
        if ev.type not in allowed:
            after = f"after {prev.type}" if prev else "first"
            self.fail(
                "chain",
                StateError(
                    f"event {ev.type} not allowed {after}; "
                    f"expected {' or '.join(allowed) or 'nothing'}"
                ),
                ev,
            )
            raise _StopError

    def _take(self, ref: str, ev: Event, what: str) -> bytes:
        rolled = self._take_list(ref, ev, what)
        if isinstance(rolled, bytes):
            return rolled
        assert self._stream is not None
        return read_member(self._stream, rolled[0])  # checked once already, as it was read

    def _take_list(
        self, ref: str, ev: Event, what: str
    ) -> bytes | tuple[IndexEntry, list[tuple[int, int]]]:
        """The data member ``ref``, or where it lies and its pieces (a large one of the
        start of a scanned archive, left unread: see :mod:`plebiscite.protocol.roll`)."""
        left = self._roll_entries.pop(ref, None)
        if left is not None:
            return left
        try:
            return self._pending.pop(ref)
        except KeyError:
            self.fail(
                "archive", EncodingError(f"{what} {ref} is not in the archive before the event"), ev
            )
            raise _StopError from None

    def _event(self, ev: Event) -> None:
        handler = getattr(self, f"_on_{ev.type}")
        handler(ev)

    # -- setup -------------------------------------------------------------------------------
    def _on_Setup(self, ev: Event) -> None:
        assert ev.payload
        raw = self._take(ev.payload, ev, "setup data")
        try:
            sd = obj(
                strictjson.loads(raw, max_size=4096, where="setup data"),
                "setup data",
                ("election", "trustees", "credentials"),
                ("credentials_certificate",),
            )
            refs = {
                k: hash_ref(sd[k], f"setup data.{k}")
                for k in ("election", "trustees", "credentials")
            }
            el_raw = self._take(refs["election"], ev, "election")
            tr_raw = self._take(refs["trustees"], ev, "trustees")
            cr_raw = self._take_list(refs["credentials"], ev, "public credentials")
            certificate = None
            if "credentials_certificate" in sd:
                # Belenios 3.2 and later: a statement of the credential authority about the
                # list. The 3.3 specification does not define its content, so it is required
                # to be present and to be JSON; what it says is not checked
                w = "setup data.credentials_certificate"
                certificate = self._take(hash_ref(sd["credentials_certificate"], w), ev, w)
                strictjson.loads(certificate, max_size=1 << 20, where=w)
        except PlebisciteError as e:
            self.fail("setup", e, ev)
            raise _StopError from None
        self._setup_from(el_raw, tr_raw, cr_raw, ev)
        if certificate is not None:
            self._report.record = "3.x"
            self._report.record_features.append(
                "a credentials certificate (present and JSON; the 3.3 specification does not "
                "define its content)"
            )

    def _setup_from(
        self,
        el_raw: bytes,
        tr_raw: bytes,
        cr_raw: bytes | tuple[IndexEntry, list[tuple[int, int]]],
        ev: Event | None,
    ) -> None:
        try:
            election = parse_election(el_raw)
        except PlebisciteError as e:
            self.fail("setup", e, ev)
            raise _StopError from None
        self._raw_setup = (el_raw, tr_raw, cr_raw if isinstance(cr_raw, bytes) else b"")
        self._election = election
        r = self._report
        r.uuid, r.name, r.group = election.uuid, election.name, election.group.name
        r.questions = [q.describe() for q in election.questions]
        group = election.group
        self._ctx = Context(group, election.public_key)
        if self.executor is not None and isinstance(group, FiniteFieldGroup):
            # the worker processes, forked later, inherit the fixed-base tables built here
            fixed_base(group, group.g)
            fixed_base(group, election.public_key)
        try:
            self._trustees = parse_trustees(tr_raw, group)
            self._check_trustees(election)
            r.record_features = record_features(election, self._trustees)
            r.record = "3.x" if r.record_features else "2.0"
            weights: dict[str, int] | None = None
            if not isinstance(cr_raw, bytes):
                weights = self._roll_on_runner(el_raw, *cr_raw)
                if weights is None:  # not the form taken there, or an error: read here
                    assert self._stream is not None
                    cr_raw = read_member(self._stream, cr_raw[0])
                    self._raw_setup = (el_raw, tr_raw, cr_raw)
            if isinstance(cr_raw, bytes):
                if self.partitions is not None and self.check_credentials:
                    creds = self._credentials_checked_on_runner(cr_raw, group)
                else:
                    creds = parse_credentials(cr_raw, group, membership=self.check_credentials)
        except PlebisciteError as e:
            self.fail("setup", e, ev)
            raise _StopError from None
        if weights is None:
            self._credentials = {c.public: c.weight for c in creds}
            r.voters = len(creds)
            weights = {c.public: c.weight for c in creds if c.weight != 1}
        self._setup = BallotSetup(el_raw, weights or None, per_ballot=self.partitions is not None)
        self._product = [
            [(group.one, group.one) for _ in range(q.size)] if q.homomorphic else None
            for q in election.questions
        ]

    def _roll_on_runner(
        self, election_raw: bytes, entry: IndexEntry, pieces: list[tuple[int, int]]
    ) -> dict[str, int] | None:
        """The public credential list of ``entry`` parsed and checked by the runner's workers,
        a piece each, and held there, a :class:`~plebiscite.protocol.reduce.Listed` a
        partition (``_listed``), its count in the report: its weights other than 1; None when
        a piece is not in the form taken there or has an error, or a credential is listed
        twice (the list is then read here, for the error in its order)."""
        assert self.partitions is not None and self.roll is not None
        if not self._parts:  # P from the ballots or the list (64 bytes or more a credential)
            self._ballots_hint = max(self._ballots_hint, entry.size // 64)
        runner, parts, base = self.partitions, self._partitions(), entry.offset + BLOCK
        last = len(pieces) - 1
        handles = [
            runner.map(self.roll, election_raw, parts, base + a, b - a, i == 0, i == last)
            for i, (a, b) in enumerate(pieces)
        ]
        summaries: list[RollSummary] = [runner.result(runner.item(h, 0)) for h in handles]
        if not all(s.ok for s in summaries):
            return None
        merged = [
            runner.reduce(merge_listed, *(runner.item(h, 1 + p) for h in handles))
            for p in range(parts)
        ]
        del handles
        if any(runner.result(runner.item(m, 1)) for m in merged):
            return None
        self._listed = [runner.item(m, 0) for m in merged]
        self._roll_entry = entry
        self._roll_weight = sum(s.weight for s in summaries)
        self._report.voters = sum(s.credentials for s in summaries)
        weights: dict[str, int] = {}
        for s in summaries:
            weights |= s.weights or {}
        return weights

    def _credentials_checked_on_runner(self, raw: bytes, group: Group) -> tuple[Credential, ...]:
        """The public credentials parsed here, their subgroup membership (a multiplication
        each in Ed25519: most of the setup's cost on a large list) checked by the runner's
        workers, ``credential_chunk`` at a time; the error of :func:`parse_credentials` when
        the list has one (read again here, alone, for its first error in the list's order)."""
        assert self.partitions is not None
        n, runner = self.credential_chunk, self.partitions
        if len(raw) <= 64 * n:  # a short list (a credential takes 64 bytes or more)
            return parse_credentials(raw, group)
        try:
            creds = parse_credentials(raw, group, membership=False)
        except PlebisciteError:
            return parse_credentials(raw, group)  # raises the first error
        publics = [c.public for c in creds]
        handles = [
            runner.map(first_non_member, group, publics[i : i + n])
            for i in range(0, len(publics), n)
        ]
        del publics
        if any(runner.result(h) is not None for h in handles):
            return parse_credentials(raw, group)  # raises the first error
        return creds

    def _check_trustees(self, election: Election) -> None:
        self._owners = check_trustees(election, self._trustees)

    # -- ballots -----------------------------------------------------------------------------
    def _on_Ballot(self, ev: Event) -> None:
        assert ev.payload
        entry = self._deferred.pop(ev.payload, None)
        if entry is not None:
            # read and verified by map_ballots, in order with the ballots before it
            self._report.ballots += 1
            self._ref_batch.append((ev.height, ev.hash, entry))
            self._batch_bytes += entry.size
            if len(self._ref_batch) >= self.chunk_size or self._batch_bytes >= self.chunk_bytes:
                self._submit()
            return
        raw = self._take(ev.payload, ev, "ballot")
        self._report.ballots += 1
        pre = self._prechecked.pop(ev.payload, None)
        if pre is None and self._proofs_checked and self._setup is not None:
            pre = verify_ballots(self._setup, [(ev.height, ev.hash, raw)], proofs=False)
        if pre is None and self.map_ballots is not None and self._setup is not None:
            # read by the index but not left to map_ballots (its event was read again): here,
            # after the ballots before it
            pre = verify_ballots(self._setup, [(ev.height, ev.hash, raw)])
        if pre is None and len(raw) > LIMITS.ballot_bytes and self._setup is not None:
            # refused for its size here, before anything is parsed, not sent to a worker
            pre = verify_ballots(self._setup, [(ev.height, ev.hash, raw)])
        if pre is not None and self.partitions is not None:
            self._submit()
            res = outcomes_at(pre, ev.height, ev.hash)
            self._mapped.append((self.partitions.map(route_result, res, self._partitions()), 1))
            self._drain(2 * self.workers)
            return
        if pre is not None:
            self._submit()
            self._drain(0)
            o = pre.outcomes[0]
            self._reduce(
                ChunkResult(
                    outcomes=[
                        BallotOutcome(
                            ev.height,
                            ev.hash,
                            o.tracker,
                            o.credential,
                            o.error,
                            o.alpha_digests,
                            o.nh,
                        )
                    ],
                    product=pre.product,
                )
            )
            return
        self._batch.append((ev.height, ev.hash, raw))
        self._batch_bytes += len(raw)
        if len(self._batch) >= self.chunk_size or self._batch_bytes >= CHUNK_BYTES:
            self._submit()

    def _submit(self) -> None:
        if self._ref_batch:
            assert self._setup is not None and self.map_ballots is not None
            refs, self._ref_batch, self._batch_bytes = self._ref_batch, [], 0
            if self.partitions is not None:
                if self._shared_setup is None:
                    share = self.share_setup
                    self._shared_setup = self._setup if share is None else share(self._setup)
                m = self.partitions.map(
                    route_chunk, self.map_ballots, self._partitions(), self._shared_setup, refs
                )
                self._mapped.append((m, len(refs)))
                self._drain(2 * self.workers)
                return
            if self.executor is None:
                self._inflight.append(self.map_ballots(self._setup, refs))
            else:
                if self._shared_setup is None:
                    share = self.share_setup
                    self._shared_setup = self._setup if share is None else share(self._setup)
                self._inflight.append(
                    self.executor.submit(self.map_ballots, self._shared_setup, refs)
                )
            self._drain(2 * self.workers)
        if not self._batch:
            return
        assert self._setup is not None
        chunk, self._batch, self._batch_bytes = self._batch, [], 0
        if self.executor is None:
            self._inflight.append(verify_ballots(self._setup, chunk))
        else:
            self._inflight.append(self.executor.submit(verify_ballots, self._setup, chunk))
        self._drain(2 * self.workers)

    def _drain(self, keep: int) -> None:
        while len(self._mapped) > keep:
            assert self.partitions is not None
            m, n = self._mapped.popleft()
            try:
                self.partitions.wait(m)
            except Exception as e:
                raise MapStepError(
                    f"a chunk of ballots could not be verified: {type(e).__name__}: {e}"
                ) from e
            self._round.append(m)
            if len(self._round) >= self.workers:  # absorbed soon: their parts do not pile up
                self._absorb_round()
            if self.progress:
                self.progress(n)
        while len(self._inflight) > keep:
            item = self._inflight.popleft()
            if isinstance(item, ChunkResult):
                res = item
            else:
                try:
                    res = item.result()
                except Exception as e:
                    # not the archive's fault (an OSError here is not "cannot read it")
                    raise MapStepError(
                        f"a chunk of ballots could not be verified: {type(e).__name__}: {e}"
                    ) from e
            self._reduce(res)

    # -- the partitioned reduce (plebiscite.protocol.reduce) -----------------------------------
    def _partitions(self) -> int:
        """P: from the ballots (about half the archive's members) and the workers."""
        if not self._parts:
            assert self.partitions is not None
            ballots = len(self.index) // 2 if self.index is not None else self._ballots_hint
            width = self.partitions.width
            self._parts = partitions_for(ballots, width)
            if self.new_partition is None:
                self._states = [None] * self._parts
            else:  # each partition's memory bounded (its runs beyond a bound on disk)
                self._states = [
                    self.partitions.reduce(self.new_partition) for _ in range(self._parts)
                ]
        return self._parts

    def _absorb_round(self) -> None:
        """The chunks verified since the last round, each partition's part of them added to
        its state (where the state is)."""
        assert self.partitions is not None
        runner, maps, self._round = self.partitions, self._round, []
        self._partitions()
        for p, parts in enumerate(runner.parts(maps, self._states)):
            self._states[p] = runner.reduce(absorb, self._states[p], self.max_findings, *parts)

    def _reduce_partitions(self) -> None:
        """The end of the partitioned reduce: the ciphertexts held under several credentials,
        then each partition's product, counts and findings, merged in a tree; the findings of
        the ballots reported here in board order."""
        assert self.partitions is not None and self._setup is not None
        self._submit()
        self._drain(0)
        if self._round:
            self._absorb_round()
        self._partitions()
        states, self._states = self._states, []
        try:
            listed = self._listed
            total = reduce_partitions(
                self.partitions,
                states,
                self._setup,
                credential_parts(self._credentials, len(states))
                if listed is None
                else listed.__getitem__,
                self.max_findings,
            )
        except Exception as e:
            raise MapStepError(
                f"the reduce of the ballots could not be made: {type(e).__name__}: {e}"
            ) from e
        self._product = total.product
        self._nh_by_height = dict(total.nh)
        self._totals = (total.counted, total.weight)
        for h, _, check, code, message, where, event, tracker in total.findings:
            ev = Event(h, "Ballot", None, None, event)
            self.fail(check, _error(code, message, where), ev, tracker)
        self._report.truncated_findings += total.dropped

    def _reduce(self, res: ChunkResult) -> None:
        ctx = self._ctx
        for acc, part in zip(self._product, res.product, strict=True):
            if acc is not None and part is not None:
                assert ctx is not None
                for j, ((a1, b1), (a2, b2)) in enumerate(zip(acc, part, strict=True)):
                    acc[j] = (ctx.mul(a1, a2), ctx.mul(b1, b2))
        for o in res.outcomes:
            ev = Event(o.height, "Ballot", None, None, o.event_hash)
            if o.error is not None:
                code, message, where = o.error
                self.fail("ballot", _error(code, message, where), ev, o.tracker)
                continue
            cred = o.credential
            assert cred is not None
            if cred not in self._credentials:
                self.fail(
                    "ballot",
                    ConsistencyError(
                        "credential is not in the public credential list", where="credential"
                    ),
                    ev,
                    o.tracker,
                )
                continue
            for d in o.alpha_digests:
                owner = self._alpha_owner.setdefault(d, cred)
                if owner != cred:
                    self.fail(
                        "ballot",
                        ConsistencyError(
                            "a ciphertext of this ballot already appears under another credential",
                            where="answers",
                        ),
                        ev,
                        o.tracker,
                    )
                    break
            prev = self._last.get(cred)
            if prev is not None:
                self._superseded.append(prev)
                self._nh_by_height.pop(prev, None)
            self._last[cred] = o.height
            self._last_changed.add(cred)
            if o.nh:
                if self._setup and self._setup.weights and self._setup.weights.get(cred, 1) != 1:
                    self.fail(
                        "ballot",
                        ConsistencyError(
                            "a voter with a weight other than 1 answered a non-homomorphic question"
                        ),
                        ev,
                        o.tracker,
                    )
                self._nh_by_height[o.height] = o.nh
        if self.progress:
            self.progress(len(res.outcomes))

    def _on_EndBallots(self, ev: Event) -> None:
        self._submit()
        self._drain(0)
        if self.partitions is not None:
            self._reduce_partitions()
        elif self._superseded:
            self._divide_superseded(ev)
        self._record_computed_tally()

    def _record_computed_tally(self) -> None:
        """The encrypted tally as recomputed from the board: homomorphic questions, the product
        of the last ballots raised to their weights; non-homomorphic ones, the last ballots'
        ciphertexts sorted by value (as belenios-tool orders them)."""
        assert self._election is not None
        nh = [self._nh_by_height[h] for h in sorted(self._nh_by_height)]
        tally: list[list[Ciphertext]] = []
        k = 0
        for acc in self._product:
            if acc is not None:
                tally.append(list(acc))
            else:
                tally.append(self._sorted_ciphertexts(cts[k] for cts in nh))
                k += 1
        self._computed_tally = tally
        self._computed_num = self.voted
        self._computed_weight = self.voted_weight

    def _sorted_ciphertexts(self, cts: Iterable[Ciphertext]) -> list[Ciphertext]:
        """Ciphertexts in the order of the record (by value; in Ed25519 by their bytes)."""
        assert self._election is not None
        key = self._election.group.sort_key
        return sorted(cts, key=lambda c: (key(c[0]), key(c[1])))

    def _divide_superseded(self, ev: Event) -> None:
        """Divide the product by the ballots replaced by a revote (a second, partial pass), in
        chunks parsed on the executor's workers when there is one (the first pass's executor:
        worker processes or a Dask cluster). Their signatures and proofs are not verified
        again: only ballots found valid in the first pass were multiplied in (and replaced),
        and the reader checks that each member still hashes to its name and the events chain
        up to this EndBallots event, so these are the bytes verified then (an archive changed
        between the passes is reported)."""
        wanted = set(self._superseded)
        chunk: list[tuple[int, str, bytes]] = []
        size = 0
        parent: str | None = None
        same = reached = False
        with self.open_archive() as stream:
            pending: dict[str, bytes | IndexEntry] = {}
            same = True
            for kind, hash_, content in self._second_pass(stream):
                if kind == "data":
                    pending[hash_] = content
                elif kind == "event":
                    assert isinstance(content, bytes)
                    e = parse_event(content, hash_, "event")
                    same = same and e.parent == parent
                    parent = e.hash
                    if e.height >= ev.height:
                        reached = e.hash == ev.hash
                    if e.type == "Ballot" and e.height in wanted and e.payload in pending:
                        raw = pending[e.payload]
                        if isinstance(raw, IndexEntry):
                            raw = read_member(stream, raw)
                        chunk.append((e.height, e.hash, raw))
                        size += len(raw)
                        if len(chunk) >= self.chunk_size or size >= CHUNK_BYTES:
                            self._divide(chunk)
                            chunk, size = [], 0
                    pending.clear()
                    if e.height >= ev.height:
                        break
        if chunk:
            self._divide(chunk)
        self._divide(None)
        if not (same and reached):
            self.fail(
                "tally",
                ConsistencyError(
                    "the archive changed while it was verified: read again for the ballots "
                    "replaced by a revote, its events up to EndBallots are not the ones verified"
                ),
                ev,
            )

    def _second_pass(self, stream: BinaryIO) -> Iterator[tuple[str, str, bytes | IndexEntry]]:
        """The members read again for the ballots replaced by a revote: read by the index when
        there is one (the events, and only the ballots wanted, by the caller), else all."""
        index = self.index
        if index is None:
            for m in iter_members(stream):
                yield m.kind, m.hash, m.content
            return
        for i in range(len(index)):
            e = index[i]
            if e.kind == "data":
                yield "data", e.hash, e
            elif e.kind == "event":
                yield "event", e.hash, read_member(stream, e)

    def _divide(self, chunk: list[tuple[int, str, bytes]] | None) -> None:
        """Divide the product by a chunk of replaced ballots, parsed (not verified again) on
        the executor when there is one, at most two chunks a worker in flight; ``None``: the
        chunks in flight, all of them."""
        assert self._setup is not None and self._ctx is not None
        if self.executor is None:
            if chunk is not None:
                self._divide_by(verify_ballots(self._setup, chunk, proofs=False))
            return
        if chunk is not None:
            if self._shared_setup is None:
                share = self.share_setup
                self._shared_setup = self._setup if share is None else share(self._setup)
            self._dividing.append(self.executor.submit(_parse_ballots, self._shared_setup, chunk))
        keep = 0 if chunk is None else 2 * self.workers
        while len(self._dividing) > keep:
            try:
                res = self._dividing.popleft().result()
            except Exception as e:
                raise MapStepError(
                    f"a chunk of replaced ballots could not be read: {type(e).__name__}: {e}"
                ) from e
            self._divide_by(res)

    def _divide_by(self, res: ChunkResult) -> None:
        assert self._ctx is not None
        ctx = self._ctx
        for acc, part in zip(self._product, res.product, strict=True):
            if acc is not None and part is not None:
                for j, ((a1, b1), (a2, b2)) in enumerate(zip(acc, part, strict=True)):
                    acc[j] = (ctx.div(a1, a2), ctx.div(b1, b2))

    # -- tally -------------------------------------------------------------------------------
    def _on_EncryptedTally(self, ev: Event) -> None:
        assert ev.payload and self._election and self._ctx
        raw = self._take(ev.payload, ev, "sized encrypted tally")
        election = self._election
        group = election.group
        try:
            w = "sized_encrypted_tally"
            st = obj(
                strictjson.loads(raw, max_size=4096, where=w),
                w,
                ("num_tallied", "total_weight", "encrypted_tally"),
            )
            num = small_int(st["num_tallied"], f"{w}.num_tallied")
            total = _count(st["total_weight"], f"{w}.total_weight", None)
            et_raw = self._take(
                hash_ref(st["encrypted_tally"], f"{w}.encrypted_tally"), ev, "encrypted tally"
            )
            w = "encrypted_tally"
            et = arr(
                strictjson.loads(et_raw, max_size=1 << 34, where=w, max_memory=PARSE_MEMORY),
                w,
                len(election.questions),
                len(election.questions),
            )
            tally: list[list[Ciphertext]] = []
            for i, (col, q) in enumerate(zip(et, election.questions, strict=True)):
                wi = f"{w}[{i}]"
                tally.append([ciphertext(group, c, wj) for c, wj in q.items(col, wi, num)])
        except PlebisciteError as e:
            self.fail("tally", e, ev)
            raise _StopError from None
        self._tally = tally
        self._tally_state += 1
        tallied, weight = self.voted, self.voted_weight
        self._report.tallied, self._report.total_weight = tallied, weight
        self._report.voted = tallied
        if num != tallied:
            self.fail(
                "tally",
                ConsistencyError(
                    f"num_tallied is {num}, but {tallied} voters have a last ballot",
                    where="sized_encrypted_tally.num_tallied",
                ),
                ev,
            )
        if total != weight:
            self.fail(
                "tally",
                ConsistencyError(
                    f"total_weight is {total}, but the last ballots weigh {weight}",
                    where="sized_encrypted_tally.total_weight",
                ),
                ev,
            )
        nh_expected = [self._nh_by_height[h] for h in sorted(self._nh_by_height)]
        k = 0
        for i, (q, col, acc) in enumerate(
            zip(election.questions, tally, self._product, strict=True)
        ):
            if acc is not None:
                for j, (c, d) in enumerate(zip(col, acc, strict=True)):
                    if c != d:
                        self.fail(
                            "tally",
                            ConsistencyError(
                                "encrypted tally differs from the product of the last ballots "
                                "raised to their weights",
                                where=f"encrypted_tally[{i}][{j}]",
                            ),
                            ev,
                        )
                        break
            else:
                # The order is not significant (the column is shuffled before decryption) and
                # belenios-tool does not keep the board order here: compare as multisets.
                expected = sorted(cts[k] for cts in nh_expected)
                if sorted(col) != expected:
                    self.fail(
                        "tally",
                        ConsistencyError(
                            "encrypted tally of a non-homomorphic question is not the list of the "
                            "last ballots' ciphertexts",
                            where=f"encrypted_tally[{i}]",
                        ),
                        ev,
                    )
                k += 1
            del q
        self._nh_by_height.clear()

    # -- shuffles ----------------------------------------------------------------------------
    def _owner(self, v: Any, where: str) -> Owner:
        n = small_int(v, where, 1, max(len(self._owners), 1))
        return self._owners[n - 1]

    def _on_Shuffle(self, ev: Event) -> None:
        assert ev.payload and self._election and self._ctx and self._tally is not None
        election = self._election
        if not election.has_nh:
            self.fail(
                "shuffle",
                StateError("shuffle in an election without non-homomorphic questions"),
                ev,
            )
            raise _StopError
        raw = self._take(ev.payload, ev, "owned shuffle")
        try:
            w = "owned_shuffle"
            os_ = obj(strictjson.loads(raw, max_size=4096, where=w), w, ("owner", "payload"))
            owner = self._owner(os_["owner"], f"{w}.owner")
            sh_raw = self._take(hash_ref(os_["payload"], f"{w}.payload"), ev, "shuffle")
            if owner.index in self._shuffle_owners:
                raise StateError(f"trustee {owner.index} already shuffled", where=f"{w}.owner")
            checked = self._prechecked_shuffles.pop(sha256_hex(sh_raw), None)
            if checked is not None and checked[0] == self._tally_state:
                new_cols = checked[1]  # checked before it was appended
            else:
                new_cols = self.check_shuffle(sh_raw)
        except PlebisciteError as e:
            self.fail("shuffle", e, ev)
            return  # its ciphertexts are not used
        self._shuffle_owners.add(owner.index)
        for i, e2 in new_cols:
            self._tally[i] = e2
        self._tally_state += 1

    def precheck_shuffle(
        self, raw: bytes, *, max_size: int = 1 << 34, runner: Runner | None = None
    ) -> None:
        """:meth:`check_shuffle` before the shuffle is appended: raises what refuses it; if it
        passes, the Shuffle event with this very shuffle is not checked again by
        :meth:`consume` (unless the ciphertexts to shuffle changed meanwhile)."""
        new_cols = self.check_shuffle(raw, max_size=max_size, runner=runner)
        self._prechecked_shuffles[sha256_hex(raw)] = (self._tally_state, new_cols)

    def check_shuffle(
        self, raw: bytes, *, max_size: int = 1 << 34, runner: Runner | None = None
    ) -> list[tuple[int, list[Ciphertext]]]:
        """Every ciphertext and CheckShuffleProof of the shuffle ``raw`` against the ciphertexts
        to shuffle now (the non-homomorphic columns of the tally as the last shuffle left
        them); returns the new columns, by question, or raises what refuses it. A column of
        more than :attr:`shuffle_chunk` ciphertexts has its proof's commitments and
        ``t_hat`` checked by ``runner``'s workers (by default this verifier's runner, when it
        has one), that many ciphertexts a map step (:func:`shuffle_part_of`); the challenges
        and the verdict are made here."""
        election, ctx, tally = self._election, self._ctx, self._tally
        if election is None or ctx is None or tally is None:
            raise StateError("no encrypted tally to shuffle yet")
        group = election.group
        w = "shuffle"
        sh = obj(
            strictjson.loads(raw, max_size=max_size, where=w, max_memory=PARSE_MEMORY),
            w,
            ("ciphertexts", "proofs"),
        )
        nh_idx = [i for i, q in enumerate(election.questions) if not q.homomorphic]
        cts = arr(sh["ciphertexts"], f"{w}.ciphertexts", len(nh_idx), len(nh_idx))
        prfs = arr(sh["proofs"], f"{w}.proofs", len(nh_idx), len(nh_idx))
        new_cols = []
        for k, i in enumerate(nh_idx):
            e = tally[i]
            n = len(e)
            e2 = [
                ciphertext(group, c, f"{w}.ciphertexts[{k}][{j}]")
                for j, c in enumerate(arr(cts[k], f"{w}.ciphertexts[{k}]", n, n))
            ]
            pr = shuffle_proof(group, prfs[k], f"{w}.proofs[{k}]", n)
            try:
                self._check_shuffle_proof(pr, e, e2, runner)
            except ProofError as err:
                raise err.at(f"{w}.proofs[{k}] (question {i + 1})") from None
            new_cols.append((i, e2))
        return new_cols

    def _check_shuffle_proof(
        self,
        pr: ShuffleProof,
        e: Sequence[Ciphertext],
        e2: Sequence[Ciphertext],
        runner: Runner | None,
    ) -> None:
        """CheckShuffleProof of ``e`` to ``e2``, here or by parts on ``runner``."""
        assert self._election is not None and self._ctx is not None
        assert self._raw_setup is not None
        ctx, fingerprint = self._ctx, self._election.fingerprint
        runner = runner if runner is not None else self.partitions
        if runner is None or len(e) <= self.shuffle_chunk:
            check_shuffle_proof(ctx, pr, e, e2, fingerprint)
        else:
            check_shuffle_by_parts(
                runner, self._raw_setup[0], ctx, fingerprint, pr, e, e2, self.shuffle_chunk
            )

    def _on_EndShuffles(self, ev: Event) -> None:
        if self._election and self._election.has_nh and not self._shuffle_owners:
            self.fail("shuffle", StateError("non-homomorphic questions were not shuffled"), ev)

    # -- decryption and result ----------------------------------------------------------------
    def _on_PartialDecryption(self, ev: Event) -> None:
        assert ev.payload and self._election and self._ctx and self._tally is not None
        if self._election.has_nh and not self._shuffle_owners:
            self.fail(
                "decryption",
                StateError("decryption before any shuffle of the non-homomorphic questions"),
                ev,
            )
        raw = self._take(ev.payload, ev, "owned partial decryption")
        owner_index = None
        try:
            w = "owned_partial_decryption"
            op = obj(strictjson.loads(raw, max_size=4096, where=w), w, ("owner", "payload"))
            owner = self._owner(op["owner"], f"{w}.owner")
            owner_index = owner.index
            pd_raw = self._take(hash_ref(op["payload"], f"{w}.payload"), ev, "partial decryption")
            if owner.index in self._decryptions:
                raise StateError(
                    f"trustee {owner.index} already sent a partial decryption",
                    where="partial_decryption",
                )
            checked = self._prechecked_decryptions.pop((owner.index, sha256_hex(pd_raw)), None)
            if checked is not None and checked[0] == self._tally_state:
                factors = checked[1]  # checked before it was appended
            else:
                factors = self._decryption_factors(owner, pd_raw, 1 << 34)
        except PlebisciteError as e:
            is_threshold = owner_index is not None and isinstance(
                self._trustees[self._owners[owner_index - 1].item], Pedersen
            )
            self.fail(
                "decryption",
                e.at(f"trustee {owner_index}") if owner_index else e,
                ev,
                severity="warning" if is_threshold else "error",
            )
            return
        self._decryptions[owner.index] = factors

    def _decryption_factors(
        self, owner: Owner, raw: bytes, max_size: int, runner: Runner | None = None
    ) -> list[list[Element]]:
        """The decryption factors of the partial decryption ``raw`` of ``owner``, each proof
        checked against its verification key and the tally as it stands. Its shape is checked
        here; its factors and proofs are parsed and checked by ``runner``'s workers (by
        default this verifier's runner, when it has one), :attr:`decryption_chunk` a map
        step, when there are more than that (a non-homomorphic question's tally: a ciphertext
        a ballot), else here. Either way the error is the first factor or proof that does not
        parse, else the first proof that does not verify, in the decryption's order."""
        assert self._election and self._ctx and self._tally is not None
        assert self._raw_setup is not None
        w = "partial_decryption"
        pd = obj(
            strictjson.loads(raw, max_size=max_size, where=w, max_memory=PARSE_MEMORY),
            w,
            ("decryption_factors", "decryption_proofs"),
        )
        nq = len(self._tally)
        dfs = arr(pd["decryption_factors"], f"{w}.decryption_factors", nq, nq)
        dps = arr(pd["decryption_proofs"], f"{w}.decryption_proofs", nq, nq)
        alphas: list[Element] = []
        factors: list[tuple[Any, str]] = []  # (JSON value, where), in the decryption's order
        proofs: list[tuple[Any, str]] = []
        for i, (col, q) in enumerate(zip(self._tally, self._election.questions, strict=True)):
            factors += q.items(dfs[i], f"{w}.decryption_factors[{i}]", len(col))
            proofs += q.items(dps[i], f"{w}.decryption_proofs[{i}]", len(col))
            alphas += [alpha for alpha, _ in col]
        key, n = owner.key.public_key, self.decryption_chunk
        runner = runner if runner is not None else self.partitions
        if runner is None or len(alphas) <= n:
            parts = [
                _checked_decryptions(
                    self._ctx, self._election.fingerprint, key, alphas, factors, proofs
                )
            ]
        else:
            parts = check_decryptions_by_parts(
                runner, self._raw_setup[0], key, alphas, factors, proofs, n
            )
        unparsed = next((p[1] for p in parts if p[1] is not None), None)
        if unparsed is not None:
            cls, message, where = unparsed
            raise cls(message, where=where)
        for _, _, bad in parts:
            if bad is not None:
                raise ProofError("decryption proof does not verify", where=bad)
        flat = [f for got, _, _ in parts for f in unpack_elements(got)]
        rows, at = [], 0
        for col in self._tally:
            rows.append(flat[at : at + len(col)])
            at += len(col)
        return rows

    def precheck_partial_decryption(
        self, owner: int, raw: bytes, *, max_size: int = 1 << 34, runner: Runner | None = None
    ) -> None:
        """Check the partial decryption ``raw`` of trustee ``owner`` before it is appended:
        every decryption factor and proof against the owner's verification key and the tally
        on the board; raises what refuses it. If it passes, the PartialDecryption event with
        this very decryption is not checked again by :meth:`consume`. ``runner``: where the
        proofs of a long tally are checked (:meth:`_decryption_factors`)."""
        if self._tally is None or self._election is None or self._ctx is None:
            raise StateError("no encrypted tally to decrypt yet")
        if not 1 <= owner <= len(self._owners):
            raise StateError(f"no trustee {owner} in this election")
        if owner in self._decryptions:
            raise StateError(f"trustee {owner} already sent a partial decryption")
        factors = self._decryption_factors(self._owners[owner - 1], raw, max_size, runner)
        self._prechecked_decryptions[(owner, sha256_hex(raw))] = (self._tally_state, factors)

    def check_encrypted_tally(
        self, tally: Sequence[Sequence[Ciphertext]], num_tallied: int, total_weight: int
    ) -> None:
        """Before an encrypted tally is appended to a closed board: it must be the one this
        verifier recomputed from the board's ballots (the last of each credential, raised to
        its weight), with the same count and weight; raises ConsistencyError naming the first
        difference."""
        if self._computed_tally is None or self.phase is not BoardPhase.CLOSED:
            raise StateError(f"the board is {self._report.status}, not closed: no tally due")
        if num_tallied != self._computed_num:
            raise ConsistencyError(
                f"{num_tallied} voters counted, but {self._computed_num} have a last ballot",
                where="num_tallied",
            )
        if total_weight != self._computed_weight:
            raise ConsistencyError(
                f"total weight {total_weight}, but the last ballots weigh {self._computed_weight}",
                where="total_weight",
            )
        if len(tally) != len(self._computed_tally):
            raise ConsistencyError(
                f"{len(tally)} questions, not {len(self._computed_tally)}", where="encrypted_tally"
            )
        for i, (mine, theirs) in enumerate(zip(self._computed_tally, tally, strict=True)):
            if list(theirs) != list(mine):
                j = next(
                    (k for k, (a, b) in enumerate(zip(mine, theirs, strict=False)) if a != b),
                    min(len(mine), len(theirs)),
                )
                raise ConsistencyError(
                    "not the product of the last ballots on the board",
                    where=f"encrypted_tally[{i}][{j}]",
                )

    def admit_ballot(self, raw: bytes, res: ChunkResult) -> None:
        """The ballot ``raw``, checked as ``res`` (:meth:`check_ballot_alone`), is about to be
        appended: :meth:`consume` takes ``res`` instead of checking it again."""
        self._prechecked[sha256_hex(raw)] = res

    @property
    def admitted(self) -> int:
        """Ballots admitted (:meth:`admit_ballot`) that are not on the board yet."""
        return len(self._prechecked)

    def withdraw_ballot(self, raw: bytes) -> None:
        """The ballot of :meth:`admit_ballot` was not appended after all."""
        self._prechecked.pop(sha256_hex(raw), None)

    def _combined_factors(self, ev: Event | None) -> list[list[Element]] | None:
        assert self._ctx and self._tally is not None
        ctx, q = self._ctx, self._ctx.q
        F = [[ctx.one] * len(col) for col in self._tally]
        ok = True
        for i, item in enumerate(self._trustees):
            members = [o for o in self._owners if o.item == i]
            if isinstance(item, Single):
                o = members[0]
                if o.index not in self._decryptions:
                    self.fail(
                        "result",
                        StateError(f"no valid partial decryption from trustee {o.index}"),
                        ev,
                    )
                    ok = False
                    continue
                parts = [(o, 1)]
            else:
                valid = [o for o in members if o.index in self._decryptions]
                if len(valid) < item.threshold:
                    self.fail(
                        "result",
                        StateError(
                            f"{len(valid)} valid partial decryptions from threshold trustees "
                            f"{members[0].index}..{members[-1].index}, {item.threshold} needed"
                        ),
                        ev,
                    )
                    ok = False
                    continue
                chosen = valid[: item.threshold]
                idx = [o.position for o in chosen]
                parts = [(o, lagrange(idx, o.position, q)) for o in chosen]
            for o, lam in parts:
                d = self._decryptions[o.index]
                for a, row in enumerate(d):
                    for b, f in enumerate(row):
                        F[a][b] = ctx.mul(F[a][b], f if lam == 1 else ctx.pow(f, lam))
        return F if ok else None

    def decrypt_result(self) -> list[Any]:
        """The result from the tally and the valid partial decryptions seen so far (for the
        administrator producing the Result event); raises StateError if they do not suffice."""
        if self._tally is None or self._election is None or self._ctx is None:
            raise StateError("the archive has no encrypted tally yet")
        before = len(self._report.findings)
        F = self._combined_factors(None)
        if F is None:
            missing = "; ".join(f.message for f in self._report.findings[before:])
            del self._report.findings[before:]
            raise StateError(f"not enough valid partial decryptions: {missing}")
        ctx = self._ctx
        total = self._report.total_weight or 0
        columns = [
            [ctx.div(beta, f) for (_, beta), f in zip(tcol, fcol, strict=True)]
            for tcol, fcol in zip(self._tally, F, strict=True)
        ]
        counts = _counts(ctx, self._election.questions, columns, total)
        out: list[Any] = []
        for i, (q, values) in enumerate(zip(self._election.questions, columns, strict=True)):
            if q.homomorphic:
                out.append(q.nest(counts[i]))
            else:
                out.append([_decode(self._election, q, v) for v in values])
        return out

    def _on_Result(self, ev: Event) -> None:
        assert ev.payload and self._election and self._ctx and self._tally is not None
        raw = self._take(ev.payload, ev, "result")
        election = self._election
        try:
            w = "result"
            res = obj(
                strictjson.loads(raw, max_size=1 << 34, where=w, max_memory=PARSE_MEMORY),
                w,
                ("result",),
            )
            cols = arr(
                res["result"], f"{w}.result", len(election.questions), len(election.questions)
            )
        except PlebisciteError as e:
            self.fail("result", e, ev)
            return
        F = self._combined_factors(ev)
        if F is None:
            return
        ctx = self._ctx
        total = self._report.total_weight or 0
        out: list[Any] = []
        for i, (q, col, tcol, fcol) in enumerate(
            zip(election.questions, cols, self._tally, F, strict=True)
        ):
            wi = f"result.result[{i}]"
            try:
                if q.homomorphic:
                    counts = []
                    for (v, wj), (_, beta), f in zip(
                        q.items(col, wi, len(tcol)), tcol, fcol, strict=True
                    ):
                        c = _count(v, wj, total)
                        if c > total or ctx.gpow(c) != ctx.div(beta, f):
                            raise ConsistencyError(
                                "count does not match the decryption of the encrypted tally",
                                where=wj,
                            )
                        counts.append(c)
                    out.append(q.nest(counts))
                else:
                    n = len(tcol)
                    values = arr(col, wi, n, n)
                    decoded = []
                    for j, (v, (_, beta), f) in enumerate(zip(values, tcol, fcol, strict=True)):
                        vec = _decode(election, q, ctx.div(beta, f))
                        got = [
                            small_int(x, f"{wi}[{j}][{k}]")
                            for k, x in enumerate(
                                arr(v, f"{wi}[{j}]", len(q.answers), len(q.answers))
                            )
                        ]
                        if got != vec:
                            raise ConsistencyError(
                                "decoded vote does not match the decryption of the shuffled tally",
                                where=f"{wi}[{j}]",
                            )
                        decoded.append(got)
                    out.append(decoded)
            except PlebisciteError as e:
                self.fail("result", e, ev)
                return
        self._report.result = out


def record_features(election: Election, trustees: Sequence[TrusteeKind]) -> list[str]:
    """The features of an election's record that Belenios 2.0 does not have (the record is a
    3.x one when there is any)."""
    out: list[str] = []
    if election.group.name == "Ed25519":
        out.append("the Ed25519 group")
    if any(isinstance(t, Pedersen) and t.signatures is not None for t in trustees):
        out.append("threshold certificates with a context and signatures")
    if any(isinstance(q, QuestionL) for q in election.questions):
        out.append("Lists questions")
    if any(isinstance(q, QuestionNH) and q.extra is not None for q in election.questions):
        out.append("counting hints (extra) on non-homomorphic questions")
    if election.language is not None:
        out.append("the election's language")
    return out


def _count(v: Any, where: str, total: int | None) -> int:
    """A count or weight: a JSON integer, or (when large) a decimal string, as Belenios writes
    them; at most ``total`` when given."""
    if type(v) is int:
        c = v
    elif isinstance(v, str):
        c = int(parse_natural(v, max_digits=30, where=where))
    else:
        raise EncodingError("expected an integer or a decimal string", where=where)
    if c < 0 or (total is not None and c > total):
        raise ConsistencyError(f"count {c} outside [0, total weight {total}]", where=where)
    return c


def _counts(
    ctx: Context, questions: Sequence[Question], columns: list[list[Element]], total: int
) -> dict[int, list[int]]:
    """The counts of the homomorphic questions, by question: ``log_g`` of each decrypted value,
    known to lie in ``[0, total]``, found together (:func:`discrete_logs`). The last count of a
    question whose ballots all choose the same number of answers follows from the others; it
    is checked, not searched for."""
    wanted: list[tuple[int, int]] = []
    implied: dict[int, int] = {}
    for i, q in enumerate(questions):
        if not q.homomorphic:
            continue
        n = len(columns[i])
        fixed = q.fixed_choices if isinstance(q, QuestionH) else None
        if fixed is not None and n > 1:
            implied[i] = fixed * total
            n -= 1
        wanted += [(i, j) for j in range(n)]
    found = discrete_logs(ctx.group, [columns[i][j] for i, j in wanted], total)
    out: dict[int, list[int]] = {}
    for (i, _), c in zip(wanted, found, strict=True):
        if c is None:
            raise ConsistencyError(f"decryption is not g^n for any n in [0, {total}]")
        out.setdefault(i, []).append(c)
    for i, whole in implied.items():
        last = whole - sum(out.get(i, []))
        if 0 <= last <= total and ctx.group.gpow(last) == columns[i][-1]:
            out.setdefault(i, []).append(last)
        else:
            searched = discrete_log(ctx.group, columns[i][-1], total)
            if searched is None:
                raise ConsistencyError(f"decryption is not g^n for any n in [0, {total}]")
            out.setdefault(i, []).append(searched)
    return out


def _decode(election: Election, q: Any, x: Element) -> list[int]:
    try:
        return election.group.to_ints(x, len(q.answers))
    except EncodingError:
        raise ConsistencyError(
            "decrypted value does not encode a vote of the right length"
        ) from None


def check_shuffle_by_parts(
    runner: Runner,
    election_raw: bytes,
    ctx: Context,
    fingerprint: str,
    pr: ShuffleProof,
    e: Sequence[Ciphertext],
    e2: Sequence[Ciphertext],
    n: int,
) -> None:
    """CheckShuffleProof of ``e`` to ``e2`` in the election of ``election_raw`` (its context
    ``ctx`` and ``fingerprint`` here), its parts
    (:func:`~plebiscite.crypto.shuffle.shuffle_part`: ``n`` ciphertexts each) map steps on
    ``runner``, the challenges and the verdict here; raises ProofError when it fails."""
    u, c = shuffle_challenges(ctx, pr, e, e2, fingerprint)
    if not e:
        return
    mc, h = (ctx.q - c) % ctx.q, get_generator(ctx.group, -1)
    handles = [
        runner.map(
            shuffle_part_of,
            election_raw,
            a,
            mc,
            u[a : a + n],
            pack_ciphertexts(e[a : a + n]),
            pack_ciphertexts(e2[a : a + n]),
            pack_elements(pr.c[a : a + n]),
            pack_elements(pr.c_hat[a : a + n]),
            pack_elements(pr.t_hat[a : a + n]),
            pr.s_hat[a : a + n],
            pr.s_prime[a : a + n],
            pr.c_hat[a - 1] if a else h,
        )
        for a in range(0, len(e), n)
    ]
    parts = []
    for x in handles:
        part, hs = runner.result(x)
        parts.append(part._replace(hs=tuple(unpack_elements(hs))))
    shuffle_verdict(ctx, pr, u, c, parts)


def shuffle_part_of(
    election_raw: bytes,
    start: int,
    mc: int,
    u: Sequence[int],
    e: Packed,
    e2: Packed,
    c: bytes | Sequence[Element],
    c_hat: bytes | Sequence[Element],
    t_hat: bytes | Sequence[Element],
    s_hat: Sequence[int],
    s_prime: Sequence[int],
    prev: Element,
) -> tuple[ShufflePart, bytes | Sequence[Element]]:
    """The map step of a shuffle's check (:func:`~plebiscite.crypto.shuffle.shuffle_part`),
    where it runs: its elements packed (the ciphertexts' components in turn), and so the
    generators it gives (apart from the part)."""
    _, ctx = election_context(election_raw)
    part = shuffle_part(
        ctx, start, mc, u, unpack_ciphertexts(e), unpack_ciphertexts(e2), unpack_elements(c),
        unpack_elements(c_hat), unpack_elements(t_hat), s_hat, s_prime, prev,
    )  # fmt: skip
    return part._replace(hs=()), pack_elements(part.hs)


#: what :func:`checked_decryptions` gives: the factors parsed (packed where it runs), the
#: first factor or proof that does not parse (its error's class, message and place), the
#: place of the first proof that does not verify
CheckedDecryptions = tuple[
    bytes | Sequence[Element], tuple[type[PlebisciteError], str, str] | None, str | None
]


def _checked_decryptions(
    ctx: Context,
    fingerprint: str,
    key: Element,
    alphas: Sequence[Element],
    factors: Sequence[tuple[Any, str]],
    proofs: Sequence[tuple[Any, str]],
) -> CheckedDecryptions:
    """The factors and proofs of a partial decryption (``(JSON value, where)`` pairs, for the
    ciphertexts' first components ``alphas``) parsed, then each proof checked against the
    trustee's verification key ``key`` (see :data:`CheckedDecryptions`)."""
    group = ctx.group
    parsed: list[Element] = []
    checks: list[Proof] = []
    for (f, wf), (pj, wp) in zip(factors, proofs, strict=True):
        try:
            parsed.append(group.element(f, where=wf))
            checks.append(proof(group, pj, wp))
        except PlebisciteError as e:
            return [], (type(e), e.message, e.where), None
    for alpha, fv, pr, (_, wp) in zip(alphas, parsed, checks, proofs, strict=True):
        try:
            verify_decryption(ctx, fingerprint, key, alpha, fv, pr)
        except ProofError:
            return [], None, wp
    return parsed, None, None


def check_decryptions_by_parts(
    runner: Runner,
    election_raw: bytes,
    key: Element,
    alphas: Sequence[Element],
    factors: Sequence[tuple[Any, str]],
    proofs: Sequence[tuple[Any, str]],
    n: int,
) -> list[CheckedDecryptions]:
    """:func:`checked_decryptions` of ``n`` items a map step on ``runner``, in order."""
    handles = [
        runner.map(
            checked_decryptions,
            election_raw,
            key,
            pack_elements(alphas[a : a + n]),
            factors[a : a + n],
            proofs[a : a + n],
        )
        for a in range(0, len(alphas), n)
    ]
    return [runner.result(h) for h in handles]


def checked_decryptions(
    election_raw: bytes,
    key: Element,
    alphas: bytes | list[Element],
    factors: Sequence[tuple[Any, str]],
    proofs: Sequence[tuple[Any, str]],
) -> CheckedDecryptions:
    """The map step of a partial decryption's check (:func:`_checked_decryptions`), where it
    runs: ``alphas`` and the factors it gives packed."""
    election, ctx = election_context(election_raw)
    got, unparsed, bad = _checked_decryptions(
        ctx, election.fingerprint, key, unpack_elements(alphas), factors, proofs
    )
    return pack_elements(got), unparsed, bad


def _parse_ballots(setup: BallotSetup, chunk: list[tuple[int, str, bytes]]) -> ChunkResult:
    """The second pass's task: ballots verified in the first pass, parsed again only."""
    return verify_ballots(setup, chunk, proofs=False)


def _is_ballot_event(content: bytes, entry: IndexEntry) -> bool:
    """Whether an event's content is a Ballot event (False when it does not parse: the
    verifier meets the error at its turn)."""
    try:
        return parse_event(content, entry.hash, "event").type == "Ballot"
    except PlebisciteError:
        return False


def _error(code: str, message: str, where: str) -> PlebisciteError:
    """Rebuild an error that crossed a process boundary as (code, message, where)."""
    classes: list[type[PlebisciteError]] = [
        EncodingError,
        SizeError,
        MembershipError,
        ProofError,
        ConsistencyError,
        StateError,
    ]
    for cls in classes:
        if cls.code == code:
            return cls(message, where=where)
    return PlebisciteError(message, where=where)


def verify_archive(
    open_archive: Opener,
    *,
    executor: Executor | None = None,
    name: str = "",
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Verify an archive; ``open_archive`` opens a fresh binary stream each time it is called."""
    return Verifier(open_archive, executor=executor, name=name, progress=progress).run()
