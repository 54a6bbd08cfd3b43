"""A group together with an election public key and fixed-base tables for g and y."""

from __future__ import annotations

from functools import lru_cache

import gmpy2
from gmpy2 import mpz

from plebiscite.crypto.groups import FixedBase, Group

__all__ = ["Context"]


@lru_cache(maxsize=32)
def fixed_base(group: Group, base: mpz) -> FixedBase:
    """A shared table per (group, base): building one costs about 0.2 s."""
    return FixedBase(base, group)


class Context:
    """Arithmetic helpers for one group and (optionally) one election public key ``y``.

    The fixed-base tables are built on first use, so a context that never exponentiates ``y``
    never pays for its table.
    """

    def __init__(self, group: Group, y: mpz | None = None) -> None:
        self.group = group
        self.p = group.p
        self.q = group.q
        self.g = group.g
        self.y = y
        self._g_fb: FixedBase | None = None
        self._y_fb: FixedBase | None = None
        self.powmod = group.powmod

    def gpow(self, e: mpz | int) -> mpz:
        if self._g_fb is None:
            self._g_fb = fixed_base(self.group, self.g)
        return self._g_fb.pow(e)

    def ypow(self, e: mpz | int) -> mpz:
        if self._y_fb is None:
            if self.y is None:
                raise ValueError("this context has no election public key")
            self._y_fb = fixed_base(self.group, self.y)
        return self._y_fb.pow(e)

    def pow(self, base: mpz, e: mpz) -> mpz:
        """``base^e mod p`` for a variable base (``e >= 0``)."""
        return self.powmod(base, e)

    def inv(self, a: mpz) -> mpz:
        return mpz(gmpy2.invert(a, self.p))
