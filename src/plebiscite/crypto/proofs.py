"""Zero-knowledge proofs of the Belenios 2.0 specification: verification and generation.

Each ``verify_*`` function raises :class:`~plebiscite.errors.ProofError` when the proof does not
hold and returns ``None`` otherwise. Every ``prove_*`` function takes its randomness as
arguments (``w``, simulated challenges and responses): callers draw them from a random source,
known-answer tests pass fixed values. Inputs are assumed already checked for membership
(group elements) and range (scalars) by the parser.

The challenge of every proof hashes the statement (election fingerprint, credential, ciphertexts,
bounds) exactly as the spec says, so a proof cannot be reused for another statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import gmpy2
from gmpy2 import mpz

from plebiscite.crypto.context import Context
from plebiscite.crypto.hashing import join_numbers, sha256_int
from plebiscite.errors import ProofError

__all__ = [
    "Proof",
    "blank_proof_hash_input",
    "prove_decryption",
    "prove_iproof",
    "prove_pok",
    "prove_schnorr",
    "verify_blank_proof",
    "verify_decryption",
    "verify_iproof",
    "verify_overall_blank_proof",
    "verify_pok",
    "verify_raweg",
    "verify_schnorr",
]


class Proof(NamedTuple):
    """``proof`` of section 4.3."""

    challenge: mpz
    response: mpz


def _powmod(b: mpz, e: mpz | int, p: mpz) -> mpz:
    return mpz(gmpy2.powmod(b, e, p))


# -- Schnorr-like proofs: trustee keys (4.5), signed messages (4.6.1), ballot signatures (4.14) --


def _schnorr_commitment(ctx: Context, X: mpz, proof: Proof) -> mpz:
    return ctx.gpow(proof.response) * _powmod(X, proof.challenge, ctx.p) % ctx.p


def verify_schnorr(ctx: Context, X: mpz, proof: Proof, prefix: str, suffix: str = "") -> None:
    """Check ``challenge = H(prefix|A|suffix... )`` where ``A = g^response X^challenge``.

    ``prefix`` is everything before ``A`` in the hashed string (its trailing ``|`` included).
    """
    A = _schnorr_commitment(ctx, X, proof)
    if sha256_int(f"{prefix}{A}{suffix}") % ctx.q != proof.challenge:
        raise ProofError("proof of knowledge does not verify")


def prove_schnorr(ctx: Context, x: mpz, w: mpz, prefix: str, suffix: str = "") -> Proof:
    A = ctx.gpow(w)
    c = sha256_int(f"{prefix}{A}{suffix}") % ctx.q
    return Proof(c, (w - x * c) % ctx.q)


def pok_prefix(group_name: str, X: mpz) -> str:
    return f"pok|{group_name}|{X}|"


def verify_pok(ctx: Context, X: mpz, proof: Proof) -> None:
    """Proof of knowledge of a trustee's private key (4.5): ``H_pok(X, A) = SHA256(pok|G|X|A)``."""
    verify_schnorr(ctx, X, proof, pok_prefix(ctx.group.name, X))


def prove_pok(ctx: Context, x: mpz, w: mpz) -> Proof:
    return prove_schnorr(ctx, x, w, pok_prefix(ctx.group.name, ctx.gpow(x)))


# -- Interval proofs (4.12) --------------------------------------------------------------------


def _branch_commitments(
    ctx: Context, alpha: mpz, beta: mpz, proof: Proof, M: int
) -> tuple[mpz, mpz]:
    """``A = g^r alpha^c`` and ``B = y^r (beta / g^M)^c``."""
    p = ctx.p
    c, r = proof
    A = ctx.gpow(r) * _powmod(alpha, c, p) % p
    B = ctx.ypow(r) * _powmod(beta, c, p) % p
    if M:
        B = B * ctx.gpow(-M * c) % p
    return A, B


def verify_iproof(
    ctx: Context, S: str, alpha: mpz, beta: mpz, proofs: Sequence[Proof], Ms: Sequence[int]
) -> None:
    """Check that ``(alpha, beta)`` encrypts one of ``Ms`` (``len(proofs) == len(Ms)``)."""
    if len(proofs) != len(Ms):
        raise ProofError(f"interval proof has {len(proofs)} branches, expected {len(Ms)}")
    commitments: list[mpz] = []
    total = 0
    for proof, M in zip(proofs, Ms, strict=True):
        commitments.extend(_branch_commitments(ctx, alpha, beta, proof, M))
        total += proof.challenge
    h = sha256_int(f"prove|{S}|{alpha},{beta}|{join_numbers(commitments)}") % ctx.q
    if h != total % ctx.q:
        raise ProofError("interval proof does not verify")


def prove_iproof(
    ctx: Context,
    S: str,
    alpha: mpz,
    beta: mpz,
    r: mpz,
    i: int,
    Ms: Sequence[int],
    w: mpz,
    simulated: Sequence[Proof],
) -> list[Proof]:
    """``iprove(S, r, i, M0..Mk)``: ``simulated`` gives the random (challenge, response) of each
    branch ``j != i`` in order (``len(simulated) == len(Ms) - 1``)."""
    p, q = ctx.p, ctx.q
    proofs: list[Proof | None] = []
    commitments: list[mpz] = []
    sim = iter(simulated)
    for j, M in enumerate(Ms):
        if j == i:
            proofs.append(None)
            commitments.extend((ctx.gpow(w), ctx.ypow(w)))
        else:
            pj = next(sim)
            proofs.append(pj)
            commitments.extend(_branch_commitments(ctx, alpha, beta, pj, M))
    h = sha256_int(f"prove|{S}|{alpha},{beta}|{join_numbers(commitments)}") % q
    c_i = (h - sum(pr.challenge for pr in proofs if pr is not None)) % q
    proofs[i] = Proof(c_i, (w - r * c_i) % q)
    del p
    return [pr for pr in proofs if pr is not None]


# -- Possibly-blank votes (4.13) --------------------------------------------------------------


def blank_proof_hash_input(S: str, commitments: Sequence[mpz], prefix: str) -> str:
    return f"{prefix}|{S}|{join_numbers(commitments)}"


def verify_blank_proof(
    ctx: Context,
    S: str,
    alpha0: mpz,
    beta0: mpz,
    alpha_s: mpz,
    beta_s: mpz,
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
    alpha0: mpz,
    beta0: mpz,
    alpha_s: mpz,
    beta_s: mpz,
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


# -- Non-homomorphic answers (4.11.2) ------------------------------------------------------------


def verify_raweg(ctx: Context, S: str, alpha: mpz, beta: mpz, proof: Proof) -> None:
    """``H_raweg(S, y, alpha, beta, A) = SHA256(raweg|S|y,alpha,beta|A)``, ``A = g^r alpha^c``."""
    A = _schnorr_commitment(ctx, alpha, proof)
    if sha256_int(f"raweg|{S}|{ctx.y},{alpha},{beta}|{A}") % ctx.q != proof.challenge:
        raise ProofError("proof of the non-homomorphic answer does not verify")


# -- Decryption proofs (4.18) ------------------------------------------------------------------


def verify_decryption(
    ctx: Context, fingerprint: str, X: mpz, alpha: mpz, factor: mpz, proof: Proof
) -> None:
    """``A = g^r X^c``, ``B = alpha^r factor^c``, ``c = SHA256(decrypt|phi|X|A,B) mod q``."""
    p = ctx.p
    c, r = proof
    A = ctx.gpow(r) * _powmod(X, c, p) % p
    B = _powmod(alpha, r, p) * _powmod(factor, c, p) % p
    if sha256_int(f"decrypt|{fingerprint}|{X}|{A},{B}") % ctx.q != c:
        raise ProofError("decryption proof does not verify")


def prove_decryption(
    ctx: Context, fingerprint: str, x: mpz, alpha: mpz, w: mpz
) -> tuple[mpz, Proof]:
    p, q = ctx.p, ctx.q
    X = ctx.gpow(x)
    A = ctx.gpow(w)
    B = _powmod(alpha, w, p)
    c = sha256_int(f"decrypt|{fingerprint}|{X}|{A},{B}") % q
    return _powmod(alpha, x, p), Proof(c, (w - x * c) % q)
