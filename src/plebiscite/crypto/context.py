"""A group together with an election public key: the arithmetic every protocol module uses.

``Context(group, y)`` gives the context of the group's kind: in the finite-field groups,
exponentiations of ``g`` and ``y`` move to fixed-base tables once they are frequent; in Ed25519
the base point has the library's own fixed-base multiplication and the rest is the group's.

The ``_public`` operations (:meth:`Context.gpow_times_public`, :meth:`Context.ypow_times_public`)
are for the verification of proofs, on public values only: the group may compute them in
variable time (:meth:`Group.gpow_times_public`).
"""

from __future__ import annotations

from _thread import allocate_lock

import gmpy2
from gmpy2 import mpz

from plebiscite.crypto.ed25519 import DalekEd25519
from plebiscite.crypto.group import Element, Group
from plebiscite.crypto.groups import FiniteFieldGroup, FixedBase

__all__ = ["Context"]


_TABLES: dict[tuple[int, mpz], FixedBase] = {}
_TABLES_LOCK = allocate_lock()  # (``_thread``: cheaper to import than ``threading``)


def fixed_base(group: FiniteFieldGroup, base: mpz) -> FixedBase:
    """A shared table per (group, base): building one costs about 0.4 s and 25 MB, so it is
    built once per process even when many threads ask for it at the same time."""
    key = (id(group), mpz(base))
    table = _TABLES.get(key)
    if table is None:
        with _TABLES_LOCK:
            table = _TABLES.get(key)
            if table is None:
                if len(_TABLES) >= 32:
                    _TABLES.pop(next(iter(_TABLES)))
                table = _TABLES[key] = FixedBase(base, group)
    return table


def existing_fixed_base(group: FiniteFieldGroup, base: mpz) -> FixedBase | None:
    """The table of (group, base) if this process already has it (built or inherited)."""
    return _TABLES.get((id(group), mpz(base)))


class Context:
    """Arithmetic helpers for one group and (optionally) one election public key ``y``.

    ``Context(group, y)`` is a :class:`FiniteFieldContext` for a finite-field group and a plain
    :class:`Context` (every operation the group's) otherwise.
    """

    TABLE_AFTER = 256

    def __new__(cls, group: Group, y: Element | None = None) -> Context:
        if cls is Context and isinstance(group, FiniteFieldGroup):
            return object.__new__(FiniteFieldContext)
        if cls is Context and isinstance(group, DalekEd25519):
            return object.__new__(DalekContext)
        return object.__new__(cls)

    def __init__(self, group: Group, y: Element | None = None) -> None:
        self.group = group
        self.q = group.q
        self.g = group.g
        self.one = group.one
        self.y = y
        self._g_inv: dict[int, Element] = {}

    def _need_y(self) -> Element:
        if self.y is None:
            raise ValueError("this context has no election public key")
        return self.y

    def gpow(self, e: int) -> Element:
        return self.group.gpow(e)

    def ypow(self, e: int) -> Element:
        return self.group.pow(self._need_y(), e)

    def g_inverse_pow(self, m: int) -> Element:
        """``g^(-m)`` for a small public ``m >= 0`` (a bound of a proof), kept for the next
        time."""
        cached = self._g_inv.get(m)
        if cached is None:
            cached = self.group.gpow(-m)
            if len(self._g_inv) < 1024:
                self._g_inv[m] = cached
        return cached

    def gpow_times(self, r: int, a: Element, c: int) -> Element:
        """``g^r * a^c``."""
        return self.group.mul(self.group.gpow(r), self.group.pow(a, c))

    def ypow_times(self, r: int, b: Element, c: int) -> Element:
        """``y^r * b^c``."""
        return self.group.pow2(self._need_y(), r, b, c)

    def gpow_times_public(self, r: int, a: Element, c: int) -> Element:
        """``g^r * a^c`` for public values (verification)."""
        return self.group.gpow_times_public(r, a, c)

    def ypow_times_public(self, r: int, b: Element, c: int) -> Element:
        """``y^r * b^c`` for public values (verification)."""
        return self.group.pow2_public(self._need_y(), r, b, c)

    def gypow_times_public(self, s: int, r: int, b: Element, c: int) -> Element:
        """``g^s * y^r * b^c`` for public values (verification)."""
        return self.group.product_public(((self.g, s), (self._need_y(), r), (b, c)))

    def pow(self, base: Element, e: int) -> Element:
        """``base^e`` for a variable base."""
        return self.group.pow(base, e)

    def mul(self, a: Element, b: Element) -> Element:
        return self.group.mul(a, b)

    def div(self, a: Element, b: Element) -> Element:
        return self.group.div(a, b)

    def inv(self, a: Element) -> Element:
        return self.group.inv(a)


class DalekContext(Context):
    """Ed25519 on curve25519-dalek: the ``_public`` operations with ``y`` use dalek's
    precomputed tables of ``g`` and ``y`` (built at the first, about 60 point additions), one
    variable-time multi-scalar multiplication each."""

    group: DalekEd25519

    def __init__(self, group: Group, y: Element | None = None) -> None:
        super().__init__(group, y)
        self._gy: object | None = None

    def __getstate__(self) -> dict[str, object]:
        # the tables are native memory: built again where the context is unpickled
        return {**self.__dict__, "_gy": None}

    def _gy_table(self) -> object:
        t = self._gy
        if t is None:
            t = self._gy = self.group.precompute_public((self.g, self._need_y()))
        return t

    def ypow_times_public(self, r: int, b: Element, c: int) -> Element:
        return self.group.precomputed_public(self._gy_table(), (0, r), ((b, c),))

    def gypow_times_public(self, s: int, r: int, b: Element, c: int) -> Element:
        return self.group.precomputed_public(self._gy_table(), (s, r), ((b, c),))


class FiniteFieldContext(Context):
    """Exponentiations of ``g`` and ``y`` start as plain ones; after ``TABLE_AFTER`` of them a
    fixed-base table is built (about 0.4 s, shared by every context of the process), so a
    short command never pays for a table and a long verification soon runs on one.
    """

    group: FiniteFieldGroup

    def __init__(self, group: Group, y: Element | None = None) -> None:
        assert isinstance(group, FiniteFieldGroup)
        super().__init__(group, y)
        self.p = group.p
        self._g_fb: FixedBase | None = existing_fixed_base(group, group.g)
        self._y_fb: FixedBase | None = None if y is None else existing_fixed_base(group, y)
        self._g_uses = 0
        self._y_uses = 0
        self.powmod = group.powmod
        self._halves: dict[mpz, mpz] = {}  # base -> base^(2^128), for _split_pow

    def gpow(self, e: mpz | int) -> mpz:
        fb = self._g_fb
        if fb is None:
            self._g_uses += 1
            if self._g_uses <= self.TABLE_AFTER:
                return self._split_pow(self.g, mpz(e) % self.q, self._g_uses)
            fb = self._g_fb = fixed_base(self.group, self.g)
        return fb.pow(e)

    def ypow(self, e: mpz | int) -> mpz:
        fb = self._y_fb
        if fb is None:
            if self.y is None:
                raise ValueError("this context has no election public key")
            self._y_uses += 1
            if self._y_uses <= self.TABLE_AFTER:
                return self._split_pow(self.y, mpz(e) % self.q, self._y_uses)
            fb = self._y_fb = fixed_base(self.group, self.y)
        return fb.pow(e)

    def _split_pow(self, base: mpz, e: mpz, uses: int) -> mpz:
        """``base^e`` before the base has a table: from its third use on, as the double
        exponentiation ``base^lo * T^hi`` with ``T = base^(2^128)`` computed once (see
        :meth:`PowMod.many`), about 30% cheaper than a plain exponentiation."""
        if uses < 3 or e.bit_length() <= 128:
            return self.powmod(base, e)
        t = self._halves.get(base)
        if t is None:
            t = self._halves[base] = self.powmod.half_power(base)
        return self.powmod.split(base, t, e)

    def g_inverse_pow(self, m: int) -> mpz:
        """``g^(-m)`` for a small ``m >= 0`` (a vote, a count): the inverse of ``g^m``, which
        costs a few multiplications, where ``g^(q-m)`` would be a full exponentiation."""
        cached = self._g_inv.get(m)
        if cached is None:
            cached = mpz(gmpy2.invert(gmpy2.powmod(self.g, m, self.p), self.p))
            if len(self._g_inv) < 1024:
                self._g_inv[m] = cached
        return cached

    def gpow_times(self, r: mpz, a: mpz, c: mpz) -> mpz:
        """``g^r * a^c`` (``r, c`` in [0, q)): one double exponentiation while ``g`` has no
        table yet (a short command), a table lookup and one exponentiation once it has."""
        if self._g_fb is None and self._g_uses < self.TABLE_AFTER:
            self._g_uses += 1
            return self.powmod.pow2(self.g, mpz(r) % self.q, a, c)
        return self.gpow(r) * self.powmod(a, c) % self.p

    def ypow_times(self, r: mpz, b: mpz, c: mpz) -> mpz:
        """``y^r * b^c``, as :meth:`gpow_times` for the election public key."""
        if self.y is None:
            raise ValueError("this context has no election public key")
        if self._y_fb is None and self._y_uses < self.TABLE_AFTER:
            self._y_uses += 1
            return self.powmod.pow2(self.y, mpz(r) % self.q, b, c)
        return self.ypow(r) * self.powmod(b, c) % self.p

    def gpow_times_public(self, r: mpz, a: mpz, c: mpz) -> mpz:
        """As :meth:`gpow_times` (GMP's exponentiations are the same for public values)."""
        return self.gpow_times(r, a, c)

    def ypow_times_public(self, r: mpz, b: mpz, c: mpz) -> mpz:
        """As :meth:`ypow_times`."""
        return self.ypow_times(r, b, c)

    def pow(self, base: Element, e: int) -> mpz:
        """``base^e mod p`` for a variable base (``e >= 0``)."""
        return self.powmod(base, e)

    def mul(self, a: Element, b: Element) -> mpz:
        return mpz(a * b % self.p)

    def div(self, a: Element, b: Element) -> mpz:
        return mpz(a * gmpy2.invert(b, self.p) % self.p)

    def inv(self, a: Element) -> mpz:
        return mpz(gmpy2.invert(a, self.p))
