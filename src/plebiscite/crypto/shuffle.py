"""Verification of shuffle proofs: CHVote's CheckShuffleProof (spec section 6, table 5).

Generators are derived by the group's ``GetGenerator`` (finite fields:
``h_i = SHA256(ggen|i)^((p-1)/q)``; Ed25519: a point found from ``SHA256(ggen|i)``, times 8).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache

from plebiscite._records import NamedTuple
from plebiscite.crypto.context import Context
from plebiscite.crypto.group import Element, Group
from plebiscite.crypto.hashing import sha256_int
from plebiscite.errors import ProofError

__all__ = [
    "ShuffleProof",
    "check_shuffle_proof",
    "get_generator",
    "get_generators",
    "get_nizkp_challenges",
    "str_ciphertexts",
    "str_elements",
]

Ciphertext = tuple[Element, Element]


class ShuffleProof(NamedTuple):
    """``shuffle_proof``: commitments ``t``, responses ``s``, permutation commitment ``c`` and
    chained challenges ``c_hat``."""

    t1: Element
    t2: Element
    t3: Element
    t4: tuple[Element, Element]
    t_hat: tuple[Element, ...]
    s1: int
    s2: int
    s3: int
    s4: int
    s_hat: tuple[int, ...]
    s_prime: tuple[int, ...]
    c: tuple[Element, ...]
    c_hat: tuple[Element, ...]


@lru_cache(maxsize=4096)
def _generator(group: Group, i: int) -> Element:
    try:
        return group.generator(i)
    except ArithmeticError as e:
        raise ProofError(str(e)) from None


def get_generator(group: Group, i: int) -> Element:
    """``GetGenerator(i)`` (table 8)."""
    return _generator(group, i)


def get_generators(group: Group, n: int) -> list[Element]:
    """``GetGenerators(N)`` (table 7); the "no repeated generator" state check of table 8 is
    done here over the whole list."""
    hs = [_generator(group, i) for i in range(n)]
    if len(set(hs)) != len(hs) or _generator(group, -1) in hs:
        raise ProofError("independent generators are not distinct")
    return hs


def str_ciphertexts(es: Sequence[Ciphertext]) -> str:
    """``[[e]]`` of table 10: ``alpha,beta,`` for each ciphertext."""
    return "".join(f"{a},{b}," for a, b in es)


def str_elements(cs: Sequence[Element]) -> str:
    """``[[c]]`` of table 10: ``c,`` for each element."""
    return "".join(f"{c}," for c in cs)


def get_nizkp_challenges(n: int, s: str, q: int) -> list[int]:
    """``GetNIZKPChallenges(N, S)`` (table 11)."""
    H = hashlib.sha256(s.encode()).hexdigest()
    out = []
    for i in range(n):
        T = hashlib.sha256(str(i).encode()).hexdigest()
        out.append(sha256_int(H + T) % q)
    return out


def check_shuffle_proof(
    ctx: Context,
    proof: ShuffleProof,
    e: Sequence[Ciphertext],
    e_prime: Sequence[Ciphertext],
    fingerprint: str,
) -> None:
    """``CheckShuffleProof(pi, e, e', pk, phi)`` (table 5); raises ProofError when it fails."""
    N = len(e)
    if not (
        len(e_prime) == N
        and len(proof.t_hat) == N
        and len(proof.s_hat) == N
        and len(proof.s_prime) == N
        and len(proof.c) == N
        and len(proof.c_hat) == N
    ):
        raise ProofError("shuffle proof sizes do not match the number of ciphertexts")
    if N == 0:
        return
    group, q = ctx.group, ctx.q
    pk = ctx.y
    assert pk is not None
    h = get_generator(group, -1)
    hs = get_generators(group, N)
    str_c = str_ciphertexts(e) + str_ciphertexts(e_prime) + str_elements(proof.c)
    u = get_nizkp_challenges(N, f"shuffle-challenges|{fingerprint}|{str_c}", q)
    str_t = str_elements([proof.t1, proof.t2, proof.t3, proof.t4[0], proof.t4[1]])
    str_t += str_elements(proof.t_hat)
    str_y = str_c + str_elements(proof.c_hat) + str(pk)
    c = sha256_int(f"shuffle-challenge|{fingerprint}|{str_t}{str_y}") % q

    mul, powm = ctx.mul, ctx.pow
    c_bar = ctx.div(group.product(proof.c), group.product(hs))
    u_prod = 1
    for ui in u:
        u_prod = u_prod * ui % q
    c_hat_final = ctx.div(proof.c_hat[-1], powm(h, u_prod))
    mc = (q - c) % q
    if group.double_scalar_public:
        ok = _check_multi_scalar(ctx, proof, e, e_prime, u, hs, h, c_bar, c_hat_final, mc)
    else:
        c_tilde = alpha_u = beta_u = group.one
        for ci, (a, b), ui in zip(proof.c, e, u, strict=True):
            c_tilde = mul(c_tilde, powm(ci, ui))
            alpha_u = mul(alpha_u, powm(a, ui))
            beta_u = mul(beta_u, powm(b, ui))
        t1 = mul(powm(c_bar, mc), ctx.gpow(proof.s1))
        t2 = mul(powm(c_hat_final, mc), ctx.gpow(proof.s2))
        t3 = mul(powm(c_tilde, mc), ctx.gpow(proof.s3))
        t41 = mul(powm(beta_u, mc), ctx.ypow(-proof.s4))
        t42 = mul(powm(alpha_u, mc), ctx.gpow(-proof.s4))
        for hi, (a2, b2), si in zip(hs, e_prime, proof.s_prime, strict=True):
            t3 = mul(t3, powm(hi, si))
            t41 = mul(t41, powm(b2, si))
            t42 = mul(t42, powm(a2, si))
        ok = t1 == proof.t1 and t2 == proof.t2 and t3 == proof.t3 and (t41, t42) == proof.t4
        prev = h
        for ci_hat, s_hat_i, s_prime_i, t_hat_i in zip(
            proof.c_hat, proof.s_hat, proof.s_prime, proof.t_hat, strict=True
        ):
            t_i = mul(mul(powm(ci_hat, mc), ctx.gpow(s_hat_i)), powm(prev, s_prime_i))
            ok = ok and t_i == t_hat_i
            prev = ci_hat
    if not ok:
        raise ProofError("shuffle proof does not verify")


def _check_multi_scalar(
    ctx: Context,
    proof: ShuffleProof,
    e: Sequence[Ciphertext],
    e_prime: Sequence[Ciphertext],
    u: Sequence[int],
    hs: Sequence[Element],
    h: Element,
    c_bar: Element,
    c_hat_final: Element,
    mc: int,
) -> bool:
    """The commitments of :func:`check_shuffle_proof` each as one variable-time multi-scalar
    multiplication (the group's ``product_public``): ``t3 = prod c_i^(u_i mc) g^s3 prod
    h_i^s'_i`` and the like, the same values as the step-by-step computation."""
    group = ctx.group
    pub = group.product_public
    y = ctx.y
    assert y is not None
    g = group.g
    q = ctx.q
    s_prime = proof.s_prime
    umc = [ui * mc % q for ui in u]
    t1 = ctx.gpow_times_public(proof.s1, c_bar, mc)
    t2 = ctx.gpow_times_public(proof.s2, c_hat_final, mc)
    t3 = pub([*zip(proof.c, umc, strict=True), (g, proof.s3), *zip(hs, s_prime, strict=True)])
    t41 = pub(
        [*((b, x) for (_, b), x in zip(e, umc, strict=True)), (y, -proof.s4)]
        + [(b2, si) for (_, b2), si in zip(e_prime, s_prime, strict=True)]
    )
    t42 = pub(
        [*((a, x) for (a, _), x in zip(e, umc, strict=True)), (g, -proof.s4)]
        + [(a2, si) for (a2, _), si in zip(e_prime, s_prime, strict=True)]
    )
    if (t1, t2, t3, (t41, t42)) != (proof.t1, proof.t2, proof.t3, tuple(proof.t4)):
        return False
    prev = h
    for ci_hat, s_hat_i, s_prime_i, t_hat_i in zip(
        proof.c_hat, proof.s_hat, s_prime, proof.t_hat, strict=True
    ):
        if pub([(ci_hat, mc), (g, s_hat_i), (prev, s_prime_i)]) != t_hat_i:
            return False
        prev = ci_hat
    return True
