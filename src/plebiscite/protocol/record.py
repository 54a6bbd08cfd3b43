"""The referendum's own public board: its record, its lifecycle and its outcome, signed.

A referendum's record (:mod:`plebiscite.protocol.referendum`: regions, weights, decision rule,
trustees) is published on an append-only board of its own, beside the regions' Belenios
boards and never inside them: the same board code and the same archive format (a v7 tar whose
members are named by their SHA256, :mod:`plebiscite.protocol.archive`; each event names the
hash of the previous one), with plebiscite's own event types. Its id on the board is
:func:`record_board_id` (``record_`` and 32 hexadecimal digits: no Belenios uuid has an
underscore). Each event has exactly one data member, its payload, canonical JSON (keys sorted,
compact, UTF-8):

``plebiscite.Record`` (height 0, when the referendum is created)
    ``{"key": KEY, "record": RECORD}``: the record as created and the server's Ed25519 public
    key (Base64 without padding) that signs this board.
``plebiscite.Opened`` (before any region's board takes a ballot)
    ``{"record": RECORD, "regions": [{"election", "fingerprint", "name", "pool"?}, ...]}``:
    the record as it is final (the same as created, ``trustees.hash`` aside, which the opening
    sets when it was not given) and, per region, its election's uuid and fingerprint, and for a
    region whose credentials are a pool handed to the voters who sign in
    (:mod:`plebiscite.service.pool`) the pool's size, which must be the number of credentials
    on its board.
``plebiscite.Closed``
    ``{"time": T}``: when voting was closed in every region.
``plebiscite.Outcome`` (once every region's Result is on its board)
    ``{"outcome": OUTCOME, "results": [{"election", "name", "result", "roll", "voted"}, ...]}``:
    each region's result as its verified Result says, the roll and the voters who voted (in the
    unit of the counts: voters, or weight), and the outcome of the rule
    (:meth:`plebiscite.protocol.referendum.Outcome.to_json`: per region, the pooled counts and
    the verdict, with exact fractions). A record with no rule (a poll's, whose regions are its
    shards) has no verdict (``null``): its outcome is each region's ``counts`` and the
    ``pooled_counts``, every share an exact fraction.

Every one of these events is followed by a ``plebiscite.Checkpoint`` event whose payload is a
signed checkpoint (:mod:`plebiscite.protocol.checkpoints`) of the board's head at that event,
by the key of the Record event, the checkpoints chained by ``previous``; the phase it states
is ``setup``, ``open``, ``closed`` and ``done`` after those four events. So the board, one file,
carries the signature of everything on it, and two copies of it that differ at one height are
shown to conflict by their checkpoints as the elections' boards are.

:func:`read_record` reads such a board (from an archive's members or a board's stored ones)
and checks all of this; :func:`check_outcome` compares the published outcome with the one
recomputed from the regions' archives. Both are pure.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from plebiscite import strictjson
from plebiscite.crypto.signing import SigningKey, VerifyKey
from plebiscite.errors import ConsistencyError, EncodingError, PlebisciteError, ProofError
from plebiscite.protocol.checkpoints import SignedCheckpoint, sign_checkpoint, utc_time
from plebiscite.protocol.messages import Election, hash_ref, obj, small_int, string
from plebiscite.protocol.referendum import (
    MAX_REFERENDUM_BYTES,
    Outcome,
    Referendum,
    RegionResult,
    Trustees,
    check_election,
    compute_outcome,
)

__all__ = [
    "CHECKPOINT",
    "CLOSED",
    "EVENT_TYPES",
    "OPENED",
    "OUTCOME",
    "PHASE_AFTER",
    "RECORD",
    "ArchiveFacts",
    "Finding",
    "OpenedRegion",
    "PublishedResult",
    "RecordBoard",
    "check_outcome",
    "checkpoint_payload",
    "closed_payload",
    "is_record_board",
    "opened_payload",
    "outcome_payload",
    "read_record",
    "record_board_id",
    "record_payload",
]

RECORD = "plebiscite.Record"
OPENED = "plebiscite.Opened"
CLOSED = "plebiscite.Closed"
OUTCOME = "plebiscite.Outcome"
CHECKPOINT = "plebiscite.Checkpoint"
#: the lifecycle events in their order, and the phase each checkpoint after them states
PHASE_AFTER = {RECORD: "setup", OPENED: "open", CLOSED: "closed", OUTCOME: "done"}
_ORDER = (RECORD, OPENED, CLOSED, OUTCOME)
#: every event type of a record board (each with one data member, its payload)
EVENT_TYPES = frozenset((*_ORDER, CHECKPOINT))
_PREFIX = "record_"
MAX_PAYLOAD = 4 * MAX_REFERENDUM_BYTES


def record_board_id(referendum_id: str) -> str:
    """The id of the board of referendum ``referendum_id``'s record: ``record_`` and the first
    32 hexadecimal digits of the SHA256 of the id (a board id is letters, digits and ``_``)."""
    return _PREFIX + hashlib.sha256(referendum_id.encode()).hexdigest()[:32]


def is_record_board(board_id: str) -> bool:
    """Whether ``board_id`` names a referendum's record board (not an election's)."""
    return board_id.startswith(_PREFIX)


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# -- what the server appends -----------------------------------------------------------------


def record_payload(referendum: Referendum, key: VerifyKey) -> bytes:
    return _canonical({"key": key.to_base64(), "record": referendum.to_value()})


def opened_payload(
    referendum: Referendum,
    fingerprints: Mapping[str, str],
    pools: Mapping[str, int] | None = None,
) -> bytes:
    """``fingerprints``: each region's election fingerprint, keyed by its uuid; ``pools``: the
    size of each credential pool, keyed by its region's uuid (regions without a pool absent)."""
    pools = pools or {}
    return _canonical(
        {
            "record": referendum.to_value(),
            "regions": [
                {"election": r.election, "fingerprint": fingerprints[r.election], "name": r.name}
                | ({"pool": pools[r.election]} if r.election in pools else {})
                for r in referendum.regions
            ],
        }
    )


def closed_payload(time: str) -> bytes:
    return _canonical({"time": utc_time(time, "closing time")})


def outcome_payload(
    referendum: Referendum, results: Mapping[str, RegionResult], outcome: Outcome
) -> bytes:
    """``results`` keyed by region name, every region's result known."""
    return _canonical(
        {
            "outcome": json.loads(outcome.to_json()),
            "results": [
                {
                    "election": r.election,
                    "name": r.name,
                    "result": list(results[r.name].result or ()),
                    "roll": results[r.name].roll,
                    "voted": results[r.name].voted,
                }
                for r in referendum.regions
            ],
        }
    )


def checkpoint_payload(
    key: SigningKey,
    board_id: str,
    height: int,
    hash: str,
    time: str,
    after: str,
    previous: SignedCheckpoint | None,
) -> bytes:
    """The signed checkpoint of the head ``(height, hash)``, the event ``after`` (its type)."""
    return sign_checkpoint(
        key,
        election=board_id,
        height=height,
        hash=hash,
        time=time,
        phase=PHASE_AFTER[after],
        previous=previous,
    ).to_json()


# -- reading ---------------------------------------------------------------------------------


class _Member(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def hash(self) -> str: ...
    @property
    def content(self) -> bytes: ...


@dataclass(frozen=True)
class OpenedRegion:
    name: str
    election: str
    fingerprint: str
    #: the size of the region's credential pool (None: a voter list)
    pool: int | None = None


@dataclass(frozen=True)
class PublishedResult:
    name: str
    election: str
    result: list[Any]
    roll: int
    voted: int


@dataclass
class RecordBoard:
    """A record board as read and checked by :func:`read_record`."""

    board: str
    key: VerifyKey
    created: Referendum
    record: Referendum  # the final record: ``created`` until the opening
    regions: tuple[OpenedRegion, ...] = ()  # once opened
    opened: bool = False
    closed: str | None = None
    outcome: dict[str, Any] | None = None
    results: tuple[PublishedResult, ...] = ()
    checkpoints: list[SignedCheckpoint] = field(default_factory=list)
    height: int | None = None
    hash: str | None = None

    @property
    def last_checkpoint(self) -> SignedCheckpoint | None:
        return self.checkpoints[-1] if self.checkpoints else None

    @property
    def next_event(self) -> str | None:
        """The lifecycle event the board waits for (None: complete)."""
        done = 1 + self.opened + (self.closed is not None) + (self.outcome is not None)
        return _ORDER[done] if done < len(_ORDER) else None


def _differs(a: Any, b: Any, path: str) -> str | None:
    """The first path where two JSON values differ, or None."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{path}.{k}"
            got = _differs(a[k], b[k], f"{path}.{k}")
            if got is not None:
                return got
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path} ({len(a)} entries, then {len(b)})"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            got = _differs(x, y, f"{path}[{i}]")
            if got is not None:
                return got
        return None
    return None if a == b and type(a) is type(b) else path


def _payload(raw: bytes, where: str) -> dict[str, Any]:
    v = strictjson.loads(raw, max_size=MAX_PAYLOAD, where=where)
    if not isinstance(v, dict):
        raise EncodingError("expected a JSON object", where=where)
    if _canonical(v) != raw:
        raise EncodingError("not in canonical form (keys sorted, compact, UTF-8)", where=where)
    return v


def _event(raw: bytes, where: str) -> tuple[int, str | None, str, str]:
    v = strictjson.loads(raw, max_size=4096, where=where)
    o = obj(v, where, ("height", "type", "payload"), ("parent",))
    parent = hash_ref(o["parent"], f"{where}.parent") if "parent" in o else None
    return (
        small_int(o["height"], f"{where}.height", 0, 1 << 30),
        parent,
        string(o["type"], f"{where}.type"),
        hash_ref(o["payload"], f"{where}.payload"),
    )


def _opened(board: RecordBoard, v: dict[str, Any], where: str) -> None:
    o = obj(v, where, ("record", "regions"))
    final = Referendum.from_json(_canonical(o["record"]), f"{where}.record")
    created = board.created
    expected = created
    if created.trustees.hash is None and final.trustees.hash is not None:
        t = created.trustees
        expected = _replace_trustees(created, Trustees(t.names, t.threshold, final.trustees.hash))
    diff = _differs(expected.to_value(), final.to_value(), "record")
    if diff is not None:
        raise ConsistencyError(
            f"the record at the opening differs from the record published at creation, at "
            f"{diff}: a record is appended to, never rewritten",
            where=where,
        )
    rs = o["regions"]
    if not isinstance(rs, list) or len(rs) != len(final.regions):
        raise EncodingError(f"expected one entry per region ({len(final.regions)})", where=where)
    regions = []
    for i, (r, region) in enumerate(zip(rs, final.regions, strict=True)):
        w = f"{where}.regions[{i}]"
        e = obj(r, w, ("election", "fingerprint", "name"), ("pool",))
        if e["name"] != region.name or e["election"] != region.election:
            raise ConsistencyError(
                f"names region {e['name']!r} (election {e['election']}), the record has "
                f"{region.name!r} (election {region.election})",
                where=w,
            )
        pool = small_int(e["pool"], f"{w}.pool", 1, 1 << 40) if "pool" in e else None
        regions.append(
            OpenedRegion(region.name, region.election, string(e["fingerprint"], w), pool)
        )
    board.record, board.regions, board.opened = final, tuple(regions), True


def _replace_trustees(r: Referendum, t: Trustees) -> Referendum:
    return dataclasses.replace(r, trustees=t)


def _outcome(board: RecordBoard, v: dict[str, Any], where: str) -> None:
    o = obj(v, where, ("outcome", "results"))
    rs = o["results"]
    record = board.record
    if not isinstance(rs, list) or len(rs) != len(record.regions):
        raise EncodingError(f"expected one result per region ({len(record.regions)})", where=where)
    results = []
    for i, (r, region) in enumerate(zip(rs, record.regions, strict=True)):
        w = f"{where}.results[{i}]"
        e = obj(r, w, ("election", "name", "result", "roll", "voted"))
        if e["name"] != region.name or e["election"] != region.election:
            raise ConsistencyError(
                f"a result of {e['name']!r}, the record's region {i} is {region.name!r}", where=w
            )
        if not isinstance(e["result"], list):
            raise EncodingError("expected the list of the questions' results", where=w)
        results.append(
            PublishedResult(
                region.name,
                region.election,
                e["result"],
                small_int(e["roll"], f"{w}.roll", 0, 1 << 62),
                small_int(e["voted"], f"{w}.voted", 0, 1 << 62),
            )
        )
    if not isinstance(o["outcome"], dict):
        raise EncodingError("expected the outcome object", where=f"{where}.outcome")
    board.outcome, board.results = o["outcome"], tuple(results)


def read_record(members: Iterable[_Member], board_id: str | None = None) -> RecordBoard:
    """Read and check a record board from its members in order (an archive's, its header
    skipped, or a board's): the hash chain, the order of the events, each payload, and every
    checkpoint's signature by the key the Record event names. ``board_id``: the id the board
    must have (otherwise that of its first checkpoint). Raises an error naming the event's
    height and what is wrong."""
    pending: bytes | None = None
    pending_hash = ""
    height: int | None = None
    last: str | None = None
    board: RecordBoard | None = None
    expect = RECORD
    lifecycle_head: tuple[int, str, str] | None = None  # the event a checkpoint must sign
    for m in members:
        if m.kind == "header":
            continue
        if m.kind == "data":
            if pending is not None:
                raise EncodingError(
                    f"data member {m.hash} follows another data member: each event of a "
                    "record board has one"
                    + ("" if board is not None else " (is this an election's archive?)"),
                    where=f"record board after height {height}",
                )
            pending, pending_hash = m.content, m.hash
            continue
        h = 0 if height is None else height + 1
        where = f"record event at height {h} ({m.hash})"
        e_height, parent, type_, payload = _event(m.content, where)
        if e_height != h:
            raise ConsistencyError(f"height {e_height}, expected {h}", where=where)
        if parent != last:
            raise ConsistencyError(
                f"parent {parent}, the previous event is {last}: the chain is broken", where=where
            )
        if pending is None or payload != pending_hash:
            raise EncodingError(
                f"its payload {payload} is not the data member just before it", where=where
            )
        raw, pending = pending, None
        height, last = h, m.hash
        if type_ != expect:
            raise ConsistencyError(f"event {type_!r}, expected {expect!r}", where=where)
        v = _payload(raw, f"{where}, payload")
        if type_ == CHECKPOINT:
            assert board is not None and lifecycle_head is not None
            _checkpoint(board, raw, lifecycle_head, where)
            expect = board.next_event or "(nothing: the record is complete)"
            continue
        if type_ == RECORD:
            o = obj(v, where, ("key", "record"))
            key = VerifyKey.from_base64(o["key"], where=f"{where}.key")
            created = Referendum.from_json(_canonical(o["record"]), f"{where}.record")
            bid = board_id or record_board_id(created.id)
            if bid != record_board_id(created.id):
                raise ConsistencyError(
                    f"the record of {created.id!r} on board {bid}, whose board is "
                    f"{record_board_id(created.id)}",
                    where=where,
                )
            board = RecordBoard(bid, key, created, created)
        elif type_ == OPENED:
            assert board is not None
            _opened(board, v, where)
        elif type_ == CLOSED:
            assert board is not None
            o = obj(v, where, ("time",))
            board.closed = utc_time(o["time"], f"{where}.time")
        else:
            assert board is not None
            _outcome(board, v, where)
        lifecycle_head = (h, m.hash, type_)
        expect = CHECKPOINT
    if pending is not None:
        raise EncodingError(
            f"data member {pending_hash} at the end, with no event", where="record board"
        )
    if board is None:
        raise EncodingError("no Record event: not a referendum's record board")
    if expect == CHECKPOINT:
        raise ConsistencyError(
            f"the last event (height {height}) has no signed checkpoint after it",
            where="record board",
        )
    board.height, board.hash = height, last
    return board


def _checkpoint(board: RecordBoard, raw: bytes, head: tuple[int, str, str], where: str) -> None:
    try:
        sc = SignedCheckpoint.from_json(raw, where=f"{where}, payload")
    except PlebisciteError as e:
        raise EncodingError(f"not a signed checkpoint: {e}", where=where) from None
    cp = sc.checkpoint
    if sc.key != board.key:
        raise ProofError(
            f"signed by key {sc.key.to_base64()}, the record names {board.key.to_base64()}",
            where=where,
        )
    if not sc.is_valid():
        raise ProofError("the checkpoint's signature does not verify", where=where)
    height, hash_, type_ = head
    previous = board.last_checkpoint
    expected = {
        "election": board.board,
        "height": height,
        "hash": hash_,
        "phase": PHASE_AFTER[type_],
        "previous": None if previous is None else previous.fingerprint,
    }
    got = {k: cp.to_value()[k] for k in expected}
    for k in expected:
        if got[k] != expected[k]:
            raise ConsistencyError(
                f"the checkpoint states {k} {got[k]!r}, expected {expected[k]!r} (the "
                f"{type_} event before it)",
                where=where,
            )
    board.checkpoints.append(sc)


# -- the outcome, recomputed -----------------------------------------------------------------


@dataclass(frozen=True)
class ArchiveFacts:
    """What the verifier found in one region's archive."""

    archive: str  # the file, for the report
    uuid: str | None
    fingerprint: str | None
    valid: bool
    problem: str | None  # the first error, when not valid
    result: list[Any] | None
    roll: int
    voted: int
    election: Election | None = None  # its questions are checked against the record's
    trustees: bytes | None = None  # the trustees structure, checked against the record's hash


@dataclass(frozen=True)
class Finding:
    check: str  # record, archive, result, outcome
    message: str
    where: str = ""

    def describe(self) -> str:
        return f"{self.check}: {self.message}" + (f" ({self.where})" if self.where else "")


def check_outcome(
    board: RecordBoard, archives: Sequence[ArchiveFacts]
) -> tuple[Outcome | None, list[Finding]]:
    """Match the archives to the record's regions (uuid and fingerprint), recompute every
    region's result and the outcome under the record's rule, and compare them with what the
    record board published. Returns the recomputed outcome (None when some region has no valid
    archive) and every disagreement found (none: all agree)."""
    findings: list[Finding] = []
    if not board.opened:
        findings.append(Finding("record", "the referendum was not opened: no region's election"))
        return None, findings
    by_uuid = {r.election: r for r in board.regions}
    got: dict[str, ArchiveFacts] = {}
    for a in archives:
        where = a.archive
        if a.uuid is None or a.uuid not in by_uuid:
            findings.append(
                Finding(
                    "archive",
                    f"election {a.uuid} is not an election of the record (its regions' "
                    f"elections: {', '.join(sorted(by_uuid))})",
                    where,
                )
            )
            continue
        region = by_uuid[a.uuid]
        if a.fingerprint != region.fingerprint:
            findings.append(
                Finding(
                    "archive",
                    f"election fingerprint {a.fingerprint}, the record names "
                    f"{region.fingerprint} for region {region.name!r}",
                    where,
                )
            )
            continue
        if a.election is not None:
            try:
                check_election(board.record, a.election, a.trustees)
            except PlebisciteError as e:
                findings.append(Finding("archive", e.message, f"{where}: {e.where}"))
                continue
        if region.name in got:
            findings.append(
                Finding("archive", f"a second archive of region {region.name!r}", where)
            )
            continue
        if not a.valid:
            findings.append(Finding("archive", f"does not verify: {a.problem}", where))
            continue
        if region.pool is not None and a.roll != region.pool:  # a pool's weights are all 1
            findings.append(
                Finding(
                    "archive",
                    f"credentials of total weight {a.roll} on the board, but the Opened event "
                    f"published a pool of {region.pool} for region {region.name!r}",
                    where,
                )
            )
            continue
        if a.result is None:
            findings.append(Finding("archive", "no Result on the board yet", where))
            continue
        got[region.name] = a
    for r in board.regions:
        if r.name not in got and not any(
            a.uuid == r.election for a in archives
        ):  # reported above otherwise
            findings.append(
                Finding("archive", f"no archive of region {r.name!r} (election {r.election})")
            )
    if len(got) != len(board.regions):
        return None, findings
    results = {n: RegionResult(a.result, a.roll, a.voted) for n, a in got.items()}
    try:
        outcome = compute_outcome(board.record, results)
    except PlebisciteError as e:
        findings.append(Finding("outcome", f"cannot be computed: {e}"))
        return None, findings
    if board.outcome is None:
        findings.append(Finding("outcome", "no outcome published on the record yet"))
        return outcome, findings
    for p in board.results:
        a = got[p.name]
        for what, mine, theirs in (
            ("result", a.result, p.result),
            ("roll", a.roll, p.roll),
            ("voted", a.voted, p.voted),
        ):
            if mine != theirs:
                findings.append(
                    Finding(
                        "result",
                        f"published {what} {json.dumps(theirs)}, the archive says "
                        f"{json.dumps(mine)}",
                        f"region {p.name!r}",
                    )
                )
    recomputed = json.loads(outcome.to_json())
    diff = _differs(board.outcome, recomputed, "outcome")
    if diff is not None:
        verdict = None if outcome.verdict is None else outcome.verdict.value
        findings.append(
            Finding(
                "outcome",
                f"the published outcome differs from the one recomputed at {diff}: published "
                f"verdict {board.outcome.get('verdict')!r}, recomputed {verdict!r}",
            )
        )
    return outcome, findings
