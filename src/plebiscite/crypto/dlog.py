"""Discrete logarithms of results: ``n`` with ``g^n = x`` for ``n`` in ``[0, bound]``.

A homomorphic result is ``g^count`` with the count at most the total weight ``W`` of the
ballots, so finding it costs ``O(sqrt(W))`` group operations and bounded memory in any group:

- up to ``W < 2^32``, baby-step giant-step with at most ``2^16`` baby steps kept: exact, and it
  proves that no ``n`` in the range exists when it finds none;
- above, Pollard's kangaroo method with distinguished points (van Oorschot and Wiener): a tame
  kangaroo jumps from ``g^(W/2)``, one wild kangaroo from each ``x``, all by the same jumps
  chosen from the element they stand on, and the elements of a fixed sparse subset (the
  distinguished points) are kept with the distance walked to them. A wild kangaroo that lands
  where the tame one has been finds its ``n``; one that lands on another wild one's trail walks
  with it from then on, and its ``n`` follows from the other's. One value costs about
  ``2 sqrt(W)`` operations, each further value of the same bound about ``sqrt(W)`` more (the
  tame kangaroo's trail serves them all), and the memory is the jump table and at most
  :data:`MAX_POINTS` distinguished points. A value not found within :data:`WALK_FACTOR` times
  the expected walk is looked for again with other jumps; after :data:`KANGAROO_TRIES` tries
  it is given up (None), which for a value in the range happens with a negligible probability.

The jumps and the distinguished points are chosen from a cheap hash of each element
(:meth:`Group.sort_key` read as bytes or an integer), the same on every run: the method is
deterministic. Every value found is checked (``g^n = x``) before it is returned.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from math import isqrt

from plebiscite.crypto.group import Element, Group

__all__ = [
    "BABY_STEPS",
    "KANGAROO_TRIES",
    "MAX_POINTS",
    "WALK_FACTOR",
    "discrete_log",
    "discrete_logs",
]

BABY_STEPS = 1 << 16
KANGAROO_TRIES = 4
#: the most distinguished points kept by one search (each a few hundred bytes)
MAX_POINTS = 1 << 14
#: a try gives up after this many times the expected number of jumps
WALK_FACTOR = 6


def discrete_log(group: Group, x: Element, bound: int) -> int | None:
    """The ``n`` in ``[0, bound]`` with ``g^n = x``, or None."""
    return discrete_logs(group, [x], bound)[0]


def discrete_logs(group: Group, xs: Sequence[Element], bound: int) -> list[int | None]:
    """For each ``x`` of ``xs``, the ``n`` in ``[0, bound]`` with ``g^n = x``, or None: the
    values of one tally share the walk of the tame kangaroo."""
    if bound < 0:
        return [None] * len(xs)
    out: list[int | None] = [0 if x == group.one else None for x in xs]
    todo = [i for i, n in enumerate(out) if n is None]
    if bound < BABY_STEPS * BABY_STEPS:
        for i in todo:
            out[i] = _bsgs(group, xs[i], bound)
        return out
    for salt in range(KANGAROO_TRIES):
        if not todo:
            break
        found = _kangaroos(group, [xs[i] for i in todo], bound, salt)
        for i, n in zip(todo, found, strict=True):
            out[i] = n
        todo = [i for i in todo if out[i] is None]
    return out


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

TAME = -1


def _kangaroos(group: Group, xs: Sequence[Element], bound: int, salt: int) -> list[int | None]:
    """One try: a tame kangaroo and one wild kangaroo per value, in turn."""
    root = isqrt(bound + 1)
    mean = max(root // 2, 1)
    k = 1
    while ((1 << k) - 1) // k < mean:
        k += 1
    # jumps 2^i, i < k, spread by the salt so that each try walks differently; the jump taken
    # is chosen from the low bits of the key, the distinguished points from the high ones
    sizes = [(1 << i) + salt * (i + 1) for i in range(k)]
    steps = [group.gpow(s) for s in sizes]
    # about 2 sqrt(W) jumps per value: with one distinguished point in 2^t, at most
    # MAX_POINTS / 2 expected to be kept
    walk = 2 * root * (len(xs) + 1)
    t = max(0, (walk // (MAX_POINTS // 2)).bit_length())
    dp_mask = ((1 << t) - 1) << 32
    mul = group.mul
    start = bound // 2
    # the kangaroos: (position, distance walked); index len(xs) is the tame one
    herd: list[tuple[Element, int]] = [(x, 0) for x in xs] + [(group.gpow(start), 0)]
    tame = len(xs)
    active = list(range(len(xs) + 1))
    seen: dict[Element, tuple[int, int]] = {}  # distinguished point -> (kangaroo, distance)
    found: list[int | None] = [None] * len(xs)
    # wild kangaroos that joined another's trail: i -> (j, n_i - n_j)
    follows: dict[int, tuple[int, int]] = {}
    budget = WALK_FACTOR * walk
    jumps = 0
    while len(active) > 1 and jumps < budget:
        for i in list(active):
            pos, dist = herd[i]
            key = _key(group, pos, salt)
            if not key & dp_mask:
                other = seen.get(pos)
                if other is None:
                    if len(seen) < MAX_POINTS:
                        seen[pos] = (i, dist)
                elif other[0] != i:
                    j, d = other
                    # g^(a_i + dist) = g^(a_j + d): a_i - a_j = d - dist
                    _meet(i, j, d - dist, tame, start, found, follows, active)
                    if i not in active:
                        continue
            s = key % k
            herd[i] = (mul(pos, steps[s]), dist + sizes[s])
            jumps += 1
    # the values found through another wild kangaroo's trail
    changed = True
    while changed:
        changed = False
        for i, (j, diff) in follows.items():
            if found[i] is None and found[j] is not None:
                found[i] = found[j] + diff  # type: ignore[operator]
                changed = True
    return [
        n if n is not None and 0 <= n <= bound and group.gpow(n) == x else None
        for n, x in zip(found, xs, strict=True)
    ]


def _meet(
    i: int,
    j: int,
    diff: int,
    tame: int,
    start: int,
    found: list[int | None],
    follows: dict[int, tuple[int, int]],
    active: list[int],
) -> None:
    """Kangaroos ``i`` and ``j`` met, ``a_i - a_j = diff`` for their starting logarithms."""
    if j == tame:
        found[i] = start + diff
        active.remove(i)
    elif i == tame:
        if found[j] is None:
            found[j] = start - diff
        if j in active:
            active.remove(j)
    else:
        # two wild kangaroos walk on together: the later one stops
        follows[i] = (j, diff)
        active.remove(i)
