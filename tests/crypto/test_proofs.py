"""Proofs: each generated proof verifies; each forged or mis-bound one is rejected."""

from __future__ import annotations

import pytest
from gmpy2 import mpz
from hypothesis import given, settings
from hypothesis import strategies as st

from plebiscite.crypto.context import Context
from plebiscite.crypto.groups import BELENIOS_2048, RFC_3526_2048
from plebiscite.crypto.hashing import join_numbers, sha256_int
from plebiscite.crypto.proofs import (
    Proof,
    prove_decryption,
    prove_iproof,
    prove_pok,
    verify_decryption,
    verify_iproof,
    verify_pok,
)
from plebiscite.errors import ProofError
from small_group import SMALL_257

G = BELENIOS_2048
X_SECRET = mpz(123456789)
CTX = Context(G, G.g**0 * pow(int(G.g), int(X_SECRET), int(G.p)) % G.p)
SMALL_CTX = Context(SMALL_257, SMALL_257.powmod(SMALL_257.g, X_SECRET))


def scalars(ctx: Context):
    return st.integers(min_value=1, max_value=int(ctx.q) - 1).map(mpz)


def encrypt(ctx: Context, m: int, r: mpz) -> tuple[mpz, mpz]:
    return ctx.gpow(r), ctx.ypow(r) * ctx.gpow(m) % ctx.p


def check_iproof_roundtrip(ctx: Context, m, r, w, sims):
    Ms = [0, 1, 2, 3]
    alpha, beta = encrypt(ctx, m, r)
    simulated = [Proof(sims[2 * i], sims[2 * i + 1]) for i in range(3)]
    proofs = prove_iproof(ctx, "S", alpha, beta, r, m, Ms, w, simulated)
    verify_iproof(ctx, "S", alpha, beta, proofs, Ms)
    # bound to the statement: another S, another ciphertext, other bounds all fail
    with pytest.raises(ProofError):
        verify_iproof(ctx, "S'", alpha, beta, proofs, Ms)
    with pytest.raises(ProofError):
        verify_iproof(ctx, "S", alpha, beta * ctx.g % ctx.p, proofs, Ms)
    with pytest.raises(ProofError):
        verify_iproof(ctx, "S", alpha, beta, proofs, [1, 2, 3, 4])


@settings(max_examples=100, deadline=None)
@given(
    m=st.integers(0, 3),
    r=scalars(SMALL_CTX),
    w=scalars(SMALL_CTX),
    sims=st.lists(scalars(SMALL_CTX), min_size=6, max_size=6),
)
def test_iproof_roundtrip(m, r, w, sims):
    """On a small group (the property is the point, not the group): many cases."""
    check_iproof_roundtrip(SMALL_CTX, m, r, w, sims)


@pytest.mark.slow
@settings(max_examples=15, deadline=None)
@given(
    m=st.integers(0, 3),
    r=scalars(CTX),
    w=scalars(CTX),
    sims=st.lists(scalars(CTX), min_size=6, max_size=6),
)
def test_iproof_roundtrip_on_belenios_2048(m, r, w, sims):
    check_iproof_roundtrip(CTX, m, r, w, sims)


def test_iproof_wrong_branch_count():
    alpha, beta = encrypt(CTX, 0, mpz(5))
    proofs = prove_iproof(CTX, "S", alpha, beta, mpz(5), 0, [0, 1], mpz(7), [Proof(mpz(1), mpz(2))])
    with pytest.raises(ProofError):
        verify_iproof(CTX, "S", alpha, beta, proofs[:1], [0, 1])
    with pytest.raises(ProofError):
        verify_iproof(CTX, "S", alpha, beta, [*proofs, proofs[0]], [0, 1, 2])


def test_weak_fiat_shamir_forgery_rejected():
    """Helios 2012: a challenge hashing only the commitments lets a prover pick the statement
    afterwards; here the statement (S, alpha, beta) is hashed, so the forgery fails."""
    r = mpz(99)
    alpha, beta = encrypt(CTX, 7, r)  # encrypts 7, "proved" to be 0 or 1
    p, q = CTX.p, CTX.q
    c0, r0 = mpz(11), mpz(22)
    # branch 0 simulated, branch 1 "real" but for the wrong message
    A0 = CTX.gpow(r0) * pow(alpha, c0, p) % p
    B0 = CTX.ypow(r0) * pow(beta, c0, p) % p
    w = mpz(33)
    A1, B1 = CTX.gpow(w), CTX.ypow(w)
    weak = sha256_int(f"prove|{join_numbers([A0, B0, A1, B1])}") % q
    c1 = (weak - c0) % q
    forged = [Proof(c0, r0), Proof(c1, (w - r * c1) % q)]
    with pytest.raises(ProofError):
        verify_iproof(CTX, "S", alpha, beta, forged, [0, 1])


def test_minus_one_rejected():
    """A choice encrypting -1 (g^(q-1)) cannot be proved in {0, 1}."""
    r = mpz(1234)
    alpha, beta = encrypt(CTX, -1, r)
    for i in (0, 1):
        proofs = prove_iproof(CTX, "S", alpha, beta, r, i, [0, 1], mpz(77), [Proof(mpz(3), mpz(4))])
        with pytest.raises(ProofError):
            verify_iproof(CTX, "S", alpha, beta, proofs, [0, 1])


@pytest.mark.parametrize("group", [BELENIOS_2048, RFC_3526_2048], ids=lambda g: g.name)
def test_pok(group):
    ctx = Context(group)
    x = mpz(987654321)
    X = ctx.gpow(x)
    proof = prove_pok(ctx, x, mpz(42))
    verify_pok(ctx, X, proof)
    with pytest.raises(ProofError):
        verify_pok(ctx, X * group.g % group.p, proof)
    with pytest.raises(ProofError):
        verify_pok(ctx, X, Proof(proof.challenge, (proof.response + 1) % group.q))


def test_decryption_proof():
    x = X_SECRET
    X = CTX.gpow(x)
    alpha, _ = encrypt(CTX, 1, mpz(555))
    factor, proof = prove_decryption(CTX, "fp", x, alpha, mpz(4242))
    verify_decryption(CTX, "fp", X, alpha, factor, proof)
    with pytest.raises(ProofError):
        verify_decryption(CTX, "fp", X, alpha, factor * G.g % G.p, proof)
    with pytest.raises(ProofError):
        verify_decryption(CTX, "other election", X, alpha, factor, proof)
