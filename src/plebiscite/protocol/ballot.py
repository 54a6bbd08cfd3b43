"""Ballots (sections 4.11 to 4.15): strict parsing and complete verification of one ballot.

The answers are parsed, verified and made by their questions (:mod:`plebiscite.protocol.
questions`); this module holds what is common to every ballot: the election it is for, the
credential, the signature and the canonical form.

:func:`verify_ballots` is the map step of ballot verification: it checks a chunk of ballots
independently of each other and returns, besides a verdict for each, the partial product of the
(weighted) homomorphic ciphertexts, so a caller can reduce chunks in any order, on any core.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable, Sequence

from plebiscite import strictjson
from plebiscite._records import TYPE_CHECKING, NamedTuple
from plebiscite.crypto.context import Context
from plebiscite.crypto.group import Element
from plebiscite.crypto.hashing import h_json
from plebiscite.crypto.proofs import Proof, prove_schnorr, verify_schnorr
from plebiscite.crypto.rand import RandomSource
from plebiscite.errors import (
    ConsistencyError,
    EncodingError,
    MembershipError,
    PlebisciteError,
    ProofError,
)
from plebiscite.protocol.messages import (
    LIMITS,
    Ciphertext,
    Election,
    arr,
    obj,
    proof,
    string,
)
from plebiscite.protocol.questions import Answer, AnswerH, AnswerL, AnswerNH
from plebiscite.protocol.questions.common import proof_json, proof_of_json

if TYPE_CHECKING:
    from typing import Any, BinaryIO

    from plebiscite.protocol.archive import IndexEntry


__all__ = [
    "AnswerH",
    "AnswerL",
    "AnswerNH",
    "BallotOutcome",
    "BallotSetup",
    "ChunkResult",
    "ParsedBallot",
    "election_context",
    "group_encode",
    "make_ballot",
    "parse_ballot",
    "verify_ballot",
    "verify_ballot_contents",
    "verify_ballot_members",
    "verify_ballots",
]


class ParsedBallot(NamedTuple):
    credential: Element
    credential_text: str
    answers: tuple[Answer, ...]
    signature_hash: str
    signature: Proof
    signed_text: bytes  # the serialization the signature hash covers


def parse_ballot(
    raw: bytes, election: Election, where: str = "ballot", *, canonical: bool = True
) -> ParsedBallot:
    """Parse a ballot and check its shape against the election's questions. ``canonical=False``
    (a ballot of a board whose verifier checked it in full, parsed again for its ciphertexts):
    its canonical form is not checked again and its ``signed_text`` is not made (empty)."""
    group = election.group
    v = strictjson.loads(raw, max_size=LIMITS.ballot_bytes, where=where)
    o = obj(v, where, ("election_uuid", "election_hash", "credential", "answers", "signature"))
    if string(o["election_uuid"], f"{where}.election_uuid") != election.uuid:
        raise ConsistencyError(
            "ballot is for another election (uuid differs)", where=f"{where}.election_uuid"
        )
    if string(o["election_hash"], f"{where}.election_hash") != election.fingerprint:
        raise ConsistencyError(
            "ballot is for another election (fingerprint differs)", where=f"{where}.election_hash"
        )
    # Membership of the credential is not re-checked here: a ballot counts only if its
    # credential is on the public list, whose entries were all checked at setup.
    credential = group.decode(o["credential"], where=f"{where}.credential")
    if credential == group.one:
        raise MembershipError("credential is not a group element", where=f"{where}.credential")
    answers_json = arr(
        o["answers"], f"{where}.answers", len(election.questions), len(election.questions)
    )
    answers: list[Answer] = []
    signed_answers: list[dict[str, Any]] = []
    for i, (a, q) in enumerate(zip(answers_json, election.questions, strict=True)):
        answer, signed_answer = q.parse_answer(group, a, f"{where}, question {i + 1}")
        answers.append(answer)
        signed_answers.append(signed_answer)
    so = obj(o["signature"], f"{where}.signature", ("hash", "proof"))
    # its shape checked before the canonical form is made of it
    signature_hash = string(so["hash"], f"{where}.signature.hash")
    signature = proof(group, so["proof"], f"{where}.signature.proof")
    signed = {
        "election_uuid": o["election_uuid"],
        "election_hash": o["election_hash"],
        "credential": o["credential"],
        "answers": signed_answers,
    }
    if canonical:
        whole = dict(signed)
        whole["signature"] = {"hash": so["hash"], "proof": proof_of_json(so["proof"])}
        if strictjson.dumps_compact(whole) != raw:
            # one ballot, one encoding: a copy with other spacing or field order would get
            # another tracker (and could bring back a replaced vote); belenios-tool refuses it
            raise EncodingError(
                "ballot is not in canonical form (compact JSON, fields in the spec's order)",
                where=where,
            )
    return ParsedBallot(
        credential=credential,
        credential_text=o["credential"],
        answers=tuple(answers),
        signature_hash=signature_hash,
        signature=signature,
        signed_text=strictjson.dumps_compact(signed) if canonical else b"",
    )


def verify_ballot(
    ballot: ParsedBallot, election: Election, ctx: Context, where: str = "ballot"
) -> None:
    """Check the signature and every proof of a parsed ballot (sections 4.11 to 4.14)."""
    if h_json(ballot.signed_text) != ballot.signature_hash:
        raise ProofError(
            "signature hash does not match the ballot's content", where=f"{where}.signature.hash"
        )
    try:
        verify_schnorr(ctx, ballot.credential, ballot.signature, f"sig|{ballot.signature_hash}|")
    except ProofError as e:
        raise ProofError(
            "signature does not verify with the ballot's credential", where=f"{where}.signature"
        ) from e
    S0 = f"{election.fingerprint}|{ballot.credential_text}"
    for i, (a, q) in enumerate(zip(ballot.answers, election.questions, strict=True)):
        try:
            q.verify_answer(ctx, S0, a)
        except PlebisciteError as e:
            raise e.at(f"{where}, question {i + 1}") from None


# -- the map step ----------------------------------------------------------------------------


class BallotSetup(NamedTuple):
    """What a worker needs to verify ballots: the election and, when not all 1, the weights;
    ``per_ballot``: every valid ballot's outcome holds its weighted homomorphic ciphertexts
    too (for a partitioned reduce: :mod:`plebiscite.protocol.reduce`, which divides the
    replaced ballots out of the chunks' products)."""

    election_raw: bytes
    weights: dict[str, int] | None = None
    per_ballot: bool = False


class BallotOutcome(NamedTuple):
    height: int
    event_hash: str
    tracker: str
    credential: str | None
    error: tuple[str, str, str] | None  # (code, message, where)
    alpha_digests: tuple[bytes, ...] = ()
    nh: tuple[Ciphertext, ...] = ()
    # with BallotSetup.per_ballot: the homomorphic ciphertexts raised to the weight, in order
    ciphertexts: tuple[Ciphertext, ...] = ()


class ChunkResult:
    """The outcomes of a chunk of ballots and ``product``: over the valid ballots of the
    chunk, the product of each homomorphic ciphertext raised to its weight, indexed
    [question][choice] (None for non-homomorphic questions)."""

    __slots__ = ("outcomes", "product")

    def __init__(
        self,
        outcomes: list[BallotOutcome] | None = None,
        product: list[list[Ciphertext] | None] | None = None,
    ) -> None:
        self.outcomes: list[BallotOutcome] = [] if outcomes is None else outcomes
        self.product: list[list[Ciphertext] | None] = [] if product is None else product


_CACHE: dict[bytes, tuple[Election, Context]] = {}


def election_context(election_raw: bytes) -> tuple[Election, Context]:
    """The election of ``election_raw`` and its context, parsed once per process (the last
    one kept)."""
    key = hashlib.sha256(election_raw).digest()
    hit = _CACHE.get(key)
    if hit is None:
        from plebiscite.protocol.messages import parse_election

        election = parse_election(election_raw)
        hit = (election, Context(election.group, election.public_key))
        _CACHE.clear()
        _CACHE[key] = hit
    return hit


def verify_ballots(
    setup: BallotSetup,
    chunk: Sequence[tuple[int, str, bytes]],
    *,
    proofs: bool = True,
    canonical: bool = True,
    digests: bool = True,
) -> ChunkResult:
    """Verify ``(height, event_hash, raw ballot)`` items; the map step of ballot verification.
    Without ``proofs``, ballots whose signature and proofs were checked already are only
    parsed (their shape against the election) and accounted for; without ``canonical`` too,
    their canonical form is not checked again (a board's ballots, all checked in full by its
    verifier: :func:`parse_ballot`); without ``digests``, the outcomes have no
    ``alpha_digests`` (ballots a board's verifier found holding no ciphertext of another
    credential: the reduce does not look for one again)."""
    election, ctx = election_context(setup.election_raw)
    one = ctx.one
    result = ChunkResult(
        product=[
            [(one, one) for _ in range(q.size)] if q.homomorphic else None
            for q in election.questions
        ]
    )
    # the factors of each component of the product, multiplied at the end (the group's
    # product: in Ed25519 one sum of points, each decoded once)
    factors: list[list[tuple[list[Element], list[Element]]] | None] = [
        None if acc is None else [([], []) for _ in acc] for acc in result.product
    ]
    for height, event_hash, raw in chunk:
        tracker = h_json(raw)
        where = f"ballot {tracker}"
        credential: str | None = None
        try:
            b = parse_ballot(raw, election, where, canonical=canonical or proofs)
            credential = b.credential_text
            if proofs:
                verify_ballot(b, election, ctx, where)
        except PlebisciteError as e:
            result.outcomes.append(
                BallotOutcome(height, event_hash, tracker, credential, (e.code, e.message, e.where))
            )
            continue
        weight = 1 if setup.weights is None else setup.weights.get(credential, 1)
        seen: list[bytes] = []
        nh: list[Ciphertext] = []
        weighted: list[Ciphertext] = []
        for a, slots in zip(b.answers, factors, strict=True):
            if slots is not None:
                for (x, y), (xs, ys) in zip(a.ciphertexts, slots, strict=True):
                    if digests:
                        seen.append(hashlib.sha256(str(x).encode()).digest()[:16])
                    if weight != 1:
                        x, y = ctx.pow(x, weight), ctx.pow(y, weight)
                    if setup.per_ballot:
                        weighted.append((x, y))
                    xs.append(x)
                    ys.append(y)
            else:
                assert isinstance(a, AnswerNH)
                if digests:
                    seen.append(hashlib.sha256(str(a.choices[0]).encode()).digest()[:16])
                nh.append(a.choices)
        result.outcomes.append(
            BallotOutcome(
                height,
                event_hash,
                tracker,
                credential,
                None,
                tuple(seen),
                tuple(nh),
                tuple(weighted),
            )
        )
    product = ctx.group.product
    for acc, slots in zip(result.product, factors, strict=True):
        if acc is not None and slots is not None:
            acc[:] = [(product(xs), product(ys)) for xs, ys in slots]
    return result


def verify_ballot_members(
    setup: BallotSetup, stream: BinaryIO, chunk: Sequence[tuple[int, str, IndexEntry]]
) -> ChunkResult:
    """:func:`verify_ballots` on ballots read from an archive by its index: ``(height, event
    hash, index entry of the ballot's data member)`` items. Each member is read from its byte
    range of ``stream`` and its content checked against the hash its name declares (the hash
    its event refers to): a member that is not there or hashes to something else gets the
    error as its outcome, and is not verified further."""
    from plebiscite.protocol.archive import read_member

    return _verified(
        setup, ((h, e, functools.partial(read_member, stream, entry)) for h, e, entry in chunk)
    )


def verify_ballot_contents(
    setup: BallotSetup, chunk: Sequence[tuple[int, str, IndexEntry, bytes]]
) -> ChunkResult:
    """:func:`verify_ballot_members` on members already read: ``(height, event hash, index
    entry, content)`` items, each content checked against its entry (its length, its hash)."""
    from plebiscite.protocol.archive import check_member

    return _verified(
        setup,
        ((h, e, functools.partial(check_member, entry, content)) for h, e, entry, content in chunk),
    )


def _verified(
    setup: BallotSetup, chunk: Iterable[tuple[int, str, Callable[[], bytes]]]
) -> ChunkResult:
    """The ballots of ``chunk`` verified, each read by its ``(height, event hash, read)`` item:
    one whose read raises gets that error as its outcome, in height order with the others."""
    read: list[tuple[int, str, bytes]] = []
    failed: list[BallotOutcome] = []
    for height, event_hash, content in chunk:
        try:
            read.append((height, event_hash, content()))
        except PlebisciteError as e:
            failed.append(BallotOutcome(height, event_hash, "", None, (e.code, e.message, e.where)))
    result = verify_ballots(setup, read)
    if failed:
        result.outcomes = sorted(result.outcomes + failed, key=lambda o: o.height)
    return result


# -- making ballots (sections 4.11 to 4.15) --------------------------------------------------


def group_encode(election: Election, values: Sequence[int], rng: RandomSource) -> Element:
    """``group_encode`` (4.11.2): the group's ``of_ints`` (the padding drawn from ``rng`` where
    the group draws it)."""
    group = election.group
    if group.embedding is None:
        raise ValueError(f"group {group.name} has no embedding")
    return group.of_ints(values, rng)


def make_ballot(
    election: Election,
    credential: str,
    choices: Sequence[Any],
    rng: RandomSource,
    *,
    ctx: Context | None = None,
) -> bytes:
    """Build a complete ballot (compact JSON, spec field order) for ``choices`` (belenios-tool's
    shape: one list per question; with blank allowed, a leading 0/1 for "blank"; for a Lists
    question one list of 0/1 per list, the list's own first).

    All randomness comes from ``rng``: a :class:`DeterministicRandom` gives known-answer ballots.
    """
    from plebiscite.crypto.credentials import credential_secret

    group = election.group
    ctx = ctx or Context(group, election.public_key)
    if len(choices) != len(election.questions):
        raise ValueError(f"{len(choices)} answers for {len(election.questions)} questions")
    s = credential_secret(credential, election.uuid, group)
    cred_text = group.encode(ctx.gpow(s))
    S0 = f"{election.fingerprint}|{cred_text}"
    answers = [
        q.make_answer(ctx, S0, vote, rng, f"question {qi + 1}")
        for qi, (q, vote) in enumerate(zip(election.questions, choices, strict=True))
    ]
    unsigned: dict[str, Any] = {
        "election_uuid": election.uuid,
        "election_hash": election.fingerprint,
        "credential": cred_text,
        "answers": answers,
    }
    h = h_json(strictjson.dumps_compact(unsigned))
    sig = prove_schnorr(ctx, s, rng.below(group.q), f"sig|{h}|")
    unsigned["signature"] = {"hash": h, "proof": proof_json(sig)}
    return strictjson.dumps_compact(unsigned)
