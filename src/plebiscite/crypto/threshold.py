"""Threshold decryption support (section 4.6): polynomial commitments and Lagrange coefficients."""

from __future__ import annotations

from collections.abc import Sequence

from plebiscite.crypto.group import Element, Group

__all__ = ["commitment_eval", "lagrange"]


def commitment_eval(group: Group, coefexps: Sequence[Element], j: int) -> Element:
    """``prod_k (A_k)^(j^k)``: ``g^{f(j)}`` from the commitments ``A_k = g^{a_k}``."""
    q = group.q
    r = group.one
    jk = 1
    for A in coefexps:
        r = group.mul(r, group.pow(A, jk))
        jk = jk * j % q
    return r


def lagrange(indexes: Sequence[int], delta: int, q: int) -> int:
    """``lambda_delta^I = prod_{k in I, k != delta} k / (k - delta) mod q`` (section 4.19)."""
    num = 1
    den = 1
    for k in indexes:
        if k != delta:
            num = num * k % q
            den = den * (k - delta) % q
    return num * pow(den, -1, q) % q
