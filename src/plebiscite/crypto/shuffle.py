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
    "ShufflePart",
    "ShuffleProof",
    "check_shuffle_proof",
    "get_generator",
    "get_generators",
    "get_nizkp_challenges",
    "shuffle_challenges",
    "shuffle_part",
    "shuffle_verdict",
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
    """``CheckShuffleProof(pi, e, e', pk, phi)`` (table 5); raises ProofError when it fails.
    The same check as :func:`shuffle_challenges`, one :func:`shuffle_part` over every
    ciphertext and :func:`shuffle_verdict`, which a caller may run with the parts apart."""
    u, c = shuffle_challenges(ctx, proof, e, e_prime, fingerprint)
    if not e:
        return
    part = shuffle_part(
        ctx, 0, (ctx.q - c) % ctx.q, u, e, e_prime, proof.c, proof.c_hat, proof.t_hat,
        proof.s_hat, proof.s_prime, get_generator(ctx.group, -1),
    )  # fmt: skip
    shuffle_verdict(ctx, proof, u, c, [part])


def shuffle_challenges(
    ctx: Context,
    proof: ShuffleProof,
    e: Sequence[Ciphertext],
    e_prime: Sequence[Ciphertext],
    fingerprint: str,
) -> tuple[list[int], int]:
    """The challenges of CheckShuffleProof: ``u`` (``GetNIZKPChallenges``, one a ciphertext)
    and ``c`` (the hash of the whole statement and commitments); raises ProofError when the
    proof's sizes are not the ciphertexts'."""
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
        return [], 0
    q, pk = ctx.q, ctx.y
    assert pk is not None
    str_c = str_ciphertexts(e) + str_ciphertexts(e_prime) + str_elements(proof.c)
    u = get_nizkp_challenges(N, f"shuffle-challenges|{fingerprint}|{str_c}", q)
    str_t = str_elements([proof.t1, proof.t2, proof.t3, proof.t4[0], proof.t4[1]])
    str_t += str_elements(proof.t_hat)
    str_y = str_c + str_elements(proof.c_hat) + str(pk)
    c = sha256_int(f"shuffle-challenge|{fingerprint}|{str_t}{str_y}") % q
    return u, c


class ShufflePart(NamedTuple):
    """What the ciphertexts ``start`` to ``start + n - 1`` of a shuffle contribute to its
    check (:func:`shuffle_part`): their generators ``h_i`` and their product, the product of
    their ``c_i``, their factors of ``t3``, ``t4`` (its two components) and whether each
    ``t_hat_i`` is the one its values give."""

    hs: tuple[Element, ...]
    hs_product: Element
    c_product: Element
    t3: Element
    t41: Element
    t42: Element
    t_hat_ok: bool


def shuffle_part(
    ctx: Context,
    start: int,
    mc: int,
    u: Sequence[int],
    e: Sequence[Ciphertext],
    e_prime: Sequence[Ciphertext],
    c: Sequence[Element],
    c_hat: Sequence[Element],
    t_hat: Sequence[Element],
    s_hat: Sequence[int],
    s_prime: Sequence[int],
    prev: Element,
) -> ShufflePart:
    """A part of CheckShuffleProof over the ciphertexts ``start`` on (the slices of ``e``,
    ``e'`` and the proof's per-ciphertext values from there, ``u`` their challenges, ``mc``
    minus the challenge ``c`` mod q, ``prev`` the ``c_hat`` before the first, ``h`` for the
    first of all): each of its terms of the commitments ``t3 = prod c_i^(u_i mc) g^s3 prod
    h_i^s'_i``, ``t4`` alike, each ``t_hat_i = c_hat_i^mc g^s_hat_i c_hat_(i-1)^s'_i``
    (variable time: public values). Parts of any sizes multiply into the whole's."""
    group, q = ctx.group, ctx.q
    pub, g = group.product_public, group.g
    hs = tuple(_generator(group, start + k) for k in range(len(e)))
    umc = [ui * mc % q for ui in u]
    t3 = pub([*zip(c, umc, strict=True), *zip(hs, s_prime, strict=True)])
    t41 = pub(
        [(b, x) for (_, b), x in zip(e, umc, strict=True)]
        + [(b2, si) for (_, b2), si in zip(e_prime, s_prime, strict=True)]
    )
    t42 = pub(
        [(a, x) for (a, _), x in zip(e, umc, strict=True)]
        + [(a2, si) for (a2, _), si in zip(e_prime, s_prime, strict=True)]
    )
    ok = True
    for ci_hat, s_hat_i, s_prime_i, t_hat_i in zip(c_hat, s_hat, s_prime, t_hat, strict=True):
        ok = ok and pub([(ci_hat, mc), (g, s_hat_i), (prev, s_prime_i)]) == t_hat_i
        prev = ci_hat
    return ShufflePart(hs, group.product(hs), group.product(c), t3, t41, t42, ok)


def shuffle_verdict(
    ctx: Context, proof: ShuffleProof, u: Sequence[int], c: int, parts: Sequence[ShufflePart]
) -> None:
    """The end of CheckShuffleProof from its parts (:func:`shuffle_part`, in the ciphertexts'
    order, covering them all): the generators distinct (``GetGenerators``' state check), the
    commitments ``t1`` to ``t4`` and every ``t_hat_i`` those of the proof; raises ProofError
    when not."""
    group, q = ctx.group, ctx.q
    h = get_generator(group, -1)
    hs = [x for part in parts for x in part.hs]
    if len(set(hs)) != len(hs) or h in hs:
        raise ProofError("independent generators are not distinct")
    mul = ctx.mul
    mc = (q - c) % q
    c_bar = ctx.div(
        group.product(p.c_product for p in parts), group.product(p.hs_product for p in parts)
    )
    u_prod = 1
    for ui in u:
        u_prod = u_prod * ui % q
    c_hat_final = ctx.div(proof.c_hat[-1], ctx.pow(h, u_prod))
    minus_s4 = (q - proof.s4) % q
    t1 = ctx.gpow_times_public(proof.s1, c_bar, mc)
    t2 = ctx.gpow_times_public(proof.s2, c_hat_final, mc)
    t3 = mul(group.product(p.t3 for p in parts), ctx.gpow(proof.s3))
    t41 = mul(group.product(p.t41 for p in parts), ctx.ypow(minus_s4))
    t42 = mul(group.product(p.t42 for p in parts), ctx.gpow(minus_s4))
    ok = all(p.t_hat_ok for p in parts)
    if not (ok and (t1, t2, t3, (t41, t42)) == (proof.t1, proof.t2, proof.t3, tuple(proof.t4))):
        raise ProofError("shuffle proof does not verify")
