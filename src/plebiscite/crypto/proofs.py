"""Zero-knowledge proofs of the Belenios 2.0 specification: verification and generation.

Each ``verify_*`` function raises :class:`~plebiscite.errors.ProofError` when the proof does not
hold and returns ``None`` otherwise. Every ``prove_*`` function takes its randomness as
arguments (``w``, simulated challenges and responses): callers draw them from a random source,
known-answer tests pass fixed values. Inputs are assumed already checked for membership
(group elements) and range (scalars) by the parser.

The challenge of every proof hashes the statement (election fingerprint, credential, ciphertexts,
bounds) exactly as the spec says, so a proof cannot be reused for another statement.

Verification works on public values only, so it uses the context's ``_public`` operations
(which a group may compute in variable time); proving keeps the constant-time ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from plebiscite._records import NamedTuple
from plebiscite.crypto.context import Context
from plebiscite.crypto.group import Element
from plebiscite.crypto.hashing import join_numbers, sha256_int
from plebiscite.errors import MembershipError, ProofError

__all__ = [
    "NonzeroProof",
    "Proof",
    "blank_proof_hash_input",
    "prove_decryption",
    "prove_iproof",
    "prove_list_proof",
    "prove_nonzero_proof",
    "prove_pok",
    "prove_schnorr",
    "verify_blank_proof",
    "verify_decryption",
    "verify_iproof",
    "verify_list_proof",
    "verify_nonzero_proof",
    "verify_overall_blank_proof",
    "verify_pok",
    "verify_raweg",
    "verify_schnorr",
]


class Proof(NamedTuple):
    """``proof`` of section 4.3."""

    challenge: int
    response: int


# -- Schnorr-like proofs: trustee keys (4.5), signed messages (4.6.1), ballot signatures (4.14) --


def _schnorr_commitment(ctx: Context, X: Element, proof: Proof) -> Element:
    return ctx.gpow_times_public(proof.response, X, proof.challenge)


def verify_schnorr(ctx: Context, X: Element, proof: Proof, prefix: str, suffix: str = "") -> None:
    """Check ``challenge = H(prefix|A|suffix... )`` where ``A = g^response X^challenge``.

    ``prefix`` is everything before ``A`` in the hashed string (its trailing ``|`` included).
    """
    A = _schnorr_commitment(ctx, X, proof)
    if sha256_int(f"{prefix}{A}{suffix}") % ctx.q != proof.challenge:
        raise ProofError("proof of knowledge does not verify")


def prove_schnorr(ctx: Context, x: int, w: int, prefix: str, suffix: str = "") -> Proof:
    A = ctx.gpow(w)
    c = sha256_int(f"{prefix}{A}{suffix}") % ctx.q
    return Proof(c, (w - x * c) % ctx.q)


def pok_prefix(group_name: str, X: Element) -> str:
    return f"pok|{group_name}|{X}|"


def verify_pok(ctx: Context, X: Element, proof: Proof) -> None:
    """Proof of knowledge of a trustee's private key (4.5): ``H_pok(X, A) = SHA256(pok|G|X|A)``."""
    verify_schnorr(ctx, X, proof, pok_prefix(ctx.group.name, X))


def prove_pok(ctx: Context, x: int, w: int) -> Proof:
    return prove_schnorr(ctx, x, w, pok_prefix(ctx.group.name, ctx.gpow(x)))


# -- Interval proofs (4.12) --------------------------------------------------------------------


def _branch_commitments(
    ctx: Context, alpha: Element, beta: Element, proof: Proof, M: int
) -> tuple[Element, Element]:
    """``A = g^r alpha^c`` and ``B = y^r (beta / g^M)^c``."""
    if ctx.group.double_scalar_public:
        return _commitments_double(ctx, alpha, beta, proof, M)
    return _commitments_from_powers(
        ctx, ctx.pow(alpha, proof.challenge), ctx.pow(beta, proof.challenge), proof, M
    )


def _commitments_double(
    ctx: Context, alpha: Element, beta: Element, proof: Proof, M: int
) -> tuple[Element, Element]:
    """:func:`_branch_commitments` with one multi-scalar multiplication each:
    ``B = g^(-M c) y^r beta^c``."""
    c, r = proof
    return ctx.gpow_times_public(r, alpha, c), ctx.gypow_times_public(-M * c, r, beta, c)


def _commitments_from_powers(
    ctx: Context, alpha_c: Element, beta_c: Element, proof: Proof, M: int
) -> tuple[Element, Element]:
    c, r = proof
    A = ctx.mul(ctx.gpow(r), alpha_c)
    B = ctx.mul(ctx.ypow(r), beta_c)
    if M:
        B = ctx.mul(B, ctx.gpow(-M * c))
    return A, B


def verify_iproof(
    ctx: Context,
    S: str,
    alpha: Element,
    beta: Element,
    proofs: Sequence[Proof],
    Ms: Sequence[int],
    *,
    check_membership: bool = False,
) -> None:
    """Check that ``(alpha, beta)`` encrypts one of ``Ms`` (``len(proofs) == len(Ms)``).

    With ``check_membership``, ``alpha`` and ``beta`` are also checked to be group elements
    (:class:`MembershipError` otherwise) before their powers are used."""
    if len(proofs) != len(Ms):
        raise ProofError(f"interval proof has {len(proofs)} branches, expected {len(Ms)}")
    challenges = [pr.challenge for pr in proofs]
    commitments: list[Element] = []
    if ctx.group.double_scalar_public:
        if check_membership:
            for x, name in ((alpha, "alpha"), (beta, "beta")):
                if not ctx.group.is_element(x):
                    raise MembershipError(f"{name} is not an element of the group")
        for proof, M in zip(proofs, Ms, strict=True):
            commitments.extend(_commitments_double(ctx, alpha, beta, proof, M))
        h = sha256_int(f"prove|{S}|{alpha},{beta}|{join_numbers(commitments)}") % ctx.q
        if h != sum(challenges) % ctx.q:
            raise ProofError("interval proof does not verify")
        return
    if check_membership:
        alpha_c = ctx.group.member_and_powers(alpha, challenges, "alpha")
        beta_c = ctx.group.member_and_powers(beta, challenges, "beta")
    else:
        alpha_c = [ctx.pow(alpha, c) for c in challenges]
        beta_c = [ctx.pow(beta, c) for c in challenges]
    for proof, M, ac, bc in zip(proofs, Ms, alpha_c, beta_c, strict=True):
        commitments.extend(_commitments_from_powers(ctx, ac, bc, proof, M))
    h = sha256_int(f"prove|{S}|{alpha},{beta}|{join_numbers(commitments)}") % ctx.q
    if h != sum(challenges) % ctx.q:
        raise ProofError("interval proof does not verify")


def prove_or(
    ctx: Context,
    hash_input: Callable[[list[Element]], str],
    statements: Sequence[tuple[Element, Element]],
    real: int,
    secret: int,
    w: int,
    simulated: Sequence[Proof],
) -> list[Proof]:
    """A disjunctive Chaum-Pedersen proof that one of ``statements`` ``(a_j, b_j)`` has the form
    ``(g^x, y^x)``, with ``x = secret`` for branch ``real``. The other branches are simulated
    with ``simulated`` (random challenge and response each, in order); the challenge of the real
    branch is ``SHA256(hash_input(A0, B0, ..., Ak, Bk)) mod q`` minus the others."""
    q = ctx.q
    if len(simulated) != len(statements) - 1 or not 0 <= real < len(statements):
        raise ValueError("one simulated proof per branch other than the real one")
    proofs: list[Proof | None] = []
    commitments: list[Element] = []
    sim = iter(simulated)
    for j, (a, b) in enumerate(statements):
        if j == real:
            proofs.append(None)
            commitments.extend((ctx.gpow(w), ctx.ypow(w)))
        else:
            pj = next(sim)
            proofs.append(pj)
            commitments.append(ctx.gpow_times(pj.response, a, pj.challenge))
            commitments.append(ctx.ypow_times(pj.response, b, pj.challenge))
    h = sha256_int(hash_input(commitments)) % q
    c_real = (h - sum(pr.challenge for pr in proofs if pr is not None)) % q
    proofs[real] = Proof(c_real, (w - secret * c_real) % q)
    return [pr for pr in proofs if pr is not None]


def shifted(ctx: Context, beta: Element, M: int) -> Element:
    """``beta / g^M``."""
    if M == 0:
        return beta
    if M > 0:
        return ctx.mul(beta, ctx.g_inverse_pow(M))
    return ctx.mul(beta, ctx.gpow(-M))


def prove_iproof(
    ctx: Context,
    S: str,
    alpha: Element,
    beta: Element,
    r: int,
    i: int,
    Ms: Sequence[int],
    w: int,
    simulated: Sequence[Proof],
) -> list[Proof]:
    """``iprove(S, r, i, M0..Mk)`` (section 4.12): ``(alpha, beta)`` encrypts ``Ms[i]`` with
    randomness ``r``."""
    return prove_or(
        ctx,
        lambda cm: f"prove|{S}|{alpha},{beta}|{join_numbers(cm)}",
        [(alpha, shifted(ctx, beta, M)) for M in Ms],
        i,
        r,
        w,
        simulated,
    )


# -- Possibly-blank votes (4.13) --------------------------------------------------------------


def blank_proof_hash_input(S: str, commitments: Sequence[Element], prefix: str) -> str:
    return f"{prefix}|{S}|{join_numbers(commitments)}"


def verify_blank_proof(
    ctx: Context,
    S: str,
    alpha0: Element,
    beta0: Element,
    alpha_s: Element,
    beta_s: Element,
    proofs: Sequence[Proof],
) -> None:
    """``blank_proof``: ``m0 = 0 or mSigma = 0`` (section 4.13.3)."""
    if len(proofs) != 2:
        raise ProofError(f"blank proof has {len(proofs)} branches, expected 2")
    A0, B0 = _branch_commitments(ctx, alpha0, beta0, proofs[0], 0)
    As, Bs = _branch_commitments(ctx, alpha_s, beta_s, proofs[1], 0)
    h = sha256_int(blank_proof_hash_input(S, (A0, B0, As, Bs), "bproof0")) % ctx.q
    if h != (proofs[0].challenge + proofs[1].challenge) % ctx.q:
        raise ProofError("blank proof does not verify")


def verify_overall_blank_proof(
    ctx: Context,
    S: str,
    alpha0: Element,
    beta0: Element,
    alpha_s: Element,
    beta_s: Element,
    proofs: Sequence[Proof],
    Ms: Sequence[int],
) -> None:
    """``overall_proof`` of a question allowing blank: ``m0 = 1 or mSigma in Ms`` (4.13.3)."""
    if len(proofs) != len(Ms) + 1:
        raise ProofError(f"overall proof has {len(proofs)} branches, expected {len(Ms) + 1}")
    commitments = list(_branch_commitments(ctx, alpha0, beta0, proofs[0], 1))
    for proof, M in zip(proofs[1:], Ms, strict=True):
        commitments.extend(_branch_commitments(ctx, alpha_s, beta_s, proof, M))
    h = sha256_int(blank_proof_hash_input(S, commitments, "bproof1")) % ctx.q
    if h != sum(pr.challenge for pr in proofs) % ctx.q:
        raise ProofError("overall proof does not verify")


def prove_blank_proof(
    ctx: Context,
    S: str,
    ct0: tuple[Element, Element],
    ct_s: tuple[Element, Element],
    blank: bool,
    secret: int,
    w: int,
    simulated: Proof,
) -> list[Proof]:
    """``blank_proof`` (4.13): ``m0 = 0`` (not blank, ``secret = r0``) or ``mSigma = 0`` (blank,
    ``secret = rSigma``)."""
    return prove_or(
        ctx,
        lambda cm: blank_proof_hash_input(S, cm, "bproof0"),
        [ct0, ct_s],
        1 if blank else 0,
        secret,
        w,
        [simulated],
    )


def prove_overall_blank_proof(
    ctx: Context,
    S: str,
    ct0: tuple[Element, Element],
    ct_s: tuple[Element, Element],
    Ms: Sequence[int],
    real: int,
    secret: int,
    w: int,
    simulated: Sequence[Proof],
) -> list[Proof]:
    """``overall_proof`` of a question allowing blank (4.13): branch 0 is ``m0 = 1`` (blank,
    ``secret = r0``), branch ``i > 0`` is ``mSigma = Ms[i - 1]`` (``secret = rSigma``)."""
    statements = [(ct0[0], shifted(ctx, ct0[1], 1))]
    statements += [(ct_s[0], shifted(ctx, ct_s[1], M)) for M in Ms]
    return prove_or(
        ctx,
        lambda cm: blank_proof_hash_input(S, cm, "bproof1"),
        statements,
        real,
        secret,
        w,
        simulated,
    )


# -- Non-homomorphic answers (4.11.2) ------------------------------------------------------------


def prove_raweg(ctx: Context, S: str, alpha: Element, beta: Element, r: int, w: int) -> Proof:
    A = ctx.gpow(w)
    c = sha256_int(f"raweg|{S}|{ctx.y},{alpha},{beta}|{A}") % ctx.q
    return Proof(c, (w - r * c) % ctx.q)


def verify_raweg(ctx: Context, S: str, alpha: Element, beta: Element, proof: Proof) -> None:
    """``H_raweg(S, y, alpha, beta, A) = SHA256(raweg|S|y,alpha,beta|A)``, ``A = g^r alpha^c``."""
    A = _schnorr_commitment(ctx, alpha, proof)
    if sha256_int(f"raweg|{S}|{ctx.y},{alpha},{beta}|{A}") % ctx.q != proof.challenge:
        raise ProofError("proof of the non-homomorphic answer does not verify")


# -- Decryption proofs (4.18) ------------------------------------------------------------------


def verify_decryption(
    ctx: Context, fingerprint: str, X: Element, alpha: Element, factor: Element, proof: Proof
) -> None:
    """``A = g^r X^c``, ``B = alpha^r factor^c``, ``c = SHA256(decrypt|phi|X|A,B) mod q``."""
    c, r = proof
    A = ctx.gpow_times_public(r, X, c)
    B = ctx.group.pow2_public(alpha, r, factor, c)
    if sha256_int(f"decrypt|{fingerprint}|{X}|{A},{B}") % ctx.q != c:
        raise ProofError("decryption proof does not verify")


def prove_decryption(
    ctx: Context, fingerprint: str, x: int, alpha: Element, w: int
) -> tuple[Element, Proof]:
    q = ctx.q
    X = ctx.gpow(x)
    A = ctx.gpow(w)
    B = ctx.pow(alpha, w)
    c = sha256_int(f"decrypt|{fingerprint}|{X}|{A},{B}") % q
    return ctx.pow(alpha, x), Proof(c, (w - x * c) % q)


# -- Lists questions: list constraints (4.14) and non-zero encryptions (4.15) ----------------------


def _lproof_hash(ctx: Context, S: str, commitments: Sequence[Element]) -> int:
    return sha256_int(f"lproof|{S}|{join_numbers(commitments)}") % ctx.q


def verify_list_proof(
    ctx: Context,
    S: str,
    head: tuple[Element, Element],
    rest: tuple[Element, Element],
    proofs: Sequence[Proof],
) -> None:
    """``L_i = 1 or sum_j C_ij = 0``: ``head`` encrypts ``L_i``, ``rest`` the sum of the
    list's candidates (section 4.14)."""
    if len(proofs) != 2:
        raise ProofError(f"list proof has {len(proofs)} branches, expected 2")
    A0, B0 = _branch_commitments(ctx, head[0], head[1], proofs[0], 1)
    A1, B1 = _branch_commitments(ctx, rest[0], rest[1], proofs[1], 0)
    if (
        _lproof_hash(ctx, S, (A0, B0, A1, B1))
        != (proofs[0].challenge + proofs[1].challenge) % ctx.q
    ):
        raise ProofError("list proof does not verify")


def prove_list_proof(
    ctx: Context,
    S: str,
    head: tuple[Element, Element],
    rest: tuple[Element, Element],
    selected: bool,
    secret: int,
    w: int,
    simulated: Proof,
) -> list[Proof]:
    """The list proof of section 4.14: the real branch is ``L_i = 1`` (``secret = r_i0``) when
    the list is selected, ``sum_j C_ij = 0`` (``secret`` the sum of their randomness) when not."""
    return prove_or(
        ctx,
        lambda cm: f"lproof|{S}|{join_numbers(cm)}",
        [(head[0], shifted(ctx, head[1], 1)), rest],
        0 if selected else 1,
        secret,
        w,
        [simulated],
    )


class NonzeroProof(NamedTuple):
    """``nonzero_proof``: ``A0`` (the commitment), the challenge and the two responses."""

    commitment: Element
    challenge: int
    response: tuple[int, int]


def _nonzero_hash(ctx: Context, S: str, A0: Element, A1: Element, A2: Element) -> int:
    return sha256_int(f"nonzero|{S}|{A0},{A1},{A2}") % ctx.q


def verify_nonzero_proof(
    ctx: Context, S: str, alpha: Element, beta: Element, proof: NonzeroProof
) -> None:
    """``(alpha, beta)`` encrypts a value other than 0 (section 4.15)."""
    A0, c = proof.commitment, proof.challenge
    t1, t2 = proof.response
    if ctx.one == A0:
        raise ProofError("non-zero proof commits to the neutral element")
    A1 = ctx.gpow_times_public(t2, alpha, t1)
    A2 = ctx.mul(ctx.ypow_times_public(t2, beta, t1), ctx.pow(A0, c))
    if _nonzero_hash(ctx, S, A0, A1, A2) != c:
        raise ProofError("non-zero proof does not verify")


def prove_nonzero_proof(
    ctx: Context, S: str, alpha: Element, beta: Element, r: int, s: int, w1: int, w2: int
) -> NonzeroProof:
    """The proof of section 4.15 that ``(alpha, beta)``, encrypted with randomness ``r``, holds
    a value other than 0; ``s`` (not 0), ``w1`` and ``w2`` are its randomness."""
    q = ctx.q
    if s % q == 0:
        raise ValueError("s must not be 0")
    A0 = ctx.mul(ctx.pow(beta, s), ctx.ypow(-s * r % q))
    if ctx.one == A0:
        raise ValueError("the ciphertext encrypts 0")
    A1 = ctx.mul(ctx.pow(alpha, w1), ctx.gpow(w2))
    A2 = ctx.mul(ctx.pow(beta, w1), ctx.ypow(w2))
    c = _nonzero_hash(ctx, S, A0, A1, A2)
    return NonzeroProof(A0, c, ((w1 - s * c) % q, (w2 + s * r * c) % q))
