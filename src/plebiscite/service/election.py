"""An election's board as the domain layer sees it: a live verifier at the board's head, the
trackers on the board, the signed checkpoints, the live-feed subscribers; and the registry of
every election of one database (:class:`Elections`).

Every process serving one database sees every election: :meth:`Elections.get` loads an election
another process started, and :meth:`ElectionState.refresh` reads and verifies what other
processes appended (before an append, which is compare-and-append, and whenever the board is
read: trackers, heights, status). The processes of one server trust each other's checks of a
ballot's signature and proofs (they share the database and the signing key): a process checks
every proof of the ballots it appends, and of the others' only their place on the board (chain,
credential, no ciphertext of another credential, the last ballot of each credential), so N
processes verify each ballot once, not N times. A process starting up verifies everything it
has not verified itself before (its checkpoint, then every member after it).

The public ballot box (:mod:`plebiscite.service.ballotbox`, :meth:`ElectionState.box_page`)
is kept as the board's members are indexed (:meth:`ElectionState._index`: each Ballot event
with its tracker, height and the public credential of the ballot just before it), from the
whole board at start-up and from each append after, by this process or another: a page or a
tracker search reads that index, never the board.

Fast restart: the live verifier's state is saved in the private store (kind
:data:`CHECKPOINT_KIND`, key the election's uuid) at each change of phase, when the server stops,
and every :data:`CHECKPOINT_EVERY` events, but no more often than keeps the time spent saving
under 1/:data:`SAVE_COST_FACTOR` of the time. A checkpoint is a base of fixed size and deltas
(kind :data:`DELTA_KIND`, key ``UUID/GENERATION/N``), each what the ballots since the one before
added, so what a save writes does not grow with the board. At start-up an election resumes from
it: the saved event must be on the board at the same place (same member number, same hash; the
board is append-only and its chain commits to everything before), every member is hashed again
against its name and the chain (a damaged board is named, and nothing is appended to it), and
only the members after it are verified. A checkpoint that is missing, unreadable or off the
board costs only time: the whole board is verified again.

The signed checkpoints of each board (:mod:`plebiscite.protocol.checkpoints`) are kept there too
(kind :data:`SIGNED_KIND`): after a restart the server's checkpoints go on as one chain, the
first new one naming the last one signed before, so that observers comparing checkpoints from
before and after the restart do not see two chains (which would look like a fork). A checkpoint
is shown once it is stored, never before: one that a crash lost was seen by nobody, and the
chain that goes on after the restart forks from nothing anyone holds.

A database that cannot be written for a while (a read-only or full disk, a read-only
PostgreSQL): appends fail (the server answers 503, nothing accepted is lost: a ballot not on
the board is withdrawn from the verifier), reads go on, and the board is written again as soon
as it can be (no connection opened meanwhile is kept, :class:`~plebiscite.board.sqlite.Pool`).
What waits for it meanwhile (:meth:`ElectionState.store_pending`): the checkpoints signed and
not stored (at most :data:`MAX_UNSTORED_CHECKPOINTS` a board, in memory; past them none is
signed until they are stored) and the verifier's state not saved, stored after the next
append and by the server's periodic look (:meth:`Elections.store_pending`).
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import hashlib
import io
import json
import logging
import random
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, Protocol

import anyio

from plebiscite import strictjson
from plebiscite.board.base import Board, Head, Item, StoredMember
from plebiscite.board.private import PrivateStore
from plebiscite.crypto.hashing import h_json
from plebiscite.crypto.rand import RandomSource, SystemRandom
from plebiscite.crypto.signing import SigningKey
from plebiscite.errors import (
    BoardError,
    ConflictError,
    ConsistencyError,
    PlebisciteError,
    StateError,
)
from plebiscite.protocol.archive import ArchiveState, ArchiveWriter, header_bytes
from plebiscite.protocol.ballot import ChunkResult
from plebiscite.protocol.checkpoints import SignedCheckpoint, sign_checkpoint
from plebiscite.protocol.messages import parse_event
from plebiscite.protocol.record import is_record_board
from plebiscite.protocol.verifier import Verifier
from plebiscite.service.ballotbox import BallotBox, BoxQuery
from plebiscite.service.errors import Invalid, NotFound, Refused

__all__ = [
    "CHECKPOINT_EVERY",
    "CHECKPOINT_KIND",
    "MAX_UNSTORED_CHECKPOINTS",
    "SIGNED_KIND",
    "ElectionState",
    "Elections",
    "now_iso",
    "setup_archive",
]

log = logging.getLogger(__name__)

CHECKPOINT_KIND = "verifier-checkpoint"
DELTA_KIND = "verifier-delta"
SIGNED_KIND = "signed-checkpoints"
CHECKPOINT_EVERY = 100
"""Events between two saved verifier checkpoints (and one at each change of phase)."""
MAX_UNSTORED_CHECKPOINTS = 64
"""Signed checkpoints of one board kept in memory while the database cannot store them; past
them no new checkpoint is signed until they are stored."""
SAVE_COST_FACTOR = 20
POLL_SECONDS = 1.0
"""Between two looks at the boards when the database's notifications are unavailable."""
LISTEN_RETRY_SECONDS = 30.0
"""How long to look instead of listening before trying to listen again."""
APPEND_ATTEMPTS = 12
"""Appends tried when other server processes sharing the board keep appending first (each
attempt after the first waits a random moment, longer each time)."""
"""After a save that took t seconds, the next periodic one waits at least this times t."""


def _delta_key(uuid: str, generation: str, n: int) -> str:
    return f"{uuid}/{generation}/{n:010d}"


def now_iso(t: float | None = None) -> str:
    """The time ``t`` (default: now), UTC, as the records write it."""
    when = (
        datetime.datetime.now(datetime.UTC)
        if t is None
        else datetime.datetime.fromtimestamp(t, datetime.UTC)
    )
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


class _BoardStream(io.RawIOBase):
    """The board's archive as a readable stream (for the verifier's second passes)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.buf = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self.buf:
            nxt = next(self.chunks, None)
            if nxt is None:
                return 0
            self.buf = nxt
        n = min(len(b), len(self.buf))
        b[:n] = self.buf[:n]
        self.buf = self.buf[n:]
        return n


class Feed(Protocol):
    """Where a live feed's events go (an asyncio queue, say)."""

    def put_nowait(self, item: dict[str, Any]) -> None: ...


@dataclass
class ElectionState:
    uuid: str
    board: Board
    key: SigningKey
    private: PrivateStore | None = None
    #: where a whole board is verified at start-up when no checkpoint serves (None: here);
    #: the ballots are verified on its workers
    executor: Executor | None = field(default=None, repr=False)
    #: the seams of time and randomness (tests and vectors give their own)
    clock: Callable[[], float] = field(default=time.time, repr=False)
    rng: Callable[[], RandomSource] = field(default=SystemRandom, repr=False)
    verifier: Verifier = field(init=False)
    head: Head = field(init=False)
    trackers: dict[str, int] = field(default_factory=dict)
    checkpoints: list[SignedCheckpoint] = field(default_factory=list)
    #: the live feeds and the event loop of each (:meth:`subscribe`)
    subscribers: dict[Feed, asyncio.AbstractEventLoop] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: ``(opening, closing)`` UTC times (``YYYY-MM-DDTHH:MM:SSZ``) when ballots are accepted
    #: (a referendum's region); None: whenever the board is open
    window: tuple[str, str] | None = None
    #: when the organiser closed voting (a referendum's close, recorded before its regions are
    #: closed one by one): no ballot is accepted from then on; None: not closed so
    closed_at: str | None = None
    #: whether the verifier state was resumed from a saved checkpoint at start-up
    resumed: bool = field(default=False, init=False)
    #: held by whoever feeds the verifier (an append, a catch-up), from any thread
    catching_up: threading.RLock = field(default_factory=threading.RLock, init=False)

    def __post_init__(self) -> None:
        #: the public ballot box (:mod:`plebiscite.service.ballotbox`), kept as the members
        #: are indexed; its tracker -> height is :attr:`trackers`
        self.ballot_box = BallotBox(self.trackers)
        self._last_data: tuple[str, bytes] | None = None  # the last data member indexed
        #: the signed checkpoints not stored yet (not shown either: see the module's
        #: documentation), oldest first
        self.unstored: list[SignedCheckpoint] = []
        self._store_lock = threading.Lock()  # over :attr:`checkpoints` and :attr:`unstored`
        self._store_failed = False  # the last store of the signed checkpoints failed
        self._verifier_unsaved = False  # the last save of the verifier's state failed
        self.seq = -1
        self._saved_events = -1  # the verifier's event count at the last saved checkpoint
        self._next_save = 0.0  # time.monotonic() before which no periodic save is made
        self._saved_status = ""
        #: why nothing may be appended to this board (its stored content is damaged), or None
        self.damaged: str | None = None
        # the checkpoint deltas saved: this process's generation of them and how many
        self._generation = secrets.token_hex(4)
        self._deltas = 0
        self.head = self.board.head(self.uuid)
        if not self._resume():
            self.verifier = Verifier(self.open_archive, name=self.uuid, executor=self.executor)
            report = self.verifier.run()
            if not report.valid:
                first = next(f for f in report.findings if f.severity == "error")
                raise StateError(f"the board of {self.uuid} does not verify: {first.describe()}")
            self.head = self.board.head(self.uuid)
            self._index_all(self.board.members(self.uuid))
            self.save_verifier(force=True)
        self._load_checkpoints()
        self.checkpoint()

    # -- the verifier's checkpoints in the private store --

    def _resume(self) -> bool:
        """Resume the verifier from its saved checkpoint (its base and deltas) and verify only
        the members after it; False (nothing changed) when there is none or it does not fit
        the board. Every member before it is hashed again against its name and the chain
        (:meth:`_index_all`): a damaged board is found and named, and nothing is appended to
        it (:attr:`damaged`)."""
        if self.private is None:
            return False
        try:
            saved = self.private.get(CHECKPOINT_KIND, self.uuid)
        except PlebisciteError as e:
            log.warning("election %s: verifier checkpoint unreadable (%s)", self.uuid, e)
            return False
        if saved is None:
            return False
        try:
            header, data = saved.split(b"\n", 1)
            at = strictjson.loads(header, max_size=4096, where="checkpoint header")
            seq, height, hash_ = int(at["seq"]), int(at["height"]), str(at["hash"])
            generation, count = str(at["generation"]), int(at["deltas"])
            first = next(iter(self.board.members(self.uuid, after_seq=seq - 1)), None)
            if first is None or first.seq != seq or first.kind != "event" or first.hash != hash_:
                raise StateError(
                    f"its event {height} ({hash_}) is not on the board as member {seq}"
                )
            ev = parse_event(first.content, first.hash, f"event {first.hash}")
            if ev.height != height:
                raise StateError(f"its event is at height {ev.height}, not {height}")
            deltas = self.private.items(DELTA_KIND, f"{self.uuid}/{generation}/")
            if [k for k, _ in deltas[:count]] != [
                _delta_key(self.uuid, generation, n) for n in range(count)
            ]:
                raise StateError(f"{count} deltas expected, {len(deltas)} found")
            # the credentials were checked in full when the checkpoint was made
            v = Verifier.from_checkpoint_parts(
                data,
                (d for _, d in deltas[:count]),
                self._setup_texts(),
                self.open_archive,
                name=self.uuid,
                check_credentials=False,
            )
            if v.resumes_from is None or v.resumes_from.hash != hash_ or not v.report.valid:
                raise StateError("it is not at the event it names")
            v.resume_at_checkpoint(self.board.timestamp(self.uuid))
        except Exception as e:  # any fault of the checkpoint only costs time
            log.warning(
                "election %s: verifier checkpoint not used, verifying the whole board (%s)",
                self.uuid,
                e,
            )
            return False
        self.verifier = v
        self._generation, self._deltas = generation, count
        self._saved_events, self._saved_status = v.report.events, v.report.status
        self._index_all(self.board.members(self.uuid), verify_after=seq)
        if self.damaged is None and not v.report.valid:
            first_error = next(f for f in v.report.findings if f.severity == "error")
            raise StateError(f"the board of {self.uuid} does not verify: {first_error.describe()}")
        assert v.head is not None
        self.head = Head(v.head.height, v.head.hash)
        self.resumed = True
        self.save_verifier(force=True)
        return True

    def _setup_texts(self) -> tuple[bytes, bytes, bytes]:
        """The election, trustees and credentials of the board's Setup event (its first)."""
        data: dict[str, bytes] = {}
        for m in self.board.members(self.uuid):
            if m.kind == "data":
                data[m.hash] = m.content
                continue
            ev = parse_event(m.content, m.hash, f"event {m.hash}")
            if ev.type != "Setup" or ev.payload is None:
                break
            refs = strictjson.loads(data[ev.payload], max_size=4096, where="setup")
            return data[refs["election"]], data[refs["trustees"]], data[refs["credentials"]]
        raise StateError("the board does not start with its Setup event", where=self.uuid)

    def _index_all(
        self, members: Iterable[StoredMember], *, verify_after: int | None = None
    ) -> None:
        """Index every member (:meth:`_index`), each hashed again against its name and every
        event against the chain: the first damaged member is named in :attr:`damaged` (and
        logged), and nothing will be appended on top of it. The members after member number
        ``verify_after`` are also given to the verifier."""
        parent: str | None = None
        height = -1
        for m in members:
            if self.damaged is None:
                problem = None
                if hashlib.sha256(m.content).hexdigest() != m.hash:
                    problem = "its content does not hash to its name"
                elif m.kind == "event":
                    try:
                        ev = parse_event(m.content, m.hash, f"event {m.hash}")
                    except PlebisciteError as e:
                        problem = f"it is not an event ({e})"
                    else:
                        if ev.parent != parent or ev.height != height + 1:
                            problem = "it does not follow the previous event in the chain"
                        parent, height = m.hash, ev.height
                if problem is not None:
                    self.damaged = (
                        f"the stored board of election {self.uuid} is damaged at member "
                        f"{m.seq} ({m.kind} {m.hash}): {problem}; nothing is appended to it"
                    )
                    log.error("%s", self.damaged)
            self._index(m)
            if verify_after is not None and m.seq > verify_after:
                self.verifier.consume(m.kind, m.hash, m.content)

    def save_verifier(self, *, force: bool = False) -> None:
        """Save the verifier's state if its phase changed, or :data:`CHECKPOINT_EVERY` events
        passed since the last save and the saving budget allows, or ``force`` (at shut-down),
        unless nothing changed. What a save writes does not grow with the board: a new delta
        (what the ballots since the last save added), then the base (fixed size, naming the
        deltas). The caller holds :attr:`lock` (or the server is stopping). A failure only
        costs time at the next start-up: it is logged, not raised."""
        v = self.verifier
        if self.private is None or not v.report.valid or v.head is None or self.damaged:
            return
        changed = v.report.status != self._saved_status
        due = (
            v.report.events - self._saved_events >= CHECKPOINT_EVERY
            and time.monotonic() >= self._next_save
        )
        if not (force or changed or due) or v.report.events == self._saved_events:
            return
        if self.head.hash != v.head.hash:
            return  # the verifier is not at the board's head
        started = time.monotonic()
        try:
            if self._deltas == 0:  # a new generation: the deltas of earlier ones go
                self.private.delete_prefix(DELTA_KIND, f"{self.uuid}/")
            delta = v.checkpoint_delta()
            key = _delta_key(self.uuid, self._generation, self._deltas)
            self.private.put(DELTA_KIND, key, delta)
            header = strictjson.dumps_compact(
                {
                    "seq": self.seq,
                    "height": v.head.height,
                    "hash": v.head.hash,
                    "generation": self._generation,
                    "deltas": self._deltas + 1,
                }
            )
            self.private.put(CHECKPOINT_KIND, self.uuid, header + b"\n" + v.checkpoint_base())
        except PlebisciteError as e:
            if not self._verifier_unsaved:
                log.warning("election %s: verifier checkpoint not saved (%s)", self.uuid, e)
            self._verifier_unsaved = True
            return
        self._verifier_unsaved = False
        v.delta_saved()
        self._deltas += 1
        self._saved_events, self._saved_status = v.report.events, v.report.status
        now = time.monotonic()
        self._next_save = now + (now - started) * SAVE_COST_FACTOR

    def voting_closed(self, now: str | None = None) -> tuple[str, str] | None:
        """Why a ballot cannot be cast at ``now`` (default: now), given the board's phase and
        the voting window: ``(code, message)``, or None. A closed board and a closing time
        that passed are the same refusal (``voting_closed``)."""
        if self.window is not None:
            opening, closing = self.window
            now = now or now_iso(self.clock())
            if now >= closing:
                return "voting_closed", f"voting closed at {closing} (it is now {now})"
        if not self.verifier.phase.takes_ballots:
            return "voting_closed", f"voting is closed: the board is {self.verifier.report.status}"
        if self.closed_at is not None:
            return "voting_closed", f"voting was closed at {self.closed_at}"
        if self.window is not None and now is not None and now < opening:
            return "not_yet_open", f"voting opens at {opening} (it is now {now})"
        return None

    def _index(self, m: StoredMember) -> None:
        """Keep the ballots on the board (their trackers, the ballot box) and the last member
        number."""
        self.seq = m.seq
        if m.kind == "data":
            self._last_data = (m.hash, m.content)
            return
        if b'"type":"Ballot"' in m.content:
            payload = m.content.rsplit(b'"payload":"', 1)[1][:64].decode()
            # the tracker is the ballot's SHA256 (its member's name), in base 64
            tracker = base64.b64encode(bytes.fromhex(payload)).decode().rstrip("=")
            last, self._last_data = self._last_data, None
            credential = _credential_of(last[1]) if last and last[0] == payload else None
            self.ballot_box.add(tracker, self.head_height_of(m.content), credential)
        else:
            self._last_data = None

    @staticmethod
    def head_height_of(event: bytes) -> int:
        return int(event.split(b'"height":', 1)[1].split(b",", 1)[0])

    def open_archive(self) -> io.BufferedReader:
        return io.BufferedReader(_BoardStream(self.board.archive(self.uuid)))

    def _load_checkpoints(self) -> None:
        """The signed checkpoints kept from before (see the module's documentation)."""
        if self.private is None:
            return
        try:
            raw = self.private.get(SIGNED_KIND, self.uuid)
            if raw is None:
                return
            saved = [SignedCheckpoint.from_json(line) for line in raw.splitlines() if line]
        except PlebisciteError as e:
            log.warning("election %s: signed checkpoints unreadable (%s)", self.uuid, e)
            return
        self.checkpoints = [c for c in saved if c.checkpoint.election == self.uuid]

    def checkpoint(self) -> SignedCheckpoint | None:
        """Sign the current head (on start-up, at each phase change), next in the chain of
        this key's checkpoints, and store it (:meth:`store_checkpoints`): shown in
        :attr:`checkpoints` once stored. None (nothing signed) while
        :data:`MAX_UNSTORED_CHECKPOINTS` wait for the database."""
        assert self.head.height is not None and self.head.hash is not None
        mine = self.key.public().to_base64()
        with self._store_lock:
            if len(self.unstored) >= MAX_UNSTORED_CHECKPOINTS:
                log.warning(
                    "election %s: %d signed checkpoints wait for the database: no new one signed",
                    self.uuid,
                    len(self.unstored),
                )
                return None
            chain = [*self.checkpoints, *self.unstored]
            previous = next((c for c in reversed(chain) if c.key.to_base64() == mine), None)
            fields: dict[str, Any] = {
                "election": self.uuid,
                "height": self.head.height,
                "hash": self.head.hash,
                "time": now_iso(self.clock()),
                "phase": self.verifier.report.status,
            }
            try:
                cp = sign_checkpoint(self.key, **fields, previous=previous)
            except ConsistencyError as e:  # the board is not the one signed before
                log.error(
                    "election %s: the board does not extend the last checkpoint signed (%s): "
                    "starting a new chain",
                    self.uuid,
                    e,
                )
                cp = sign_checkpoint(self.key, **fields, previous=None)
            self.unstored.append(cp)
        self.store_checkpoints()
        return cp

    def store_checkpoints(self) -> bool:
        """Store the signed checkpoints not stored yet (with those before: one record) and
        show them; True if none waits any more. A failure (the database cannot be written)
        keeps them in memory for the next try, logged once until a store succeeds."""
        with self._store_lock:
            if not self.unstored:
                return True
            chain = [*self.checkpoints, *self.unstored]
            if self.private is not None:
                try:
                    self.private.put(SIGNED_KIND, self.uuid, b"\n".join(c.to_json() for c in chain))
                except PlebisciteError as e:
                    if not self._store_failed:
                        log.warning(
                            "election %s: %d signed checkpoint(s) not stored yet, kept until "
                            "the database can be written (%s)",
                            self.uuid,
                            len(self.unstored),
                            e,
                        )
                    self._store_failed = True
                    return False
                if self._store_failed:
                    log.warning(
                        "election %s: %d signed checkpoint(s) stored now",
                        self.uuid,
                        len(self.unstored),
                    )
            self._store_failed = False
            self.checkpoints, self.unstored = chain, []
            return True

    @property
    def pending(self) -> bool:
        """Whether something waits for the database (:meth:`store_pending`)."""
        return bool(self.unstored) or self._verifier_unsaved

    def store_pending(self) -> None:
        """Store what waits for the database to be writable again: the signed checkpoints not
        stored, the verifier's state not saved. The caller holds :attr:`lock`."""
        self.store_checkpoints()
        if self._verifier_unsaved:
            self.save_verifier(force=True)

    def append(
        self,
        items: list[Item],
        recheck: Callable[[], None] | None = None,
        *,
        attempts: int = APPEND_ATTEMPTS,
    ) -> Head:
        """Append to the board (compare-and-append on the head the verifier is at), then feed
        the verifier and the live feed. The caller holds :attr:`lock`.

        Another server may share the board (PostgreSQL): if it appended first, the board
        refuses (ConflictError); its events are then read and verified (:meth:`refresh`) and,
        if ``recheck`` is given and does not raise (it checks the items again against the
        board as it now is), the append is tried again, up to ``attempts`` times in all.
        Without ``recheck`` the ConflictError is raised (the caller answers 409)."""
        if self.damaged is not None:
            raise Refused("board_damaged", self.damaged)
        with self.catching_up:
            for attempt in range(1, attempts + 1):
                try:
                    head = self.board.append(self.uuid, self.head, items)
                    break
                except ConflictError:
                    self.refresh()
                    if recheck is None or attempt == attempts:
                        raise
                    recheck()
                    time.sleep(random.uniform(0, 0.002 * attempt))  # a jitter
            self._catch_up()
            self.head = head
            self.save_verifier()
            if self.pending:  # the database can be written again
                self.store_pending()
            return head

    def refresh(self) -> None:
        """Read and verify what was appended to the board since (by other server processes:
        their ballots' proofs, which they checked before appending, are not checked again)."""
        with self.catching_up:
            self._catch_up(theirs=True)
            v = self.verifier
            if v.head is not None:
                self.head = Head(v.head.height, v.head.hash)

    async def fresh(self) -> ElectionState:
        """This election with what other processes appended read first (off the event
        loop)."""
        await anyio.to_thread.run_sync(self.refresh_if_behind)
        return self

    def _catch_up(self, *, theirs: bool = False) -> None:
        """Index and verify the members after those seen, tell the live feed. ``theirs``:
        appended by other processes of this server, whose ballots' proofs are trusted (see
        :meth:`Verifier.consume`)."""
        for m in self.board.members(self.uuid, after_seq=self.seq):
            self._index(m)
            self.verifier.consume(m.kind, m.hash, m.content, proofs_checked=theirs)
            if m.kind == "event":
                event = {
                    "height": self.head_height_of(m.content),
                    "hash": m.hash,
                    "type": m.content.split(b'"type":"', 1)[1].split(b'"', 1)[0].decode(),
                }
                self._publish(event)

    def subscribe(self, feed: Feed) -> None:
        """Send ``feed`` each new event of the board (from the running event loop)."""
        self.subscribers[feed] = asyncio.get_running_loop()

    def unsubscribe(self, feed: Feed) -> None:
        self.subscribers.pop(feed, None)

    def _publish(self, event: dict[str, Any]) -> None:
        """Hand ``event`` to every subscriber in its own event loop (this runs in whichever
        thread read the board)."""
        for feed, loop in list(self.subscribers.items()):
            try:
                loop.call_soon_threadsafe(feed.put_nowait, event)
            except RuntimeError:  # its loop is closed
                self.subscribers.pop(feed, None)

    def summary(self) -> dict[str, Any]:
        r = self.verifier.report
        return {
            "uuid": self.uuid,
            "name": r.name,
            "status": r.status,
            "height": self.head.height,
            "last_event": self.head.hash,
            "ballots": r.ballots,
            "voters": r.voters,
            "voted": self.verifier.voted,
            "turnout": self.verifier.voted / r.voters if r.voters else 0.0,
            "result": r.result,
            "questions": r.questions,
            "valid": r.valid,
        }

    # -- what a request does to the board --

    async def cast(
        self,
        raw: bytes,
        authorize: Callable[[str | None], Awaitable[Callable[[bool], None] | None]],
    ) -> tuple[str, int]:
        """Verify the ballot ``raw`` in full, let ``authorize`` see its credential (voter
        login), append it and return its tracker and height once durably committed.
        ``authorize`` may answer a function, called (in a worker thread) with True once the
        ballot is on the board and with False if it is refused after all."""
        if (closed := self.voting_closed()) is not None:  # a referendum's voting hours
            raise Refused(*closed)
        tracker = h_json(raw)
        # (another process's copy of this very ballot is found when the append, behind it,
        # reads the board again and checks once more)
        if tracker in self.trackers:
            raise Refused("duplicate", "this very ballot is already on the board")
        res = await anyio.to_thread.run_sync(self.verifier.check_ballot_alone, raw)
        settle = await authorize(res.outcomes[0].credential)
        try:
            tracker, height = await self._append_ballot(raw, res, tracker)
        except BaseException:
            if settle is not None:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(settle, False)
            raise
        if settle is not None:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(settle, True)
        return tracker, height

    async def _append_ballot(self, raw: bytes, res: ChunkResult, tracker: str) -> tuple[str, int]:
        def on_board() -> None:  # the checks against the board as it now stands
            if tracker in self.trackers:  # again: the same ballot may have been sent twice
                raise Refused("duplicate", "this very ballot is already on the board")
            if (closed := self.voting_closed()) is not None:
                raise Refused(*closed)
            self.verifier.check_ballot_on_board(res)

        async with self.lock:
            on_board()
            self.verifier.admit_ballot(raw, res)
            try:  # checked again if another server sharing the board appended first
                head = await anyio.to_thread.run_sync(
                    self.append, [Item("Ballot", (raw,))], on_board
                )
            except BaseException:
                self.verifier.withdraw_ballot(raw)
                raise
        assert head.height is not None
        return tracker, head.height

    def find(self, tracker: str) -> int:
        """The height of the ballot with this tracker (appended through any process)."""
        height = self.trackers.get(tracker)
        if height is None:
            self.refresh_if_behind()
            height = self.trackers.get(tracker)
        if height is None:
            raise NotFound("unknown_tracker", "no ballot with this tracker on the board")
        return height

    def box_page(self, q: BoxQuery) -> dict[str, Any]:
        """A page of the public ballot box (:mod:`plebiscite.service.ballotbox`), with the
        board's height and its last signed checkpoint; read from the box's index, never from
        the board (call :meth:`fresh` first for what other processes appended)."""
        box = self.ballot_box
        page = box.page(q)
        entries = page.entries
        last = self.checkpoints[-1] if self.checkpoints else None
        nxt = prev = None
        if page.more_after:
            nxt = entries[-1].height if entries else (q.before or 1) - 1
        if page.more_before:
            prev = entries[0].height if entries else (q.after or 0) + 1
        return {
            "election": self.uuid,
            "height": self.head.height,
            "ballots": len(box),
            "counted": box.counted,
            "checkpoint": None if last is None else json.loads(last.to_json()),
            "query": {
                "after": q.after,
                "before": q.before,
                "limit": q.limit,
                "tracker": q.tracker,
            },
            "entries": [e.to_json() for e in entries],
            "next": None if nxt is None else {"after": nxt},
            "previous": None if prev is None else {"before": prev},
        }

    def credential(self, public: str) -> dict[str, Any] | None:
        """Whether the public credential ``public`` is on this board's list (public data):
        the election and whether it has a ballot on the board; None if it is not."""
        v = self.verifier
        if not v.is_credential(public):
            return None
        return {
            "election": self.uuid,
            "name": v.report.name,
            "credential": public,
            "voted": v.last_ballot_of(public) is not None,
        }

    def refresh_if_behind(self) -> None:
        """Read and verify what other processes appended, if the board's head moved (one
        indexed read when it did not)."""
        if self.board.head(self.uuid) != self.head:
            self.refresh()

    async def close(self) -> None:
        """Append EndBallots (an election without a referendum) and sign a checkpoint."""

        def still_open() -> None:
            if not self.verifier.phase.takes_ballots:
                raise Refused("state", f"voting is not open ({self.verifier.report.status})")

        async with self.lock:
            await anyio.to_thread.run_sync(self.refresh_if_behind)
            still_open()
            await anyio.to_thread.run_sync(self.append, [Item("EndBallots")], still_open)
            await anyio.to_thread.run_sync(self.checkpoint)


def _credential_of(ballot: bytes) -> bytes | None:
    """The public credential of a ballot on the board (verified, so in its canonical form:
    the field ``credential`` after ``election_uuid`` and ``election_hash``, whose values hold
    no quote)."""
    start = ballot.find(b'"credential":"')
    if start < 0:
        return None
    start += len(b'"credential":"')
    end = ballot.find(b'"', start)
    return ballot[start:end] if end > start else None


def setup_archive(raws: Sequence[bytes], timestamp: int) -> tuple[bytes, bytes]:
    """The archive of a board holding only its Setup (to verify it), and the setup data."""
    buf = io.BytesIO()
    buf.write(header_bytes(timestamp))
    w = ArchiveWriter(buf, ArchiveState(timestamp))
    refs = [w.data(r) for r in raws]
    setup = strictjson.dumps_compact(
        dict(zip(("election", "trustees", "credentials"), refs, strict=True))
    )
    w.event("Setup", w.data(setup))
    return buf.getvalue(), setup


class Elections:
    """Every election of one database, as this process knows them: loaded at start-up, and on
    first use when another process started it (:meth:`get`)."""

    def __init__(
        self,
        board: Board,
        key: SigningKey,
        private: PrivateStore | None,
        *,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], RandomSource] = SystemRandom,
    ) -> None:
        self.board, self.key, self.private = board, key, private
        self.clock, self.rng = clock, rng
        self.states: dict[str, ElectionState] = {}
        #: called with each election loaded after start-up, before it is used (the
        #: referendum of a region sets its voting hours)
        self.on_load: Callable[[ElectionState], None] | None = None
        self._starting: set[str] = set()
        self._loading = threading.Lock()

    def state(self, uuid: str) -> ElectionState:
        """Read (and verify) the board of ``uuid`` as this registry's elections are read."""
        return ElectionState(
            uuid, self.board, self.key, self.private, clock=self.clock, rng=self.rng
        )

    def load_all(self) -> None:
        """Load every election whose board has started (at start-up)."""
        for uuid in self.board.elections():
            if not is_record_board(uuid):
                self.get(uuid)

    def get(self, uuid: str) -> ElectionState | None:
        """The election ``uuid``, loaded from the board if another process started it; None
        if its board does not exist or has no Setup yet."""
        s = self.states.get(uuid)
        if s is not None:
            return s
        if is_record_board(uuid):  # a referendum's record, not an election
            return None
        with self._loading:
            s = self.states.get(uuid)
            if s is not None:
                return s
            try:
                if self.board.head(uuid).height is None:
                    return None  # a board whose Setup never came: not started
            except BoardError:
                return None  # no such board (or an id that is not one)
            s = self.state(uuid)
            if self.on_load is not None:
                self.on_load(s)
            self.states[uuid] = s
            return s

    async def lookup(self, uuid: str) -> ElectionState:
        """:meth:`get` from the event loop: an election not loaded yet is read (and verified)
        in a worker thread; NotFound if there is none."""
        s = self.states.get(uuid)
        if s is None:
            s = await anyio.to_thread.run_sync(self.get, uuid)
        if s is None:
            raise NotFound("unknown_election", f"no election {uuid!r} on this board")
        return s

    def __getitem__(self, uuid: str) -> ElectionState:
        s = self.get(uuid)
        if s is None:
            raise NotFound("unknown_election", f"no election {uuid!r} on this board")
        return s

    def __contains__(self, uuid: object) -> bool:
        return isinstance(uuid, str) and self.get(uuid) is not None

    def watch(self, stop: threading.Event) -> None:
        """Keep this process's elections at the head of the database's boards until ``stop``
        is set (a thread of its own): each append by any process is read and verified here as
        soon as it is committed, so the live feeds and the turnout include ballots cast
        through the other processes. On PostgreSQL by its notifications (LISTEN/NOTIFY); when
        listening fails, by looking at every board each :data:`POLL_SECONDS` until it works
        again. A board served by one process (SQLite) needs none of it: returns at once."""
        listen = getattr(self.board, "listen", None)
        if listen is None:
            return
        while not stop.is_set():
            try:
                listen(self._appended, stop, on_ready=self.refresh_all)
            except BoardError as e:
                log.warning("notifications of the board unavailable, looking instead: %s", e)
                retry = time.monotonic() + LISTEN_RETRY_SECONDS
                while not stop.is_set() and time.monotonic() < retry:
                    self.refresh_all()
                    stop.wait(POLL_SECONDS)

    def _appended(self, uuid: str, height: int = -1) -> None:
        """Board ``uuid`` has a new head at ``height`` (-1: unknown)."""
        s = self.states.get(uuid)
        if s is None:
            return  # loaded on first use
        if height >= 0 and s.head.height is not None and s.head.height >= height:
            return  # read already (this process's own append, say)
        try:
            s.refresh_if_behind()
        except PlebisciteError as e:
            log.error("election %s: what another process appended: %s", uuid, e)

    async def store_pending(self) -> None:
        """Store what waits for the database in every election (:meth:`ElectionState.store_pending`;
        the server's periodic look, nothing to do most of the time)."""
        for s in list(self.states.values()):
            if s.pending:
                async with s.lock:
                    await anyio.to_thread.run_sync(s.store_pending)

    def refresh_all(self) -> None:
        """Read what other processes appended to every board this process knows."""
        for uuid in list(self.states):
            self._appended(uuid)

    def credential_home(self, public: str, *, besides: str) -> ElectionState | None:
        """Another election of this database (not ``besides``) whose public credential list
        holds ``public`` (one is enough: a credential is derived from its election's uuid);
        None if there is none. Reads the list of boards (call it off the event loop)."""
        for s in self.known():
            if s.uuid != besides and s.verifier.is_credential(public):
                return s
        return None

    def add(self, s: ElectionState) -> None:
        self.states[s.uuid] = s

    def known(self) -> list[ElectionState]:
        """Every election of the database (those started by other processes loaded now)."""
        for uuid in self.board.elections():
            if uuid not in self.states and not is_record_board(uuid):
                self.get(uuid)
        return list(self.states.values())

    async def create(self, raws: tuple[bytes, bytes, bytes], timestamp: int) -> ElectionState:
        """Start an election's board from its setup (election, trustees, credentials: their
        exact JSON texts), verified first (trustee proofs, election key, credentials)."""

        def verify() -> tuple[str, bytes]:  # the costly part, off the event loop
            data, setup = setup_archive(raws, timestamp)
            check = Verifier(lambda: io.BytesIO(data))
            report = check.run()
            if not report.valid or check.election is None:
                first = next(f for f in report.findings if f.severity == "error")
                raise Invalid(first.code, f"the setup does not verify: {first.describe()}")
            return check.election.uuid, setup

        def start(uuid: str, setup: bytes) -> ElectionState:
            if self.get(uuid) is not None:
                raise Refused("exists", f"election {uuid} already exists")
            try:
                self.board.create(uuid, timestamp)
            except BoardError as e:  # another process created it first
                if uuid not in self.board.elections():
                    raise e
                if self.board.head(uuid).height is not None:
                    raise Refused("exists", f"election {uuid} already exists") from None
                # a board made by a creation whose Setup did not go on (the database failed
                # between the two): its Setup now (compare-and-append on the empty board)
            self.board.append(uuid, Head(), [Item("Setup", (*raws, setup))])
            return self.state(uuid)

        uuid, setup = await anyio.to_thread.run_sync(verify)
        if uuid in self.states or uuid in self._starting:
            raise Refused("exists", f"election {uuid} already exists")
        self._starting.add(uuid)
        try:
            s = await anyio.to_thread.run_sync(start, uuid, setup)
        finally:
            self._starting.discard(uuid)
        self.states[uuid] = s
        return s
