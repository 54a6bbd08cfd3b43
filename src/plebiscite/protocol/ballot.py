"""Ballots (sections 4.11 to 4.15): strict parsing and complete verification of one ballot.

:func:`verify_ballots` is the map step of ballot verification: it checks a chunk of ballots
independently of each other and returns, besides a verdict for each, the partial product of the
(weighted) homomorphic ciphertexts, so a caller can reduce chunks in any order, on any core.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from plebiscite import strictjson
from plebiscite._records import TYPE_CHECKING, NamedTuple
from plebiscite.crypto.context import Context
from plebiscite.crypto.group import Element, Group
from plebiscite.crypto.hashing import h_json
from plebiscite.crypto.proofs import (
    Proof,
    prove_blank_proof,
    prove_iproof,
    prove_overall_blank_proof,
    prove_raweg,
    prove_schnorr,
    verify_blank_proof,
    verify_iproof,
    verify_overall_blank_proof,
    verify_raweg,
    verify_schnorr,
)
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
    QuestionH,
    arr,
    ciphertext,
    obj,
    proof,
    proofs,
    string,
)

if TYPE_CHECKING:
    from typing import Any


__all__ = [
    "BallotOutcome",
    "BallotSetup",
    "ChunkResult",
    "ParsedBallot",
    "group_encode",
    "make_ballot",
    "parse_ballot",
    "verify_ballot",
    "verify_ballots",
]


class AnswerH(NamedTuple):
    choices: tuple[Ciphertext, ...]
    individual_proofs: tuple[tuple[Proof, ...], ...]
    overall_proof: tuple[Proof, ...]
    blank_proof: tuple[Proof, ...] | None


class AnswerNH(NamedTuple):
    choices: Ciphertext
    proof: Proof


class ParsedBallot(NamedTuple):
    credential: Element
    credential_text: str
    answers: tuple[AnswerH | AnswerNH, ...]
    signature_hash: str
    signature: Proof
    signed_text: bytes  # the serialization the signature hash covers


def _ordered(o: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    return {k: o[k] for k in keys if k in o}


def _ct_json(c: dict[str, Any]) -> dict[str, Any]:
    return _ordered(c, ("alpha", "beta"))


def _pr_json(p: dict[str, Any]) -> dict[str, Any]:
    return _ordered(p, ("challenge", "response"))


def parse_ballot(raw: bytes, election: Election, where: str = "ballot") -> ParsedBallot:
    """Parse a ballot and check its shape against the election's questions."""
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
    answers: list[AnswerH | AnswerNH] = []
    signed_answers: list[dict[str, Any]] = []
    for i, (a, q) in enumerate(zip(answers_json, election.questions, strict=True)):
        w = f"{where}, question {i + 1}"
        if isinstance(q, QuestionH):
            n = len(q.answers) + (1 if q.blank else 0)
            keys = ("choices", "individual_proofs", "overall_proof") + (
                ("blank_proof",) if q.blank else ()
            )
            ao = obj(a, w, keys)
            cj = arr(ao["choices"], f"{w}.choices", n, n)
            choices = tuple(
                ciphertext(group, c, f"{w}.choices[{j}]", ballot=True, defer_membership=True)
                for j, c in enumerate(cj)
            )
            ipj = arr(ao["individual_proofs"], f"{w}.individual_proofs", n, n)
            ips = tuple(
                proofs(group, x, f"{w}.individual_proofs[{j}]", 2, 2) for j, x in enumerate(ipj)
            )
            k = q.max - q.min + 1 + (1 if q.blank else 0)
            ov = proofs(group, ao["overall_proof"], f"{w}.overall_proof", k, k)
            bp = proofs(group, ao["blank_proof"], f"{w}.blank_proof", 2, 2) if q.blank else None
            answers.append(AnswerH(choices, ips, ov, bp))
            sa: dict[str, Any] = {
                "choices": [_ct_json(c) for c in cj],
                "individual_proofs": [[_pr_json(p) for p in x] for x in ipj],
                "overall_proof": [_pr_json(p) for p in ao["overall_proof"]],
            }
            if q.blank:
                sa["blank_proof"] = [_pr_json(p) for p in ao["blank_proof"]]
            signed_answers.append(sa)
        else:
            ao = obj(a, w, ("choices", "proof"))
            answers.append(
                AnswerNH(
                    ciphertext(group, ao["choices"], f"{w}.choices", ballot=True),
                    proof(group, ao["proof"], f"{w}.proof"),
                )
            )
            signed_answers.append(
                {"choices": _ct_json(ao["choices"]), "proof": _pr_json(ao["proof"])}
            )
    so = obj(o["signature"], f"{where}.signature", ("hash", "proof"))
    signed = {
        "election_uuid": o["election_uuid"],
        "election_hash": o["election_hash"],
        "credential": o["credential"],
        "answers": signed_answers,
    }
    canonical = dict(signed)
    canonical["signature"] = {"hash": so["hash"], "proof": _pr_json(so["proof"])}
    if strictjson.dumps_compact(canonical) != raw:
        # one ballot, one encoding: a copy with other spacing or field order would get another
        # tracker (and could bring back a replaced vote); belenios-tool refuses it too
        raise EncodingError(
            "ballot is not in canonical form (compact JSON, fields in the spec's order)",
            where=where,
        )
    return ParsedBallot(
        credential=credential,
        credential_text=o["credential"],
        answers=tuple(answers),
        signature_hash=string(so["hash"], f"{where}.signature.hash"),
        signature=proof(group, so["proof"], f"{where}.signature.proof"),
        signed_text=strictjson.dumps_compact(signed),
    )


def _product(cts: Sequence[Ciphertext], group: Group) -> Ciphertext:
    a, b = group.one, group.one
    for x, y in cts:
        a = group.mul(a, x)
        b = group.mul(b, y)
    return a, b


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
    group = ctx.group
    for i, (a, q) in enumerate(zip(ballot.answers, election.questions, strict=True)):
        w = f"{where}, question {i + 1}"
        try:
            if isinstance(a, AnswerH):
                assert isinstance(q, QuestionH)
                for j, ((alpha, beta), ip) in enumerate(
                    zip(a.choices, a.individual_proofs, strict=True)
                ):
                    try:
                        verify_iproof(ctx, S0, alpha, beta, ip, (0, 1), check_membership=True)
                    except (ProofError, MembershipError) as e:
                        raise e.at(f"individual proof of choice {j + 1}") from None
                S = S0 + "|" + ",".join(f"{x},{y}" for x, y in a.choices)
                Ms = range(q.min, q.max + 1)
                if q.blank:
                    assert a.blank_proof is not None
                    a0, b0 = a.choices[0]
                    a_s, b_s = _product(a.choices[1:], group)
                    verify_blank_proof(ctx, S, a0, b0, a_s, b_s, a.blank_proof)
                    verify_overall_blank_proof(ctx, S, a0, b0, a_s, b_s, a.overall_proof, Ms)
                else:
                    a_s, b_s = _product(a.choices, group)
                    verify_iproof(ctx, S, a_s, b_s, a.overall_proof, Ms)
            else:
                alpha, beta = a.choices
                verify_raweg(ctx, S0, alpha, beta, a.proof)
        except PlebisciteError as e:
            raise e.at(w) from None


# -- the map step ----------------------------------------------------------------------------


class BallotSetup(NamedTuple):
    """What a worker needs to verify ballots: the election and, when not all 1, the weights."""

    election_raw: bytes
    weights: dict[str, int] | None = None


class BallotOutcome(NamedTuple):
    height: int
    event_hash: str
    tracker: str
    credential: str | None
    error: tuple[str, str, str] | None  # (code, message, where)
    alpha_digests: tuple[bytes, ...] = ()
    nh: tuple[Ciphertext, ...] = ()


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


def _setup(election_raw: bytes) -> tuple[Election, Context]:
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
    setup: BallotSetup, chunk: Sequence[tuple[int, str, bytes]], *, proofs: bool = True
) -> ChunkResult:
    """Verify ``(height, event_hash, raw ballot)`` items; the map step of ballot verification.
    Without ``proofs``, ballots whose signature and proofs were checked already are only
    parsed (their shape against the election) and accounted for."""
    election, ctx = _setup(setup.election_raw)
    one = ctx.one
    result = ChunkResult(
        product=[
            [(one, one) for _ in range(len(q.answers) + (1 if q.blank else 0))]
            if isinstance(q, QuestionH)
            else None
            for q in election.questions
        ]
    )
    for height, event_hash, raw in chunk:
        tracker = h_json(raw)
        where = f"ballot {tracker}"
        credential: str | None = None
        try:
            b = parse_ballot(raw, election, where)
            credential = b.credential_text
            if proofs:
                verify_ballot(b, election, ctx, where)
        except PlebisciteError as e:
            result.outcomes.append(
                BallotOutcome(height, event_hash, tracker, credential, (e.code, e.message, e.where))
            )
            continue
        weight = 1 if setup.weights is None else setup.weights.get(credential, 1)
        digests: list[bytes] = []
        nh: list[Ciphertext] = []
        for a, acc in zip(b.answers, result.product, strict=True):
            if isinstance(a, AnswerH):
                assert acc is not None
                for j, (x, y) in enumerate(a.choices):
                    digests.append(hashlib.sha256(str(x).encode()).digest()[:16])
                    if weight != 1:
                        x, y = ctx.pow(x, weight), ctx.pow(y, weight)
                    ax, ay = acc[j]
                    acc[j] = (ctx.mul(ax, x), ctx.mul(ay, y))
            else:
                digests.append(hashlib.sha256(str(a.choices[0]).encode()).digest()[:16])
                nh.append(a.choices)
        result.outcomes.append(
            BallotOutcome(height, event_hash, tracker, credential, None, tuple(digests), tuple(nh))
        )
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
    choices: Sequence[Sequence[int]],
    rng: RandomSource,
    *,
    ctx: Context | None = None,
) -> bytes:
    """Build a complete ballot (compact JSON, spec field order) for ``choices`` (belenios-tool's
    shape: one list per question; with blank allowed, a leading 0/1 for "blank").

    All randomness comes from ``rng``: a :class:`DeterministicRandom` gives known-answer ballots.
    """
    from plebiscite.crypto.credentials import credential_secret

    group = election.group
    ctx = ctx or Context(group, election.public_key)
    q = group.q
    if len(choices) != len(election.questions):
        raise ValueError(f"{len(choices)} answers for {len(election.questions)} questions")
    s = credential_secret(credential, election.uuid, group)
    cred_text = str(ctx.gpow(s))
    S0 = f"{election.fingerprint}|{cred_text}"

    def rand() -> int:
        return rng.below(q)

    def sims(n: int) -> list[Proof]:
        return [Proof(rand(), rand()) for _ in range(n)]

    answers: list[dict[str, Any]] = []
    for qi, (question, vote) in enumerate(zip(election.questions, choices, strict=True)):
        if isinstance(question, QuestionH):
            n = len(question.answers) + (1 if question.blank else 0)
            if len(vote) != n or any(m not in (0, 1) for m in vote):
                raise ValueError(f"question {qi + 1}: expected {n} values 0 or 1")
            rs = [rand() for _ in vote]
            cts = [
                (ctx.gpow(r), ctx.mul(ctx.ypow(r), ctx.gpow(m)))
                for r, m in zip(rs, vote, strict=True)
            ]
            ips = [
                prove_iproof(ctx, S0, a, b, r, m, (0, 1), rand(), sims(1))
                for (a, b), r, m in zip(cts, rs, vote, strict=True)
            ]
            S = S0 + "|" + ",".join(f"{a},{b}" for a, b in cts)
            Ms = list(range(question.min, question.max + 1))
            answer: dict[str, Any] = {
                "choices": [{"alpha": str(a), "beta": str(b)} for a, b in cts],
                "individual_proofs": [[_proof_json(x) for x in ip] for ip in ips],
            }
            if question.blank:
                m0, rest = vote[0], vote[1:]
                r0, rsum = rs[0], sum(rs[1:]) % q
                msum = sum(rest)
                ct_s = _product(cts[1:], group)
                if m0 == 1 and msum != 0:
                    raise ValueError(f"question {qi + 1}: a blank vote selects nothing")
                if m0 == 0 and msum not in Ms:
                    raise ValueError(
                        f"question {qi + 1}: between {question.min} and "
                        f"{question.max} answers, or blank"
                    )
                bp = prove_blank_proof(
                    ctx, S, cts[0], ct_s, m0 == 1, rsum if m0 else r0, rand(), Proof(rand(), rand())
                )
                real = 0 if m0 else Ms.index(msum) + 1
                ov = prove_overall_blank_proof(
                    ctx, S, cts[0], ct_s, Ms, real, r0 if m0 else rsum, rand(), sims(len(Ms))
                )
                answer["overall_proof"] = [_proof_json(x) for x in ov]
                answer["blank_proof"] = [_proof_json(x) for x in bp]
            else:
                msum = sum(vote)
                if msum not in Ms:
                    raise ValueError(
                        f"question {qi + 1}: between {question.min} and {question.max} answers"
                    )
                a_s, b_s = _product(cts, group)
                ov = prove_iproof(
                    ctx, S, a_s, b_s, sum(rs) % q, Ms.index(msum), Ms, rand(), sims(len(Ms) - 1)
                )
                answer["overall_proof"] = [_proof_json(x) for x in ov]
            answers.append(answer)
        else:
            if len(vote) != len(question.answers):
                raise ValueError(f"question {qi + 1}: expected {len(question.answers)} values")
            xi = group_encode(election, vote, rng)
            r = rand()
            a, b = ctx.gpow(r), ctx.mul(ctx.ypow(r), xi)
            pr = prove_raweg(ctx, S0, a, b, r, rand())
            answers.append({"choices": {"alpha": str(a), "beta": str(b)}, "proof": _proof_json(pr)})
    unsigned: dict[str, Any] = {
        "election_uuid": election.uuid,
        "election_hash": election.fingerprint,
        "credential": cred_text,
        "answers": answers,
    }
    h = h_json(strictjson.dumps_compact(unsigned))
    sig = prove_schnorr(ctx, s, rand(), f"sig|{h}|")
    unsigned["signature"] = {"hash": h, "proof": _proof_json(sig)}
    return strictjson.dumps_compact(unsigned)


def _proof_json(p: Proof) -> dict[str, str]:
    return {"challenge": str(p.challenge), "response": str(p.response)}
