"""Discrete logarithms of results: ``n`` with ``g^n = x`` for ``n`` in ``[0, bound]``.

A homomorphic result is ``g^count`` with the count at most the total weight ``W`` of the
ballots, so finding it costs ``O(sqrt(W))`` group operations and bounded memory in any group:

- up to ``W < 2^32``, baby-step giant-step with at most ``2^16`` baby steps kept: exact, and it
  proves that no ``n`` in the range exists when it finds none;
- above, Pollard's kangaroo method (van Oorschot and Wiener's serial version): a tame
  kangaroo jumps from ``g^W`` and leaves a trap, a wild one jumps from ``x`` until it falls in
  it, about ``4 sqrt(W)`` operations in all and a constant memory (the jump table). A walk that
  misses is run again with other jumps; after :data:`KANGAROO_TRIES` walks it gives up (None),
  which for a value that is in the range happens with a negligible probability.

The jumps are chosen from a cheap hash of each element (:meth:`Group.sort_key` read as bytes
or an integer), the same on every run: the method is deterministic.
"""

from __future__ import annotations

import hashlib
from math import isqrt

from plebiscite.crypto.group import Element, Group

__all__ = ["BABY_STEPS", "KANGAROO_TRIES", "discrete_log"]

BABY_STEPS = 1 << 16
KANGAROO_TRIES = 8


def discrete_log(group: Group, x: Element, bound: int) -> int | None:
    """The ``n`` in ``[0, bound]`` with ``g^n = x``, or None."""
    if bound < 0:
        return None
    if x == group.one:
        return 0
    if bound < BABY_STEPS * BABY_STEPS:
        return _bsgs(group, x, bound)
    for salt in range(KANGAROO_TRIES):
        n = _kangaroo(group, x, bound, salt)
        if n is not None:
            return n
    return None


def _bsgs(group: Group, x: Element, bound: int) -> int | None:
    m = min(isqrt(bound) + 1, BABY_STEPS)
    baby: dict[Element, int] = {}
    e = group.one
    g = group.g
    for j in range(m):
        baby.setdefault(e, j)
        e = group.mul(e, g)
    giant = group.gpow(-m)
    y = x
    for i in range(bound // m + 1):
        found = baby.get(y)
        if found is not None:
            n = i * m + found
            return n if n <= bound else None
        y = group.mul(y, giant)
    return None


def _key(group: Group, x: Element, salt: int) -> int:
    k = group.sort_key(x)
    v = int.from_bytes(k[:8], "little") if isinstance(k, bytes) else int(k & _MASK_64)
    return v ^ _SALTS[salt]


_MASK_64 = (1 << 64) - 1
_SALTS = [
    int.from_bytes(hashlib.sha256(f"kangaroo|{i}".encode()).digest()[:8], "little")
    for i in range(KANGAROO_TRIES)
]


def _kangaroo(group: Group, x: Element, bound: int, salt: int) -> int | None:
    n = bound + 1
    mean = max(isqrt(n) // 2, 1)
    k = 1
    while ((1 << k) - 1) // k < mean:
        k += 1
    # jumps 2^i, i < k, with a prime-ish spread by the salt so that each try walks differently
    sizes = [(1 << i) + salt * (i + 1) for i in range(k)]
    steps = [group.gpow(s) for s in sizes]
    mul = group.mul
    # the tame kangaroo, from g^bound, walks 4 * mean jumps and leaves its trap at the end
    tame = group.gpow(bound)
    tame_distance = 0
    for _ in range(4 * mean):
        i = _key(group, tame, salt) % k
        tame = mul(tame, steps[i])
        tame_distance += sizes[i]
    # the wild kangaroo, from x = g^secret, walks until it reaches the trap or passes it
    wild = x
    wild_distance = 0
    limit = bound + tame_distance
    while wild_distance <= limit:
        if wild == tame:
            secret = bound + tame_distance - wild_distance
            if 0 <= secret <= bound and group.gpow(secret) == x:
                return secret
            return None
        i = _key(group, wild, salt) % k
        wild = mul(wild, steps[i])
        wild_distance += sizes[i]
    return None
