"""Signed checkpoints of a board's head, and the proof of equivocation they make possible.

The board's server signs, from time to time and whenever it shows a board, the head it shows:

    {"election": UUID, "hash": LAST_EVENT_HASH, "height": N, "phase": PHASE,
     "previous": FINGERPRINT_OF_THE_PREVIOUS_CHECKPOINT | null, "time": "YYYY-MM-DDTHH:MM:SSZ"}

``election`` is the election's uuid, or the id of a referendum's record board
(:mod:`plebiscite.protocol.record`). ``height`` and ``hash`` are those of the last event of the
board (the hash in lowercase hexadecimal, as in the archive); ``phase`` is the verifier's status
after that event (one of :data:`PHASES`); ``previous`` links the server's checkpoints of one
election into a chain. The checkpoint is serialized canonically (:meth:`Checkpoint.to_json`:
keys sorted, no spaces, the JCS form of RFC 8785 for these values); its *fingerprint* is
``H_JSON`` of that text (SHA256, Base64 without padding). The signed message is :data:`DOMAIN`
followed by the canonical text, so a checkpoint signature can never be taken for a signature
of anything else. A signed checkpoint is written::

    {"checkpoint": {...}, "key": PUBLIC_KEY, "signature": SIGNATURE}

with the raw Ed25519 key and signature in Base64 without padding
(:mod:`plebiscite.crypto.signing`).

Voters and observers keep the checkpoints they were shown. Two validly signed checkpoints of the
same election by the same key that cannot both describe one append-only board prove that the
server showed two different boards (SECURITY-CASES 20); :func:`detect_equivocation` finds them:

- ``conflict``: the same height with different event hashes;
- ``fork``: two different checkpoints with the same ``previous`` (two successors of one
  checkpoint, or two first checkpoints): a correct server's checkpoints form one chain;
- ``regression``: a checkpoint whose ``previous`` is a checkpoint of another election, of a
  greater height, or of the same height with another hash.

Checkpoints alone cannot show that a board at height 20 does not extend the one seen at
height 10 when no checkpoint at height 10 of the longer board was kept; comparing the archives
(``plebiscite verify --since``) does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from plebiscite import strictjson
from plebiscite.crypto.hashing import h_json
from plebiscite.crypto.signing import (
    SIGNATURE_BYTES,
    SigningKey,
    VerifyKey,
    b64decode,
    b64encode,
)
from plebiscite.errors import ConsistencyError, EncodingError, ProofError
from plebiscite.protocol.messages import LIMITS, hash_ref, obj, small_int, string
from plebiscite.protocol.phases import BoardPhase

__all__ = [
    "DOMAIN",
    "MAX_CHECKPOINT_BYTES",
    "PHASES",
    "Checkpoint",
    "Equivocation",
    "SignedCheckpoint",
    "check_extends",
    "detect_equivocation",
    "sign_checkpoint",
    "utc_time",
    "verify_checkpoint",
]

DOMAIN = b"plebiscite checkpoint v1\n"
"""Prefix of every signed checkpoint message (domain separation)."""

MAX_CHECKPOINT_BYTES = 4096

PHASES = tuple(p.value for p in BoardPhase if p is not BoardPhase.EMPTY)
"""The phases of a non-empty board (:class:`plebiscite.protocol.phases.BoardPhase`)."""

_UUID = re.compile(r"[1-9A-HJ-NP-Za-km-z]{14,64}\Z")
#: a referendum's record board (:func:`plebiscite.protocol.record.record_board_id`)
_RECORD_BOARD = re.compile(r"record_[0-9a-f]{32}\Z")
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\Z")
_FINGERPRINT_BYTES = 32


def utc_time(v: Any, where: str) -> str:
    """An instant in ISO 8601, UTC, to the second: ``YYYY-MM-DDTHH:MM:SSZ``."""
    if not isinstance(v, str) or not _TIME.match(v):
        raise EncodingError("expected a UTC time written YYYY-MM-DDTHH:MM:SSZ", where=where)
    try:
        datetime.strptime(v, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError as e:
        raise EncodingError(f"invalid time: {e}", where=where) from None
    return v


def _fingerprint_ref(v: Any, where: str) -> str:
    b64decode(v, _FINGERPRINT_BYTES, where=where)
    assert isinstance(v, str)
    return v


@dataclass(frozen=True)
class Checkpoint:
    """A board head as the server states it (see the module docstring). Build one with
    :meth:`parse` or :func:`sign_checkpoint`, which check every field."""

    election: str
    height: int
    hash: str
    time: str
    phase: str
    previous: str | None

    @classmethod
    def parse(cls, v: Any, where: str = "checkpoint") -> Checkpoint:
        o = obj(v, where, ("election", "hash", "height", "phase", "previous", "time"))
        election = string(o["election"], f"{where}.election")
        if not _UUID.match(election) and not _RECORD_BOARD.match(election):
            raise EncodingError(
                "an election uuid is 14 to 64 Base58 characters (a referendum's record board: "
                "record_ and 32 hexadecimal digits)",
                where=f"{where}.election",
            )
        phase = o["phase"]
        if phase not in PHASES:
            raise EncodingError(
                f"unknown phase {phase!r} (one of {', '.join(PHASES)})", where=f"{where}.phase"
            )
        previous = o["previous"]
        return cls(
            election=election,
            height=small_int(o["height"], f"{where}.height", 0, LIMITS.small_int),
            hash=hash_ref(o["hash"], f"{where}.hash"),
            time=utc_time(o["time"], f"{where}.time"),
            phase=phase,
            previous=None if previous is None else _fingerprint_ref(previous, f"{where}.previous"),
        )

    def to_value(self) -> dict[str, Any]:
        return {
            "election": self.election,
            "hash": self.hash,
            "height": self.height,
            "phase": self.phase,
            "previous": self.previous,
            "time": self.time,
        }

    def to_json(self) -> bytes:
        """The canonical serialization (keys sorted, compact): what is hashed and signed."""
        return strictjson.dumps_compact(self.to_value())

    @property
    def fingerprint(self) -> str:
        """``H_JSON`` of the canonical serialization: what ``previous`` refers to."""
        return h_json(self.to_json())

    def message(self) -> bytes:
        """The signed message: :data:`DOMAIN` and the canonical serialization."""
        return DOMAIN + self.to_json()


@dataclass(frozen=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    key: VerifyKey
    signature: bytes

    @property
    def fingerprint(self) -> str:
        return self.checkpoint.fingerprint

    def to_json(self) -> bytes:
        return strictjson.dumps_compact(
            {
                "checkpoint": self.checkpoint.to_value(),
                "key": self.key.to_base64(),
                "signature": b64encode(self.signature),
            }
        )

    @classmethod
    def from_json(cls, raw: bytes | str, where: str = "signed checkpoint") -> SignedCheckpoint:
        """Parse strictly (the signature is not checked: see :func:`verify_checkpoint`)."""
        v = strictjson.loads(raw, max_size=MAX_CHECKPOINT_BYTES, where=where)
        o = obj(v, where, ("checkpoint", "key", "signature"))
        return cls(
            checkpoint=Checkpoint.parse(o["checkpoint"], f"{where}.checkpoint"),
            key=VerifyKey.from_base64(o["key"], where=f"{where}.key"),
            signature=b64decode(o["signature"], SIGNATURE_BYTES, where=f"{where}.signature"),
        )

    def is_valid(self) -> bool:
        """Whether the signature verifies under the key the checkpoint names."""
        try:
            self.key.verify(self.checkpoint.message(), self.signature)
        except ProofError:
            return False
        return True


def sign_checkpoint(
    private_key: SigningKey,
    *,
    election: str,
    height: int,
    hash: str,
    time: str,
    phase: str,
    previous: Checkpoint | SignedCheckpoint | str | None,
) -> SignedCheckpoint:
    """Sign the head ``(height, hash)`` of ``election``'s board. Every field is checked as
    :meth:`Checkpoint.parse` does; when ``previous`` is a checkpoint (not only its
    fingerprint), the new one must extend it (:func:`check_extends`), so that a server never
    signs a regression by mistake."""
    if isinstance(previous, SignedCheckpoint):
        previous = previous.checkpoint
    prev_fp = previous.fingerprint if isinstance(previous, Checkpoint) else previous
    cp = Checkpoint.parse(
        {
            "election": election,
            "hash": hash,
            "height": height,
            "phase": phase,
            "previous": prev_fp,
            "time": time,
        }
    )
    if isinstance(previous, Checkpoint):
        check_extends(previous, cp)
    return SignedCheckpoint(cp, private_key.public(), private_key.sign(cp.message()))


def verify_checkpoint(public_key: VerifyKey, signed: SignedCheckpoint) -> Checkpoint:
    """The checkpoint, if ``signed`` is signed by ``public_key``; :class:`ProofError`
    otherwise."""
    where = f"checkpoint of {signed.checkpoint.election} at height {signed.checkpoint.height}"
    if signed.key != public_key:
        raise ProofError("signed by another key than the one expected", where=where)
    public_key.verify(signed.checkpoint.message(), signed.signature, where=where)
    return signed.checkpoint


def check_extends(
    older: Checkpoint | SignedCheckpoint, newer: Checkpoint | SignedCheckpoint
) -> None:
    """Raise :class:`ConsistencyError` unless ``newer`` may describe the same board as
    ``older``, later: same election, height not smaller, and the same last event if the height
    is the same. (Whether the events in between are the board's is for the archives to say.)"""
    a = older.checkpoint if isinstance(older, SignedCheckpoint) else older
    b = newer.checkpoint if isinstance(newer, SignedCheckpoint) else newer
    if a.election != b.election:
        raise ConsistencyError(
            f"checkpoints of two elections: {a.election} and {b.election}", where="checkpoint"
        )
    where = f"checkpoint of {b.election}"
    if b.height < a.height:
        raise ConsistencyError(
            f"height {b.height} is below the height {a.height} of the earlier checkpoint",
            where=where,
        )
    if b.height == a.height and b.hash != a.hash:
        raise ConsistencyError(
            f"two different last events at height {a.height}: {a.hash} and {b.hash}",
            where=where,
        )


@dataclass(frozen=True)
class Equivocation:
    """Two validly signed checkpoints by one key that no single append-only board can
    explain: the proof, checkable by anyone with the two signed checkpoints."""

    kind: str  # "conflict", "fork" or "regression"
    election: str
    key: VerifyKey
    first: SignedCheckpoint
    second: SignedCheckpoint

    def describe(self) -> str:
        a, b = self.first.checkpoint, self.second.checkpoint
        signer = f"key {self.key.to_base64()}"
        if self.kind == "conflict":
            return (
                f"{signer} signed two boards of {self.election} at height {a.height}: "
                f"last event {a.hash} and {b.hash}"
            )
        if self.kind == "fork":
            after = f"checkpoint {a.previous}" if a.previous else "no checkpoint (two starts)"
            return (
                f"{signer} signed two checkpoints of {self.election} following {after}: "
                f"{a.fingerprint} (height {a.height}) and {b.fingerprint} (height {b.height})"
            )
        return (
            f"{signer} signed checkpoint {b.fingerprint} of {b.election} (height {b.height}) "
            f"as following {a.fingerprint} of {a.election} (height {a.height}, "
            f"last event {a.hash}), which it cannot extend"
        )

    def to_json(self) -> bytes:
        """The evidence: both signed checkpoints, verifiable by anyone."""
        return strictjson.dumps_compact(
            {
                "checkpoints": [
                    strictjson.loads(c.to_json(), max_size=MAX_CHECKPOINT_BYTES)
                    for c in (self.first, self.second)
                ],
                "election": self.election,
                "kind": self.kind,
            }
        )


def detect_equivocation(checkpoints: Iterable[SignedCheckpoint]) -> list[Equivocation]:
    """Every equivocation among ``checkpoints`` (see the module docstring), in a stable order.

    Only validly signed checkpoints are evidence: the others are set aside (a forged checkpoint
    proves nothing against its alleged signer; :func:`verify_checkpoint` says why one fails).
    Checkpoints are compared per signing key and election; the same checkpoint given twice is
    counted once. For ``k`` different checkpoints in conflict at one height (or forking from one
    checkpoint), ``k - 1`` pairs are reported, each with the same first checkpoint. A pair is
    reported once, under the first kind that applies (conflict, fork, regression).
    """
    # one representative per (key, fingerprint), validly signed
    unique: dict[tuple[bytes, str], SignedCheckpoint] = {}
    for sc in checkpoints:
        ident = (sc.key.raw, sc.fingerprint)
        if ident not in unique and sc.is_valid():
            unique[ident] = sc
    ordered = sorted(
        unique.values(),
        key=lambda s: (s.key.raw, s.checkpoint.election, s.checkpoint.height, s.fingerprint),
    )

    found: list[Equivocation] = []
    seen_pairs: set[tuple[bytes, str, str]] = set()

    def report(kind: str, a: SignedCheckpoint, b: SignedCheckpoint) -> None:
        x, y = sorted((a.fingerprint, b.fingerprint))
        pair = (a.key.raw, x, y)
        if pair in seen_pairs:
            return
        seen_pairs.add(pair)
        found.append(Equivocation(kind, b.checkpoint.election, a.key, a, b))

    # conflict: same key, election and height, different last events
    by_height: dict[tuple[bytes, str, int], dict[str, SignedCheckpoint]] = {}
    for sc in ordered:
        cp = sc.checkpoint
        by_height.setdefault((sc.key.raw, cp.election, cp.height), {}).setdefault(cp.hash, sc)
    for heads in by_height.values():
        reps = list(heads.values())
        for other in reps[1:]:
            report("conflict", reps[0], other)

    # fork: same key and election, two different checkpoints with the same previous
    by_previous: dict[tuple[bytes, str, str | None], list[SignedCheckpoint]] = {}
    for sc in ordered:
        cp = sc.checkpoint
        by_previous.setdefault((sc.key.raw, cp.election, cp.previous), []).append(sc)
    for successors in by_previous.values():
        for other in successors[1:]:
            report("fork", successors[0], other)

    # regression: a link to a known checkpoint that the successor cannot extend
    for sc in ordered:
        prev_fp = sc.checkpoint.previous
        prev = unique.get((sc.key.raw, prev_fp)) if prev_fp is not None else None
        if prev is None:
            continue
        try:
            check_extends(prev, sc)
        except ConsistencyError:
            report("regression", prev, sc)
    return found
