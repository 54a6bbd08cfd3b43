"""Threshold decryption support (section 4.6): polynomial commitments and Lagrange coefficients."""

from __future__ import annotations

from collections.abc import Sequence

import gmpy2
from gmpy2 import mpz

__all__ = ["commitment_eval", "lagrange"]


def commitment_eval(coefexps: Sequence[mpz], j: int, p: mpz, q: mpz) -> mpz:
    """``prod_k (A_k)^(j^k)``: ``g^{f(j)}`` from the commitments ``A_k = g^{a_k}``."""
    r = mpz(1)
    jk = mpz(1)
    for A in coefexps:
        r = r * gmpy2.powmod(A, jk, p) % p
        jk = jk * j % q
    return mpz(r)


def lagrange(indexes: Sequence[int], delta: int, q: mpz) -> mpz:
    """``lambda_delta^I = prod_{k in I, k != delta} k / (k - delta) mod q`` (section 4.19)."""
    num = mpz(1)
    den = mpz(1)
    for k in indexes:
        if k != delta:
            num = num * k % q
            den = den * (k - delta) % q
    return mpz(num * gmpy2.invert(den, q) % q)
